import Foundation
import PostgresNIO
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import StandInSupport
import Testing
import YealinkRPSStandIn
import YealinkYMCSStandIn

/// A mixed tenant in one `serve`, through the real binary: its Snom phones go to Snom's XML-RPC service (the default
/// account), its Yealink phones to Yealink's RPS (over TLS with a private CA), each vendor's with its own URL template.
@Suite("a mixed fleet: Snom and Yealink RPS in one serve")
struct MixedFleetTests {
    static let rpsUser = "rps-provhook"
    /// Distinctive, so that the test can look for it everywhere it must not be.
    static let rpsPassword = "rps-NEVER-SHOWN-9e2b11"

    @Test(
        "each phone registers with its vendor's service; a MAC another RPS account holds is a conflict; a template change re-points; a removal deregisters; reconcile finds what RPS lost"
    )
    func snomAndYealink() async throws {
        let rps = FakeYealinkRPSState(accounts: [Self.rpsUser: Self.rpsPassword, "someone-else": "x"])
        let authority = try PrivateCertificateAuthority()
        try await RunningFakeYealinkRPS.with(state: rps, tls: authority) { rpsServer in
            try await FleetRig.with(files: [.line(Self.rpsPassword), .pem(authority.caCertificatePEM)]) { rig in
                let (cli, environment, database, xmlrpc, files) = (
                    rig.cli, rig.environment, rig.database, rig.xmlrpc, rig.files
                )

                // Override is a Yealink RPS flag: refused for a Snom account, taken (and shown) for RPS.
                let snomOverride = try await cli.run([
                    "account", "add", "snom-o", "--user", "u", "--password-file", files[0], "--override",
                ])
                #expect(
                    snomOverride.status == 2 && snomOverride.error.contains("cannot set override"),
                    "\(snomOverride.error)")
                try await RedirectAccountTests.expectOK(
                    cli,
                    [
                        "account", "add", "rps-a", "--kind", "yealink-rps", "--user", Self.rpsUser,
                        "--password-file", files[1], "--url", rpsServer.url, "--ca-file", files[2],
                    ])
                try await RedirectAccountTests.expectOK(cli, ["account", "update", "rps-a", "--override"])
                let listed = try await cli.run(["account", "list", "--json"])
                let accounts = try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [[String: Any]]
                let rpsAccount = accounts?.first { $0["name"] as? String == "rps-a" }
                #expect(
                    rpsAccount?["vendor"] as? String == "yealink" && rpsAccount?["override"] as? Bool == true,
                    "\(listed.output)")
                try await RedirectAccountTests.expectOK(cli, ["account", "update", "rps-a", "--no-override"])

                let secret = try await cli.addTenant([
                    "mixed", "--url-template", "https://prov.example.com/mixed/<mac>.xml",
                    "--url-template", "yealink=https://prov.example.com/mixed/yealink/<mac>.cfg", "--account",
                    "rps-a",
                ]).secret

                let snom = ["000413000A01", "000413000A02"]
                let yealink = ["001565000A01", "001565000A02"]
                let held = "805EC0000A03"
                await rps.setRegistration(
                    held, .init(owner: "someone-else", serverName: "theirs", url: "https://elsewhere.example/"))

                try await ServeProcess.with(environment: environment) { serve in
                    let base = "http://127.0.0.1:\(serve.ports.webhook)"
                    for (index, mac) in (snom + yealink + [held]).enumerated() {
                        try await RedirectAccountTests.send("mixed", secret, mac: mac, id: "d\(index)", base: base)
                    }
                    try await eventually("each phone registered with its vendor's service") {
                        var done = true
                        for mac in snom {
                            let registration = await xmlrpc.state.registration(mac)
                            done = done && registration?.url == "https://prov.example.com/mixed/\(mac).xml"
                        }
                        for mac in yealink {
                            let registration = await rps.registration(mac)
                            done =
                                done && registration?.owner == Self.rpsUser
                                && registration?.url == "https://prov.example.com/mixed/yealink/\(mac).cfg"
                        }
                        let conflict = try await database.store.device(MACAddress(held)!)?.status == .conflict
                        return done && conflict
                    }
                    for mac in yealink { #expect(await xmlrpc.state.registration(mac) == nil) }
                    for mac in snom { #expect(await rps.registration(mac) == nil) }
                    #expect(await rps.registration(held)?.owner == "someone-else", "not taken without override")
                    let shown = try await cli.run(["device", "show", yealink[0]])
                    let lines = shown.output.split(separator: "\n").map {
                        $0.split(separator: " ").joined(separator: " ")
                    }
                    #expect(
                        lines.contains("vendor Yealink (yealink)") && lines.contains("account rps-a"),
                        "\(shown.output)")

                    // A new template for Yealink phones re-points them at RPS, and only them.
                    let snomCallsBefore = await xmlrpc.state.calls.count
                    try await RedirectAccountTests.expectOK(
                        cli,
                        [
                            "tenant", "update", "mixed", "--url-template",
                            "yealink=https://prov2.example.com/y/<mac>.cfg",
                        ])
                    try await eventually("the Yealink phones re-pointed") {
                        var done = true
                        for mac in yealink {
                            let registration = await rps.registration(mac)
                            let device = try await database.store.device(MACAddress(mac)!)
                            done =
                                done && registration?.url == "https://prov2.example.com/y/\(mac).cfg"
                                && device?.status == .registered
                        }
                        return done
                    }
                    #expect(await xmlrpc.state.calls.count == snomCallsBefore, "no Snom phone was called")

                    // A removal deregisters at RPS.
                    try await CommandLineRunner.sendEvent(
                        "mixed", secret, #"{"type":"device.removed","mac":"\#(yealink[1])"}"#, to: base)
                    try await eventually("the removed Yealink phone deregistered at RPS") {
                        let gone = await rps.registration(yealink[1]) == nil
                        let status = try await database.store.device(MACAddress(yealink[1])!)?.status
                        return gone && status == .deregistered
                    }

                    // RPS loses a registration: reconcile asks RPS about each device and registers it again.
                    await rps.setRegistration(yealink[0], nil)
                    let reconcile = try await cli.run(["reconcile", "--apply", "20"])
                    #expect(
                        reconcile.output.contains("missing_registration"), "\(reconcile.output)\(reconcile.error)")
                    try await eventually("registered again at RPS") {
                        await rps.registration(yealink[0])?.url == "https://prov2.example.com/y/\(yealink[0]).cfg"
                    }

                    // The RPS password is nowhere: not in the journal, a listing or serve's debug log.
                    let journal = try await database.store.journal(JournalFilter(limit: 2000))
                    let texts = journal.map { "\($0.detail)" }.joined() + listed.output + serve.log
                    let leaked = texts.contains(Self.rpsPassword)
                    #expect(!leaked, "the RPS password appeared in the journal, a listing or serve's log")
                    let calls = await rps.calls
                    #expect(calls.allSatisfy { $0.status == 200 && $0.user == Self.rpsUser }, "\(calls.count)")
                }
            }
        }
    }

    static let ymcsClient = "ymcs-provhook"
    static let ymcsSecret = "ymcs-NEVER-SHOWN-73a0e4"

    @Test(
        "250 Yealink phones of a YMCS tenant go out in 3 calls, a MAC another organisation holds fails only itself; a template change re-points, a removal deletes, reconcile finds what YMCS lost; each phone's PIN is kept sealed and shown only to the operator"
    )
    func ymcsBatches() async throws {
        // PINs that can be told from anything else in a log or the journal.
        let ymcs = FakeYMCSState(
            clients: [Self.ymcsClient: .init(secret: Self.ymcsSecret, organisation: "org-p")],
            macOnlyOrganisations: ["org-p"], pins: { "PINQ7" + $0.suffix(6).uppercased() })
        let authority = try PrivateCertificateAuthority()
        try await RunningFakeYMCS.with(state: ymcs, tls: authority) { ymcsServer in
            let macs = (0..<250).map { String(format: "805EC0%06X", $0) }
            let csv =
                "model,mac,device_id,extension\n"
                + macs.enumerated().map { "T54W,\($1),y\($0)," }.joined(separator: "\n")
            try await FleetRig.with(files: [.line(Self.ymcsSecret), .pem(authority.caCertificatePEM), .csv(csv)]) {
                rig in
                let (cli, environment, database, files) = (rig.cli, rig.environment, rig.database, rig.files)
                let noRegion = try await cli.run([
                    "account", "add", "y", "--kind", "yealink-ymcs", "--client-id", Self.ymcsClient,
                    "--client-secret-file", files[1],
                ])
                #expect(noRegion.status == 2 && noRegion.error.contains("--region"), "\(noRegion.error)")
                try await RedirectAccountTests.expectOK(
                    cli,
                    [
                        "account", "add", "ymcs-a", "--kind", "yealink-ymcs", "--client-id", Self.ymcsClient,
                        "--client-secret-file", files[1], "--url", ymcsServer.url, "--ca-file", files[2],
                    ])
                let secret = try await cli.addTenant([
                    "fleet", "--url-template", "https://prov.example.com/fleet/<mac>.xml",
                    "--url-template", "yealink=https://prov.example.com/fleet/yealink/", "--account", "ymcs-a",
                ]).secret
                await ymcs.setDevice(macs[7], organisation: "org-elsewhere", url: "https://theirs.example/")
                let imported = try await cli.run(["device", "import", files[3], "--tenant", "fleet"])
                #expect(imported.status == 0, "\(imported.output)\(imported.error)")

                try await ServeProcess.with(environment: environment) { serve in
                    try await eventually(
                        "every phone registered at YMCS, the held one a conflict", within: .seconds(60)
                    ) {
                        let registered = try await database.store.devices().filter { $0.status == .registered }
                        let conflict = try await database.store.device(MACAddress(macs[7])!)?.status == .conflict
                        return registered.count == 249 && conflict
                    }
                    let adds = await ymcs.calls.filter { $0.path == "/v2/rps/addDevicesByMac" }
                    #expect(adds.map(\.macs.count).sorted() == [50, 100, 100], "\(adds.map(\.macs.count))")
                    #expect(await ymcs.device(macs[0])?.url == "https://prov.example.com/fleet/yealink/")
                    #expect(await ymcs.device(macs[7])?.organisation == "org-elsewhere")

                    // A new template for Yealink phones re-points them: deleted and added again, in batches.
                    let before = await ymcs.calls.count
                    try await RedirectAccountTests.expectOK(
                        cli,
                        ["tenant", "update", "fleet", "--url-template", "yealink=https://prov2.example.com/y/"])
                    try await eventually("re-pointed at YMCS", within: .seconds(60)) {
                        var moved = 0
                        for mac in macs where await ymcs.device(mac)?.url == "https://prov2.example.com/y/" {
                            moved += 1
                        }
                        return moved == 249
                    }
                    let repointCalls = await ymcs.calls.dropFirst(before).filter {
                        $0.path.hasPrefix("/v2/rps/") && $0.path != "/v2/rps/listDevicePins"
                    }
                    #expect(
                        repointCalls.count <= 9,
                        "three batches of add, delete, add: \(repointCalls.map { "\($0.path) \($0.macs.count) \($0.status)" })"
                    )
                    let pinCalls = await ymcs.calls.filter { $0.path == "/v2/rps/listDevicePins" }
                    #expect(
                        pinCalls.allSatisfy { $0.status == 200 && $0.macs.count <= 100 } && pinCalls.count >= 3,
                        "the PINs asked in batches: \(pinCalls.map(\.macs.count))")

                    // A removal deletes the device at YMCS.
                    let removedMAC = macs[1]
                    try await CommandLineRunner.sendEvent(
                        "fleet", secret, #"{"type":"device.removed","mac":"\#(removedMAC)"}"#,
                        to: "http://127.0.0.1:\(serve.ports.webhook)")
                    try await eventually("deleted at YMCS") {
                        let gone = await ymcs.device(removedMAC) == nil
                        let status = try await database.store.device(MACAddress(removedMAC)!)?.status
                        return gone && status == .deregistered
                    }

                    // The PIN YMCS keeps for each phone: fetched after registration, kept sealed, shown by
                    // `device show`, forgotten once the phone is deregistered.
                    let pin = try #require(await ymcs.device(macs[0])?.pin)
                    try await eventually("the PINs kept") {
                        try await database.store.devicePIN(MACAddress(macs[0])!) == pin
                    }
                    let shown = try await cli.run(["device", "show", macs[0], "--json"])
                    let detail = try JSONSerialization.jsonObject(with: Data(shown.output.utf8)) as? [String: Any]
                    #expect(detail?["pin"] as? String == pin, "\(shown.output)\(shown.error)")
                    let shownText = try await cli.run(["device", "show", macs[0]])
                    let shownLines = shownText.output.split(separator: "\n").map {
                        $0.split(separator: " ").joined(separator: " ")
                    }
                    #expect(shownLines.contains("PIN \(pin)"), "\(shownText.output)")
                    try await eventually("the removed phone's PIN forgotten") {
                        try await database.store.devicePIN(MACAddress(removedMAC)!) == nil
                    }
                    #expect(try await database.store.devicePIN(MACAddress(macs[7])!) == nil, "none for a conflict")
                    let inClear = try await database.withConnection { connection in
                        try await connection.query(
                            "SELECT mac FROM device_pins WHERE position('PINQ7'::bytea IN pin_sealed) > 0",
                            logger: TestDatabase.logger
                        ).collect().count
                    }
                    #expect(inClear == 0, "the PINs are sealed in the database")
                    let listed = try await cli.run(["device", "list", "--json", "--limit", "1000"])

                    // YMCS loses a device: reconcile reads every page and adds it again.
                    await ymcs.setDevice(macs[2], organisation: nil)
                    let reconcile = try await cli.run(["reconcile", "--apply", "30"])
                    #expect(
                        reconcile.output.contains("missing_registration"), "\(reconcile.output)\(reconcile.error)")
                    try await eventually("added again at YMCS") {
                        await ymcs.device(macs[2])?.url == "https://prov2.example.com/y/"
                    }

                    let journal = try await database.store.journal(JournalFilter(limit: 5000))
                    let texts = journal.map { "\($0.detail)" }.joined() + serve.log
                    let leaked = texts.contains(Self.ymcsSecret)
                    #expect(!leaked, "the YMCS secret appeared in the journal or serve's log")
                    let pinShown = (texts + listed.output).contains("PINQ7")
                    #expect(!pinShown, "a PIN appeared in the journal, serve's log or a device listing")
                }
            }
        }
    }

    @Test(
        "a YMCS account without MAC-only registration is learned; a phone without a serial waits, journaled once, and is registered when an event gives its serial"
    )
    func ymcsSerials() async throws {
        let ymcs = FakeYMCSState(
            clients: [Self.ymcsClient: .init(secret: Self.ymcsSecret, organisation: "org-s")], macOnlyOrganisations: [])
        try await RunningFakeYMCS.with(state: ymcs) { ymcsServer in
            try await FleetRig.with(files: [.line(Self.ymcsSecret)]) { rig in
                let (cli, environment, database, files) = (rig.cli, rig.environment, rig.database, rig.files)
                try await RedirectAccountTests.expectOK(
                    cli,
                    [
                        "account", "add", "ymcs-s", "--kind", "yealink-ymcs", "--client-id", Self.ymcsClient,
                        "--client-secret-file", files[1], "--url", ymcsServer.url,
                    ])
                let secret = try await cli.addTenant([
                    "serials", "--url-template", "https://prov.example.com/s/<mac>.xml",
                    "--url-template", "yealink=https://prov.example.com/s/yealink/", "--account", "ymcs-s",
                ]).secret
                let withSerial = "805EC0000101"
                let without = "805EC0000102"

                try await ServeProcess.with(environment: environment) { serve in
                    let base = "http://127.0.0.1:\(serve.ports.webhook)"
                    for body in [
                        #"{"type":"device.added","mac":"\#(withSerial)","serial":"801100000101"}"#,
                        #"{"type":"device.added","mac":"\#(without)"}"#,
                    ] {
                        try await CommandLineRunner.sendEvent("serials", secret, body, to: base)
                    }
                    try await eventually("one registered by serial, the other waiting for one") {
                        let registered = try await database.store.device(MACAddress(withSerial)!)?.status
                        let waiting = try await database.store.device(MACAddress(without)!)?.status
                        return registered == .registered && waiting == .waitingForSerial
                    }
                    #expect(await ymcs.device(withSerial)?.serial == "801100000101")
                    #expect(await ymcs.device(without) == nil)
                    let accounts = try await cli.run(["account", "list", "--json"])
                    let listed =
                        try JSONSerialization.jsonObject(with: Data(accounts.output.utf8)) as? [[String: Any]]
                    #expect(
                        listed?.first { $0["name"] as? String == "ymcs-s" }?["serial_required"] as? Bool == true,
                        "learned and remembered: \(accounts.output)")
                    let shown = try await cli.run(["device", "show", without])
                    #expect(
                        shown.output.contains("waiting_for_serial") && shown.output.contains("serial numbers"),
                        "\(shown.output)")
                    let status = try await cli.run(["status"])
                    #expect(status.output.contains("waiting_for_serial"), "\(status.output)")

                    // Never sent again while it waits: one call row, however long it waits.
                    try await Task.sleep(for: .seconds(2))
                    let calls = try await database.store.journal(JournalFilter(mac: without)).filter {
                        $0.action.hasPrefix("redirect.")
                    }
                    #expect(calls.count == 1, "\(calls.map(\.action))")

                    // The PBX sends the serial: registered with it, without anything else.
                    try await CommandLineRunner.sendEvent(
                        "serials", secret,
                        #"{"type":"device.updated","mac":"\#(without)","serial":"801100000102"}"#,
                        to: base)
                    try await eventually("registered once its serial arrived") {
                        let device = try await database.store.device(MACAddress(without)!)
                        return device?.status == .registered
                    }
                    #expect(await ymcs.device(without)?.serial == "801100000102")
                }
            }
        }
    }
}
