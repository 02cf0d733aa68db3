import Foundation
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import ProvisioningModel
import SnomSRAPSStandIn
import SnomXMLRPCStandIn
import StandInSupport
import Testing

/// Accounts of two kinds in one `serve`, through the real binary: a tenant on Snom's XML-RPC service and one on Snom
/// SRAPS (over TLS with a private CA), each phone registered with its tenant's service, removed there, and moved from
/// one service to the other when its tenant changes account.
@Suite("accounts of two kinds: Snom XML-RPC and Snom SRAPS side by side")
struct AccountKindsTests {
    static let keyID = "ak-provhook-test"
    /// Distinctive, so that the test can look for it everywhere it must not be.
    static let keySecret = "sk-NEVER-SHOWN-4f1d0c"
    static let company = "7a0e7a7e-3333-4c2d-9a53-0d8f7f3c0003"

    @Test(
        "each tenant's phones go to its own service; a removal deregisters there; a tenant moved from XML-RPC to SRAPS moves its phones"
    )
    func twoKindsAndAMove() async throws {
        let sraps = FakeSRAPSState(
            keys: [Self.keyID: .init(secret: Self.keySecret, company: Self.company)],
            companies: [Self.company: "Reseller S"])
        let authority = try PrivateCertificateAuthority()
        try await TestDatabase.with { database in
            try await RunningFakeRedirect.with(state: StandInAccounts.makeState()) { xmlrpc in
                try await RunningFakeSRAPS.with(state: sraps, tls: authority) { srapsServer in
                    let files = try [
                        TemporaryFile.write(StandInAccounts.password + "\n"),
                        TemporaryFile.write(Self.keySecret + "\n"),
                        TemporaryFile.write(authority.caCertificatePEM, suffix: ".pem"),
                    ]
                    defer { for path in files { try? FileManager.default.removeItem(atPath: path) } }
                    let environment = [
                        "PROVHOOK_DATABASE_URL": database.urlString, "PROVHOOK_SECRET_KEY_FILE": database.secretKeyFile,
                        "USER": "alice",
                    ]
                    let cli = CommandLineRunner(environment: environment)

                    let unknownKind = try await cli.run([
                        "account", "add", "x", "--kind", "snom-rest", "--key-id", Self.keyID, "--key-secret-file",
                        files[1],
                    ])
                    #expect(
                        unknownKind.status != 0 && unknownKind.error.contains("snom, snom-sraps"),
                        "\(unknownKind.error)")
                    try await RedirectAccountTests.expectOK(
                        cli,
                        [
                            "account", "add", "sraps-s", "--kind", "snom-sraps", "--key-id", Self.keyID,
                            "--key-secret-file", files[1], "--url", srapsServer.baseURL, "--ca-file", files[2],
                        ])
                    let list = try await cli.run(["account", "list"])
                    #expect(list.status == 0 && list.output.contains("snom-sraps"), "\(list.output)")
                    let listed = try await cli.run(["account", "list", "--json"])
                    let accounts = try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [[String: Any]]
                    let srapsAccount = accounts?.first { $0["name"] as? String == "sraps-s" }
                    #expect(
                        srapsAccount?["kind"] as? String == "snom-sraps"
                            && srapsAccount?["vendor"] as? String == "snom", "\(listed.output)")
                    let kindChange = try await cli.run(["account", "update", "sraps-s", "--kind", "snom"])
                    #expect(kindChange.status != 0, "an account keeps its kind")

                    let x = try await RedirectAccountTests.addTenant(cli, "tenant-x", account: nil)
                    let s = try await RedirectAccountTests.addTenant(cli, "tenant-s", account: "sraps-s")
                    // Both accounts serve Snom phones: a tenant names one of them, never both.
                    let twoForSnom = try await cli.run([
                        "tenant", "add", "tenant-two", "--url-template", "https://p.example/<mac>", "--account",
                        "default", "--account", "sraps-s",
                    ])
                    #expect(
                        twoForSnom.status != 0 && twoForSnom.error.contains(#""default" and "sraps-s""#)
                            && twoForSnom.error.contains("one account per vendor"), "\(twoForSnom.error)")

                    let serveEnvironment = environment.merging([
                        "PROVHOOK_REDIRECT_URL": xmlrpc.endpoint, "PROVHOOK_REDIRECT_USER": StandInAccounts.user,
                        "PROVHOOK_REDIRECT_PASSWORD_FILE": files[0], "PROVHOOK_REDIRECT_ALLOW_HTTP": "1",
                        "PROVHOOK_LOG_LEVEL": "debug",
                    ]) { _, new in new }
                    // status checks the SRAPS key with one read of its token, at the account's own URL.
                    let tokenReads = await sraps.calls.count
                    let status = try await CommandLineRunner(environment: serveEnvironment).run(["status"])
                    #expect(
                        status.status == 0 && status.output.contains("ok: \(srapsServer.baseURL) accepts"),
                        "\(status.output)\(status.error)")
                    let statusCalls = await sraps.calls.dropFirst(tokenReads).map(\.resource)
                    #expect(
                        statusCalls.count == 1 && statusCalls.first?.contains("tokens/\(Self.keyID)") == true,
                        "\(statusCalls)")

