import Logging
import StandInSupport

/// A Yealink-style RPS stand-in started in the background, on a free port of the loopback interface.
public typealias RunningFakeYealinkStyleRPS = RunningStandIn<FakeYealinkStyleRPSState>

extension RunningStandIn where State == FakeYealinkStyleRPSState {
    /// Starts a stand-in on `host` and `port` (0: a free one); with `tls`, it serves HTTPS with a certificate for
    /// `localhost` signed by `tls`. Its `url` is the endpoint to configure an account with (Htek's
    /// `…/index.php/xmlrpc`, Akuvox's `…/fcgi/do?id=1`).
    public static func start(
        state: FakeYealinkStyleRPSState, tls: PrivateCertificateAuthority? = nil, host: String = "127.0.0.1",
        port: Int = 0, logger: Logger = Logger(label: "fake-yealink-style-rps")
    ) async throws -> RunningFakeYealinkStyleRPS {
        try await Self.start(state: state, tls: tls, host: host, path: state.service.pathAndQuery, logger: logger) {
            try FakeYealinkStyleRPSServer(state: state).makeApplication(
                host: host, port: port, tls: tls, logger: logger, onServerRunning: $0)
        }
    }

    /// Starts a stand-in on a free loopback port, runs `body` with it, and stops it afterwards.
    public static func with<T>(
        state: FakeYealinkStyleRPSState, tls: PrivateCertificateAuthority? = nil,
        _ body: (RunningFakeYealinkStyleRPS) async throws -> T
    ) async throws -> T {
        try await BackgroundServer.with(
            { try await Self.start(state: state, tls: tls) }, stop: { await $0.stop() }, body)
    }
}
