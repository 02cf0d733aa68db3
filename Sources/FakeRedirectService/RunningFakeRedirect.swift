import Deadlines
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// A stand-in started in the background, on a free port of the loopback interface.
public final class RunningFakeRedirect: Sendable {
    /// The stand-in's data.
    public let state: FakeRedirectState
    /// The bound port.
    public let port: Int
    /// The endpoint to configure a client with, trailing slash included.
    public let endpoint: String
    /// The authority whose CA signs the server certificate, when serving HTTPS.
    public let authority: PrivateCertificateAuthority?
    private let group: ServiceGroup
    private let task: Task<Void, any Error>
    private let logger: Logger

    private init(
        state: FakeRedirectState, port: Int, endpoint: String, authority: PrivateCertificateAuthority?,
        group: ServiceGroup, task: Task<Void, any Error>, logger: Logger
    ) {
        self.group = group
        self.state = state
        self.port = port
        self.endpoint = endpoint
        self.authority = authority
        self.task = task
        self.logger = logger
    }

    /// Starts a stand-in on `host` and `port` (0: a free one); with `tls`, it serves HTTPS with a certificate for
    /// `localhost` signed by `tls`.
    public static func start(
        state: FakeRedirectState, tls: PrivateCertificateAuthority? = nil, host: String = "127.0.0.1", port: Int = 0,
        logger: Logger = Logger(label: "fake-redirect")
    ) async throws -> RunningFakeRedirect {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try FakeRedirectServer(state: state).makeApplication(
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
        let name = tls == nil ? host : "localhost"
        let scheme = tls == nil ? "http" : "https"
        return RunningFakeRedirect(
            state: state, port: port, endpoint: "\(scheme)://\(name):\(port)\(FakeRedirectServer.path)",
            authority: tls, group: group, task: task, logger: logger)
    }

    /// Starts a stand-in on a free loopback port (with `tls`, serving HTTPS as ``start(state:tls:host:port:logger:)``
    /// does), runs `body` with it, and stops it afterwards, whether `body` returns or throws.
    ///
    /// - Returns: what `body` returns.
    /// - Throws: what `start` throws, or what `body` throws once the stand-in has stopped.
    public static func with<T>(
        state: FakeRedirectState, tls: PrivateCertificateAuthority? = nil,
        _ body: (RunningFakeRedirect) async throws -> T
    ) async throws -> T {
        let server = try await Self.start(state: state, tls: tls)
        let result: Result<T, any Error>
        do { result = .success(try await body(server)) } catch { result = .failure(error) }
        await server.stop()
        return try result.get()
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
}
