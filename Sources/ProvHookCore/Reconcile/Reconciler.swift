import Foundation
import Logging
import ProvisioningModel

/// Compares what the database wants with what the redirection service holds, and queues a fix for each
/// difference. The worker applies the fixes, so reconcile is safe while `serve` runs.
public struct Reconciler: Sendable {
    /// Snom models asked with `listPhones` to find MACs registered to our account that the database does not know.
    public static let defaultModels = [
        "snomD120", "snomD140", "snomD150", "snomD305", "snomD315", "snomD335", "snomD345", "snomD375", "snomD385",
        "snomD717", "snomD725", "snomD735", "snomD745", "snomD765", "snomD785", "snomD812", "snomD815", "snomD862",
        "snomD865", "snomM100", "snomM215", "snomM300", "snomM325", "snomM400", "snomM430", "snomM500", "snomM700",
        "snomM900", "snomC520", "snomC620", "snomPA1",
    ]

    /// One difference found.
    public struct Finding: Sendable, Hashable {
        /// `url_drift`, `missing_registration`, `stale_registration`, `owned_by_other_user`, `unknown_mac`,
        /// `wrong_account` (registered under another of our accounts than its tenant's), `check_failed`, or
        /// `not_checkable` (an account whose service cannot say what it holds; no MAC).
        public var kind: String
        public var mac: String
        public var tenantID: String?
        public var expected: String?
        public var actual: String?
        /// `queued` (a prune too: it goes through the desired state), `reported` (dry run, or nothing provhook may
        /// fix) or `error`. (`pruned` is in journals from before: a direct call.)
        public var action: JournalOutcome
    }

    /// What a run did.
    public struct Summary: Sendable {
        public var devicesChecked = 0
        public var inSync = 0
        public var findings: [Finding] = []
        /// Calls made to the service: the lists, and the checks of one device each.
        public var calls = 0
        /// Devices found in sync by a list alone, with no call of their own.
        public var settledByLists = 0

        public init() {}

        /// Adds another run's figures and findings (another account's).
        public mutating func add(_ other: Summary) {
            self.devicesChecked += other.devicesChecked
            self.inSync += other.inSync
            self.findings += other.findings
            self.calls += other.calls
            self.settledByLists += other.settledByLists
        }
    }

    public var store: Store
    public var service: any ProvisioningService
    public var concurrency: Int
    public var models: [String]
    public var actor: String
    /// The redirection account `service` calls with: only the devices whose calls go to it are compared.
    public var account: String
    public var logger: Logger

    public init(
        store: Store, service: any ProvisioningService, concurrency: Int, models: [String] = Self.defaultModels,
        account: String = RedirectAccount.defaultName, actor: String, logger: Logger
    ) {
        self.store = store
        self.account = account
        self.service = service
        self.concurrency = max(1, concurrency)
        self.models = models
        self.actor = actor
        self.logger = logger
    }

