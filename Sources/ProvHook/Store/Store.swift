import Foundation
import Logging
import PostgresNIO
import Synchronization

/// provhook's PostgreSQL store. All SQL goes through PostgresNIO's bound interpolation.
///
/// The operations are grouped by table in `Store+Tenants`, `Store+Devices`, `Store+Events` and `Store+Journal`.
public struct Store: Sendable {
    /// The pool; it must be running (`client.run()`) as a service.
    public let client: PostgresClient
    let logger: Logger
    /// The longest any operation may take. PostgresClient waits for a connection forever while the database is
    /// down; past this deadline the operation fails instead, so that webhooks answer 503 rather than hang.
    let deadline: Duration

    public init(client: PostgresClient, logger: Logger, deadline: Duration = .seconds(10)) {
        self.client = client
        self.logger = logger
        self.deadline = deadline
    }

    /// Runs `body` in one transaction, committed when it returns and rolled back when it throws.
    func transaction<T: Sendable>(
        _ context: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(StoreError) -> T {
        do {
            return try await self.rawTransaction(context, body)
        } catch {
            throw StoreError.from(context, error)
        }
    }

    /// `transaction` without the error translation, for callers that inspect the body's own errors.
    func rawTransaction<T: Sendable>(
        _ context: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let logger = self.logger
        return try await self.withLease(context) { connection in
            try await connection.withTransaction(logger: logger) { connection in try await body(connection) }
        }
    }

    /// Runs one query outside a transaction and collects its rows.
    func rows<each Column: PostgresDecodable & Sendable>(
        _ context: String, _ query: PostgresQuery, as types: (repeat each Column).Type
    ) async throws(StoreError) -> [(repeat each Column)] {
        let logger = self.logger
        do {
            return try await self.withLease(context) { connection in
                try await connection.rows(query, as: (repeat each Column).self, logger: logger)
            }
        } catch {
            throw StoreError.from(context, error)
        }
    }

    /// Leases a connection and runs `body` on it. Only the lease has a deadline: PostgresClient waits for a
    /// connection forever while the database is down, and past the deadline the caller answers 503 instead.
    /// Once `body` runs it is never cancelled from here, so a transaction always ends in COMMIT or ROLLBACK;
    /// the server's `statement_timeout` and `idle_in_transaction_session_timeout` bound it (see `DatabaseURL`).
    func withLease<T: Sendable>(
        _ context: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let client = self.client
        let deadline = self.deadline
        let started = Flag()
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await client.withConnection { connection in
                    started.set()
                    return try await body(connection)
                }
            }
            group.addTask {
                try? await Task.sleep(for: deadline)
                if Task.isCancelled || started.isSet { return nil }
                throw DeadlineExceeded(what: "waiting for a database connection (\(context))", limit: deadline)
            }
            while let result = try await group.next() {
                if let value = result {
                    group.cancelAll()
                    return value
                }
            }
            throw CancellationError()
        }
    }

    /// Checks that the database answers, within `limit`; used by `/readyz`.
    public func ping(limit: Duration = .seconds(2)) async -> Bool {
        let client = self.client
        let logger = self.logger
        do {
            return try await withDeadline(limit, "database ping") {
                try await client.query("SELECT 1", logger: logger)
                return true
            }
        } catch {
            return false
        }
    }
}

extension PostgresConnection {
    /// Runs a statement and collects its rows.
    func rows<each Column: PostgresDecodable>(
        _ query: PostgresQuery, as types: (repeat each Column).Type, logger: Logger
    ) async throws -> [(repeat each Column)] {
        let sequence = try await self.query(query, logger: logger)
        var result: [(repeat each Column)] = []
        for try await row in sequence.decode((repeat each Column).self) { result.append(row) }
        return result
    }
}

/// A flag set once, shared between tasks.
private final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { self.value.withLock { $0 = true } }
    var isSet: Bool { self.value.withLock { $0 } }
}
