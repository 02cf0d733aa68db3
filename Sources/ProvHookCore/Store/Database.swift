import Deadlines
import Logging
import PostgresNIO

/// One-off connections, for work that must fail fast and clearly: `migrate`, CLI commands, start-up checks.
public enum Database {
    /// Connects within `timeout`, runs `body`, and always closes the connection.
    public static func withConnection<T>(
        _ url: DatabaseURL, timeout: Duration = .seconds(10), logger: Logger,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        // PostgresNIO's own connect timeout is a second longer than the deadline, so that the deadline, whose message
        // names the limit the operator set, is always the one that ends a wait (they raced at equal values).
        let configuration = try url.connectionConfiguration(connectTimeout: timeout + .seconds(1))
        let connection: PostgresConnection
        do {
            connection = try await withDeadline(timeout, "connecting to \(url)") {
                try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger.forPostgres)
            }
        } catch {
            throw DatabaseError("cannot connect to \(url)", error)
        }
        do {
            let result = try await body(connection)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
