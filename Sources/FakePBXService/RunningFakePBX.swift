import Foundation
import Logging
import NIOSSL
import StandInSupport

/// The PBX API stand-ins started in the background on a free loopback port.
public final class RunningFakePBX: Sendable {
    public let state: FakePBXState
    public var port: Int { self.server.port }
    /// `http://127.0.0.1:PORT` (`https://localhost:PORT` with TLS): a Wazo source's API URL as it is.
    public let baseURL: String
    /// The Kazoo crossbar API URL, `…/v2`.
    public var kazooURL: String { self.baseURL + "/v2" }
    private let server: BackgroundServer

    private init(state: FakePBXState, baseURL: String, server: BackgroundServer) {
        (self.state, self.baseURL, self.server) = (state, baseURL, server)
    }

    public static func start(
        state: FakePBXState, host: String = "127.0.0.1", port: Int = 0, tls: TLSConfiguration? = nil,
        logger: Logger = Logger(label: "fake-pbx")
    ) async throws -> RunningFakePBX {
        let server = try await BackgroundServer.start(logger: logger) { onServerRunning in
            try FakePBXServer(state: state).makeApplication(
                host: host, port: port, tls: tls, logger: logger, onServerRunning: onServerRunning)
        }
        let base = tls == nil ? "http://\(host):\(server.port)" : "https://localhost:\(server.port)"
        return RunningFakePBX(state: state, baseURL: base, server: server)
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
        try await BackgroundServer.with(
            { try await Self.start(state: state, host: host, port: port, tls: tls, logger: logger) },
            stop: { await $0.stop() }, body)
    }

    /// Stops the server: gracefully, then by cancellation after 2 s (`BackgroundServer.stop`).
    public func stop() async {
        await self.server.stop()
    }
}
