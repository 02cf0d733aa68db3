import Foundation
import Logging
import PostgresNIO
import ProvHookCore
import ProvHookTestSupport
import Testing

/// A seal is made only below the journal's watermark (sql/0017), whoever makes it; and `journal verify` reports every
/// break, telling a seal made out of order from a row slipped in.
@Suite("Journal seals in order, and verify reports every break")
struct JournalSealOrderTests {
    let logger = Logger(label: "test")

    /// Inserts a journal row on `connection` and answers its id.
    func insertRow(_ connection: PostgresConnection, actor: String) async throws -> Int64 {
        let rows = try await connection.query(
            "INSERT INTO journal (actor, action, outcome) VALUES (\(actor), 'test.order', 'ok') RETURNING id",
            logger: self.logger
        ).collect()
        return try #require(try rows.first?.decode(Int64.self))
    }

    /// The seal of row `id` on the current head, with the right hash: what any login that can read the journal can
    /// compute.
    static func seal(_ id: Int64) -> PostgresQuery {
        """
        INSERT INTO journal_seals (journal_id, hash)
        SELECT j.id, sha256(coalesce((SELECT hash FROM journal_seals ORDER BY journal_id DESC LIMIT 1),
            decode(repeat('00', 32), 'hex')) || journal_canonical(j))
        FROM journal j WHERE j.id = \(id)
        """
    }

    /// Runs `query`, answering how it failed, or nil if it succeeded.
    func refusal(_ connection: PostgresConnection, _ query: PostgresQuery) async -> DatabaseError? {
        do {
            // Read to the end: an error that comes after the row description surfaces only there.
            _ = try await connection.query(query, logger: self.logger).collect()
            return nil
        } catch {
            return DatabaseError("running \(query.sql)", error)
        }
    }

    /// Holds a journal insert open (`late`) while a later one (`early`) commits on another connection, runs `body`
    /// with both ids while the first is still in flight, then commits it; returns (late, early).
    func withInsertInFlight(
        _ database: TestDatabase, _ body: (_ late: Int64, _ early: Int64) async throws -> Void
    ) async throws -> (Int64, Int64) {
        try await database.withConnection(as: .app) { slow -> (Int64, Int64) in
            try await slow.query("BEGIN", logger: self.logger)
            let late = try await self.insertRow(slow, actor: "cli:slow")
            let early = try await database.withConnection(as: .app) { fast in
                try await self.insertRow(fast, actor: "cli:fast")
            }
            try await body(late, early)
            try await slow.query("COMMIT", logger: self.logger)
            return (late, early)
        }
    }

    func sealedIDs(_ database: TestDatabase) async throws -> [Int64] {
        try await database.withConnection { connection in
            try await connection.query("SELECT journal_id FROM journal_seals ORDER BY journal_id", logger: self.logger)
                .collect().map { try $0.decode(Int64.self) }
        }
    }

