import Logging
import PostgresNIO
import ProvHookCore

/// Journal rows for the chain's tests, and a tamperer's way of rewriting them.
public enum JournalFixture {
    public static let logger = Logger(label: "journal-fixture")

    /// Appends `count` rows, one statement each, their details numbered and tagged.
    public static func append(_ store: Store, _ count: Int, tag: String = "row") async throws {
        for index in 0..<count {
            try await store.appendJournal([
                JournalEntry(
                    tenantID: "t", mac: "000413610FF5", actor: "cli:test", action: .reconcileRun, outcome: .ok,
                    detail: ["n": .number(Double(index)), "tag": .string(tag)])
            ])
        }
    }

    /// Runs statements as the superuser with the journal's and the seals' triggers disabled, as a tamperer would.
    public static func tamper(_ database: TestDatabase, _ statements: [String]) async throws {
        try await Self.tamper(database, queries: statements.map { PostgresQuery(unsafeSQL: $0) })
    }

    /// `tamper` with queries whose values are bound.
    public static func tamper(_ database: TestDatabase, queries: [PostgresQuery]) async throws {
        try await database.withConnection { connection in
            try await connection.query("ALTER TABLE journal DISABLE TRIGGER USER", logger: Self.logger)
            try await connection.query("ALTER TABLE journal_seals DISABLE TRIGGER USER", logger: Self.logger)
            for query in queries {
                try await connection.query(query, logger: Self.logger)
            }
            try await connection.query("ALTER TABLE journal ENABLE TRIGGER USER", logger: Self.logger)
            try await connection.query("ALTER TABLE journal_seals ENABLE TRIGGER USER", logger: Self.logger)
        }
    }
}
