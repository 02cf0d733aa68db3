import Foundation
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import StandInSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Redirection accounts through the real binary: `provhook account` and `tenant --account`, `provhook serve` in its
/// own process with one worker per account, and the stand-in holding each MAC under the account that registered it.
@Suite("redirection accounts: two owners, a refused account, a move killed midway")
struct RedirectAccountTests {
    static let resellerUser = "reseller-b-user"
    static let resellerPassword = "b-Pa55-word"
    static let rotatedPassword = "b-rotated-Pa55"

    @Test(
        "two tenants on two accounts register under the right owner; a refused account holds back only its tenant; a move killed between its steps resumes and ends under the new account only"
    )
    func twoAccountsAndAMove() async throws {
        try await TestDatabase.with { database in
            let state = StandInAccounts.makeState()
            await state.addAccount(Self.resellerUser, .init(password: Self.resellerPassword, company: "Reseller B"))
            let standIn = try await RunningFakeRedirect.start(state: state)
            // The reseller's account has an endpoint of its own, so that it can be down while the default's is up.
            let resellerStandIn = try await RunningFakeRedirect.start(state: state)
            let resellerPort = resellerStandIn.port
            let files = try [
                TemporaryFile.write(StandInAccounts.password + "\n"),
                TemporaryFile.write(Self.resellerPassword + "\r\n"),
                TemporaryFile.write("not-the-password\n"), TemporaryFile.write(Self.rotatedPassword),
            ]
            defer { for path in files { try? FileManager.default.removeItem(atPath: path) } }
            let environment = [
                "PROVHOOK_DATABASE_URL": database.urlString, "PROVHOOK_SECRET_KEY_FILE": database.secretKeyFile,
                "USER": "alice", "SUDO_USER": "alice",
            ]
            let cli = CommandLineRunner(environment: environment)
            var serve: ServeProcess?
            let outcome: Result<Void, any Error>
            do {
                // Accounts, through the binary. Without the key, a password cannot be stored: one line says why.
                let keyless = try await CommandLineRunner(environment: [
                    "PROVHOOK_DATABASE_URL": database.urlString, "USER": "alice",
                ]).run(["account", "add", "x", "--user", "u", "--password-file", files[1]])
                #expect(keyless.status != 0)
                #expect(keyless.error.contains("PROVHOOK_SECRET_KEY_FILE"), "\(keyless.error)")
                #expect(keyless.error.split(separator: "\n").count == 1, "\(keyless.error)")

                let resellerURL = "http://127.0.0.1:\(resellerPort)/xmlrpc/"
                try await Self.expectOK(
                    cli,
                    [
                        "account", "add", "reseller-b", "--user", Self.resellerUser, "--password-file", files[1],
                        "--url", resellerURL,
                    ])
                try await Self.expectOK(
                    cli, ["account", "add", "broken", "--user", Self.resellerUser, "--password-file", files[2]])
                let noSlash = try await cli.run([
                    "account", "add", "bad-url", "--user", "u", "--password-file", files[1], "--url",
                    "http://127.0.0.1:\(resellerPort)/xmlrpc",
                ])
                #expect(noSlash.status == 2 && noSlash.error.contains("must end with '/'"), "\(noSlash.error)")

                let a = try await Self.addTenant(cli, "tenant-a", account: nil)
                let b = try await Self.addTenant(cli, "tenant-b", account: "reseller-b")
                let c = try await Self.addTenant(cli, "tenant-c", account: "broken")
                let inUse = try await cli.run(["account", "remove", "reseller-b"])
                #expect(inUse.status != 0 && inUse.error.contains("used by 1 tenant"), "\(inUse.error)")
                let list = try await cli.run(["account", "list"])
                #expect(list.status == 0 && list.output.contains("reseller-b") && list.output.contains("sealed"))

                let serveEnvironment = environment.merging([
                    "PROVHOOK_REDIRECT_URL": standIn.endpoint, "PROVHOOK_REDIRECT_USER": StandInAccounts.user,
                    "PROVHOOK_REDIRECT_PASSWORD_FILE": files[0], "PROVHOOK_LOG_LEVEL": "debug",
                    "PROVHOOK_REDIRECT_ALLOW_HTTP": "1",
                ]) { _, new in new }
                serve = try await ServeProcess.start(environment: serveEnvironment)
                let base = "http://127.0.0.1:\(serve!.ports.webhook)"

                let macsA = ["000413000A01", "000413000A02", "000413000A03"]
                let macsB = ["000413000B01", "000413000B02"]
                for (index, mac) in macsA.enumerated() {
                    try await Self.send("tenant-a", a, mac: mac, id: "a\(index)", base: base)
                }
                for (index, mac) in macsB.enumerated() {
                    try await Self.send("tenant-b", b, mac: mac, id: "b\(index)", base: base)
                }
                try await Self.send("tenant-c", c, mac: "000413000C01", id: "c0", base: base)

                try await eventually("each tenant's phones registered under its own account") {
                    var owners: [String?] = []
                    for mac in macsA + macsB { owners.append(await state.registration(mac)?.owner) }
                    return owners == Array(repeating: StandInAccounts.user, count: 3)
                        + Array(repeating: Self.resellerUser, count: 2)
                }
                // The refused account's device waits, and /readyz names the account.
                try await eventually("the refused account is reported") {
                    let ready = try await Self.get("http://127.0.0.1:\(serve!.ports.admin)/readyz")
                    return ready.status == 503 && ready.body.contains("account broken: rejected since")
                }
                let metrics = try await Self.get("http://127.0.0.1:\(serve!.ports.admin)/metrics").body
                let rejected = [
                    "broken": DeliveryOutcomeTests.sample(
                        in: metrics, #"provhook_redirect_credentials_rejected{account="broken"}"#),
                    "reseller-b": DeliveryOutcomeTests.sample(
                        in: metrics, #"provhook_redirect_credentials_rejected{account="reseller-b"}"#),
                ]
                #expect(rejected == ["broken": 1, "reseller-b": 0], "the metrics name the failing account")
                #expect(try await database.store.device(MACAddress("000413000C01")!)?.status == .pending)
                #expect(await state.registration("000413000C01") == nil)

                // The move, killed between its two steps: the reseller's password was changed at the service, so each
                // MAC is deregistered with the default account and then waits to be registered with the new one.
                await state.addAccount(Self.resellerUser, .init(password: Self.rotatedPassword, company: "Reseller B"))
                let moved = try await cli.run(["tenant", "update", "tenant-a", "--account", "reseller-b"])
                #expect(moved.status == 0 && moved.output.contains("moving 3 device(s) to account reseller-b"))
                try await eventually("the first step done for every MAC") {
                    var done = true
                    for mac in macsA {
                        let device = try await database.store.device(MACAddress(mac)!)
                        let registration = await state.registration(mac)
                        done = done && device?.account == "reseller-b" && device?.moveTo == nil && registration == nil
                    }
                    return done
                }
                try await eventually("the refused reseller account is reported") {
                    let ready = try await Self.get("http://127.0.0.1:\(serve!.ports.admin)/readyz")
                    return ready.body.contains("account reseller-b: rejected since")
                }
                serve!.signal(SIGKILL)
                _ = await serve!.terminate()
                serve = nil

                // The operator gives provhook the new password while serve is down; serve resumes the move.
                try await Self.expectOK(cli, ["account", "update", "reseller-b", "--password-file", files[3]])
                serve = try await ServeProcess.start(environment: serveEnvironment)
                // The account's waiting devices are due at once after its update; a call that SIGKILL cut short keeps
                // its claim until the lease (120 s) ends, which is how a crash mid-call is recovered.
                try await eventually("the move resumed: every MAC under the new account only", within: .seconds(180)) {
                    var owners: [String?] = []
                    for mac in macsA { owners.append(await state.registration(mac)?.owner) }
                    return owners == Array(repeating: Self.resellerUser, count: 3)
                }
                // The stand-in holds the registration before provhook has its answer: wait for the journal row.
                var stepAccounts: [String] = []
                try await eventually("the registration under the new account journaled") {
                    let journal = try await database.store.journal(JournalFilter(mac: macsA[0]))
                    let steps = journal.filter { $0.action.hasPrefix("redirect.") && $0.outcome == "ok" }
                    stepAccounts = steps.map { entry -> String in
                        if case .string(let account) = entry.detail["account"] { return account }
                        return ""
                    }
                    return stepAccounts.last == "reseller-b" && journal.contains { $0.action == "device.move" }
                }
                #expect(
                    stepAccounts.suffix(3) == ["default", "default", "reseller-b"],
                    "registered and deregistered with the old account, then registered with the new one: \(stepAccounts)"
                )

                // The account is in use now; the default account holds nothing of tenant-a any more.
                let accounts = try await database.store.accounts()
                #expect(accounts.first { $0.name == "reseller-b" }?.tenants == 2)

                // No password in the journal, the CLI's output or serve's debug log (checked as booleans).
                let everything = try await database.store.journal(JournalFilter(limit: 10000))
                let texts = everything.map { "\($0.detail)" }.joined() + list.output + serve!.log
                let leaks = [Self.resellerPassword, Self.rotatedPassword, StandInAccounts.password, "not-the-password"]
                    .filter {
                        texts.contains($0)
                    }
                #expect(leaks.isEmpty, "\(leaks.count) password(s) leaked")
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            serve?.stop()
            await resellerStandIn.stop()
            await standIn.stop()
            try outcome.get()
        }
    }

    @Test(
        "reconcile moves a MAC found under the wrong one of our accounts; device retry --move takes a conflict from the account of ours that holds it, and refuses one a stranger holds; status names each account"
    )
    func wrongAccountAndRetryMove() async throws {
        try await TestDatabase.with { database in
            let state = StandInAccounts.makeState()
            await state.addAccount(Self.resellerUser, .init(password: Self.resellerPassword, company: "Reseller B"))
            let standIn = try await RunningFakeRedirect.start(state: state)
            let files = try [
                TemporaryFile.write(StandInAccounts.password), TemporaryFile.write(Self.resellerPassword),
                TemporaryFile.write("wrong"),
            ]
            defer { for path in files { try? FileManager.default.removeItem(atPath: path) } }
            let environment = [
                "PROVHOOK_DATABASE_URL": database.urlString, "PROVHOOK_SECRET_KEY_FILE": database.secretKeyFile,
                "USER": "alice", "SUDO_USER": "alice", "PROVHOOK_REDIRECT_URL": standIn.endpoint,
                "PROVHOOK_REDIRECT_USER": StandInAccounts.user, "PROVHOOK_REDIRECT_PASSWORD_FILE": files[0],
                "PROVHOOK_REDIRECT_ALLOW_HTTP": "1",
            ]
            let cli = CommandLineRunner(environment: environment)
            var serve: ServeProcess?
            let outcome: Result<Void, any Error>
            do {
                try await Self.expectOK(
                    cli, ["account", "add", "reseller-b", "--user", Self.resellerUser, "--password-file", files[1]])
                // `default` is the environment's: it cannot be added, changed or removed.
                for arguments in [
                    ["account", "add", "default", "--user", "u", "--password-file", files[1]],
                    ["account", "update", "default", "--user", "u"], ["account", "remove", "default"],
                ] {
                    let refused = try await cli.run(arguments)
                    #expect(refused.status != 0 && refused.error.contains("default"), "\(arguments): \(refused.error)")
                }
                let a = try await Self.addTenant(cli, "tenant-a", account: nil)
                let b = try await Self.addTenant(cli, "tenant-b", account: "reseller-b")
                serve = try await ServeProcess.start(environment: environment)
                let base = "http://127.0.0.1:\(serve!.ports.webhook)"

                // A MAC of tenant-b that the default account holds at the service (registered there by hand, say).
                try await Self.send("tenant-b", b, mac: "000413000B01", id: "b1", base: base)
                try await eventually("registered under the reseller") {
                    await state.registration("000413000B01")?.owner == Self.resellerUser
                }
                let url = try #require(await state.registration("000413000B01")?.url)
                await state.setRegistration("000413000B01", .init(owner: StandInAccounts.user, url: url))
                let reconcile = try await cli.run(["reconcile", "--apply", "20"])
                #expect(reconcile.output.contains("wrong_account"), "\(reconcile.output)\(reconcile.error)")
                try await eventually("moved back under the reseller") {
                    await state.registration("000413000B01")?.owner == Self.resellerUser
                }
                let finding = try await database.store.journal(
                    JournalFilter(mac: "000413000B01", action: "reconcile.finding"))
                #expect(
                    finding.contains { $0.outcome == "queued" && $0.detail["kind"] == .string("wrong_account") },
                    "\(reconcile.output)")

                // A conflict: the reseller, one of our accounts, holds a MAC that tenant-a (default) wants.
                await state.setRegistration(
                    "000413000A09", .init(owner: Self.resellerUser, url: "https://elsewhere.example/"))
                try await Self.send("tenant-a", a, mac: "000413000A09", id: "a9", base: base)
                try await eventually("conflict") {
                    try await database.store.device(MACAddress("000413000A09")!)?.status == .conflict
                }
                let dry = try await cli.run(["device", "retry", "--move", "000413000A09", "--dry-run"])
                #expect(
                    dry.status == 0
                        && dry.output.contains("would move from account reseller-b to account default (dry run)"),
                    "\(dry.output)")
                #expect(await state.registration("000413000A09")?.owner == Self.resellerUser, "a dry run moves nothing")
                let move = try await cli.run(["device", "retry", "--move", "000413000A09"])
                #expect(
                    move.status == 0 && move.output.contains("moving from account reseller-b to account default\n"),
                    "\(move.output) \(move.error)")
                try await eventually("registered under the default account") {
                    await state.registration("000413000A09")
                        == .init(owner: StandInAccounts.user, url: "https://prov.example.com/tenant-a/000413000A09.xml")
                }
                // A MAC a stranger holds is refused: no account of ours can let it go.
                await state.setRegistration(
                    "000413000A08", .init(owner: StandInAccounts.otherUser, url: "https://other.example/"))
                try await Self.send("tenant-a", a, mac: "000413000A08", id: "a8", base: base)
                try await eventually("conflict") {
                    try await database.store.device(MACAddress("000413000A08")!)?.status == .conflict
                }
                let stranger = try await cli.run(["device", "retry", "--move", "000413000A08"])
                #expect(stranger.status == 1 && stranger.error.contains("no other account of ours holds it"))

                // status checks every account's credentials, and fails naming the one refused.
                let fine = try await cli.run(["status"])
                #expect(fine.status == 0 && fine.output.contains("account reseller-b"), "\(fine.output)\(fine.error)")
                try await Self.expectOK(
                    cli, ["account", "add", "broken", "--user", Self.resellerUser, "--password-file", files[2]])
                let failing = try await cli.run(["status"])
                #expect(failing.status == 1 && failing.output.contains("FAILING"), "\(failing.output)")
                #expect(
                    failing.output.split(separator: "\n").contains {
                        $0.hasPrefix("account broken") && $0.contains("FAILING")
                    })
                #expect(failing.error.contains("broken"), "\(failing.error)")
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            serve?.stop()
            await standIn.stop()
            try outcome.get()
        }
    }

    static func expectOK(_ cli: CommandLineRunner, _ arguments: [String]) async throws {
        let result = try await cli.run(arguments)
        #expect(result.status == 0, "\(arguments.prefix(3)): \(result.error)")
    }

    /// Adds a tenant through the binary; returns its webhook secret.
    static func addTenant(_ cli: CommandLineRunner, _ id: String, account: String?) async throws -> String {
        var arguments = ["tenant", "add", id, "--url-template", "https://prov.example.com/\(id)/<mac>.xml", "--json"]
        if let account { arguments += ["--account", account] }
        let result = try await cli.run(arguments)
        let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        let accounts = object?["accounts"] as? [String: String]
        #expect(accounts == (account.map { ["snom": $0] } ?? [:]), "\(result.output)")
        return try #require(object?["webhook_secret"] as? String, "\(result.error)")
    }

    /// Sends a signed `device.added` through `contrib/send-event.sh`.
    static func send(
        _ tenant: String, _ secret: String, mac: String, id: String, base: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        try await CommandLineRunner.sendEvent(
            tenant, secret, #"{"type":"device.added","mac":"\#(mac)","device_id":"\#(id)"}"#, to: base,
            sourceLocation: sourceLocation)
    }

    static func get(_ url: String) async throws -> (status: Int, body: String) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}
