import Foundation
import Logging
import StandInSupport

/// An SRAPS stand-in started in the background, on a free port of the loopback interface.
public final class RunningFakeSRAPS: Sendable {
    /// The stand-in's data.
    public let state: FakeSRAPSState
    /// The bound port.
    public var port: Int { self.server.port }
    /// The base URL to configure a client with, trailing slash included.
    public let baseURL: String
    /// The authority whose CA signs the server certificate, when serving HTTPS.
    public let authority: PrivateCertificateAuthority?
    private let server: BackgroundServer

    private init(
        state: FakeSRAPSState, baseURL: String, authority: PrivateCertificateAuthority?, server: BackgroundServer
    ) {
        self.state = state
        self.baseURL = baseURL
        self.authority = authority
        self.server = server
    }

    /// Starts a stand-in on `host` and `port` (0: a free one); with `tls`, it serves HTTPS with a certificate for
    /// `localhost` signed by `tls`.
    public static func start(
        state: FakeSRAPSState, tls: PrivateCertificateAuthority? = nil, host: String = "127.0.0.1", port: Int = 0,
        logger: Logger = Logger(label: "fake-sraps")
    ) async throws -> RunningFakeSRAPS {
        let server = try await BackgroundServer.start(logger: logger) { onServerRunning in
            try FakeSRAPSServer(state: state).makeApplication(
                host: host, port: port, tls: tls, logger: logger, onServerRunning: onServerRunning)
        }
        let name = tls == nil ? host : "localhost"
        let scheme = tls == nil ? "http" : "https"
        return RunningFakeSRAPS(
            state: state, baseURL: "\(scheme)://\(name):\(server.port)\(FakeSRAPSServer.basePath)", authority: tls,
            server: server)
    }

    /// Starts a stand-in on a free loopback port (with `tls`, serving HTTPS as `start` does), runs `body` with it,
    /// and stops it afterwards, whether `body` returns or throws.
    ///
    /// - Returns: what `body` returns.
    /// - Throws: what `start` throws, or what `body` throws once the stand-in has stopped.
    public static func with<T>(
        state: FakeSRAPSState, tls: PrivateCertificateAuthority? = nil, _ body: (RunningFakeSRAPS) async throws -> T
    ) async throws -> T {
        try await BackgroundServer.with(
            { try await Self.start(state: state, tls: tls) }, stop: { await $0.stop() }, body)
    }

    /// Stops the server and waits for it, at most 15 s (`BackgroundServer.stop`).
    public func stop() async {
        await self.server.stop()
    }
}
