import AsyncHTTPClient
import Foundation
import Logging
import ProvHookCore
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPC
import SnomXMLRPCStandIn
import Synchronization
import Testing

/// `reconcile --prune` deregisters the MACs registered to our account that no tenant claims, through the desired
/// state like every other change, so that it never undoes a registration a webhook made meanwhile.
@Suite("Reconcile --prune through the desired state")
struct ReconcilePruneTests {
    static let mac = "000413009998"

    @Test("a MAC a webhook claims while the reconcile lists the service keeps its registration")
    func claimedDuringReconcile() async throws {
        try await EndToEnd.run { run in
            // The phone was registered to our account by hand; the database does not know it yet.
            await run.state.setRegistration(Self.mac, .init(owner: StandInAccounts.user, url: "https://hand.example/"))
            let (httpClient, client) = try Self.client(run)
            // The PBX adds the phone after the reconcile read the known MACs, while it lists the service.
            let racing = WebhookDuringList(service: client) {
                #expect(try await run.send(#"{"type":"device.added","mac":"\#(Self.mac)"}"#).status == 202)
                try await eventually("registered by the worker") {
                    try await run.device(Self.mac)?.status == .registered
                }
            }
            let reconciler = Reconciler(
                store: run.store, service: racing, concurrency: 2, models: ["snomD785"], actor: "reconcile:test",
                logger: Logger(label: "t"))
            let report = try await reconciler.run(tenantID: nil, dryRun: false, prune: true)
            let finding = try #require(report.findings.first { $0.mac == Self.mac })
            #expect(finding.kind == "unknown_mac" && finding.action == .reported, "\(finding)")

            // Nothing deregisters it: the tenant's registration stands at the service and in the database.
            try await Task.sleep(for: .milliseconds(500))
            #expect(await run.state.registration(Self.mac)?.url == run.template.expectedURL(for: MACAddress(Self.mac)!))
            #expect(try await run.device(Self.mac)?.tenantID == EndToEnd.tenant)
            #expect(await run.calls(for: Self.mac).allSatisfy { $0.method != "redirect.deregisterPhone" })
            try await httpClient.shutdown()
        }
    }

    @Test("an unclaimed MAC is queued with no tenant, deregistered by the worker; a tenant may claim it after")
    func unclaimed() async throws {
        try await EndToEnd.run { run in
            await run.state.setRegistration(Self.mac, .init(owner: StandInAccounts.user, url: "https://hand.example/"))
            let (httpClient, client) = try Self.client(run)
            let reconciler = Reconciler(
                store: run.store, service: client, concurrency: 2, models: ["snomD785"], actor: "reconcile:test",
                logger: Logger(label: "t"))
            let report = try await reconciler.run(tenantID: nil, dryRun: false, prune: true)
            #expect(report.findings.first { $0.mac == Self.mac }?.action == .queued)
            try await eventually("deregistered by the worker") { await run.state.registration(Self.mac) == nil }
            try await eventually("recorded") { try await run.device(Self.mac)?.status == .deregistered }
            #expect(try await run.device(Self.mac)?.tenantID == nil)
            let queued = try await run.store.journal(JournalFilter(mac: Self.mac, action: "device.deregister"))
            #expect(queued.count == 1 && queued.first?.tenantID == nil && queued.first?.actor == "reconcile:test")

            // The PBX adds the phone later: the tenant takes the row over, and it is registered.
            #expect(try await run.send(#"{"type":"device.added","mac":"\#(Self.mac)"}"#).status == 202)
            try await eventually("registered for the tenant") {
                await run.state.registration(Self.mac)?.url == run.template.expectedURL(for: MACAddress(Self.mac)!)
            }
            #expect(try await run.device(Self.mac)?.tenantID == EndToEnd.tenant)
            try await httpClient.shutdown()
        }
    }
}

extension ReconcilePruneTests {
    /// A client of the run's stand-in, and its HTTP client to shut down.
    static func client(_ run: EndToEnd) throws -> (HTTPClient, RedirectClient) {
        let configuration = ReconcileTests.configuration(run.standIn.endpoint)
        let httpClient = try RedirectClient.makeHTTPClient(configuration: configuration)
        return (
            httpClient, RedirectClient(configuration: configuration, httpClient: httpClient, logger: Logger(label: "t"))
        )
    }
}

/// The service, with `during` run inside the first list (`listPhones`): the moment at which the old reconcile had
/// already decided which MACs were unknown.
private struct WebhookDuringList: ProvisioningService {
    let service: any ProvisioningService
    let during: @Sendable () async throws -> Void
    let ran = Ran()

    init(service: any ProvisioningService, during: @escaping @Sendable () async throws -> Void) {
        self.service = service
        self.during = during
    }

    final class Ran: Sendable {
        let flag = Mutex(false)
        func first() -> Bool {
            self.flag.withLock { ran in
                defer { ran = true }
                return !ran
            }
        }
    }

    var descriptor: ServiceDescriptor { self.service.descriptor }

    func registeredMACs(model: String, url: String?) async throws(RedirectError) -> [MACAddress] {
        if self.ran.first() {
            do { try await self.during() } catch { Issue.record("\(error)") }
        }
        return try await self.service.registeredMACs(model: model, url: url)
    }
    func register(_ mac: MACAddress, at url: String) async throws(RedirectError) -> RedirectOutcome {
        try await self.service.register(mac, at: url)
    }
    func deregister(_ mac: MACAddress) async throws(RedirectError) -> RedirectOutcome {
        try await self.service.deregister(mac)
    }
    func redirection(of mac: MACAddress) async throws(RedirectError) -> PhoneRedirection {
        try await self.service.redirection(of: mac)
    }
    func ownership(of mac: MACAddress) async throws(RedirectError) -> RedirectOutcome {
        try await self.service.ownership(of: mac)
    }
    func register(_ macs: [MACAddress], at url: String) async throws(RedirectError) -> ListOutcome {
        try await self.service.register(macs, at: url)
    }
    func deregister(_ macs: [MACAddress]) async throws(RedirectError) -> ListOutcome {
        try await self.service.deregister(macs)
    }
}
