import Logging
import PostgresNIO
import ProvHookCore

/// A store on a pool of its own that runs until `stop()`: for a test database, or for setting up a database that
/// provhook under test does not own.
public struct RunningStore: Sendable {
    public let store: Store
    private let runner: Task<Void, Never>

    public init(
        url: DatabaseURL, maxConnections: Int = 8, statementTimeoutSeconds: Int = 30,
        logger: Logger = Logger(label: "test"), secrets: SecretKeyring? = nil
    ) throws {
        let client = PostgresClient(
            configuration: try url.clientConfiguration(
                maxConnections: maxConnections, statementTimeoutSeconds: statementTimeoutSeconds),
            backgroundLogger: logger.forPostgres)
        self.store = Store(client: client, logger: logger, secrets: secrets)
        self.runner = Task { await client.run() }
    }

    /// Stops the pool, waiting a bounded time.
    public func stop() async {
        self.runner.cancel()
        await boundedWait(for: self.runner, "a test's database pool")
    }
}