    /// The attack: row N's insert is held open, row N+1 commits, and the app's login seals N+1 with the right hash.
    /// Before sql/0017 the trigger took it (N+1 was the first unsealed row it could see), and row N committed outside
    /// the chain for good. The watermark stops it; once N commits, the sealer seals N, then N+1.
    @Test("a seal cannot pass an insert in flight: the app's login is refused a seal above the watermark")
    func sealAboveWatermarkIsRefused() async throws {
        try await TestDatabase.with { database in
            let chain = JournalChain(store: database.store)
            try await JournalFixture.append(database.store, 2)
            #expect(try await chain.seal() == 2)
            let (late, early) = try await self.withInsertInFlight(database) { late, early in
                #expect(early == late + 1, "the later id commits first")
                try await database.withConnection(as: .app) { attacker in
                    let refused = await self.refusal(attacker, Self.seal(early))
                    #expect(refused?.sqlState == "42501", "\(String(describing: refused))")
                    #expect(
                        refused?.reason.contains("journal row \(early) cannot be sealed yet") == true,
                        "\(String(describing: refused))")
                    // Nor can it raise the watermark past the open insert: journal_watermark() waits for that insert,
                    // then gives up after its lock timeout.
                    let watermark = await self.refusal(attacker, "SELECT journal_watermark()")
                    #expect(watermark?.sqlState == "55P03", "\(String(describing: watermark))")
                    let again = await self.refusal(attacker, Self.seal(early))
                    #expect(again?.sqlState == "42501", "still refused: \(String(describing: again))")
                }
                #expect(try await self.sealedIDs(database).count == 2, "nothing was sealed past the open insert")
            }
            #expect(try await chain.seal() == 2)
            #expect(try await self.sealedIDs(database).suffix(2) == [late, early], "sealed in order")
            let verification = try await chain.verify()
            #expect(verification.breaks.isEmpty, "\(verification.breaks)")
            #expect(verification.checkedRows == 4 && verification.unsealedRows == 0)
        }
    }

    @Test("verify reports every break where it is, not only the first, and bounds the list")
    func everyBreak() async throws {
        try await TestDatabase.with { database in
            let chain = JournalChain(store: database.store)
            try await JournalFixture.append(database.store, 12)
            #expect(try await chain.seal() == 12)
            let ids = try await self.sealedIDs(database)
            try await JournalFixture.tamper(
                database,
                queries: [
                    "UPDATE journal SET outcome = 'forged' WHERE id = \(ids[2])",
                    "DELETE FROM journal WHERE id = \(ids[5])",
                    "UPDATE journal SET actor = 'cli:mallory' WHERE id = \(ids[9])",
                ])
            let verification = try await chain.verify(pageSize: 4)
            #expect(verification.breaks.map(\.id) == [ids[2], ids[5], ids[9]], "\(verification.breaks)")
            #expect(verification.breaks.map(\.kind) == [.edited, .deleted, .edited])
            #expect(verification.breaks.allSatisfy { $0.problem.hasPrefix("row \($0.id) ") })
            #expect(verification.breakCount == 3 && verification.outOfOrderSeals == 0)
            #expect(
                verification.firstBreak?.id == ids[2] && verification.firstBreak?.problem.contains("edited") == true)
            #expect(verification.checkedRows == 2, "rows verified before the first break")
            #expect(verification.verifiedRows == 9, "every other row matches its own seal")
            #expect(verification.head.journalID == ids[1], "the head before the first break")

            let bounded = try await chain.verify(breakLimit: 2)
            #expect(bounded.breaks.map(\.id) == [ids[2], ids[5]])
            #expect(bounded.breakCount == 3)
        }
    }

    /// A database sealed before sql/0017 may hold a seal made out of order: made here as the superuser with the
    /// seals' trigger off. The row it passed is reported as such, a row slipped in afterwards as inserted, and the
    /// chain is checked on past both.
    @Test("verify names a seal made out of order, apart from an inserted row, and the CLI says so")
    func sealMadeOutOfOrder() async throws {
        try await TestDatabase.with { database in
            let chain = JournalChain(store: database.store)
            try await JournalFixture.append(database.store, 1)
            // A rolled-back insert leaves a gap in the ids, where a tamperer can slip a row in later.
            let gap = try await database.withConnection(as: .app) { connection in
                try await connection.query("BEGIN", logger: self.logger)
                let id = try await self.insertRow(connection, actor: "cli:rolled-back")
                try await connection.query("ROLLBACK", logger: self.logger)
                return id
            }
            try await JournalFixture.append(database.store, 1)
            #expect(try await chain.seal() == 2)
            let (late, early) = try await self.withInsertInFlight(database) { _, early in
                try await database.withConnection { superuser in
                    try await superuser.query("SET session_replication_role = replica", logger: self.logger)
                    try await superuser.query(Self.seal(early), logger: self.logger)
                }
            }
            #expect(try await chain.seal() == 0, "nothing above the out-of-order seal yet")
            try await JournalFixture.append(database.store, 1, tag: "after")
            #expect(try await chain.seal() == 1, "the sealer goes on past it")
            try await JournalFixture.tamper(
                database,
                queries: [
                    """
                    INSERT INTO journal (id, at, tenant_id, actor, action, outcome)
                    VALUES (\(gap), now(), 't', 'cli:admin', 'tenant.remove', 'ok')
                    """
                ])

            let verification = try await chain.verify()
            #expect(verification.breaks.map(\.id) == [gap, late], "\(verification.breaks)")
            #expect(verification.breaks.map(\.kind) == [.inserted, .sealedOutOfOrder])
            #expect(verification.breaks.first?.problem.contains("inserted") == true)
            let outOfOrder = try #require(verification.breaks.last)
            #expect(
                outOfOrder.problem.contains(
                    "row \(late) has no seal: a later row (\(early)) was sealed before it committed "
                        + "(a seal made out of order)"), "\(outOfOrder.problem)")
            #expect(verification.breakCount == 2 && verification.outOfOrderSeals == 1)
            #expect(verification.verifiedRows == 4, "both rows before, the row sealed out of order and the next")

            let cli = CommandLineRunner(environment: database.environment())
            let report = try await cli.run(["journal", "verify"])
            #expect(report.status == 1, "\(report.output)\(report.error)")
            #expect(report.output.contains("journal chain BROKEN at row \(gap): "), "\(report.output)")
            #expect(report.output.contains("journal chain BROKEN at row \(late): \(outOfOrder.problem)"))
            #expect(report.output.contains("2 break(s) in all, 1 of them seal(s) made out of order"))
        }
    }
}