    /// Runs a reconciliation; `progress` is called with (checked, total) as devices are checked.
    ///
    /// The service is asked by lists where it can be (`descriptor.listing`): Snom's `listPhones(model, url)` answers, in one call, every MAC of a
    /// model registered to our account at a URL, so the devices that share a model and a URL are compared as a
    /// whole set; and when every tenant is reconciled, `listPhones(model)` for each model finds the MACs the
    /// database does not know and settles the deregistered devices of those models. A device is then checked on
    /// its own (`getPhoneRedirection` or `checkPhone`) only where a list cannot settle it: its model is unknown or
    /// not one of `models`, it is the only device at its URL, or the list does not hold it (then the check says
    /// why: a URL that drifted, a registration missing, another owner). A service that lists everything an account
    /// holds (`.everything`, SRAPS) is read once, and settles every device it shows as the database wants it.
    public func run(
        tenantID: String?, dryRun: Bool, prune: Bool, progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws -> Summary {
        var summary = Summary()
        var findings: [Finding] = []
        let total = try await self.store.reconcilableDeviceCount(tenantID: tenantID, account: self.account)
        guard self.service.descriptor.canCheckDevices else {
            return try await self.reportNotCheckable(total, tenantID: tenantID, dryRun: dryRun, prune: prune)
        }

        // A service that cannot list by model has every device checked on its own.
        let listsByModel = self.service.descriptor.listing == .byModel
        // Every MAC of each model registered to our account (only when looking at all tenants).
        var ours: Set<String> = []
        var scannedModels: Set<String> = []
        // Read before the lists: a MAC a webhook claims while they are read is reported, and a prune leaves it alone.
        let known = tenantID == nil ? try await self.store.knownMACAccounts() : [:]
        // A service that lists everything an account holds (SRAPS) is read once: each MAC with its URL.
        var everything: [String: String?]?
        if self.service.descriptor.listing == .everything {
            summary.calls += 1
            do {
                let registrations = try await self.service.registrations()
                everything = Dictionary(registrations.map { ($0.mac.canonical, $0.url) }) { first, _ in first }
                if tenantID == nil { ours = Set(registrations.map(\.mac.canonical)) }
            } catch {
                findings.append(
                    Finding(
                        kind: "check_failed", mac: "", tenantID: nil, expected: nil,
                        actual: "listing the account's registrations: \(error)", action: .error))
            }
        }
        if tenantID == nil, listsByModel {
            for model in self.models {
                summary.calls += 1
                do {
                    for mac in try await self.service.registeredMACs(model: model, url: nil) {
                        ours.insert(mac.canonical)
                    }
                    scannedModels.insert(model)
                } catch {
                    findings.append(
                        Finding(
                            kind: "check_failed", mac: "", tenantID: nil, expected: nil,
                            actual: "listPhones \(model): \(error)", action: .error))
                }
            }
        }

        // The registered devices that share a model and a URL, each group as one list.
        let groups = try await self.store.reconcileGroups(tenantID: tenantID, account: self.account).compactMap {
            group -> ListGroup? in
            guard listsByModel, let model = self.listModel(group.model) else { return nil }
            return ListGroup(model: model, url: group.url)
        }
        var listed: [ListGroup: Set<String>] = [:]
        try await withThrowingTaskGroup(of: (ListGroup, Set<String>?).self) { tasks in
            var next = 0
            func add() {
                guard next < groups.count else { return }
                let group = groups[next]
                next += 1
                tasks.addTask {
                    let macs = try? await self.service.registeredMACs(model: group.model, url: group.url)
                    return (group, macs.map { Set($0.map(\.canonical)) })
                }
            }
            for _ in 0..<self.concurrency { add() }
            while let (group, macs) = try await tasks.next() {
                summary.calls += 1
                // A list that failed settles nothing: its devices are checked one by one.
                if let macs { listed[group] = macs }
                add()
            }
        }

        // The devices, a page at a time: those a list settles need no call; the others are checked one by one.
        var checked = 0
        var after: String?
        repeat {
            let page = try await self.store.devices(
                DeviceFilter(tenantID: tenantID, afterMAC: after, limit: 5000, account: self.account))
            after = page.count == 5000 ? page.last?.mac : nil
            var toCheck: [Device] = []
            for device in page where device.status != .skipped && device.status != .pending && device.moveTo == nil {
                checked += 1
                if let everything, self.settled(device, byEverything: everything) {
                    summary.settledByLists += 1
                } else if self.settledByList(device, listed: listed, ours: ours, scannedModels: scannedModels) {
                    summary.settledByLists += 1
                } else {
                    toCheck.append(device)
                }
            }
            try await withThrowingTaskGroup(of: Finding?.self) { tasks in
                var next = 0
                func add() {
                    guard next < toCheck.count else { return }
                    let device = toCheck[next]
                    next += 1
                    tasks.addTask { await self.check(device) }
                }
                for _ in 0..<self.concurrency { add() }
                while let result = try await tasks.next() {
                    summary.calls += 1
                    if let result { findings.append(result) }
                    add()
                }
            }
            progress(checked, max(total, checked))
        } while after != nil
        summary.devicesChecked = checked
        summary.inSync = checked - findings.filter { !$0.mac.isEmpty }.count

        // MACs registered to our account that the database does not know.
        if tenantID == nil {
            for mac in ours.sorted() {
                guard let holder = known[mac] else {
                    findings.append(
                        Finding(
                            kind: "unknown_mac", mac: mac, tenantID: nil, expected: "not registered",
                            actual: "registered to our account \(self.account)", action: .reported))
                    continue
                }
                // Registered under this account, while its device's calls go to another of ours.
                if holder != self.account {
                    findings.append(
                        Finding(
                            kind: "wrong_account", mac: mac, tenantID: nil,
                            expected: holder.map { "account \($0)" } ?? "no account (no account serves its vendor)",
                            actual: "registered to account \(self.account)", action: .reported))
                }
            }
        }

        // Act on the findings, then journal each.
        var entries: [JournalEntry] = []
        for index in findings.indices {
            var finding = findings[index]
            if !dryRun {
                switch finding.kind {
                case "url_drift", "missing_registration", "stale_registration":
                    let detail: [String: JSONValue] = [
                        "kind": .string(finding.kind), "expected": finding.expected.map(JSONValue.string) ?? .null,
                        "actual": finding.actual.map(JSONValue.string) ?? .null,
                    ]
                    if let mac = MACAddress(finding.mac),
                        try await self.store.requeue(
                            mac, actor: self.actor, reason: "reconcile found \(finding.kind)", detail: detail) != nil
                    {
                        finding.action = .queued
                    }
                case "wrong_account":
                    // Moved the way Snom advises: deregistered with the account that holds it, then registered with
                    // the one its tenant uses.
                    if let mac = MACAddress(finding.mac),
                        let (tenantID, _) = try await self.store.queueMove(
                            mac, from: self.account, actor: self.actor,
                            detail: ["reason": "reconcile found it registered under another of our accounts"])
                    {
                        finding.tenantID = tenantID
                        finding.action = .queued
                    }
                case "unknown_mac" where prune:
                    // Through the desired state, never a direct call: a MAC a webhook claims meanwhile keeps the
                    // tenant's registration.
                    if let mac = MACAddress(finding.mac) {
                        let queued = try await self.store.queueUnclaimedDeregistration(
                            mac, account: self.account, actor: self.actor,
                            detail: ["reason": "reconcile --prune: no tenant claims it"])
                        if queued != nil {
                            finding.action = .queued
                        } else {
                            finding.actual = "claimed by a tenant since the reconcile started; left alone"
                        }
                    }
                default:
                    break
                }
            }
            findings[index] = finding
            entries.append(.reconcileFinding(finding, dryRun: dryRun, actor: self.actor))
        }
        entries.append(
            .reconcileRun(
                tenantID: tenantID, devicesChecked: summary.devicesChecked, findings: findings.count,
                calls: summary.calls, prune: prune, dryRun: dryRun, actor: self.actor))
        try await self.store.appendJournal(entries)
        summary.findings = findings
        return summary
    }

    /// For a service that cannot say what an account holds (`descriptor.canCheckDevices` false, Fanvil FDPS): one
    /// `not_checkable` finding for the account when it has devices, journaled with the run, and nothing checked or
    /// queued. Not a failed check: no run could do better, so it does not make reconcile fail.
    private func reportNotCheckable(
        _ total: Int, tenantID: String?, dryRun: Bool, prune: Bool
    ) async throws -> Summary {
        var summary = Summary()
        if total > 0 {
            summary.findings.append(
                Finding(
                    kind: "not_checkable", mac: "", tenantID: tenantID, expected: nil,
                    actual:
                        "account \(self.account): \(self.service.descriptor.name) has no call that says what an account holds; \(total) device(s) not checked (`provhook device retry MAC` applies one again)",
                    action: .reported))
        }
        var entries = summary.findings.map { JournalEntry.reconcileFinding($0, dryRun: dryRun, actor: self.actor) }
        entries.append(
            .reconcileRun(
                tenantID: tenantID, devicesChecked: 0, findings: summary.findings.count, calls: 0, prune: prune,
                dryRun: dryRun, actor: self.actor))
        try await self.store.appendJournal(entries)
        return summary
    }

    /// The devices at one URL with one model, asked as a list.
    struct ListGroup: Hashable, Sendable {
        var model: String
        var url: String
    }

    /// The model name to ask `listPhones` for a device's model, as the PBX gave it: one of `models`, or one of them
    /// without its `snom` prefix (`D785` for `snomD785`); nil when none matches.
    func listModel(_ model: String?) -> String? {
        guard let model, !model.isEmpty else { return nil }
        if self.models.contains(model) { return model }
        return self.models.first {
            $0.lowercased() == "snom" + model.lowercased() || $0.lowercased() == model.lowercased()
        }
    }

    /// Whether the lists alone show `device` as it should be.
    /// Whether the account's whole listing settles `device`: registered at its URL, or, for a removal, not ours.
    /// Anything else (drift, a missing registration) is checked on its own, which says why.
    private func settled(_ device: Device, byEverything everything: [String: String?]) -> Bool {
        switch device.desired {
        case .registered:
            guard let url = device.url, let mac = MACAddress(device.mac) else { return false }
            return everything[device.mac] == .some(self.service.heldURL(for: url, of: mac))
        case .deregistered: return everything[device.mac] == nil
        }
    }

    private func settledByList(
        _ device: Device, listed: [ListGroup: Set<String>], ours: Set<String>, scannedModels: Set<String>
    ) -> Bool {
        guard let model = self.listModel(device.model) else { return false }
        switch device.desired {
        case .registered:
            guard let url = device.url, let macs = listed[ListGroup(model: model, url: url)] else { return false }
            return macs.contains(device.mac)
        case .deregistered:
            // Listed under no model: not ours. Whether another account holds it does not matter for a removal.
            return scannedModels.count == self.models.count && !ours.contains(device.mac)
        }
    }

    /// Compares one device with the service.
    private func check(_ device: Device) async -> Finding? {
        guard let mac = MACAddress(device.mac) else { return nil }
        func finding(_ kind: String, expected: String?, actual: String?, action: JournalOutcome = .reported) -> Finding
        {
            Finding(
                kind: kind, mac: device.mac, tenantID: device.tenantID, expected: expected, actual: actual,
                action: action)
        }
        do {
            switch device.desired {
            case .registered:
                switch try await self.service.redirection(of: mac) {
                case .redirected(_, let url):
                    // What the service holds for the device's URL (Poly ZTP: its profile's server address).
                    let expected = device.url.map { self.service.heldURL(for: $0, of: mac) }
                    return url == expected ? nil : finding("url_drift", expected: expected, actual: url)
                case .held:
                    // Ours, at a URL the service does not tell: nothing to compare.
                    return nil
                case .error(.noSuchMAC):
                    return finding("missing_registration", expected: device.url, actual: "not registered")
                case .error(.ownedByOtherUser):
                    return device.status == .conflict
                        ? nil : finding("owned_by_other_user", expected: device.url, actual: "owned by another account")
                case .error(let code):
                    return finding("check_failed", expected: device.url, actual: code.answer, action: .error)
                }
            case .deregistered:
                switch try await self.service.ownership(of: mac) {
                case .ok:
                    return finding(
                        "stale_registration", expected: "not registered", actual: "registered to our account")
                case .error:
                    return nil
                }
            }
        } catch {
            return finding("check_failed", expected: nil, actual: error.description, action: .error)
        }
    }
}
