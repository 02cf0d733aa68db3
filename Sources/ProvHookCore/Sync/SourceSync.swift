import Deadlines
import Foundation
import Logging
import ProvisioningModel

/// Makes provhook's devices match a PBX's: reads every device behind a source, a page at a time, and turns each
/// difference into the event a webhook would have sent, recorded through the same planner, transaction and
/// journal (actor `sync:<name>`). A device of the source that the PBX no longer lists, or lists disabled, is
/// deregistered, unless that would deregister more than `maxRemovalShare` of the tenant's devices from the source
/// (a broken answer, such as an empty listing or a wrong account, must not deregister a fleet).
///
/// Memory does not grow with the PBX's size: each page is compared and written, and the MACs seen are kept in
/// the database (`source_sync_seen`) for the removal pass. A sync with nothing to change writes only its run row.
///
/// A sync always ends (``Limits``): a PBX that stops answering fails it after the stall timeout, a listing whose
/// cursor comes back fails at once, and the pages, the devices and the whole run are capped. A sync that stops early
/// deregisters nothing, and is journaled and kept with the source as failed.
public struct SourceSync: Sendable {
    /// One PBX account and the tenant its devices belong to.
    public struct Scope: Sendable, Hashable {
        /// The Kazoo account (nil: the API key's own, or Wazo's tenant).
        public var account: String?
        public var tenantID: String

        public init(account: String?, tenantID: String) {
            (self.account, self.tenantID) = (account, tenantID)
        }
    }

    let store: Store
    let planner: EventPlanner
    let source: String
    let scopes: [Scope]
    let listing: any DeviceListing
    /// Where a model and brand come from when the listing has none (Kazoo's): the device itself, asked only for a
    /// change.
    let directory: (any DeviceDirectory)?
    let pageSize: Int
    let limits: Limits
    let logger: Logger

    public init(
        store: Store, planner: EventPlanner, source: String, scopes: [Scope], listing: any DeviceListing,
        directory: (any DeviceDirectory)?, pageSize: Int = 200, limits: Limits = Limits(), logger: Logger
    ) {
        self.store = store
        self.planner = planner
        self.source = source
        self.scopes = scopes
        self.listing = listing
        self.directory = directory
        self.pageSize = pageSize
        self.limits = limits
        self.logger = logger
    }

    var actor: String { JournalActor.sync(source: self.source).rawValue }

    /// Why a source cannot be synced.
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    /// The sync of source `name`: its PBX API's client (made by `factory`, with `limits`' read timeout; the caller
    /// shuts it down after) and its scopes: the source's own tenant, and each Kazoo account it maps.
    public static func prepare(
        source name: String, store: Store, planner: EventPlanner, pageSize: Int = 200, limits: Limits = Limits(),
        factory: DirectoryCache.Factory, logger: Logger
    ) async throws -> (SourceSync, client: any DeviceDirectory) {
        guard let source = try await store.sources().first(where: { $0.name == name }) else {
            throw StoreError.notFound("no source \(name.debugDescription)")
        }
        guard let (kind, api, secret) = try await store.sourceAPI(name: name) else {
            throw Unavailable(
                description: "source \(name) has no PBX API to read; give it one with source update --api-url …")
        }
        let client = try factory(
            kind,
            DirectoryConfiguration(
                baseURL: api.url, user: api.user, secret: secret, caFile: api.caFile, tenant: api.tenant,
                readTimeout: limits.readTimeout))
        guard let listing = client as? any DeviceListing else {
            await client.shutdown()
            throw Unavailable(description: "a \(kind.rawValue) source cannot be synced")
        }
        var scopes = source.tenantID.map { [Scope(account: nil, tenantID: $0)] } ?? []
        scopes += source.accounts.sorted { $0.key < $1.key }.map { Scope(account: $0.key, tenantID: $0.value) }
        let sync = SourceSync(
            store: store, planner: planner, source: name, scopes: scopes, listing: listing, directory: client,
            pageSize: pageSize, limits: limits, logger: logger)
        return (sync, client)
    }

