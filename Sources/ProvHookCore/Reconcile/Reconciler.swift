import Foundation
import Logging
import SnomRedirect

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
        /// or `check_failed`.
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
    }

    public var store: Store
    public var service: any RedirectService
    public var concurrency: Int
    public var models: [String]
    public var actor: String
    public var logger: Logger

    public init(
        store: Store, service: any RedirectService, concurrency: Int, models: [String] = Self.defaultModels,
        actor: String, logger: Logger
    ) {
        self.store = store
        self.service = service
        self.concurrency = max(1, concurrency)
        self.models = models
        self.actor = actor
        self.logger = logger
    }

    /// Runs a reconciliation; `progress` is called with (checked, total) as devices are checked.
    public func run(
        tenantID: String?, dryRun: Bool, prune: Bool, progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws -> Summary {
        var devices: [Device] = []
        var after: String?
        repeat {
            let page = try await self.store.devices(DeviceFilter(tenantID: tenantID, afterMAC: after, limit: 5000))
            devices += page.filter { $0.status != .skipped && $0.status != .pending }
            after = page.count == 5000 ? page.last?.mac : nil
        } while after != nil

        var summary = Summary()
        summary.devicesChecked = devices.count
        let total = devices.count
        var findings: [Finding] = []
        try await withThrowingTaskGroup(of: Finding?.self) { group in
            var next = 0
            var done = 0
            func add() {
                guard next < devices.count else { return }
                let device = devices[next]
                next += 1
                group.addTask { await self.check(device) }
            }
            for _ in 0..<self.concurrency { add() }
            while let result = try await group.next() {
                done += 1
                if done % 100 == 0 || done == total { progress(done, total) }
                if let result { findings.append(result) }
                add()
            }
        }
        summary.inSync = devices.count - findings.count

        // MACs registered to our account that the database does not know (only when looking at all tenants).
        if tenantID == nil {
            let known = try await self.store.knownMACs()
            var unknown: Set<MACAddress> = []
            for model in self.models {
                do {
                    for mac in try await self.service.listPhones(model: model, url: nil)
                    where !known.contains(mac.canonical) {
                        unknown.insert(mac)
                    }
                } catch {
                    findings.append(
                        Finding(
                            kind: "check_failed", mac: "", tenantID: nil, expected: nil,
                            actual: "listPhones \(model): \(error)", action: .error))
                }
            }
            for mac in unknown.sorted() {
                findings.append(
                    Finding(
                        kind: "unknown_mac", mac: mac.canonical, tenantID: nil, expected: "not registered",
                        actual: "registered to our account", action: .reported))
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
                case "unknown_mac" where prune:
                    // Through the desired state, never a direct call: a MAC a webhook claims meanwhile keeps the
                    // tenant's registration.
                    if let mac = MACAddress(finding.mac) {
                        let queued = try await self.store.queueUnclaimedDeregistration(
                            mac, actor: self.actor, detail: ["reason": "reconcile --prune: no tenant claims it"])
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
                tenantID: tenantID, devicesChecked: devices.count, findings: findings.count, prune: prune,
                dryRun: dryRun, actor: self.actor))
        try await self.store.appendJournal(entries)
        summary.findings = findings
        return summary
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
                switch try await self.service.phoneRedirection(mac) {
                case .redirected(_, let url):
                    return url == device.url ? nil : finding("url_drift", expected: device.url, actual: url)
                case .error(.noSuchMAC):
                    return finding("missing_registration", expected: device.url, actual: "not registered")
                case .error(.ownedByOtherUser):
                    return device.status == .conflict
                        ? nil : finding("owned_by_other_user", expected: device.url, actual: "owned by another account")
                case .error(let code):
                    return finding("check_failed", expected: device.url, actual: code.answer, action: .error)
                }
            case .deregistered:
                switch try await self.service.checkPhone(mac) {
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
