import Deadlines
import Foundation
import Hummingbird
import Logging
import NIOSSL
import ServiceLifecycle

/// The PBX API stand-ins started in the background on a free loopback port.
public final class RunningFakePBX: Sendable {
    public let state: FakePBXState
    public let port: Int
    /// `http://127.0.0.1:PORT` (`https://localhost:PORT` with TLS): a Wazo source's API URL as it is.
    public let baseURL: String
    /// The Kazoo crossbar API URL, `…/v2`.
    public var kazooURL: String { self.baseURL + "/v2" }
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(state: FakePBXState, port: Int, baseURL: String, group: ServiceGroup, task: Task<Void, any Error>) {
        (self.state, self.port, self.baseURL, self.group, self.task) = (state, port, baseURL, group, task)
    }

    public static func start(
        state: FakePBXState, host: String = "127.0.0.1", port: Int = 0, tls: TLSConfiguration? = nil,
        logger: Logger = Logger(label: "fake-pbx")
    ) async throws -> RunningFakePBX {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try FakePBXServer(state: state).makeApplication(
            host: host, port: port, tls: tls, logger: logger,
            onServerRunning: { port in
                continuation.yield(port)
                continuation.finish()
            })
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
        let base = tls == nil ? "http://\(host):\(port)" : "https://localhost:\(port)"
        return RunningFakePBX(state: state, port: port, baseURL: base, group: group, task: task)
    }

    /// Starts the stand-ins as ``start(state:host:port:tls:logger:)`` does, runs `body` with them, and stops them
    /// afterwards, whether `body` returns or throws.
    ///
    /// - Returns: what `body` returns.
    /// - Throws: what `start` throws, or what `body` throws once the server has stopped.
    public static func with<T>(
        state: FakePBXState, host: String = "127.0.0.1", port: Int = 0, tls: TLSConfiguration? = nil,
        logger: Logger = Logger(label: "fake-pbx"), _ body: (RunningFakePBX) async throws -> T
    ) async throws -> T {
        let server = try await Self.start(state: state, host: host, port: port, tls: tls, logger: logger)
        let result: Result<T, any Error>
        do { result = .success(try await body(server)) } catch { result = .failure(error) }
        await server.stop()
        return try result.get()
    }

    /// Stops the server: gracefully, then by cancellation after 2 s.
    public func stop() async {
        await self.group.triggerGracefulShutdown()
        if await waitForTask(self.task, atMost: .seconds(2)) { return }
        self.task.cancel()
        _ = await waitForTask(self.task, atMost: .seconds(15))
    }
}