    /// Runs the sync; `progress` is told after every page. Errors are in the summary, and journaled. A run stopped by
    /// its ``Limits`` says why in `stopped`: a stall, its deadline or its caps end the whole run (the next account's
    /// PBX is the same), a repeated cursor ends that account's listing. What was not listed cannot be told from what
    /// is gone, so nothing is deregistered for an account whose listing did not finish.
    public func run(
        dryRun: Bool, allowMassRemoval: Bool, maxRemovalShare: Double = 0.10,
        progress: @Sendable (String) -> Void = { _ in }
    ) async throws(StoreError) -> Summary {
        let run = UUID()
        var summary = Summary()
        let runDeadline = ContinuousClock.now.advanced(by: self.limits.maxDuration)
        let maxPages = self.limits.maxPages(pageSize: self.pageSize)
        var pages = 0
        scopes: for scope in self.scopes {
            let what = "listing \(scope.account.map { "account \($0)" } ?? "devices")"
            var complete = true
            var cursor: String?
            var scopePages = 0
            // The cursors the PBX answered, by hash: a cursor may be as long as an answer (1 MiB), and a run may read
            // many pages, so the texts are not kept. A collision would need billions of pages.
            var cursors: Set<Int> = []
            // The next page, asked while this one is compared and recorded: the PBX's listing does not depend on
            // what provhook records, and its round trip then overlaps the recording instead of following it.
            var prefetched: Task<Page, any Error>?
            defer { prefetched?.cancel() }
            repeat {
                let now = ContinuousClock.now
                if now >= runDeadline {
                    summary.stop(
                        .deadline,
                        "the sync did not finish within \(self.limits.maxDuration) (\(what), page \(scopePages + 1))")
                    break scopes
                }
                if pages >= maxPages {
                    summary.stop(
                        .tooLarge,
                        "\(what): more than \(maxPages) pages, the most a sync reads for \(self.limits.maxDevices) devices at \(self.pageSize) a page"
                    )
                    break scopes
                }
                // Progress, not the whole run, is bounded: the PBX has the stall timeout to give each page and the
                // lookups that page needs, however many pages a large PBX has.
                let stalled = now.advanced(by: self.limits.stallTimeout)
                let pageDeadline = min(stalled, runDeadline)
                let page: Page
                let (listing, account, after, pageSize) = (self.listing, scope.account, cursor, self.pageSize)
                let asked = prefetched
                prefetched = nil
                do {
                    // The client's own timeouts bound one request; this bounds them all (a new token, a retry), and
                    // answers even when the request ignores its cancellation.
                    page = try await withDeadline(pageDeadline - now, "\(what), page \(scopePages + 1)") {
                        guard let asked else {
                            return try await listing.devices(account: account, after: after, pageSize: pageSize)
                        }
                        return try await withTaskCancellationHandler {
                            try await asked.value
                        } onCancel: {
                            asked.cancel()
                        }
                    }
                } catch is DeadlineExceeded {
                    if pageDeadline < stalled {
                        summary.stop(
                            .deadline,
                            "the sync did not finish within \(self.limits.maxDuration) (\(what), page \(scopePages + 1))"
                        )
                    } else {
                        summary.stop(
                            .stalled,
                            "\(what), page \(scopePages + 1): the PBX gave no page within \(self.limits.stallTimeout)")
                    }
                    break scopes
                } catch {
                    if Task.isCancelled {
                        summary.stop(.cancelled, "\(what), page \(scopePages + 1): the sync was cancelled")
                        break scopes
                    }
                    summary.errors.append("\(what), page \(scopePages + 1): \(error)")
                    complete = false
                    break
                }
                pages += 1
                scopePages += 1
                guard summary.listed + page.devices.count <= self.limits.maxDevices else {
                    summary.stop(
                        .tooLarge,
                        "\(what), page \(scopePages): more than \(self.limits.maxDevices) devices, the most a sync reads"
                    )
                    break scopes
                }
                if let next = page.next, !cursors.contains(next.hashValue), pages < maxPages {
                    prefetched = Task {
                        try await listing.devices(account: account, after: next, pageSize: pageSize)
                    }
                }
                try await self.apply(
                    page.devices, scope: scope, run: run, dryRun: dryRun, lookupsUntil: pageDeadline, summary: &summary)
                progress("\(self.source): tenant \(scope.tenantID), page \(pages), \(summary.listed) devices listed")
                if let next = page.next, !cursors.insert(next.hashValue).inserted {
                    // A crossbar that answers the same next_start_key would be read for ever, page after page.
                    summary.stop(
                        .repeatedCursor,
                        "\(what), page \(scopePages): the PBX answered the cursor \(String(next.prefix(64)).debugDescription) again: its paging repeats, so the listing cannot finish"
                    )
                    complete = false
                    break
                }
                cursor = page.next
            } while cursor != nil
            guard complete else {
                // What the PBX did not list cannot be told from what it no longer has: no removals.
                continue
            }
            try await self.removeUnseen(
                scope: scope, run: run, dryRun: dryRun, allowMassRemoval: allowMassRemoval,
                maxRemovalShare: maxRemovalShare, summary: &summary)
        }
        try await self.store.finishSync(
            run: run, source: self.source, tenantIDs: Array(Set(self.scopes.map(\.tenantID))).sorted(),
            summary: summary.journalDetail.merging(["dry_run": .bool(dryRun)]) { $1 },
            error: summary.errors.isEmpty ? nil : summary.errors.joined(separator: "; "), actor: self.actor)
        return summary
    }

