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

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Runs `body` in one transaction, committed when it returns and rolled back when it throws.
    func transaction<T: Sendable>(
        _ context: String, _ body: @Sendable (PostgresConnection) async throws -> T
    ) async throws(StoreError) -> T {
        do {
            return try await self.client.withTransaction(logger: self.logger) { connection in
                try await body(connection)
            }
        } catch {
            throw StoreError.from(context, error)
        }
    }

    /// Runs one query outside a transaction and collects its rows.
    func rows<each Column: PostgresDecodable>(
        _ context: String, _ query: PostgresQuery, as types: (repeat each Column).Type
    ) async throws(StoreError) -> [(repeat each Column)] {
        do {
            let sequence = try await self.client.query(query, logger: self.logger)
            var result: [(repeat each Column)] = []
            for try await row in sequence.decode((repeat each Column).self) { result.append(row) }
            return result
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
