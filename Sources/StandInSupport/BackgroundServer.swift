import Deadlines
import Hummingbird
import Logging
import ServiceLifecycle

/// A stand-in's application running in the background, on the port it bound: the scaffold every stand-in (of a
/// phone vendor's service or of a PBX API) starts, waits for and stops the same way.
public final class BackgroundServer: Sendable {
    /// The bound port.
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>
    private let logger: Logger

    private init(port: Int, group: ServiceGroup, task: Task<Void, any Error>, logger: Logger) {
        self.port = port
        self.group = group
        self.task = task
        self.logger = logger
    }

    /// Runs the application that `makeApplication` builds, which must report its bound port to the function it is
    /// given (Hummingbird's `onServerRunning`), and returns once the port is known.
    public static func start(
        logger: Logger,
        _ makeApplication: (_ onServerRunning: @escaping @Sendable (Int) async -> Void) throws -> some Service
    ) async throws -> BackgroundServer {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try makeApplication { port in
            continuation.yield(port)
            continuation.finish()
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [], logger: logger))
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        guard let port = await ports.first(where: { _ in true }) else {
            _ = try await task.value
            throw CancellationError()
        }
        return BackgroundServer(port: port, group: group, task: task, logger: logger)
    }

    /// Stops the server and waits for it, at most 15 s: a connection that never closes must not hang the caller.
    ///
    /// A graceful shutdown first, so that connections accepted but not yet served are closed in order (cancelling a
    /// server with such connections pending trips an assertion in NIO's async channel), then cancellation for one
    /// that holds a request past 2 s.
    public func stop() async {
        await self.group.triggerGracefulShutdown()
        if await waitForTask(self.task, atMost: .seconds(2)) { return }
        self.task.cancel()
        if await !waitForTask(self.task, atMost: .seconds(15)) {
            self.logger.warning("the stand-in did not stop within 15 s of cancellation; left running")
        }
    }

    /// Runs `body` with the server that `start` starts, and stops it afterwards, whether `body` returns or throws.
    ///
    /// - Returns: what `body` returns.
    /// - Throws: what `start` throws, or what `body` throws once the server has stopped.
    public static func with<Server, T>(
        _ start: () async throws -> Server, stop: (Server) async -> Void, _ body: (Server) async throws -> T
    ) async throws -> T {
        let server = try await start()
        let result: Result<T, any Error>
        do { result = .success(try await body(server)) } catch { result = .failure(error) }
        await stop(server)
        return try result.get()
    }
}
