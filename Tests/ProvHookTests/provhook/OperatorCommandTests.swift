import AsyncHTTPClient
import BenchSupport
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PostgresNIO
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import StandInSupport
import Synchronization
import Testing
import XMLRPC

/// What docs/operating.md ("Commands"), docs/auditors.md and docs/vendors.md ("Reconcile and dry run") promise operators, checked
/// through the real `provhook` binary against a real PostgreSQL: the journal's chain commands, `serve` on a database
/// that is not migrated and in a dry run, a fault from the service, `device list` and `tenant remove`.
@Suite("Operators' commands: journal chain, serve refusals and dry run, faults, device list, tenant remove")
struct OperatorCommandTests {
    let logger = Logger(label: "operator-command-tests")

    // MARK: - journal seal, head, verify, --expect-head

    @Test("journal verify: intact 0; an edited row 1, named; a re-sealed rewrite fails only --expect-head")
    func journalChain() async throws {
        try await TestDatabase.with { database in
            try await JournalFixture.append(database.store, 6, tag: "first")
            let cli = CommandLineRunner(environment: database.environment())
            let rows = try await database.store.journal(JournalFilter(limit: 1000))
            let ids = rows.compactMap(\.id)
            #expect(ids.count == 6)

            let seal = try await cli.run(["journal", "seal"])
            #expect(seal.status == 0, "\(seal.error)")
            #expect(seal.output == "sealed \(ids.count) row(s)\n")

            // The head, as text and as the JSON to keep outside the database.
            let headJSON = try await cli.run(["journal", "head", "--json"])
            #expect(headJSON.status == 0, "\(headJSON.error)")
            let kept = try #require(
                try JSONSerialization.jsonObject(with: Data(headJSON.output.utf8)) as? [String: Any])
            let keptID = try #require(kept["journal_id"] as? Int)
            let keptHash = try #require(kept["hash"] as? String)
            #expect(keptID == Int(ids.max()!), "the head is the last sealed row")
            #expect(keptHash.count == 64 && keptHash.allSatisfy(\.isHexDigit))
            #expect(kept["sealed_rows"] as? Int == ids.count)
            let headText = try await cli.run(["journal", "head"])
            #expect(headText.status == 0)
            #expect(headText.output == "\(keptID) \(keptHash) (\(ids.count) sealed rows)\n")
            let keptHead = headJSON.output.trimmingCharacters(in: .whitespacesAndNewlines)

            let intact = try await cli.run(["journal", "verify"])
            #expect(intact.status == 0, "\(intact.output)\(intact.error)")
            #expect(
                intact.output.contains(
                    "journal chain intact: \(ids.count) sealed row(s) verified, head \(keptID) \(keptHash)"),
                "\(intact.output)")
            let expected = try await cli.run(["journal", "verify", "--expect-head", keptHead])
            #expect(expected.status == 0, "\(expected.output)\(expected.error)")
            #expect(expected.output.contains("the exported head \(keptID) is part of the chain"))

            // Rows journaled later: unsealed ones are reported, and once sealed the kept head is still in the chain.
            try await JournalFixture.append(database.store, 2, tag: "later")
            let unsealed = try await cli.run(["journal", "verify"])
            #expect(unsealed.status == 0 && unsealed.output.contains("2 newer row(s) not sealed yet"))
            #expect(try await cli.run(["journal", "seal"]).output == "sealed 2 row(s)\n")
            let longer = try await cli.run(["journal", "verify", "--expect-head", keptHead])
            #expect(longer.status == 0, "an older exported head stays part of a longer chain: \(longer.output)")

            let malformed = try await cli.run(["journal", "verify", "--expect-head", "{\"head\":1}"])
            #expect(malformed.status == 2)
            #expect(malformed.error.contains("--expect-head takes the JSON printed by `provhook journal head --json`"))

            // One edited row: the chain breaks exactly there, with or without an expected head.
            let target = ids[2]
            try await JournalFixture.tamper(database, ["UPDATE journal SET outcome = 'forged' WHERE id = \(target)"])
            let broken = try await cli.run(["journal", "verify"])
            #expect(broken.status == 1, "\(broken.output)\(broken.error)")
            #expect(broken.output.contains("journal chain BROKEN at row \(target): "), "\(broken.output)")
            #expect(broken.output.contains("it was edited"), "\(broken.output)")
            #expect(broken.output.contains("2 row(s) verified before it"), "\(broken.output)")
            #expect(!broken.output.contains("journal chain intact"))
            let brokenExpecting = try await cli.run(["journal", "verify", "--expect-head", keptHead])
            #expect(brokenExpecting.status == 1)
            let brokenMalformed = try await cli.run(["journal", "verify", "--expect-head", "{\"head\":1}"])
            #expect(brokenMalformed.status == 2, "a malformed head is a usage error, checked before the chain")

