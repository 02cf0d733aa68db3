import Logging
import PostgresNIO
import ProvHookCore
import ProvHookTestSupport
import Testing

@Suite("Tamper-evident journal")
struct JournalChainTests {
    let logger = Logger(label: "test")

    @Test("an intact journal verifies; the head can be exported")
    func intact() async throws {
        try await TestDatabase.with { database in
            let chain = JournalChain(store: database.store)
            try await JournalFixture.append(database.store, 25)
            #expect(try await chain.seal(batch: 10) == 25)
            #expect(try await chain.seal() == 0)
            try await JournalFixture.append(database.store, 3, tag: "later")
            let verification = try await chain.verify(pageSize: 7)
            #expect(verification.firstBreak == nil)
            #expect(verification.checkedRows == 25 && verification.unsealedRows == 3)
            #expect(try await chain.seal() == 3)
            let head = try await chain.head()
            #expect(head.sealedRows == 28 && head.hash.count == 64)
            #expect(try await chain.verify().head == head)
            #expect(try await database.store.sealHash(journalID: head.journalID) == head.hash)
        }
    }

    @Test("an edited row is caught at its position")
    func edited() async throws {
        try await TestDatabase.with { database in
            let chain = JournalChain(store: database.store)
            try await JournalFixture.append(database.store, 10)
            try await chain.seal()
            let target = try await database.store.journal(JournalFilter(limit: 10))[4].id!
            try await JournalFixture.tamper(database, ["UPDATE journal SET outcome = 'forged' WHERE id = \(target)"])
            let verification = try await chain.verify()
            #expect(verification.firstBreak?.id == target)
            #expect(verification.firstBreak?.problem.contains("edited") == true)
            #expect(verification.checkedRows == 4)
        }
    }

    @Test("a deleted row is caught at its position")
    func deleted() async throws {
        try await TestDatabase.with { database in
            let chain = JournalChain(store: database.store)
            try await JournalFixture.append(database.store, 10)
            try await chain.seal()
            let target = try await database.store.journal(JournalFilter(limit: 10))[6].id!
            try await JournalFixture.tamper(database, ["DELETE FROM journal WHERE id = \(target)"])
            let verification = try await chain.verify()
            #expect(verification.firstBreak?.id == target)
            #expect(verification.firstBreak?.problem.contains("deleted") == true)
        }
    }

    @Test("an inserted row is caught at its position")
    func inserted() async throws {
        try await TestDatabase.with { database in
            let chain = JournalChain(store: database.store)
            try await JournalFixture.append(database.store, 5)
            // A rolled-back insert leaves a gap in the ids, where a tamperer could slip a row in.
            try await database.withConnection { connection in
                try await connection.query("BEGIN", logger: self.logger)
                try await connection.query(
                    "INSERT INTO journal (actor, action, outcome) VALUES ('x', 'y', 'z')", logger: self.logger)
                try await connection.query("ROLLBACK", logger: self.logger)
            }
            try await JournalFixture.append(database.store, 5)
            try await chain.seal()
            let ids = try await database.store.journal(JournalFilter(limit: 100)).compactMap(\.id)
            let gap = try #require((ids.first!...ids.last!).first { !ids.contains($0) })
            try await JournalFixture.tamper(
                database,
                [
                    "INSERT INTO journal (id, at, tenant_id, actor, action, outcome) VALUES (\(gap), now() - interval '1 day', 't', 'cli:admin', 'tenant.remove', 'ok')"
                ])
            let verification = try await chain.verify()
            #expect(verification.firstBreak?.id == gap)
            #expect(verification.firstBreak?.problem.contains("inserted") == true)
        }
    }

    /// While a journal insert is in flight, the sealer cannot know whether a lower id will still appear, so it seals
    /// nothing past it: its watermark needs a SHARE lock that the open transaction's insert holds off, and the
    /// round gives up after its 200 ms lock timeout. Sealing by `max(id)` instead would seal the later rows and leave
    /// the late one outside the chain for good.
    @Test("a row that commits after a later id is sealed in order: no seal passes it while it is in flight")
    func outOfOrderCommit() async throws {
        try await TestDatabase.with { database in
            let chain = JournalChain(store: database.store)
            try await JournalFixture.append(database.store, 2)
            try await database.withConnection { slow in
                try await slow.query("BEGIN", logger: self.logger)
                try await slow.query(
                    "INSERT INTO journal (actor, action, outcome) VALUES ('cli:slow', 'test.slow', 'ok')",
                    logger: self.logger)
                try await JournalFixture.append(database.store, 2, tag: "fast")  // Higher ids, committed first.
                // The transaction stays open for as long as the round takes, however slow the machine.
                let during = try await chain.seal()
                #expect(during == 0, "a round during the open insert seals nothing")
                #expect(try await chain.head().sealedRows == 0)
                try await slow.query("COMMIT", logger: self.logger)
            }
            #expect(try await chain.seal() == 5)
            let verification = try await chain.verify()
            #expect(verification.firstBreak == nil)
            #expect(verification.checkedRows == 5 && verification.unsealedRows == 0)
        }
    }
}
