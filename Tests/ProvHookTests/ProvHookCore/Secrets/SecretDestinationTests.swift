import Foundation
import Logging
import PostgresNIO
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import StandInSupport
import Testing

/// A secret that leaves provhook (an account's password, a PBX API's secret) goes only where the operator sent it:
/// the database's app login may change the rows, but not where a secret is sent.
@Suite("secrets go only where the operator sent them")
struct SecretDestinationTests {
    static let user = "reseller-user"
    static let password = "r-Pa55-word"
    static let fileUser = "by-reference-user"

    @Test(
        "the app's login changing an account's URL or password file sends nothing there; the operator giving the password again does"
    )
    func appLoginCannotRedirectAnAccount() async throws {
        try await TestDatabase.with { database in
            let service = StandInAccounts.makeState()
            await service.addAccount(Self.user, .init(password: Self.password, company: "Reseller"))
            let keyText = try String(contentsOfFile: database.secretKeyFile, encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            // The other endpoint knows both passwords, and the key as a password: a call it authenticates is a secret
            // that arrived there.
            let elsewhere = FakeRedirectState(accounts: [
                Self.user: .init(password: Self.password, company: "Elsewhere"),
                Self.fileUser: .init(password: keyText, company: "Elsewhere"),
            ])
            let running = try await RunningFakeRedirect.start(state: service)
            let other = try await RunningFakeRedirect.start(state: elsewhere)
            let passwordFile = try TemporaryFile.write(Self.password + "\n")
            let defaultPasswordFile = try TemporaryFile.write(StandInAccounts.password)
            defer {
                for path in [passwordFile, defaultPasswordFile] { try? FileManager.default.removeItem(atPath: path) }
            }
            let environment = [
                "PROVHOOK_DATABASE_URL": database.urlString, "PROVHOOK_SECRET_KEY_FILE": database.secretKeyFile,
                "USER": "alice",
            ]
            let cli = CommandLineRunner(environment: environment)
            for arguments in [
                [
                    "account", "add", "sealed", "--user", Self.user, "--password-file", passwordFile, "--url",
                    running.endpoint,
                ],
                [
                    "account", "add", "by-reference", "--user", Self.fileUser, "--password-file", passwordFile,
                    "--password-by-reference", "--url", running.endpoint,
                ],
            ] {
                let added = try await cli.run(arguments)
                #expect(added.status == 0, "\(added.error)")
            }
            // Through the CLI, a new destination needs the password again.
            let moved = try await cli.run(["account", "update", "sealed", "--url", other.endpoint])
            #expect(moved.status == 2 && moved.error.contains("needs the password again"), "\(moved.error)")
            let sealedSecret = try await RedirectAccountTests.addTenant(cli, "t-sealed", account: "sealed")
            let fileSecret = try await RedirectAccountTests.addTenant(cli, "t-file", account: "by-reference")

            let serve = try await ServeProcess.start(
                environment: environment.merging([
                    "PROVHOOK_REDIRECT_URL": running.endpoint, "PROVHOOK_REDIRECT_USER": StandInAccounts.user,
                    "PROVHOOK_REDIRECT_PASSWORD_FILE": defaultPasswordFile, "PROVHOOK_REDIRECT_ALLOW_HTTP": "1",
                    "PROVHOOK_LOG_LEVEL": "debug",
                ]) { _, new in new })
            defer { serve.stop() }
            let base = "http://127.0.0.1:\(serve.ports.webhook)"
            try await RedirectAccountTests.send("t-sealed", sealedSecret, mac: "000413000D01", id: "d1", base: base)
            try await eventually("the account's first phone registered where the operator pointed it") {
                await service.registration("000413000D01")?.owner == Self.user
            }

            // As the app's login: point both accounts elsewhere, and the password file at the secret key.
            try await database.withConnection(as: .app) { connection in
                try await connection.query(
                    "UPDATE redirect_accounts SET url = \(other.endpoint) WHERE name IN ('sealed', 'by-reference')",
                    logger: Logger(label: "test"))
                try await connection.query(
                    "UPDATE redirect_accounts SET password_file = \(database.secretKeyFile) WHERE name = 'by-reference'",
                    logger: Logger(label: "test"))
            }
            try await eventually("serve refuses both accounts as they now stand") {
                serve.log.contains("was sealed for another destination")
                    && serve.log.contains("the password file of redirection account \"by-reference\"")
            }
            // Their workers are stopped; events for them wait, and the accounts are refused again at each refresh.
            try await RedirectAccountTests.send("t-sealed", sealedSecret, mac: "000413000D02", id: "d2", base: base)
            try await RedirectAccountTests.send("t-file", fileSecret, mac: "000413000D03", id: "d3", base: base)
            let refusals = serve.log.components(separatedBy: "was sealed for another destination").count
            try await eventually("a refresh after the events refuses the accounts again") {
                serve.log.components(separatedBy: "was sealed for another destination").count > refusals
            }
            #expect(await elsewhere.hold.received == 0, "nothing was sent to the URL the operator did not give")
            for mac in ["000413000D02", "000413000D03"] {
                #expect(try await database.store.device(MACAddress(mac)!)?.status == .pending)
            }
            #expect(!serve.log.contains(Self.password) && !serve.log.contains(keyText), "no secret in the log")

            // The operator gives the new URL with the password: now, and only now, it goes there.
            let given = try await cli.run([
                "account", "update", "sealed", "--url", other.endpoint, "--password-file", passwordFile,
            ])
            #expect(given.status == 0, "\(given.error)")
            try await eventually("the waiting phone registers at the URL the operator gave") {
                await elsewhere.registration("000413000D02")?.owner == Self.user
            }
            #expect(await elsewhere.calls.allSatisfy { $0.user == Self.user }, "the key was never sent as a password")
            await other.stop()
            await running.stop()
        }
    }

    @Test("a password file must be a private file under PROVHOOK_SECRETS_DIR, never a key")
    func passwordFilePolicy() async throws {
        try await TestDatabase.with { database in
            let exposed = try TemporaryFile.write("pw")
            chmod(exposed, 0o644)
            let link = TemporaryFile.secretsDirectory + "/provhook-test-\(UUID().uuidString)"
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/etc/hostname")
            defer { for path in [exposed, link] { try? FileManager.default.removeItem(atPath: path) } }
            for (path, reason) in [
                ("/etc/hostname", "not under PROVHOOK_SECRETS_DIR"), (link, "not under PROVHOOK_SECRETS_DIR"),
                (database.secretKeyFile, "is a secret key file"), (exposed, "readable or writable by others"),
            ] {
                await #expect {
                    _ = try await database.store.addAccount(
                        name: "a", changes: AccountChanges(user: "u", password: .file(path)), actor: "test")
                } throws: { error in
                    "\(error)".contains(reason)
                }
            }
        }
    }

