import Foundation
import PolyZTPStandIn
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import StandInSupport
import Testing

/// A mixed tenant in one `serve`, through the real binary: its Snom phones go to Snom's XML-RPC service (the default
/// account), its Poly phones to Poly's Zero Touch Provisioning (over TLS with a private CA), each assigned to the
/// profile provhook keeps for the tenant's Poly provisioning server.
@Suite("a mixed fleet: Snom and Poly ZTP in one serve")
struct PolyFleetTests {
    /// Distinctive, so that the test can look for it everywhere it must not be.
    static let apiKey = "ztp-NEVER-SHOWN-7c3d0a"
    static let organization = "provhook-demo"

    /// The profile of `organization` that `mac` is assigned to, and that profile's server address.
    static func assignment(_ state: FakePolyZTPState, _ mac: String) async -> (profile: String, address: String?)? {
        guard let device = await state.device(mac), device.organization == Self.organization else { return nil }
        return (device.profile, await state.profiles[device.profile]?.address)
    }

    @Test(
        "each phone registers with its vendor's service; a template change re-points the Poly phones to another profile; a removal deregisters; reconcile finds what ZTP lost"
    )
    func snomAndPoly() async throws {
        let ztp = FakePolyZTPState(keys: [Self.apiKey: Self.organization, "other-key": "someone-else"])
        let authority = try PrivateCertificateAuthority()
        try await RunningFakePolyZTP.with(state: ztp, tls: authority) { ztpServer in
            try await FleetRig.with(files: [.line(Self.apiKey), .pem(authority.caCertificatePEM)]) { rig in
                let (cli, environment, database, xmlrpc, files) = (
                    rig.cli, rig.environment, rig.database, rig.xmlrpc, rig.files
                )

                // A Poly ZTP account has no user: its API key is the whole credential.
                let withUser = try await cli.run([
                    "account", "add", "poly-u", "--kind", "poly-ztp", "--user", "u", "--api-key-file", files[1],
                ])
                #expect(withUser.status != 0, "\(withUser.output)\(withUser.error)")
                try await RedirectAccountTests.expectOK(
                    cli,
                    [
                        "account", "add", "poly-a", "--kind", "poly-ztp", "--api-key-file", files[1], "--url",
                        ztpServer.url, "--ca-file", files[2],
                    ])
                let listed = try await cli.run(["account", "list", "--json"])
                let accounts = try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [[String: Any]]
                let polyAccount = accounts?.first { $0["name"] as? String == "poly-a" }
                #expect(
                    polyAccount?["vendor"] as? String == "poly" && polyAccount?["kind"] as? String == "poly-ztp",
                    "\(listed.output)")

                let secret = try await cli.addTenant([
                    "mixed", "--url-template", "https://prov.example.com/mixed/<mac>.xml",
                    "--url-template", "poly=https://prov.example.com/mixed/poly/", "--account", "poly-a",
                ]).secret

                let snom = ["000413000B01", "000413000B02"]
                let poly = ["0004F2000B01", "64167F000B02"]
                let held = "0004F2000B03"
                await ztp.setDevice(held, .init(organization: "someone-else", profile: "theirs"))

                try await ServeProcess.with(environment: environment) { serve in
                    let base = "http://127.0.0.1:\(serve.ports.webhook)"
                    for (index, mac) in (snom + poly + [held]).enumerated() {
                        try await RedirectAccountTests.send("mixed", secret, mac: mac, id: "p\(index)", base: base)
                    }
                    try await eventually("each phone registered with its vendor's service") {
                        var done = true
                        for mac in snom {
                            let registration = await xmlrpc.state.registration(mac)
                            done = done && registration?.url == "https://prov.example.com/mixed/\(mac).xml"
                        }
                        for mac in poly {
                            let assigned = await Self.assignment(ztp, mac)
                            let status = try await database.store.device(MACAddress(mac)!)?.status
                            done =
                                done && assigned?.address == "https://prov.example.com/mixed/poly/"
                                && status == .registered
                        }
                        let conflict = try await database.store.device(MACAddress(held)!)?.status == .conflict
                        return done && conflict
                    }
                    for mac in poly { #expect(await xmlrpc.state.registration(mac) == nil) }
                    #expect(await ztp.device(held)?.organization == "someone-else", "claimed elsewhere: left")
                    let profiles = await ztp.profiles(of: Self.organization)
                    #expect(profiles.count == 1, "one profile for the tenant's Poly server")
                    #expect(
                        profiles.values.first?.name.hasPrefix("provhook prov.example.com/mixed/poly/ #") == true,
                        "named so that an operator recognises it")

                    // A new template for Poly phones, with the MAC in its file name: its directory is the server,
                    // and the phones move to a second profile; no Snom phone is called.
                    let snomCallsBefore = await xmlrpc.state.calls.count
                    try await RedirectAccountTests.expectOK(
                        cli,
                        [
                            "tenant", "update", "mixed", "--url-template",
                            "poly=https://prov2.example.com/p/<mac>.cfg",
                        ])
                    try await eventually("the Poly phones re-pointed") {
                        var done = true
                        for mac in poly {
                            let assigned = await Self.assignment(ztp, mac)
                            let device = try await database.store.device(MACAddress(mac)!)
                            done =
                                done && assigned?.address == "https://prov2.example.com/p/"
                                && device?.status == .registered
                        }
                        return done
                    }
                    #expect(await xmlrpc.state.calls.count == snomCallsBefore, "no Snom phone was called")
                    #expect(await ztp.profiles(of: Self.organization).count == 2)

                    // In step, reconcile finds nothing to do for the Poly phones: a profile's server is what it
                    // compares. ZTP does not show another organisation's device, so the claimed one reads as
                    // missing (and --apply would try it again, in case it was released).
                    let quiet = try await cli.run(["reconcile"])
                    let findings = quiet.output.split(separator: "\n").filter {
                        $0.contains("missing_registration")
                    }
                    #expect(!quiet.output.contains("url_drift"), "\(quiet.output)\(quiet.error)")
                    #expect(
                        quiet.output.contains("missing_registration: 1") && findings.contains { $0.contains(held) }
                            && !poly.contains { quiet.output.contains($0) }, "\(quiet.output)")

                    // A removal deregisters at ZTP.
                    try await CommandLineRunner.sendEvent(
                        "mixed", secret, #"{"type":"device.removed","mac":"\#(poly[1])"}"#, to: base)
                    try await eventually("the removed Poly phone deregistered at ZTP") {
                        let gone = await ztp.device(poly[1]) == nil
                        let status = try await database.store.device(MACAddress(poly[1])!)?.status
                        return gone && status == .deregistered
                    }

                    // ZTP loses a device: reconcile lists the account's devices and registers it again.
                    await ztp.setDevice(poly[0], nil)
                    let reconcile = try await cli.run(["reconcile", "--apply", "20"])
                    #expect(
                        reconcile.output.contains("missing_registration"), "\(reconcile.output)\(reconcile.error)")
                    try await eventually("registered again at ZTP") {
                        await Self.assignment(ztp, poly[0])?.address == "https://prov2.example.com/p/"
                    }

                    // The API key is nowhere: not in the journal, a listing or serve's debug log.
                    let journal = try await database.store.journal(JournalFilter(limit: 2000))
                    let texts =
                        journal.map { "\($0.detail)" }.joined() + listed.output + serve.log + quiet.output
                        + reconcile.output + reconcile.error
                    let leaked = texts.contains(Self.apiKey)
                    #expect(!leaked, "the API key appeared in the journal, a listing or serve's log")
                    let calls = await ztp.calls
                    #expect(
                        calls.allSatisfy { $0.organization == Self.organization && $0.status < 500 },
                        "\(calls.count)")
                }
            }
        }
    }
}
