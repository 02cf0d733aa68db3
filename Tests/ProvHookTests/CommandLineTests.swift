import FakeRedirectService
import Foundation
import ProvHookCore
import ProvHookTestSupport
import Testing

@Suite("provhook command line")
struct CommandLineTests {
    @Test("migrate twice, tenant add, journal: as the contract says")
    func migrateTenantJournal() async throws {
        try await TestDatabase.with(migrated: false) { database in
            // As the README deploys it: the owner migrates, roles.sql grants, the app's login does the rest.
            let owner = CommandLineRunner(environment: database.environment(as: .owner))
            let first = try await owner.run(["migrate"])
            #expect(first.status == 0)
            #expect(first.output.contains("applied  0001_init.sql"))
            let second = try await owner.run(["migrate"])
            #expect(second.status == 0)
            #expect(second.output.contains("up to date"))
            try await database.applyRoles()
            let cli = CommandLineRunner(environment: database.environment())

            let add = try await cli.run([
                "tenant", "add", "acme", "--url-template", "https://prov.example.com/<mac>.xml", "--name", "ACME",
            ])
            #expect(add.status == 0)
            let secretLine = try #require(add.output.split(separator: "\n").first { $0.contains("whsec_") })
            let secret = String(secretLine.split(separator: " ").last!)
            #expect(secret.hasPrefix("whsec_"))

            let duplicate = try await cli.run(["tenant", "add", "acme", "--url-template", "https://x.example/"])
            #expect(duplicate.status == 2)
            #expect(duplicate.error.contains("already exists"))
            let badTemplate = try await cli.run(["tenant", "add", "other", "--url-template", "prov.example.com/<mac>"])
            #expect(badTemplate.status == 2)

            // Content errors are input errors (exit 2), checked before the database, and never show the row.
            let emptyName = try await cli.run(["tenant", "update", "acme", "--name", ""])
            #expect(emptyName.status == 2, "\(emptyName.error)")
            #expect(!emptyName.error.contains("whsec_") && !emptyName.output.contains("whsec_"))
            let credentials = try await cli.run([
                "tenant", "update", "acme", "--url-template", "https://u:p@x.example/<mac>",
            ])
            #expect(credentials.status == 2 && credentials.error.contains("credentials"))

            let list = try await cli.run(["tenant", "list"])
            #expect(list.output.contains("acme") && !list.output.contains(secret))

            let journal = try await cli.run(["journal", "--json"])
            #expect(journal.status == 0)
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            let rows = try decoder.decode([JournalEntry].self, from: Data(journal.output.utf8))
            #expect(rows.map(\.action) == ["tenant.add"])
            #expect(rows.first?.actor.hasPrefix("cli:") == true)
            #expect(!journal.output.contains(secret), "the secret is printed once, never journaled")
        }
    }

    @Test("an unreachable database fails fast with a clear message")
    func unreachableDatabase() async throws {
        let cli = CommandLineRunner(environment: [
            "PROVHOOK_DATABASE_URL": "postgres://provhook:hunter2@127.0.0.1:1/provhook"
        ])
        for arguments in [["migrate"], ["journal"], ["tenant", "list"]] {
            // A refused port answers at once; the bound is the 3 s deadline plus a generous margin for a loaded
            // machine, far below the default 10 s and the pool's wait-forever.
            let started = ContinuousClock.now
            let result = try await cli.run(arguments + ["--database-timeout", "3"])
            #expect(ContinuousClock.now - started < .seconds(9), "\(arguments)")
            #expect(result.status == 3)
            #expect(result.error.contains("127.0.0.1:1"))
            #expect(!result.error.contains("hunter2"), "no password in error messages")
        }
        let missing = try await CommandLineRunner().run(["migrate"])
        #expect(missing.status == 2)
        #expect(missing.error.contains("PROVHOOK_DATABASE_URL"))
    }

    @Test("every redirect subcommand against the stand-in over HTTPS with a private CA")
    func redirectSubcommands() async throws {
        let state = StandInAccounts.makeState()
        let authority = try PrivateCertificateAuthority()
        let server = try await RunningFakeRedirect.start(state: state, tls: authority)
        let caFile = FileManager.default.temporaryDirectory.appendingPathComponent("ca-\(UUID()).pem").path
        try authority.caCertificatePEM.write(toFile: caFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: caFile) }
        let cli = CommandLineRunner(environment: [
            "PROVHOOK_REDIRECT_URL": server.endpoint, "PROVHOOK_REDIRECT_USER": StandInAccounts.user,
            "PROVHOOK_REDIRECT_PASSWORD": StandInAccounts.password, "PROVHOOK_REDIRECT_CA_FILE": caFile,
        ])
        let url = "https://pbx.example.com/prov/<mac>.xml?a=1&b={mac}"

        var result = try await cli.run(["redirect", "register", "00:04:13:61:0f:f5", url])
        #expect(result.status == 0 && result.output == "Ok\n")
        #expect(await state.registration("000413610FF5")?.url == url)
        result = try await cli.run(["redirect", "get", "0004.1361.0ff5", "--json"])
        #expect(
            result.status == 0 && result.output.contains("\"company\":\"Our Company\"")
                && result.output.contains("<mac>.xml?a=1&b={mac}"))
        result = try await cli.run(["redirect", "check", "000413610FF5"])
        #expect(result.status == 0)
        result = try await cli.run(["redirect", "check", "000413610FF6"])
        #expect(result.status == 1 && result.output == "Error:no_such_mac\n")
        result = try await cli.run(["redirect", "register-list", "https://b.example/", "000413610FF6", "000413610FF7"])
        #expect(result.status == 0)
        result = try await cli.run(["redirect", "list", "snomD785"])
        #expect(result.status == 0 && result.output == "000413610FF5\n000413610FF6\n000413610FF7\n")
        result = try await cli.run(["redirect", "list", "snomD785", "https://b.example/", "--json"])
        #expect(result.output.contains("[\"000413610FF6\",\"000413610FF7\"]"))
        await state.setRegistration(
            "000413610FF8", .init(owner: StandInAccounts.otherUser, url: "https://bob.example/"))
        result = try await cli.run(["redirect", "deregister-list", "000413610FF6", "000413610FF8"])
        #expect(result.status == 1 && result.output == "000413610FF8\tError:owned_by_other_user\n")
        result = try await cli.run(["redirect", "deregister", "000413610FF5"])
        #expect(result.status == 0)
        result = try await cli.run(["redirect", "register", "000413610FF5", "gopher://x"])
        #expect(result.status == 1 && result.output == "Error:malformed_url\n")

        let callsBefore = await state.calls.count
        result = try await cli.run(["redirect", "register", "00:04:13:61:0f", url])
        #expect(result.status == 2, "a malformed MAC is refused")
        #expect(await state.calls.count == callsBefore, "nothing was sent")

        var wrong = cli
        wrong.environment["PROVHOOK_REDIRECT_PASSWORD"] = "not-the-Pa55"
        result = try await wrong.run(["redirect", "check", "000413610FF5"])
        #expect(result.status == 3 && !result.error.contains("not-the-Pa55"))
        var untrusted = cli
        untrusted.environment["PROVHOOK_REDIRECT_CA_FILE"] = nil
        result = try await untrusted.run(["redirect", "check", "000413610FF5"])
        #expect(result.status == 3 && result.error.contains("TLS"))
        await server.stop()
    }
}