    @Test("a PBX API secret does not open once the app's login changed the API's URL or CA file")
    func appLoginCannotRedirectAPIKey() async throws {
        try await TestDatabase.with { database in
            _ = try await database.store.addTenant(
                id: "acme", name: nil, urlTemplate: try URLTemplate("https://prov.example.com/<mac>.xml"),
                allowBearer: false, actor: "test")
            _ = try await database.store.addSource(
                name: "kazoo", kind: .kazoo, tenantID: "acme",
                api: (SourceAPI(url: "https://pbx.example.com:8443/v2"), secret: "kazoo-api-key"), actor: "test")
            #expect(try await database.store.sourceAPI(name: "kazoo")?.secret == "kazoo-api-key")
            let logger = Logger(label: "test")
            let changes: [@Sendable (PostgresConnection) async throws -> Void] = [
                {
                    try await $0.query(
                        "UPDATE sources SET api_url = 'https://pbx.example.com.evil.test:8443/v2'", logger: logger)
                },
                {
                    try await $0.query(
                        "UPDATE sources SET api_url = 'https://pbx.example.com:8443/v2', api_ca_file = '/tmp/evil.pem'",
                        logger: logger)
                },
            ]
            for change in changes {
                try await database.withConnection(as: .app) { try await change($0) }
                await #expect {
                    _ = try await database.store.sourceAPI(name: "kazoo")
                } throws: { error in
                    "\(error)".contains("sealed for another destination") && !"\(error)".contains("kazoo-api-key")
                }
            }
            // The same origin and CA file, another path: the secret still goes only to the host the operator named.
            _ = try await database.withConnection(as: .app) { connection in
                try await connection.query(
                    "UPDATE sources SET api_url = 'https://PBX.example.com:8443/other', api_ca_file = NULL",
                    logger: logger)
            }
            #expect(try await database.store.sourceAPI(name: "kazoo")?.secret == "kazoo-api-key")
        }
    }
}