    /// One page of a listing, and the cursor of the next (nil after the last).
    typealias Page = (devices: [ListedDevice], next: String?)

    /// How many devices of a page are looked up in the PBX at once (a listing without models): a PBX's API answers
    /// several requests at a time, and a page of new devices asked one after another would hold the sync a round
    /// trip per device.
    static let lookupConcurrency = 8

    /// A difference between a page and what provhook holds.
    private enum Difference {
        /// A device of ours the PBX lists disabled.
        case removal(DeviceEvent)
        /// A device to add or move, whose event waits for its model when the listing has none.
        case change(ListedDevice, MACAddress, moved: Bool)
    }

    /// Compares one page with what provhook holds, and records its differences, in the page's order, together.
    private func apply(
        _ devices: [ListedDevice], scope: Scope, run: UUID, dryRun: Bool,
        lookupsUntil deadline: ContinuousClock.Instant,
        summary: inout Summary
    ) async throws(StoreError) {
        summary.listed += devices.count
        let macs = devices.compactMap(\.mac)
        let state = try await self.store.syncState(
            tenantID: scope.tenantID, macs: macs, deviceIDs: devices.map(\.id))
        var seen: [MACAddress] = []
        // Each difference in the page's order: a removal, or a changed device (its model perhaps still to be read).
        var differences: [Difference] = []
        for device in devices {
            guard let mac = device.mac else {
                summary.withoutMAC += 1
                continue
            }
            let held = state.byMAC[mac]
            let ours = held?.tenantID == scope.tenantID
            if !device.enabled {
                summary.disabled += 1
                seen.append(mac)
                if ours, held?.desired == .registered {
                    differences.append(.removal(.removed(mac: mac, deviceID: device.id)))
                }
                continue
            }
            seen.append(mac)
            // A serial number the PBX gained or changed since (entered after the phone was added) is a change: a
            // provisioning service that registers phones by serial waits for it. The listing's absence of one is not.
            if ours, held?.desired == .registered, held?.deviceID == device.id,
                device.serial == nil || device.serial == held?.serial
            {
                summary.unchanged += 1
                continue
            }
            if held?.isHeldByAnother == true {
                summary.conflicts += 1
                if summary.conflictMACs.count < 50 { summary.conflictMACs.append(mac.canonical) }
                continue
            }
            let moved = state.macOfDeviceID[device.id].map { $0 != mac } == true
            differences.append(.change(device, mac, moved: moved))
        }
        let unmodelled = differences.compactMap { difference -> String? in
            guard case .change(let device, _, _) = difference, device.model == nil else { return nil }
            return device.id
        }
        let found = await self.lookUp(unmodelled, account: scope.account, dryRun: dryRun, until: deadline)
        let events = differences.map { difference -> DeviceEvent in
            switch difference {
            case .removal(let event): event
            case .change(let device, let mac, let moved):
                Self.event(device, mac: mac, found: found[device.id], moved: moved)
            }
        }
        await self.record(events, scope, dryRun, &summary)
        try await self.store.markSeen(run: run, macs: seen)
    }

    /// The devices of `ids` as the PBX gives them whole (for their models), `lookupConcurrency` at a time; none in
    /// a dry run or without a directory.
    private func lookUp(
        _ ids: [String], account: String?, dryRun: Bool, until deadline: ContinuousClock.Instant
    ) async -> [String: DirectoryDevice] {
        guard !dryRun, !ids.isEmpty, let directory = self.directory else { return [:] }
        return await withTaskGroup(of: (String, DirectoryDevice?).self) { group in
            var found: [String: DirectoryDevice] = [:]
            var next = ids.makeIterator()
            func ask(_ id: String) {
                group.addTask { (id, await Self.device(of: id, account: account, in: directory, until: deadline)) }
            }
            for _ in 0..<Self.lookupConcurrency {
                guard let id = next.next() else { break }
                ask(id)
            }
            while let answer = await group.next() {
                found[answer.0] = answer.1
                if let id = next.next() { ask(id) }
            }
            return found
        }
    }

