import Deadlines
import FakeRedirectService
import Foundation
import Logging
import PostgresNIO
import ProvHookCore

/// A fresh database per test, created in the throwaway cluster that `contrib/test.sh` starts.
///
/// Without `PROVHOOK_TEST_DATABASE_URL` a database test fails and says how to run it; it is never skipped.
public struct TestDatabase: Sendable {
    public static let logger = Logger(label: "test-db")

    public struct NotConfigured: Error, CustomStringConvertible {
        public var description: String {
            "PROVHOOK_TEST_DATABASE_URL is not set: database tests need PostgreSQL. Run them with contrib/test.sh, which starts a throwaway cluster."
        }
    }

    /// The admin URL of the cluster.
    public static func adminURL() throws -> DatabaseURL {
        guard let text = ProcessInfo.processInfo.environment["PROVHOOK_TEST_DATABASE_URL"], !text.isEmpty else {
            throw NotConfigured()
        }
        return try DatabaseURL(text)
    }

    public let url: DatabaseURL
    public let store: Store

    public var urlString: String {
        "postgres://\(self.url.user)@\(self.url.host):\(self.url.port)/\(self.url.database)"
    }

    /// Creates a database, optionally migrates it, runs `body` with a store on it, and drops it.
    public static func with<T>(
        migrated: Bool = true, _ body: (TestDatabase) async throws -> T
    ) async throws -> T {
        let admin = try Self.adminURL()
        let name = "provhook_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        try await Self.onAdmin(admin) { connection in
            try await connection.query("CREATE DATABASE \(unescaped: String(name))", logger: Self.logger)
        }
        var url = admin
        url.database = String(name)
        if migrated {
            try await Self.onAdmin(url) { connection in
                _ = try await Migrator().migrate(on: connection, logger: Self.logger)
            }
        }
        let pool = try RunningStore(url: url, logger: Self.logger)
        let database = TestDatabase(url: url, store: pool.store)
        let result: Result<T, any Error>
        do {
            result = .success(try await body(database))
        } catch {
            result = .failure(error)
        }
        await pool.stop()
        await Self.drop(String(name), admin: admin)
        return try result.get()
    }

    /// Runs `body` on a new connection to this test's database, as the cluster's superuser.
    public func withConnection<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await Database.withConnection(self.url, logger: Self.logger, body)
    }

    private static func onAdmin(_ admin: DatabaseURL, _ body: (PostgresConnection) async throws -> Void) async throws {
        try await Database.withConnection(admin, logger: Self.logger, body)
    }

    private static func drop(_ name: String, admin: DatabaseURL) async {
        try? await Self.onAdmin(admin) { connection in
            try await connection.query("DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)", logger: Self.logger)
        }
    }
}

/// Waits for `task` at most `seconds`, then goes on, saying so: teardown must never hang the suite.
public func boundedWait(for task: Task<Void, Never>, _ what: String, seconds: Int = 15) async {
    if await !waitForTask(task, atMost: .seconds(seconds)) {
        FileHandle.standardError.write(Data("WARNING: \(what) did not stop within \(seconds) s\n".utf8))
    }
}
