import Foundation
import Logging
import PostgresNIO

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

    /// Runs `body` in one transaction, committed when it returns and rolled back when it throws, within the
    /// deadline. If the deadline passes during COMMIT the outcome is unknown to the caller, which then answers
    /// 503; a webhook's retry is recognised by its webhook-id, so nothing is lost or applied twice.
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
        let client = self.client
        let logger = self.logger
        return try await withDeadline(self.deadline, context) {
            try await client.withTransaction(logger: logger) { connection in
                try await body(connection)
            }
        }
    }

    /// Runs one query outside a transaction and collects its rows.
    func rows<each Column: PostgresDecodable & Sendable>(
        _ context: String, _ query: PostgresQuery, as types: (repeat each Column).Type
    ) async throws(StoreError) -> [(repeat each Column)] {
        let client = self.client
        let logger = self.logger
        do {
            return try await withDeadline(self.deadline, context) {
                let sequence = try await client.query(query, logger: logger)
                var result: [(repeat each Column)] = []
                for try await row in sequence.decode((repeat each Column).self) { result.append(row) }
                return result
            }
        } catch {
            throw StoreError.from(context, error)
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