            // Someone who can disable the triggers rewrites the whole chain: every seal dropped and the edited
            // journal sealed again by provhook's own sealer, so every hash is consistent. Only the head kept
            // outside the database shows it.
            try await JournalFixture.tamper(database, ["DELETE FROM journal_seals"])
            let reseal = try await cli.run(["journal", "seal"])
            #expect(reseal.output == "sealed \(ids.count + 2) row(s)\n", "\(reseal.output)\(reseal.error)")
            let rewritten = try await cli.run(["journal", "verify"])
            #expect(rewritten.status == 0, "a consistent rewrite passes a plain verify: \(rewritten.output)")
            #expect(rewritten.output.contains("journal chain intact: \(ids.count + 2) sealed row(s) verified"))
            let caught = try await cli.run(["journal", "verify", "--expect-head", keptHead])
            #expect(caught.status == 1, "\(caught.output)\(caught.error)")
            #expect(
                caught.output.contains(
                    "journal chain does NOT contain the exported head \(keptID) \(keptHash): "
                        + "rows were removed or rewritten"), "\(caught.output)")
            #expect(!caught.output.contains("is part of the chain"))
        }
    }

    // MARK: - serve on a database that is not migrated

    @Test("serve refuses a database without provhook's schema, or behind on migrations, saying to run migrate")
    func serveRefusesUnmigrated() async throws {
        try await TestDatabase.with(migrated: false) { database in
            // The owner's login exists in every test cluster; the app's is created only when roles are applied.
            var environment = database.environment(as: .owner)
            environment["PROVHOOK_DRY_RUN"] = "1"
            let result = try await ServeProcess.runToExit(environment: environment)
            #expect(result.status == 2, "\(result.log)")
            let url = database.url(as: .owner)
            #expect(
                result.log
                    == "provhook: the database \(url) has no provhook schema yet; run `provhook migrate` first\n",
                "one line: \(result.log)")
        }
        try await TestDatabase.with { database in
            let latest = try #require(Migration.embedded.last?.version)
            let previous = try #require(Migration.embedded.dropLast().last?.version)
            try await database.withConnection { connection in
                _ = try await connection.query(
                    "DELETE FROM schema_migrations WHERE version = \(latest)", logger: self.logger)
            }
            var environment = database.environment()
            environment["PROVHOOK_DRY_RUN"] = "1"
            let result = try await ServeProcess.runToExit(environment: environment)
            #expect(result.status == 2, "\(result.log)")
            #expect(
                result.log
                    == "provhook: the database \(database.url) is at migration \(previous), "
                    + "this provhook needs \(latest); run `provhook migrate`\n",
                "one line: \(result.log)")
        }
    }

    // MARK: - an XML-RPC fault from the service

    @Test("redirect check exits 1 on an XML-RPC fault, printing its code and string; --json says ok false")
    func faultExitsOne() async throws {
        let state = StandInAccounts.makeState()
        let fault = XMLRPCFault(code: 4, message: "Too many parameters")
        let body = Array(XMLRPCEncoder.encodeFault(fault).utf8)
        try await RunningFakeRedirect.with(state: state) { server in
            let cli = CommandLineRunner(environment: [
                "PROVHOOK_REDIRECT_URL": server.endpoint, "PROVHOOK_REDIRECT_ALLOW_HTTP": "1",
                "PROVHOOK_REDIRECT_USER": StandInAccounts.user, "PROVHOOK_REDIRECT_PASSWORD": StandInAccounts.password,
            ])
            // The same call without a fault: the stand-in answers, so the exit code below is the fault's own.
            let plain = try await cli.run(["redirect", "check", "000413610FF5"])
            #expect(
                plain.status == 1 && plain.output == "Error:no_such_mac\n",
                "\(Self.redacted(plain.output + plain.error, [StandInAccounts.password]))")

            await state.failNext(1, with: .answer(body))
            let faulted = try await cli.run(["redirect", "check", "000413610FF5"])
            let faultedError = Self.redacted(faulted.error, [StandInAccounts.password])
            #expect(faulted.status == 1, "a fault is the service's answer, not a transport failure: \(faultedError)")
            #expect(
                faulted.error == "provhook: redirection service answered with XML-RPC fault 4: Too many parameters\n",
                "\(faultedError)")
            #expect(faulted.output.isEmpty)

            await state.failNext(1, with: .answer(body))
            let json = try await cli.run(["redirect", "check", "000413610FF5", "--json"])
            #expect(json.status == 1)
            let answer = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
            #expect(answer?["ok"] as? Bool == false, "\(Self.redacted(json.output, [StandInAccounts.password]))")
            #expect(
                answer?["error"] as? String == "redirection service answered with XML-RPC fault 4: Too many parameters")
            for result in [faulted, json] {
                #expect(!(result.output + result.error).contains(StandInAccounts.password), "no password in output")
            }
            #expect(await state.calls.count == 3, "each command made its one call")
        }
    }
}