    /// The event a changed device of the listing becomes: an update when the PBX's id was known under another MAC
    /// (`moved`), else an addition. Its model, brand and serial number are the listing's, else those of the device
    /// read whole (`found`, asked only when the listing has no model).
    static func event(_ device: ListedDevice, mac: MACAddress, found: DirectoryDevice?, moved: Bool) -> DeviceEvent {
        let (model, brand) = (device.model ?? found?.model, device.brand ?? found?.brand)
        let serial = device.serial ?? found?.serial
        return moved
            ? .updated(
                mac: mac, previousMAC: nil, deviceID: device.id, extensionNumber: nil, model: model, brand: brand,
                serial: serial)
            : .added(mac: mac, deviceID: device.id, extensionNumber: nil, model: model, brand: brand, serial: serial)
    }

    /// A changed device as the PBX gives it whole (for its model and brand), asked while the page's time lasts. Past
    /// it the device is recorded without them: a PBX that lists but no longer answers lookups must not hold the sync
    /// a lookup per device.
    private static func device(
        of id: String, account: String?, in directory: any DeviceDirectory, until deadline: ContinuousClock.Instant
    ) async -> DirectoryDevice? {
        let left = deadline - ContinuousClock.now
        guard left > .zero else { return nil }
        return try? await withDeadline(left, "looking up device \(id.prefix(64))") {
            try await directory.device(id: id, account: account)
        }
    }

    /// Deregisters the source's devices that the PBX no longer lists, within the mass-removal guard.
    private func removeUnseen(
        scope: Scope, run: UUID, dryRun: Bool, allowMassRemoval: Bool, maxRemovalShare: Double,
        summary: inout Summary
    ) async throws(StoreError) {
        let (_, unseenCount, held) = try await self.store.unseenDevices(
            run: run, source: self.source, tenantID: scope.tenantID, limit: 0)
        guard unseenCount > 0 else { return }
        if !allowMassRemoval, Double(unseenCount) > maxRemovalShare * Double(held) {
            summary.removalsHeldBack += unseenCount
            summary.errors.append(
                "the PBX no longer lists \(unseenCount) of the \(held) devices of tenant \(scope.tenantID) from this source, more than \(Int(maxRemovalShare * 100)) %; nothing was deregistered (check the PBX, then run again with --allow-mass-removal)"
            )
            return
        }
        // A page of removals at a time: each removal leaves the list, so the next page starts afresh.
        var removed = 0
        while removed < unseenCount {
            let (page, _, _) = try await self.store.unseenDevices(
                run: run, source: self.source, tenantID: scope.tenantID, limit: self.pageSize)
            guard !page.isEmpty else { break }
            await self.record(page.map { .removed(mac: $0.mac, deviceID: nil) }, scope, dryRun, &summary)
            removed += page.count
            // In a dry run nothing leaves the list: one page shows what would go, and the count says how many.
            if dryRun {
                summary.deregistered += unseenCount - page.count
                break
            }
        }
    }

    /// Records events as a webhook's would be, in their order and together (or, in a dry run, only counts them). A
    /// refusal is counted and journaled by the store; a database failure is counted as an error and leaves the device
    /// for the next run.
    private func record(_ events: [DeviceEvent], _ scope: Scope, _ dryRun: Bool, _ summary: inout Summary) async {
        func count(_ event: DeviceEvent) {
            if event.type == .removed { summary.deregistered += 1 } else { summary.registered += 1 }
        }
        guard !dryRun else { return events.forEach(count) }
        let batch = events.map { event in
            let payload: [String: String] = [
                "type": event.type.rawValue, "mac": event.primaryMAC?.canonical ?? "",
                "device_id": event.deviceID ?? "", "source": self.source,
            ]
            let json =
                (try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])) ?? Data("{}".utf8)
            return BatchEvent(
                event, eventID: "sync_" + UUID().uuidString.lowercased(), tenantID: scope.tenantID,
                payload: Array(json), actor: self.actor, source: self.source)
        }
        let outcomes = await Intake(store: self.store, planner: self.planner).recordAll(batch)
        for (event, outcome) in zip(events, outcomes) {
            switch outcome {
            case .success(.accepted), .success(.duplicate): count(event)
            case .success(.refused): summary.rejected += 1
            case .success(.ignored): break
            case .failure(let error):
                summary.errors.append(
                    "recording \(event.type.rawValue) \(event.primaryMAC?.description ?? ""): \(error)")
            }
        }
    }
}
