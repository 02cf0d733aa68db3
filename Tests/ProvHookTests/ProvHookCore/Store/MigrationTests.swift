import Logging
import PostgresNIO
import ProvHookCore
import ProvHookTestSupport
import Testing

@Suite("Migrations")
struct MigrationTests {
    let logger = Logger(label: "test")

    @Test("migrate from empty, then again: the second run changes nothing")
    func idempotent() async throws {
        try await TestDatabase.with(migrated: false) { database in
            try await database.withConnection(as: .owner) { connection in
                let first = try await Migrator().migrate(on: connection, logger: self.logger)
                #expect(first.applied == Migration.embedded.map(\.name))
                #expect(first.applied.contains("0001_init.sql"))
                let second = try await Migrator().migrate(on: connection, logger: self.logger)
                #expect(second.applied.isEmpty)
                #expect(second.alreadyApplied == first.applied)
                let rows = try await connection.query(
                    "SELECT count(*)::bigint FROM schema_migrations", logger: self.logger)
                for try await count in rows.decode(Int64.self) { #expect(count == Int64(first.applied.count)) }
            }
        }
    }

    @Test("two runs at once are safe")
    func concurrent() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let url = database.url(as: .owner)
            try await withThrowingTaskGroup(of: Migrator.Report.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        try await Database.withConnection(url, logger: self.logger) { connection in
                            try await Migrator().migrate(on: connection, logger: self.logger)
                        }
                    }
                }
                var appliedTotal = 0
                for try await report in group { appliedTotal += report.applied.count }
                #expect(appliedTotal == Migration.embedded.count, "each file applied exactly once")
            }
        }
    }

    @Test("a changed migration is detected and never applied again")
    func changedFile() async throws {
        try await TestDatabase.with { database in
            var edited = Migration.embedded
            edited[1].sql += "\n-- an innocent edit\nCREATE TABLE should_not_exist (x int);\n"
            try await database.withConnection(as: .owner) { connection in
                await #expect {
                    try await Migrator(migrations: edited).migrate(on: connection, logger: self.logger)
                } throws: { error in
                    guard case .changed(let name, _, _) = error as? MigrationError else { return false }
                    return name == "0001_init.sql" && String(describing: error).contains("must never be edited")
                }
                let rows = try await connection.query(
                    "SELECT to_regclass('should_not_exist')::text", logger: self.logger)
                for try await name in rows.decode(String?.self) { #expect(name == nil) }
            }
        }
    }

    @Test("a database migrated by a newer provhook is refused")
    func unknownApplied() async throws {
        try await TestDatabase.with { database in
            try await database.withConnection(as: .owner) { connection in
                let refusal = await #expect(throws: MigrationError.self) {
                    try await Migrator(migrations: Array(Migration.embedded.prefix(1))).migrate(
                        on: connection, logger: self.logger)
                }
                guard case .unknownApplied(let version, _)? = refusal else {
                    Issue.record("expected unknownApplied, got \(String(describing: refusal))")
                    return
                }
                #expect(version == 1, "the first migration this binary does not know")
            }
        }
    }
}
