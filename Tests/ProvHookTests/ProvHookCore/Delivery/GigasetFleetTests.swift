import Foundation
import GigasetStandIn
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import StandInSupport
import Testing
import XMLRPC

/// A tenant's Gigaset phones in one `serve`, through the real binary: each registers with the code printed on it,
/// given by its event; one without a code waits until a later event gives it.
@Suite("Gigaset phones in a serve")
struct GigasetFleetTests {
    static let user = "giga-provhook"
    /// Distinctive, so that the test can look for it everywhere it must not be.
    static let password = "giga-NEVER-SHOWN-3c81d7"
    /// Gigaset-only prefixes (589EC6 is Snom's too).
    static let macs = ["7C2F80000A01", "14B370000A02"]
    static let waiting = "7C2F80000A03"

    @Test(
        "phones register with their codes; one without waits as waiting_for_code until an event gives it; a template change re-points; a removal deregisters; reconcile finds a lost registration"
    )
    func gigaset() async throws {
        let gigaset = FakeGigasetState(accounts: [Self.user: Self.password])
        let authority = try PrivateCertificateAuthority()
        try await TestDatabase.with { database in
            try await RunningFakeRedirect.with(state: StandInAccounts.makeState()) { xmlrpc in
                try await RunningFakeGigaset.with(state: gigaset, tls: authority) { server in
                    try await self.run(
                        database: database, xmlrpc: xmlrpc, authority: authority, url: server.url, state: gigaset)
                }
            }
        }
    }

    private func run(
        database: TestDatabase, xmlrpc: RunningFakeRedirect, authority: PrivateCertificateAuthority, url: String,
        state gigaset: FakeGigasetState
    ) async throws {
        let files = try [
            TemporaryFile.write(StandInAccounts.password + "\n"), TemporaryFile.write(Self.password + "\n"),
            TemporaryFile.write(authority.caCertificatePEM, suffix: ".pem"),
        ]
        defer { for path in files { try? FileManager.default.removeItem(atPath: path) } }
        var environment = StandInAccounts.environment(database: database, standIn: xmlrpc, passwordFile: files[0])
        environment["PROVHOOK_LOG_LEVEL"] = "debug"
        let cli = CommandLineRunner(environment: environment)
        try await RedirectAccountTests.expectOK(
            cli,
            [
                "account", "add", "giga-a", "--kind", "gigaset", "--user", Self.user, "--password-file", files[1],
                "--url", url, "--ca-file", files[2],
            ])
        let secret = try await cli.addTenant([
            "giga", "--url-template", "https://prov.example.com/giga/<mac>.xml", "--url-template",
            "gigaset=https://prov.example.com/giga/gigaset/<mac>.xml", "--account", "giga-a",
        ]).secret

        func held() async -> [String: String?] {
            var now: [String: String?] = [:]
            for mac in Self.macs + [Self.waiting] { now[mac] = await gigaset.registration(mac).map(\.url) }
            return now
        }
        func expected(_ host: String, _ macs: [String]) -> [String: String?] {
            var want: [String: String?] = [:]
            for mac in macs { want[mac] = "https://\(host)/giga/gigaset/\(mac).xml" }
            return want
        }
        func status(_ mac: String) async throws -> DeviceStatus? {
            try await database.store.device(MACAddress(mac)!)?.status
        }

        try await ServeProcess.with(environment: environment) { serve in
            let base = "http://127.0.0.1:\(serve.ports.webhook)"
            for (index, mac) in Self.macs.enumerated() {
                // The first code as a PBX might write it: lowercase, spaced.
                let code = FakeGigasetState.code(for: mac)
                let given = index == 0 ? " \(code.lowercased()) " : code
                try await CommandLineRunner.sendEvent(
                    "giga", secret,
                    #"{"type":"device.added","mac":"\#(mac)","device_id":"g\#(index)","gigaset_code":"\#(given)"}"#,
                    to: base)
            }
            try await CommandLineRunner.sendEvent(
                "giga", secret, #"{"type":"device.added","mac":"\#(Self.waiting)","device_id":"g9"}"#, to: base)
            try await eventually("the phones with codes registered, the one without waiting for its code") {
                let waits = try await status(Self.waiting) == .waitingForCode
                return await held() == expected("prov.example.com", Self.macs) && waits
            }
            let heldNow = await held()
            let waitingNow = try await status(Self.waiting)
            let callsNow = await gigaset.calls.map { "\($0.method ?? "") \($0.params) \($0.status)" }
            let firstShown = try await cli.run(["device", "show", Self.macs[0]]).output
            #expect(
                heldNow == expected("prov.example.com", Self.macs),
                "\(heldNow) \(waitingNow.map(\.rawValue) ?? "-") \(callsNow) \(firstShown)")
            #expect(
                try await database.store.device(MACAddress(Self.macs[0])!)?.gigasetCode
                    == FakeGigasetState.code(for: Self.macs[0]))
            #expect(await xmlrpc.state.calls.isEmpty, "no phone went to Snom")
            #expect(
                await !gigaset.calls.contains { $0.params.first?.stringValue?.hasPrefix(Self.waiting) == true },
                "nothing sent for the phone without a code")
            let shown = try await cli.run(["device", "show", Self.waiting])
            #expect(
                shown.output.contains("waiting_for_code") && shown.output.contains("gigaset code"), "\(shown.output)")

            // A later event gives the code: the phone is registered then.
            let code = FakeGigasetState.code(for: Self.waiting)
            try await CommandLineRunner.sendEvent(
                "giga", secret,
                #"{"type":"device.updated","mac":"\#(Self.waiting)","device_id":"g9","gigaset_code":"\#(code)"}"#,
                to: base)
            let all = Self.macs + [Self.waiting]
            try await eventually("registered once its code came") { await held() == expected("prov.example.com", all) }
            let shownNow = try await cli.run(["device", "show", Self.waiting])
            #expect(shownNow.output.contains(code), "\(shownNow.output)")

            // A new template re-points every phone (each deregistered, then registered again).
            try await RedirectAccountTests.expectOK(
                cli,
                [
                    "tenant", "update", "giga", "--url-template",
                    "gigaset=https://prov2.example.com/giga/gigaset/<mac>.xml",
                ])
            try await eventually("every phone re-pointed") { await held() == expected("prov2.example.com", all) }

            // A removal deregisters.
            try await CommandLineRunner.sendEvent(
                "giga", secret, #"{"type":"device.removed","mac":"\#(Self.macs[1])"}"#, to: base)
            let kept = [Self.macs[0], Self.waiting]
            try await eventually("the removed phone deregistered") {
                let removed = try await status(Self.macs[1]) == .deregistered
                return await held() == expected("prov2.example.com", kept) && removed
            }

            // The service loses a registration: reconcile checks each device and registers it again, with its code.
            await gigaset.setRegistration(Self.macs[0], nil)
            let reconcile = try await cli.run(["reconcile", "--apply", "20"])
            #expect(reconcile.output.contains("missing_registration: 1"), "\(reconcile.output)\(reconcile.error)")
            try await eventually("registered again") { await held() == expected("prov2.example.com", kept) }

            // The password is nowhere: not in the journal or serve's debug log.
            let journal = try await database.store.journal(JournalFilter(limit: 2000))
            let texts = journal.map { "\($0.detail)" }.joined() + reconcile.output + serve.log
            #expect(!texts.contains(Self.password), "the password appeared in the journal or serve's log")
            #expect(await gigaset.calls.allSatisfy { $0.status == 200 && $0.user == Self.user })
        }
    }
}
