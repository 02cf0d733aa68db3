import FanvilStandIn
import Foundation
import GigasetStandIn
import PanasonicStandIn
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import StandInSupport
import Testing
import YealinkRPSStandIn
import YealinkStyleRPSStandIn

/// A tenant with Htek, Akuvox, Panasonic, Fanvil and Gigaset phones in one `serve`, through the real binary: each
/// vendor's phones go to its own account at its own XML-RPC service (Htek's, Panasonic's and Gigaset's over TLS with a
/// private CA,
/// Akuvox's and Fanvil's over plain HTTP as the vendors publish them, allowed by `PROVHOOK_REDIRECT_ALLOW_HTTP`), each
/// with its own URL template.
@Suite("a mixed fleet: Htek, Akuvox, Panasonic, Fanvil and Gigaset in one serve")
struct XMLRPCVendorsFleetTests {
    static let htekUser = "htek-provhook"
    static let akuvoxUser = "akuvox-provhook"
    static let panasonicUser = "pana-provhook"
    static let fanvilUser = "fanvil-provhook"
    static let gigasetUser = "giga-provhook"
    /// Distinctive, so that the test can look for them everywhere they must not be.
    static let htekPassword = "htek-NEVER-SHOWN-61f0c2"
    static let akuvoxPassword = "akuvox-NEVER-SHOWN-0b7d95"
    static let panasonicPassword = "pana-NEVER-SHOWN-e48a13"
    static let fanvilPassword = "fanvil-NEVER-SHOWN-5a2c77"
    static let gigasetPassword = "giga-NEVER-SHOWN-9d04be"

    static let htekMACs = ["001FC1000A01", "001FC1000A02"]
    static let akuvoxMACs = ["0C1105000A01", "0C1105000A02"]
    static let panasonicMACs = ["080023000A01", "080023000A02"]
    static let fanvilMACs = ["0C383E000A01", "0C383E000A02"]
    /// Gigaset-only prefixes; each phone's event carries the code printed on it.
    static let gigasetMACs = ["7C2F80000A11", "14B370000A12"]

    /// Where each service points each phone now: each vendor's registrations, by MAC.
    struct Held: Equatable, CustomStringConvertible {
        var htek: [String: String?] = [:]
        var akuvox: [String: String?] = [:]
        var panasonic: [String: String?] = [:]
        var fanvil: [String: String?] = [:]
        var gigaset: [String: String?] = [:]
        var description: String {
            "htek \(self.htek), akuvox \(self.akuvox), panasonic \(self.panasonic), fanvil \(self.fanvil), "
                + "gigaset \(self.gigaset)"
        }
    }

