import Foundation
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import StandInSupport
import Testing
import YealinkRPSStandIn
import YealinkStyleRPSStandIn

/// A tenant with Htek and Akuvox phones in one `serve`, through the real binary: each vendor's phones go to its own
/// account at its own Yealink-style RPS (Htek's over TLS with a private CA, Akuvox's over plain HTTP, allowed by
/// `PROVHOOK_REDIRECT_ALLOW_HTTP`), each with its own URL template.
@Suite("a mixed fleet: Htek and Akuvox in one serve")
struct HtekAkuvoxFleetTests {
    static let htekUser = "htek-provhook"
    static let akuvoxUser = "akuvox-provhook"
    /// Distinctive, so that the test can look for them everywhere they must not be.
    static let htekPassword = "htek-NEVER-SHOWN-61f0c2"
    static let akuvoxPassword = "akuvox-NEVER-SHOWN-0b7d95"

    @Test(
        "each phone registers with its vendor's account, to a server per URL; a template change re-points; a removal deregisters; reconcile finds what the services lost"
    )
    func htekAndAkuvox() async throws {
        let htek = FakeYealinkStyleRPSState(service: .htek, accounts: [Self.htekUser: Self.htekPassword])
        let akuvox = FakeYealinkStyleRPSState(service: .akuvox, accounts: [Self.akuvoxUser: Self.akuvoxPassword])
        let authority = try PrivateCertificateAuthority()
        try await TestDatabase.with { database in
            try await RunningFakeRedirect.with(state: StandInAccounts.makeState()) { xmlrpc in
                try await RunningFakeYealinkStyleRPS.with(state: htek, tls: authority) { htekServer in
                    try await RunningFakeYealinkStyleRPS.with(state: akuvox) { akuvoxServer in
                        let files = try [
                            TemporaryFile.write(StandInAccounts.password + "\n"),
                            TemporaryFile.write(Self.htekPassword + "\n"),
                            TemporaryFile.write(Self.akuvoxPassword + "\n"),
                            TemporaryFile.write(authority.caCertificatePEM, suffix: ".pem"),
                        ]
                        defer { for path in files { try? FileManager.default.removeItem(atPath: path) } }
                        let environment = [
                            "PROVHOOK_DATABASE_URL": database.urlString,
                            "PROVHOOK_SECRET_KEY_FILE": database.secretKeyFile,
                            "PROVHOOK_REDIRECT_URL": xmlrpc.endpoint,
                            "PROVHOOK_REDIRECT_USER": StandInAccounts.user, "PROVHOOK_REDIRECT_PASSWORD_FILE": files[0],
                            "PROVHOOK_REDIRECT_ALLOW_HTTP": "1", "PROVHOOK_LOG_LEVEL": "debug", "USER": "alice",
                        ]
                        let cli = CommandLineRunner(environment: environment)
                        try await RedirectAccountTests.expectOK(
                            cli,
                            [
                                "account", "add", "htek-a", "--kind", "htek", "--user", Self.htekUser,
                                "--password-file", files[1], "--url", htekServer.url, "--ca-file", files[3],
                            ])
                        try await RedirectAccountTests.expectOK(
                            cli,
                            [
                                "account", "add", "akuvox-a", "--kind", "akuvox", "--user", Self.akuvoxUser,
                                "--password-file", files[2], "--url", akuvoxServer.url,
                            ])
                        let listed = try await cli.run(["account", "list", "--json"])
                        let accounts =
                            try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [[String: Any]]
                        let vendors = Dictionary(
                            uniqueKeysWithValues: (accounts ?? []).compactMap { account in
                                (account["name"] as? String).map { ($0, account["vendor"] as? String) }
                            })
                        #expect(vendors["htek-a"] == "htek" && vendors["akuvox-a"] == "akuvox", "\(listed.output)")

                        let added = try await cli.run([
                            "tenant", "add", "mixed", "--url-template", "https://prov.example.com/mixed/<mac>.xml",
                            "--url-template", "htek=https://prov.example.com/mixed/htek/", "--url-template",
                            "akuvox=https://prov.example.com/mixed/akuvox/<mac>.cfg", "--account", "htek-a",
                            "--account", "akuvox-a", "--json",
                        ])
                        let tenant = try JSONSerialization.jsonObject(with: Data(added.output.utf8)) as? [String: Any]
                        let secret = try #require(tenant?["webhook_secret"] as? String, "\(added.error)")

                        let htekMACs = ["001FC1000A01", "001FC1000A02"]
                        let akuvoxMACs = ["0C1105000A01", "0C1105000A02"]
                        let serve = try await ServeProcess.start(environment: environment)
                        let outcome: Result<Void, any Error>
                        do {
                            let base = "http://127.0.0.1:\(serve.ports.webhook)"
                            for (index, mac) in (htekMACs + akuvoxMACs).enumerated() {
                                try await RedirectAccountTests.send(
                                    "mixed", secret, mac: mac, id: "d\(index)", base: base)
                            }
                            try await eventually("each phone registered with its vendor's service") {
                                var done = true
                                for mac in htekMACs {
                                    let registration = await htek.registration(mac)
                                    done =
                                        done && registration?.owner == Self.htekUser
                                        && registration?.url == "https://prov.example.com/mixed/htek/"
                                }
                                for mac in akuvoxMACs {
                                    let registration = await akuvox.registration(mac)
                                    done =
                                        done && registration?.owner == Self.akuvoxUser
                                        && registration?.url == "https://prov.example.com/mixed/akuvox/\(mac).cfg"
                                }
                                return done
                            }
                            #expect(await htek.servers[Self.htekUser]?.count == 1, "one server for the shared URL")
                            #expect(await akuvox.servers[Self.akuvoxUser]?.count == 2, "a server per phone's URL")
                            for mac in htekMACs { #expect(await akuvox.registration(mac) == nil) }
                            for mac in akuvoxMACs { #expect(await htek.registration(mac) == nil) }
                            #expect(await xmlrpc.state.calls.isEmpty, "no phone went to Snom")
                            let shown = try await cli.run(["device", "show", akuvoxMACs[0]])
                            let lines = shown.output.split(separator: "\n").map {
                                $0.split(separator: " ").joined(separator: " ")
                            }
                            #expect(
                                lines.contains("vendor Akuvox (akuvox)") && lines.contains("account akuvox-a"),
                                "\(shown.output)")

                            // New templates re-point every phone: registered again to the new URL's server.
                            try await RedirectAccountTests.expectOK(
                                cli,
                                [
                                    "tenant", "update", "mixed", "--url-template", "htek=https://prov2.example.com/h/",
                                    "--url-template", "akuvox=https://prov2.example.com/a/<mac>.cfg",
                                ])
                            try await eventually("every phone re-pointed") {
                                var done = true
                                for mac in htekMACs {
                                    let device = try await database.store.device(MACAddress(mac)!)
                                    let url = await htek.registration(mac)?.url
                                    done =
                                        done && device?.status == .registered && url == "https://prov2.example.com/h/"
                                }
                                for mac in akuvoxMACs {
                                    let device = try await database.store.device(MACAddress(mac)!)
                                    let url = await akuvox.registration(mac)?.url
                                    done =
                                        done && device?.status == .registered
                                        && url == "https://prov2.example.com/a/\(mac).cfg"
                                }
                                return done
                            }

                            // A removal deregisters at the phone's service.
                            let send = CommandLineRunner(
                                executablePath: ScratchCluster.repositoryRoot + "/contrib/send-event.sh")
                            for mac in [htekMACs[1], akuvoxMACs[1]] {
                                let removed = try await send.run([
                                    "mixed", secret, #"{"type":"device.removed","mac":"\#(mac)"}"#, base,
                                ])
                                #expect(removed.output.contains("HTTP 202"), "\(removed.output)")
                            }
                            try await eventually("the removed phones deregistered") {
                                let htekGone = await htek.registration(htekMACs[1]) == nil
                                let akuvoxGone = await akuvox.registration(akuvoxMACs[1]) == nil
                                let htekStatus = try await database.store.device(MACAddress(htekMACs[1])!)?.status
                                let akuvoxStatus = try await database.store.device(MACAddress(akuvoxMACs[1])!)?.status
                                return htekGone && akuvoxGone && htekStatus == .deregistered
                                    && akuvoxStatus == .deregistered
                            }

                            // Both services lose a registration: reconcile checks each device and registers it again.
                            await htek.setRegistration(htekMACs[0], nil)
                            await akuvox.setRegistration(akuvoxMACs[0], nil)
                            let reconcile = try await cli.run(["reconcile", "--apply", "20"])
                            #expect(
                                reconcile.output.contains("missing_registration"),
                                "\(reconcile.output)\(reconcile.error)")
                            try await eventually("registered again at both services") {
                                let htekURL = await htek.registration(htekMACs[0])?.url
                                let akuvoxURL = await akuvox.registration(akuvoxMACs[0])?.url
                                return htekURL == "https://prov2.example.com/h/"
                                    && akuvoxURL == "https://prov2.example.com/a/\(akuvoxMACs[0]).cfg"
                            }

                            // The passwords are nowhere: not in the journal, a listing or serve's debug log.
                            let journal = try await database.store.journal(JournalFilter(limit: 2000))
                            let texts = journal.map { "\($0.detail)" }.joined() + listed.output + serve.log
                            let leaked = texts.contains(Self.htekPassword) || texts.contains(Self.akuvoxPassword)
                            #expect(!leaked, "a password appeared in the journal, a listing or serve's log")
                            let htekCalls = await htek.calls
                            let akuvoxCalls = await akuvox.calls
                            #expect(htekCalls.allSatisfy { $0.status == 200 && $0.user == Self.htekUser })
                            #expect(akuvoxCalls.allSatisfy { $0.status == 200 && $0.user == Self.akuvoxUser })
                            outcome = .success(())
                        } catch {
                            outcome = .failure(error)
                        }
                        _ = await serve.terminate()
                        try outcome.get()
                    }
                }
            }
        }
    }
}
