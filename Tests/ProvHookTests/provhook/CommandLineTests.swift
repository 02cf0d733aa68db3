import Foundation
import Glibc
import ProvHookCore
import ProvHookTestSupport
import SnomXMLRPCStandIn
import StandInSupport
import Testing

@Suite("provhook command line")
struct CommandLineTests {
    @Test("migrate twice, tenant add, journal: as the contract says")
    func migrateTenantJournal() async throws {
        try await TestDatabase.with(migrated: false) { database in
            // As docs/operating.md deploys it: the owner migrates, roles.sql grants, the app's login does the rest.
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

    @Test("an unreachable database fails with a clear message: at once when refused, at the deadline when silent")
    func unreachableDatabase() async throws {
        let refused = CommandLineRunner(environment: [
            "PROVHOOK_DATABASE_URL": "postgres://provhook:hunter2@127.0.0.1:1/provhook"
        ])
        for arguments in [["migrate"], ["journal"], ["tenant", "list"]] {
            // A refused port answers at once: the error is the refusal, not a deadline that ran out.
            let result = try await refused.run(arguments + ["--database-timeout", "600"])
            #expect(result.status == 3, "\(arguments)")
            #expect(result.error.contains("127.0.0.1:1"), "\(arguments)")
            #expect(result.error.localizedCaseInsensitiveContains("refused"), "\(arguments): \(result.error)")
            #expect(!result.error.contains("did not finish within"), "\(arguments)")
            #expect(!result.error.contains("hunter2"), "no password in error messages")
        }

        // A server that accepts the connection and never answers: only the deadline ends the wait. The message names
        // the deadline that the flag set (the default is 10 s), so the flag is shown to govern without timing anything.
        let silent = try SilentListener()
        defer { silent.close() }
        let hanging = CommandLineRunner(environment: [
            "PROVHOOK_DATABASE_URL": "postgres://provhook:hunter2@127.0.0.1:\(silent.port)/provhook"
        ])
        for arguments in [["migrate"], ["journal"], ["tenant", "list"]] {
            let result = try await hanging.run(arguments + ["--database-timeout", "2"])
            #expect(result.status == 3, "\(arguments)")
            #expect(result.error.contains("127.0.0.1:\(silent.port)"), "\(arguments)")
            #expect(result.error.contains("did not finish within 2.0 seconds"), "\(arguments): \(result.error)")
            #expect(!result.error.contains("hunter2"), "no password in error messages")
        }

        let missing = try await CommandLineRunner().run(["migrate"])
        #expect(missing.status == 2)
        #expect(missing.error.contains("PROVHOOK_DATABASE_URL"))
    }

    @Test("every redirect subcommand against the stand-in over HTTPS with a private CA")
    func redirectSubcommands() async throws {
        let state = StandInAccounts.makeState()
        try await RunningFakeRedirect.withTLS(state: state) { _, settings in
            let cli = CommandLineRunner(environment: settings)
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
            result = try await cli.run([
                "redirect", "register-list", "https://b.example/", "000413610FF6", "000413610FF7",
            ])
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
        }
    }
}

/// A loopback TCP port that completes every connection (the kernel's backlog accepts it) and never sends a byte: a
/// database that hangs.
final class SilentListener: Sendable {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && listen(descriptor, 64) == 0
                    && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound else {
            let failure = POSIXError(.init(rawValue: errno) ?? .EIO)
            Glibc.close(descriptor)
            throw failure
        }
        self.descriptor = descriptor
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { Glibc.close(self.descriptor) }
}