    @Test(
        "each phone registers with its vendor's account; a MAC another Panasonic account holds is a conflict; a template change re-points; a removal deregisters; reconcile finds what each service lost, and says Fanvil's cannot be checked"
    )
    func htekAkuvoxPanasonicFanvilGigaset() async throws {
        let htek = FakeYealinkStyleRPSState(service: .htek, accounts: [Self.htekUser: Self.htekPassword])
        let akuvox = FakeYealinkStyleRPSState(service: .akuvox, accounts: [Self.akuvoxUser: Self.akuvoxPassword])
        let panasonic = FakePanasonicState(accounts: [Self.panasonicUser: Self.panasonicPassword, "theirs": "x"])
        let fanvil = FakeFanvilState(accounts: [Self.fanvilUser: Self.fanvilPassword])
        let gigaset = FakeGigasetState(accounts: [Self.gigasetUser: Self.gigasetPassword])
        let authority = try PrivateCertificateAuthority()
        try await TestDatabase.with { database in
            try await RunningFakeRedirect.with(state: StandInAccounts.makeState()) { xmlrpc in
                try await RunningFakeYealinkStyleRPS.with(state: htek, tls: authority) { htekServer in
                    try await RunningFakeYealinkStyleRPS.with(state: akuvox) { akuvoxServer in
                        try await RunningFakePanasonic.with(state: panasonic, tls: authority) { panasonicServer in
                            try await RunningFakeFanvil.with(state: fanvil) { fanvilServer in
                                try await RunningFakeGigaset.with(state: gigaset, tls: authority) { gigasetServer in
                                    try await self.run(
                                        database: database, xmlrpc: xmlrpc, authority: authority,
                                        urls: (
                                            htekServer.url, akuvoxServer.url, panasonicServer.url, fanvilServer.url,
                                            gigasetServer.url
                                        ),
                                        states: (htek, akuvox, panasonic, fanvil, gigaset))
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private func run(
        database: TestDatabase, xmlrpc: RunningFakeRedirect, authority: PrivateCertificateAuthority,
        urls: (htek: String, akuvox: String, panasonic: String, fanvil: String, gigaset: String),
        states: (
            htek: FakeYealinkStyleRPSState, akuvox: FakeYealinkStyleRPSState, panasonic: FakePanasonicState,
            fanvil: FakeFanvilState, gigaset: FakeGigasetState
        )
    ) async throws {
        let (htek, akuvox, panasonic, fanvil, gigaset) = states
        let files = try [
            TemporaryFile.write(StandInAccounts.password + "\n"), TemporaryFile.write(Self.htekPassword + "\n"),
            TemporaryFile.write(Self.akuvoxPassword + "\n"), TemporaryFile.write(Self.panasonicPassword + "\n"),
            TemporaryFile.write(authority.caCertificatePEM, suffix: ".pem"),
            TemporaryFile.write(Self.fanvilPassword + "\n"), TemporaryFile.write(Self.gigasetPassword + "\n"),
        ]
        defer { for path in files { try? FileManager.default.removeItem(atPath: path) } }
        var environment = StandInAccounts.environment(database: database, standIn: xmlrpc, passwordFile: files[0])
        environment["PROVHOOK_LOG_LEVEL"] = "debug"
        let cli = CommandLineRunner(environment: environment)
        for arguments in [
            [
                "htek-a", "--kind", "htek", "--user", Self.htekUser, "--password-file", files[1], "--url", urls.htek,
                "--ca-file", files[4],
            ],
            [
                "akuvox-a", "--kind", "akuvox", "--user", Self.akuvoxUser, "--password-file", files[2], "--url",
                urls.akuvox,
            ],
            [
                "pana-a", "--kind", "panasonic", "--user", Self.panasonicUser, "--password-file", files[3], "--url",
                urls.panasonic, "--ca-file", files[4],
            ],
            [
                "fanvil-a", "--kind", "fanvil", "--user", Self.fanvilUser, "--password-file", files[5], "--url",
                urls.fanvil,
            ],
            [
                "giga-a", "--kind", "gigaset", "--user", Self.gigasetUser, "--password-file", files[6], "--url",
                urls.gigaset, "--ca-file", files[4],
            ],
        ] {
            try await RedirectAccountTests.expectOK(cli, ["account", "add"] + arguments)
        }
        let listed = try await cli.run(["account", "list", "--json"])
        let accounts = try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [[String: Any]]
        let vendors = Dictionary(
            uniqueKeysWithValues: (accounts ?? []).compactMap { account in
                (account["name"] as? String).map { ($0, account["vendor"] as? String) }
            })
        #expect(
            vendors["htek-a"] == "htek" && vendors["akuvox-a"] == "akuvox" && vendors["pana-a"] == "panasonic"
                && vendors["fanvil-a"] == "fanvil" && vendors["giga-a"] == "gigaset", "\(listed.output)")

        let secret = try await cli.addTenant([
            "mixed", "--url-template", "https://prov.example.com/mixed/<mac>.xml", "--url-template",
            "htek=https://prov.example.com/mixed/htek/", "--url-template",
            "akuvox=https://prov.example.com/mixed/akuvox/<mac>.cfg", "--url-template",
            "panasonic=https://prov.example.com/mixed/pana/<mac>.cfg", "--url-template",
            "fanvil=https://prov.example.com/mixed/fanvil/<mac>.cfg", "--url-template",
            "gigaset=https://prov.example.com/mixed/giga/<mac>.xml", "--account", "htek-a", "--account", "akuvox-a",
            "--account", "pana-a", "--account", "fanvil-a", "--account", "giga-a",
        ]).secret
        let taken = "080023000A03"
        await panasonic.setRegistration(taken, .init(owner: "theirs", url: "https://elsewhere.example/"))

        func held() async -> Held {
            var now = Held()
            for mac in Self.htekMACs { now.htek[mac] = await htek.registration(mac).map(\.url) }
            for mac in Self.akuvoxMACs { now.akuvox[mac] = await akuvox.registration(mac).map(\.url) }
            for mac in Self.panasonicMACs { now.panasonic[mac] = await panasonic.registration(mac).map(\.url) }
            for mac in Self.fanvilMACs { now.fanvil[mac] = await fanvil.registration(mac).map(\.url) }
            for mac in Self.gigasetMACs { now.gigaset[mac] = await gigaset.registration(mac).map(\.url) }
            return now
        }
        func expected(_ host: String, without removed: Set<String> = []) -> Held {
            var want = Held()
            for mac in Self.htekMACs { want.htek[mac] = removed.contains(mac) ? nil : "https://\(host)/mixed/htek/" }
            for mac in Self.akuvoxMACs {
                want.akuvox[mac] = removed.contains(mac) ? nil : "https://\(host)/mixed/akuvox/\(mac).cfg"
            }
            for mac in Self.panasonicMACs {
                want.panasonic[mac] = removed.contains(mac) ? nil : "https://\(host)/mixed/pana/\(mac).cfg"
            }
            for mac in Self.fanvilMACs {
                want.fanvil[mac] = removed.contains(mac) ? nil : "https://\(host)/mixed/fanvil/\(mac).cfg"
            }
            for mac in Self.gigasetMACs {
                want.gigaset[mac] = removed.contains(mac) ? nil : "https://\(host)/mixed/giga/\(mac).xml"
            }
            return want
        }

        try await ServeProcess.with(environment: environment) { serve in
            let base = "http://127.0.0.1:\(serve.ports.webhook)"
            let all = Self.htekMACs + Self.akuvoxMACs + Self.panasonicMACs + Self.fanvilMACs
            for (index, mac) in (all + [taken]).enumerated() {
                try await RedirectAccountTests.send("mixed", secret, mac: mac, id: "d\(index)", base: base)
            }
            for (index, mac) in Self.gigasetMACs.enumerated() {
                let code = FakeGigasetState.code(for: mac)
                try await CommandLineRunner.sendEvent(
                    "mixed", secret,
                    #"{"type":"device.added","mac":"\#(mac)","device_id":"g\#(index)","gigaset_code":"\#(code)"}"#,
                    to: base)
            }
            try await eventually("each phone registered with its vendor's service, the taken one a conflict") {
                let conflict = try await database.store.device(MACAddress(taken)!)?.status == .conflict
                return await held() == expected("prov.example.com") && conflict
            }
            #expect(await panasonic.registration(taken)?.owner == "theirs", "left to the account that holds it")
            #expect(await htek.servers[Self.htekUser]?.count == 1, "one server for the shared URL")
            #expect(await akuvox.servers[Self.akuvoxUser]?.count == 2, "a server per phone's URL")
            for mac in Self.htekMACs + Self.akuvoxMACs + Self.fanvilMACs + Self.gigasetMACs {
                #expect(await panasonic.registration(mac) == nil)
            }
            for mac in Self.panasonicMACs + Self.fanvilMACs + Self.gigasetMACs {
                #expect(await htek.registration(mac) == nil)
                #expect(await akuvox.registration(mac) == nil)
            }
            for mac in Self.htekMACs + Self.akuvoxMACs + Self.panasonicMACs + Self.gigasetMACs {
                #expect(await fanvil.registration(mac) == nil)
            }
            for mac in all + [taken] { #expect(await gigaset.registration(mac) == nil) }
            #expect(await fanvil.servers[Self.fanvilUser]?.count == 2, "a server object per MAC")
            #expect(await xmlrpc.state.calls.isEmpty, "no phone went to Snom")
            #expect(await panasonic.registration(Self.panasonicMACs[0])?.owner == Self.panasonicUser)
            let shown = try await cli.run(["device", "show", Self.panasonicMACs[0]])
            let lines = shown.output.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
            #expect(
                lines.contains("vendor Panasonic (panasonic)") && lines.contains("account pana-a"), "\(shown.output)")

            // New templates re-point every phone.
            try await RedirectAccountTests.expectOK(
                cli,
                [
                    "tenant", "update", "mixed", "--url-template", "htek=https://prov2.example.com/mixed/htek/",
                    "--url-template", "akuvox=https://prov2.example.com/mixed/akuvox/<mac>.cfg", "--url-template",
                    "panasonic=https://prov2.example.com/mixed/pana/<mac>.cfg", "--url-template",
                    "fanvil=https://prov2.example.com/mixed/fanvil/<mac>.cfg", "--url-template",
                    "gigaset=https://prov2.example.com/mixed/giga/<mac>.xml",
                ])
            try await eventually("every phone re-pointed") { await held() == expected("prov2.example.com") }

            // A removal deregisters at the phone's service.
            let removed = [
                Self.htekMACs[1], Self.akuvoxMACs[1], Self.panasonicMACs[1], Self.fanvilMACs[1], Self.gigasetMACs[1],
            ]
            for mac in removed {
                try await CommandLineRunner.sendEvent(
                    "mixed", secret, #"{"type":"device.removed","mac":"\#(mac)"}"#, to: base)
            }
            try await eventually("the removed phones deregistered") {
                var statuses: [DeviceStatus?] = []
                for mac in removed { statuses.append(try await database.store.device(MACAddress(mac)!)?.status) }
                return await held() == expected("prov2.example.com", without: Set(removed))
                    && statuses.allSatisfy { $0 == .deregistered }
            }

            #expect(await fanvil.servers[Self.fanvilUser]?.keys.sorted() == [Self.fanvilMACs[0]], "its object deleted")

            // Each service loses a registration: reconcile checks each device and registers it again, except at
            // Fanvil's FDPS, which cannot say what an account holds: reconcile says so (without failing), and a retry
            // applies the device again.
            await htek.setRegistration(Self.htekMACs[0], nil)
            await akuvox.setRegistration(Self.akuvoxMACs[0], nil)
            await panasonic.setRegistration(Self.panasonicMACs[0], nil)
            await gigaset.setRegistration(Self.gigasetMACs[0], nil)
            await fanvil.removeRegistration(Self.fanvilMACs[0])
            let fanvilCalls = await fanvil.calls.count
            let reconcile = try await cli.run(["reconcile", "--apply", "20"])
            #expect(
                reconcile.status == 0 && reconcile.output.contains("missing_registration: 4")
                    && reconcile.output.contains("not_checkable: 1")
                    && reconcile.output.contains("account fanvil-a: Fanvil FDPS (XML-RPC) has no call"),
                "\(reconcile.output)\(reconcile.error)")
            #expect(await fanvil.calls.count == fanvilCalls, "Fanvil's service was not asked")
            var lost = expected("prov2.example.com", without: Set(removed + [Self.fanvilMACs[0]]))
            try await eventually("registered again at each service that could be checked") { await held() == lost }
            try await RedirectAccountTests.expectOK(cli, ["device", "retry", Self.fanvilMACs[0]])
            lost = expected("prov2.example.com", without: Set(removed))
            try await eventually("the Fanvil phone registered again by its retry") { await held() == lost }

            // The passwords are nowhere: not in the journal, a listing or serve's debug log.
            let journal = try await database.store.journal(JournalFilter(limit: 2000))
            let texts = journal.map { "\($0.detail)" }.joined() + listed.output + reconcile.output + serve.log
            let fanvilSent = FakeFanvilState.sentPassword(for: Self.fanvilPassword)
            for password in [
                Self.htekPassword, Self.akuvoxPassword, Self.panasonicPassword, Self.fanvilPassword, fanvilSent,
                Self.gigasetPassword,
            ] {
                #expect(!texts.contains(password), "a password appeared in the journal, a listing or serve's log")
            }
            #expect(await htek.calls.allSatisfy { $0.status == 200 && $0.user == Self.htekUser })
            #expect(await akuvox.calls.allSatisfy { $0.status == 200 && $0.user == Self.akuvoxUser })
            #expect(await panasonic.calls.allSatisfy { $0.status == 200 && $0.user == Self.panasonicUser })
            #expect(await fanvil.calls.allSatisfy { $0.status == 200 && $0.user == Self.fanvilUser })
            #expect(await gigaset.calls.allSatisfy { $0.status == 200 && $0.user == Self.gigasetUser })
        }
    }
}
