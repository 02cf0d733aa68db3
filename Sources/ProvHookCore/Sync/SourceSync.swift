import Foundation
import Logging
import PBXDirectory
import SnomRedirect

/// Makes provhook's devices match a PBX's: reads every device behind a source, a page at a time, and turns each
/// difference into the event a webhook would have sent, recorded through the same planner, transaction and
/// journal (actor `sync:<name>`). A device of the source that the PBX no longer lists, or lists disabled, is
/// deregistered, unless that would deregister more than `maxRemovalShare` of the tenant's devices from the source
/// (a broken answer, such as an empty listing or a wrong account, must not deregister a fleet).
///
/// Memory does not grow with the PBX's size: each page is compared and written, and the MACs seen are kept in
/// the database (`source_sync_seen`) for the removal pass. A sync with nothing to change writes only its run row.
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

    /// What a run found and did, per outcome.
    public struct Summary: Sendable, Hashable, Codable {
        public var listed = 0
        public var unchanged = 0
        public var registered = 0
        public var deregistered = 0
        public var withoutMAC = 0
        public var disabled = 0
        public var rejected = 0
        /// Devices whose MAC another tenant holds registered: what the planner would refuse as `mac_in_use`. Counted,
        /// and named in the run's journal row, rather than journaled again by every run.
        public var conflicts = 0
        public var conflictMACs: [String] = []
        public var removalsHeldBack = 0
        public var errors: [String] = []

        enum CodingKeys: String, CodingKey {
            case listed, unchanged, registered, deregistered, disabled, rejected, errors, conflicts
            case conflictMACs = "conflict_macs"
            case withoutMAC = "without_mac"
            case removalsHeldBack = "removals_held_back"
        }

        /// The summary as the journal and `source list` keep it.
        var journalDetail: [String: JSONValue] {
            [
                "listed": .number(Double(self.listed)), "unchanged": .number(Double(self.unchanged)),
                "registered": .number(Double(self.registered)), "deregistered": .number(Double(self.deregistered)),
                "without_mac": .number(Double(self.withoutMAC)), "disabled": .number(Double(self.disabled)),
                "rejected": .number(Double(self.rejected)), "conflicts": .number(Double(self.conflicts)),
                "conflict_macs": .array(self.conflictMACs.map(JSONValue.string)),
                "removals_held_back": .number(Double(self.removalsHeldBack)),
            ]
        }
    }

    let store: Store
    let planner: EventPlanner
    let source: String
    let scopes: [Scope]
    let listing: any DeviceListing
    /// Where a model comes from when the listing has none (Kazoo's): the device itself, asked only for a change.
    let directory: (any DeviceDirectory)?
    let pageSize: Int
    let logger: Logger

    public init(
        store: Store, planner: EventPlanner, source: String, scopes: [Scope], listing: any DeviceListing,
        directory: (any DeviceDirectory)?, pageSize: Int = 200, logger: Logger
    ) {
        self.store = store
        self.planner = planner
        self.source = source
        self.scopes = scopes
        self.listing = listing
        self.directory = directory
        self.pageSize = pageSize
        self.logger = logger
    }

    var actor: String { "sync:\(self.source)" }

    /// Why a source cannot be synced.
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    /// The sync of source `name`: its PBX API's client (made by `factory`; the caller shuts it down after) and
    /// its scopes: the source's own tenant, and each Kazoo account it maps.
    public static func prepare(
        source name: String, store: Store, planner: EventPlanner, pageSize: Int = 200,
        factory: DirectoryCache.Factory = DirectoryCache.standard, logger: Logger
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
                baseURL: api.url, user: api.user, secret: secret, caFile: api.caFile, tenant: api.tenant))
        guard let listing = client as? any DeviceListing else {
            await client.shutdown()
            throw Unavailable(description: "a \(kind.rawValue) source cannot be synced")
        }
        var scopes = source.tenantID.map { [Scope(account: nil, tenantID: $0)] } ?? []
        scopes += source.accounts.sorted { $0.key < $1.key }.map { Scope(account: $0.key, tenantID: $0.value) }
        let sync = SourceSync(
            store: store, planner: planner, source: name, scopes: scopes, listing: listing, directory: client,
            pageSize: pageSize, logger: logger)
        return (sync, client)
    }

    /// Runs the sync; `progress` is told after every page. Errors are in the summary, and journaled.
    public func run(
        dryRun: Bool, allowMassRemoval: Bool, maxRemovalShare: Double = 0.10,
        progress: @Sendable (String) -> Void = { _ in }
    ) async throws(StoreError) -> Summary {
        let run = UUID()
        var summary = Summary()
        for scope in self.scopes {
            var complete = true
            var cursor: String?
            var pages = 0
            repeat {
                let page: (devices: [ListedDevice], next: String?)
                do {
                    page = try await self.listing.devices(
                        account: scope.account, after: cursor, pageSize: self.pageSize)
                } catch {
                    summary.errors.append(
                        "listing \(scope.account.map { "account \($0)" } ?? "devices"), page \(pages + 1): \(error)")
                    complete = false
                    break
                }
                pages += 1
                try await self.apply(page.devices, scope: scope, run: run, dryRun: dryRun, summary: &summary)
                progress("\(self.source): tenant \(scope.tenantID), page \(pages), \(summary.listed) devices listed")
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

    /// Compares one page with what provhook holds, and records each difference.
    private func apply(
        _ devices: [ListedDevice], scope: Scope, run: UUID, dryRun: Bool, summary: inout Summary
    ) async throws(StoreError) {
        summary.listed += devices.count
        let macs = devices.compactMap(\.mac)
        let state = try await self.store.syncState(
            tenantID: scope.tenantID, macs: macs, deviceIDs: devices.map(\.id))
        var seen: [MACAddress] = []
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
                    await self.record(.removed(mac: mac, deviceID: device.id), scope, dryRun, &summary)
                }
                continue
            }
            seen.append(mac)
            if ours, held?.desired == .registered, held?.deviceID == device.id {
                summary.unchanged += 1
                continue
            }
            if let held, !ours, held.desired == .registered {
                summary.conflicts += 1
                if summary.conflictMACs.count < 50 { summary.conflictMACs.append(mac.canonical) }
                continue
            }
            var model = device.model
            if model == nil, !dryRun, let directory = self.directory {
                model = (try? await directory.device(id: device.id, account: scope.account))?.model
            }
            let event: DeviceEvent =
                state.macOfDeviceID[device.id].map { $0 != mac } == true
                ? .updated(mac: mac, previousMAC: nil, deviceID: device.id, extensionNumber: nil, model: model)
                : .added(mac: mac, deviceID: device.id, extensionNumber: nil, model: model)
            await self.record(event, scope, dryRun, &summary)
        }
        try await self.store.markSeen(run: run, macs: seen)
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
            for device in page {
                await self.record(.removed(mac: device.mac, deviceID: nil), scope, dryRun, &summary)
            }
            removed += page.count
            // In a dry run nothing leaves the list: one page shows what would go, and the count says how many.
            if dryRun {
                summary.deregistered += unseenCount - page.count
                break
            }
        }
    }

    /// Records one event as a webhook's would be (or, in a dry run, only counts it). A refusal is counted and
    /// journaled by the store; a database failure is counted as an error and leaves the device for the next run.
    private func record(_ event: DeviceEvent, _ scope: Scope, _ dryRun: Bool, _ summary: inout Summary) async {
        let counts: (inout Summary) -> Void = {
            if event.type == .removed { $0.deregistered += 1 } else { $0.registered += 1 }
        }
        guard !dryRun else { return counts(&summary) }
        let payload: [String: String] = [
            "type": event.type.rawValue, "mac": event.primaryMAC?.canonical ?? "", "device_id": event.deviceID ?? "",
            "source": self.source,
        ]
        let json = (try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])) ?? Data("{}".utf8)
        do {
            let result = try await self.store.ingest(
                event, tenantID: scope.tenantID, eventID: "sync_" + UUID().uuidString.lowercased(),
                payload: Array(json), actor: self.actor, planner: self.planner, source: self.source)
            switch result {
            case .accepted, .duplicate: counts(&summary)
            case .rejected: summary.rejected += 1
            }
        } catch {
            summary.errors.append("recording \(event.type.rawValue) \(event.primaryMAC?.description ?? ""): \(error)")
        }
    }
}
