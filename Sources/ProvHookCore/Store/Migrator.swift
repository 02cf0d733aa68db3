import Crypto
import Foundation
import Logging
import PostgresNIO

/// One file of `sql/`, as embedded in the binary when it was built.
public struct Migration: Sendable, Hashable {
    /// The number the file name starts with.
    public var version: Int
    /// The file name, for example `0001_init.sql`.
    public var name: String
    /// The file's text.
    public var sql: String

    /// SHA-256 of the file's text, hex.
    public var checksum: String {
        SHA256.hash(data: Data(self.sql.utf8)).hex
    }

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// The numbered files of `sql/` (`NNNN_name.sql`), in order; `roles.sql` and other files are not migrations.
    public static let embedded: [Migration] = EmbeddedSQL.files.compactMap { name, text in
        guard name.count > 5, name.hasSuffix(".sql"), let version = Int(name.prefix(4)),
            name.dropFirst(4).first == "_"
        else { return nil }
        return Migration(version: version, name: name, sql: text)
    }.sorted { $0.version < $1.version }

    /// An embedded file of `sql/` that is not a migration, such as `roles.sql`.
    public static func embeddedFile(_ name: String) -> String? {
        EmbeddedSQL.files.first { $0.name == name }?.text
    }
}

/// Why migrating stopped. Nothing is half-applied: each file runs in its own transaction.
public enum MigrationError: Error, Sendable, CustomStringConvertible {
    /// An applied file's text has changed since it was applied.
    case changed(name: String, recorded: String, current: String)
    /// The database has a migration this binary does not know: it was migrated by a newer provhook.
    case unknownApplied(version: Int, name: String)

    public var description: String {
        switch self {
        case .changed(let name, let recorded, let current):
            "sql/\(name) has changed since it was applied (checksum \(recorded.prefix(12))… recorded, \(current.prefix(12))… now); "
                + "applied migrations must never be edited: restore the file and put the change in a new numbered file"
        case .unknownApplied(let version, let name):
            "the database has migration \(version) (\(name)), which this provhook does not know; run a newer provhook"
        }
    }
}

/// Applies the migrations that are not yet applied, each in its own transaction, under an advisory lock.
public struct Migrator: Sendable {
    public var migrations: [Migration]

    public init(migrations: [Migration] = Migration.embedded) {
        self.migrations = migrations
    }

    /// What a run did.
    public struct Report: Sendable, Hashable {
        /// Files applied by this run, in order.
        public var applied: [String]
        /// Files that were already applied.
        public var alreadyApplied: [String]
    }

    /// Migrates the database behind `connection`. Safe to run twice, and from two processes at once.
    /// Runs a SQL file's statements one by one, outside any migration bookkeeping: for `sql/roles.sql`.
    public static func run(script: String, on connection: PostgresConnection, logger: Logger) async throws {
        for statement in SQLScript.statements(script) {
            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
        }
    }

    public func migrate(on connection: PostgresConnection, logger: Logger) async throws -> Report {
        try await connection.query("SELECT pg_advisory_lock(\(AdvisoryLock.migrator))", logger: logger)
        do {
            let report = try await self.migrateLocked(on: connection, logger: logger)
            try await connection.query("SELECT pg_advisory_unlock(\(AdvisoryLock.migrator))", logger: logger)
            return report
        } catch {
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(AdvisoryLock.migrator))", logger: logger)
            throw error
        }
    }

    private func migrateLocked(on connection: PostgresConnection, logger: Logger) async throws -> Report {
        // The bookkeeping table comes from sql/ like everything else; its file is idempotent.
        if let bootstrap = self.migrations.first, bootstrap.version == 0 {
            try await Self.run(bootstrap, on: connection, logger: logger)
        }
        var recorded: [Int: (name: String, checksum: String)] = [:]
        let rows = try await connection.query("SELECT version, name, checksum FROM schema_migrations", logger: logger)
        for try await (version, name, checksum) in rows.decode((Int, String, String).self) {
            recorded[version] = (name, checksum)
        }
        let known = Dictionary(uniqueKeysWithValues: self.migrations.map { ($0.version, $0) })
        for (version, row) in recorded.sorted(by: { $0.key < $1.key }) {
            guard let migration = known[version] else {
                throw MigrationError.unknownApplied(version: version, name: row.name)
            }
            guard migration.checksum == row.checksum else {
                throw MigrationError.changed(name: migration.name, recorded: row.checksum, current: migration.checksum)
            }
        }
        var report = Report(applied: [], alreadyApplied: [])
        for migration in self.migrations {
            if recorded[migration.version] != nil {
                report.alreadyApplied.append(migration.name)
                continue
            }
            logger.info("applying migration", metadata: ["file": "\(migration.name)"])
            try await connection.withTransaction(logger: logger) { connection in
                if migration.version != 0 {
                    try await Self.run(migration, on: connection, logger: logger)
                }
                try await connection.query(
                    """
                    INSERT INTO schema_migrations (version, name, checksum)
                    VALUES (\(migration.version), \(migration.name), \(migration.checksum))
                    """, logger: logger)
            }
            report.applied.append(migration.name)
        }
        return report
    }

    /// Runs each statement of a file. The file's text is fixed at build time and carries no input, so it is
    /// sent as it is written; everything else in provhook goes through bound interpolation.
    private static func run(_ migration: Migration, on connection: PostgresConnection, logger: Logger) async throws {
        for statement in SQLScript.statements(migration.sql) {
            do {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            } catch {
                throw DatabaseError("applying sql/\(migration.name)", error)
            }
        }
    }
}