                    let serve = try await ServeProcess.start(environment: serveEnvironment)
                    let outcome: Result<Void, any Error>
                    do {
                        let base = "http://127.0.0.1:\(serve.ports.webhook)"
                        let macsX = ["000413000E01", "000413000E02"]
                        let macsS = ["000413000F01", "000413000F02"]
                        for (index, mac) in macsX.enumerated() {
                            try await RedirectAccountTests.send("tenant-x", x, mac: mac, id: "x\(index)", base: base)
                        }
                        for (index, mac) in macsS.enumerated() {
                            try await RedirectAccountTests.send("tenant-s", s, mac: mac, id: "s\(index)", base: base)
                        }
                        try await eventually("each tenant's phones registered at its own service") {
                            var xmlrpcOwners: [String?] = []
                            for mac in macsX { xmlrpcOwners.append(await xmlrpc.state.registration(mac)?.owner) }
                            var srapsURLs: [String?] = []
                            for mac in macsS { srapsURLs.append(await sraps.url(of: mac)) }
                            return xmlrpcOwners == [StandInAccounts.user, StandInAccounts.user]
                                && srapsURLs == macsS.map { "https://prov.example.com/tenant-s/\($0).xml" }
                        }
                        // Nothing of one tenant's reached the other's service.
                        for mac in macsS { #expect(await xmlrpc.state.registration(mac) == nil) }
                        for mac in macsX { #expect(await sraps.endpoint(mac) == nil) }
                        // Each phone shows its vendor and the account that serves it.
                        let snomDevices = try await cli.run(["device", "list", "--vendor", "snom"])
                        #expect(
                            snomDevices.status == 0 && (macsX + macsS).allSatisfy(snomDevices.output.contains)
                                && snomDevices.output.contains("sraps-s"), "\(snomDevices.output)")
                        let yealinkDevices = try await cli.run(["device", "list", "--vendor", "yealink"])
                        #expect(yealinkDevices.output.contains("0 device(s)"), "\(yealinkDevices.output)")
                        let shown = try await cli.run(["device", "show", macsS[0]])
                        let lines = shown.output.split(separator: "\n").map {
                            $0.split(separator: " ").joined(separator: " ")
                        }
                        #expect(
                            lines.contains("vendor Snom (snom)") && lines.contains("account sraps-s"), "\(shown.output)"
                        )
                        #expect(await sraps.endpoint(macsS[0])?.company == Self.company)

                        // `provhook redirect --account` calls as an SRAPS account as it does as an XML-RPC one.
                        let cliWithoutXMLRPC = CommandLineRunner(environment: environment)
                        let got = try await cliWithoutXMLRPC.run([
                            "redirect", "get", "--account", "sraps-s", macsS[0], "--json", "--timeout", "10",
                        ])
                        #expect(
                            got.status == 0
                                && got.output.contains("https://prov.example.com/tenant-s/\(macsS[0]).xml"),
                            "\(got.output)\(got.error)")
                        let listed = try await cliWithoutXMLRPC.run([
                            "redirect", "list", "--account", "sraps-s", "any-model", "--json",
                        ])
                        #expect(
                            listed.status == 0 && macsS.allSatisfy(listed.output.contains)
                                && !macsX.contains(where: listed.output.contains), "\(listed.output)\(listed.error)")
                        let notOurs = try await cliWithoutXMLRPC.run([
                            "redirect", "check", "--account", "sraps-s", macsX[0],
                        ])
                        #expect(notOurs.status == 1, "not at SRAPS yet: \(notOurs.output)\(notOurs.error)")

                        // A removal deletes the endpoint at SRAPS.
                        let removed = try await CommandLineRunner(
                            executablePath: ScratchCluster.repositoryRoot + "/contrib/send-event.sh"
                        ).run(["tenant-s", s, #"{"type":"device.removed","mac":"\#(macsS[1])"}"#, base])
                        #expect(removed.output.contains("HTTP 202"), "\(removed.output)")
                        try await eventually("the removed phone deregistered at SRAPS") {
                            let gone = await sraps.endpoint(macsS[1]) == nil
                            let status = try await database.store.device(MACAddress(macsS[1])!)?.status
                            return gone && status == .deregistered
                        }

                        // The XML-RPC tenant moves to the SRAPS account: deregistered there, registered here.
                        try await RedirectAccountTests.expectOK(
                            cli, ["tenant", "update", "tenant-x", "--account", "sraps-s"])
                        try await eventually("the moved tenant's phones left XML-RPC for SRAPS") {
                            var done = true
                            for mac in macsX {
                                let atXMLRPC = await xmlrpc.state.registration(mac)
                                let atSRAPS = await sraps.url(of: mac)
                                done =
                                    done && atXMLRPC == nil
                                    && atSRAPS == "https://prov.example.com/tenant-x/\(mac).xml"
                            }
                            return done
                        }
                        // The outcome is written after the call: waited for, then each device under the new account.
                        try await eventually("the moved devices recorded under the SRAPS account") {
                            var done = true
                            for mac in macsX {
                                let device = try await database.store.device(MACAddress(mac)!)
                                done =
                                    done && device?.account == "sraps-s" && device?.moveTo == nil
                                    && device?.status == .registered
                            }
                            return done
                        }
                        // Every SRAPS call was signed with a payload hash where it had a body, and none was refused.
                        let calls = await sraps.calls
                        #expect(
                            !calls.isEmpty && calls.allSatisfy { $0.hawkError == nil },
                            "\(calls.filter { $0.hawkError != nil })")
                        let puts = calls.filter { $0.method == "PUT" }
                        #expect(!puts.isEmpty && puts.allSatisfy { $0.hadPayloadHash })

                        // The key's secret is nowhere: not in the journal, the listing or serve's debug log.
                        let journal = try await database.store.journal(JournalFilter(limit: 1000))
                        let texts = journal.map { "\($0.detail)" }.joined() + list.output + serve.log
                        // Checked as a boolean: an expectation on the text itself would print the secret.
                        let leaked = texts.contains(Self.keySecret)
                        #expect(!leaked, "the key secret appeared in the journal, a listing or serve's log")

                        // SRAPS's clock 10 minutes ahead: a call's Hawk timestamp is stale. The work stays queued,
                        // /readyz names the account, and status says the clock is off, by how much.
                        await sraps.setClockSkew(seconds: 600)
                        try await RedirectAccountTests.send(
                            "tenant-s", s, mac: "000413000F03", id: "s-late", base: base)
                        try await eventually("the stale timestamp reported by /readyz") {
                            let ready = try await RedirectAccountTests.get(
                                "http://127.0.0.1:\(serve.ports.admin)/readyz")
                            return ready.status == 503 && ready.body.contains("account sraps-s")
                        }
                        #expect(try await database.store.device(MACAddress("000413000F03")!)?.status == .pending)
                        let skewed = try await CommandLineRunner(environment: serveEnvironment).run(["status"])
                        #expect(
                            skewed.status == 1 && skewed.output.contains("clock is")
                                && skewed.output.contains("behind"), "\(skewed.output)\(skewed.error)")
                        #expect(serve.log.contains("clock is off"), "the log says the clock is off")
                        // Once the clocks agree again, the waiting phone is registered without another webhook.
                        await sraps.setClockSkew(seconds: 0)
                        try await eventually("the waiting phone registered once the clocks agree", within: .seconds(60))
                        {
                            await sraps.url(of: "000413000F03") != nil
                        }
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
