import Foundation
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import ProvisioningModel
import SnomSRAPSStandIn
import SnomXMLRPCStandIn
import StandInSupport
import Testing

/// Gigaset phones through Gigaset's GRAPE (SRAPS's API, its own URL setting) in one `serve`, through the real binary,
/// beside the default Snom account: registered, re-pointed, deregistered and reconciled.
@Suite("Gigaset GRAPE in one serve")
struct GRAPEFleetTests {
    static let keyID = "ak-grape-test"
    /// Distinctive, so that the test can look for it everywhere it must not be.
    static let keySecret = "sk-NEVER-SHOWN-gr4pe1"
    static let company = "7a0e7a7e-4444-4c2d-9a53-0d8f7f3c0004"

    @Test(
        "each Gigaset phone is registered at GRAPE in its ProvisioningServer setting; a template change re-points, a removal deletes, reconcile finds what GRAPE lost"
    )
    func grape() async throws {
        let grape = FakeSRAPSState(
            keys: [Self.keyID: .init(secret: Self.keySecret, company: Self.company)],
            companies: [Self.company: "Reseller G"], grape: true)
        let authority = try PrivateCertificateAuthority()
        try await RunningFakeSRAPS.with(state: grape, tls: authority) { grapeServer in
            try await FleetRig.with(files: [.line(Self.keySecret), .pem(authority.caCertificatePEM)]) { rig in
                let (cli, environment, database, xmlrpc, files) = (
                    rig.cli, rig.environment, rig.database, rig.xmlrpc, rig.files
                )
                try await RedirectAccountTests.expectOK(
                    cli,
                    [
                        "account", "add", "grape-a", "--kind", "gigaset-grape", "--key-id", Self.keyID,
                        "--key-secret-file", files[1], "--url", grapeServer.baseURL, "--ca-file", files[2],
                    ])
                let listed = try await cli.run(["account", "list", "--json"])
                let accounts = try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [[String: Any]]
                let account = accounts?.first { $0["name"] as? String == "grape-a" }
                #expect(
                    account?["kind"] as? String == "gigaset-grape" && account?["vendor"] as? String == "gigaset",
                    "\(listed.output)")
                let secret = try await cli.addTenant([
                    "gs", "--url-template", "https://prov.example.com/gs/<mac>.xml", "--url-template",
                    "gigaset=https://prov.example.com/gs/gigaset/<mac>.xml", "--account", "grape-a",
                ]).secret
                let gigaset = ["7C2F80000A01", "7C2F80000A02"]
                let snom = "000413000A01"

                func urls() async -> [String?] {
                    var now: [String?] = []
                    for mac in gigaset { now.append(await grape.url(of: mac)) }
                    return now
                }
                try await ServeProcess.with(environment: environment) { serve in
                    let base = "http://127.0.0.1:\(serve.ports.webhook)"
                    for (index, mac) in (gigaset + [snom]).enumerated() {
                        try await RedirectAccountTests.send("gs", secret, mac: mac, id: "g\(index)", base: base)
                    }
                    try await eventually("registered at GRAPE, the Snom phone at Snom's") {
                        let snomURL = await xmlrpc.state.registration(snom)?.url
                        return await urls() == gigaset.map { "https://prov.example.com/gs/gigaset/\($0).xml" }
                            && snomURL == "https://prov.example.com/gs/\(snom).xml"
                    }
                    #expect(await grape.endpoint(snom) == nil, "the Snom phone is not GRAPE's")
                    let endpoint = try #require(await grape.endpoint(gigaset[0]))
                    #expect(endpoint.settings.keys.sorted() == [FakeSRAPSState.urlSettingUUID])

                    try await RedirectAccountTests.expectOK(
                        cli,
                        [
                            "tenant", "update", "gs", "--url-template",
                            "gigaset=https://prov2.example.com/gs/<mac>.xml",
                        ])
                    try await eventually("re-pointed at GRAPE") {
                        await urls() == gigaset.map { "https://prov2.example.com/gs/\($0).xml" }
                    }

                    try await CommandLineRunner.sendEvent(
                        "gs", secret, #"{"type":"device.removed","mac":"\#(gigaset[1])"}"#, to: base)
                    try await eventually("deleted at GRAPE") {
                        let status = try await database.store.device(MACAddress(gigaset[1])!)?.status
                        return await grape.endpoint(gigaset[1]) == nil && status == .deregistered
                    }

                    await grape.setEndpoint(gigaset[0], nil)
                    let reconcile = try await cli.run(["reconcile", "--apply", "20"])
                    #expect(
                        reconcile.output.contains("missing_registration"), "\(reconcile.output)\(reconcile.error)")
                    try await eventually("registered again at GRAPE") {
                        await grape.url(of: gigaset[0]) == "https://prov2.example.com/gs/\(gigaset[0]).xml"
                    }

                    let journal = try await database.store.journal(JournalFilter(limit: 2000))
                    let texts = journal.map { "\($0.detail)" }.joined() + listed.output + serve.log
                    #expect(!texts.contains(Self.keySecret), "the key secret appeared in the journal or a log")
                    #expect(await grape.calls.allSatisfy { $0.keyID == Self.keyID })
                }
            }
        }
    }
}
