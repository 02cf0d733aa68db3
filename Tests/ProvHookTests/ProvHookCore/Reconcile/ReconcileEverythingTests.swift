import Foundation
import Logging
import ProvHookCore
import ProvHookTestSupport
import ProvisioningModel
import SnomSRAPS
import SnomSRAPSStandIn
import StandInSupport
import Testing
import VendorHTTP

/// Reconcile against a service that lists everything an account holds at once (`Listing.everything`, Snom SRAPS):
/// one paginated listing settles the devices it shows as the database wants them, and the rest are checked one by
/// one, which says why.
@Suite("Reconcile against a service that lists everything (SRAPS)")
struct ReconcileEverythingTests {
    static let keyID = "ak-reconcile"
    static let keySecret = "sk-reconcile-secret"
    static let company = "7a0e7a7e-4444-4c2d-9a53-0d8f7f3c0004"
    static let otherCompany = "7a0e7a7e-5555-4c2d-9a53-0d8f7f3c0005"

    @Test(
        "one listing settles the devices in sync; drift, a lost and a stale registration and an unknown MAC are found")
    func driftFoundThroughTheListing() async throws {
        try await EndToEnd.run { run in
            // The database's view, built through the usual path (delivered to the XML-RPC stand-in, which does not
            // matter here): five phones registered, one removed.
            let macs = (1...5).map { String(format: "00041300E0%02X", $0) }
            for mac in macs + ["00041300E0FF"] {
                #expect(try await run.send(#"{"type":"device.added","mac":"\#(mac)"}"#).status == 202)
            }
            #expect(try await run.send(#"{"type":"device.removed","mac":"00041300E0FF"}"#).status == 202)
            try await eventually("applied") { try await run.store.devices(DeviceFilter(status: .pending)).isEmpty }

            // SRAPS's view, more than one page of endpoints: three in sync, one drifted, one lost, the removed one
            // still there, one MAC nobody knows, and one of another company (not ours, so never listed).
            let state = FakeSRAPSState(
                keys: [Self.keyID: .init(secret: Self.keySecret, company: Self.company)],
                companies: [Self.company: "Ours", Self.otherCompany: "Theirs"])
            await state.setMaxPageSize(2)
            func url(_ mac: String) -> String { run.template.expectedURL(for: MACAddress(mac)!) }
            for mac in macs[0...2] {
                await state.setEndpoint(
                    mac, .init(company: Self.company, settings: [FakeSRAPSState.urlSettingUUID: url(mac)]))
            }
            await state.setEndpoint(
                macs[3],
                .init(company: Self.company, settings: [FakeSRAPSState.urlSettingUUID: "https://hand.example/"]))
            await state.setEndpoint(
                "00041300E0FF",
                .init(company: Self.company, settings: [FakeSRAPSState.urlSettingUUID: url("00041300E0FF")]))
            await state.setEndpoint(
                "00041300E0EE",
                .init(company: Self.company, settings: [FakeSRAPSState.urlSettingUUID: "https://x.example/"]))
            await state.setEndpoint(
                "00041300E0DD",
                .init(company: Self.otherCompany, settings: [FakeSRAPSState.urlSettingUUID: "https://y.example/"]))

            try await RunningFakeSRAPS.with(state: state) { sraps in
                let (client, close) = try SRAPSClient.withOwnPool(
                    configuration: SRAPSConfiguration(
                        baseURL: sraps.baseURL, keyID: Self.keyID, keySecret: Self.keySecret,
                        connection: VendorConnection(allowsPlainHTTP: true)),
                    logger: Logger(label: "t"))
                let reconciler = Reconciler(
                    store: run.store, service: client, concurrency: 4, actor: "reconcile:test",
                    logger: Logger(label: "t"))
                let report: Reconciler.Summary
                do {
                    report = try await reconciler.run(tenantID: nil, dryRun: true, prune: true)
                } catch {
                    await close()
                    throw error
                }
                await close()
                let kinds = Dictionary(uniqueKeysWithValues: report.findings.map { ($0.mac, $0.kind) })
                #expect(
                    kinds == [
                        macs[3]: "url_drift", macs[4]: "missing_registration", "00041300E0FF": "stale_registration",
                        "00041300E0EE": "unknown_mac",
                    ], "\(report.findings)")
                // The three in sync were settled by the listing alone; only the three others got a call of their own.
                #expect(report.settledByLists == 3, "\(report.settledByLists)")
                let endpointReads = await state.calls.filter {
                    $0.method == "GET" && $0.resource.contains("/endpoints/0")
                }
                #expect(endpointReads.count == 3, "\(endpointReads.map(\.resource))")
            }
        }
    }
}
