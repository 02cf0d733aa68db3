import Logging
import StandInSupport

/// The Yealink RPS stand-in started in the background, on a free port of the loopback interface.
public typealias RunningFakeYealinkRPS = RunningStandIn<FakeYealinkRPSState>

extension RunningStandIn where State == FakeYealinkRPSState {
    /// Starts a stand-in on `host` and `port` (0: a free one); with `tls`, it serves HTTPS with a certificate for
    /// `localhost` signed by `tls`. Its `url` is the endpoint to configure an account with (`…/xmlrpc`).
    public static func start(
        state: FakeYealinkRPSState, tls: PrivateCertificateAuthority? = nil, host: String = "127.0.0.1",
        port: Int = 0, logger: Logger = Logger(label: "fake-yealink-rps")
    ) async throws -> RunningFakeYealinkRPS {
        try await Self.start(state: state, tls: tls, host: host, path: FakeYealinkRPSServer.path, logger: logger) {
            try FakeYealinkRPSServer(state: state).makeApplication(
                host: host, port: port, tls: tls, logger: logger, onServerRunning: $0)
        }
    }

    /// Starts a stand-in on a free loopback port, runs `body` with it, and stops it afterwards.
    public static func with<T>(
        state: FakeYealinkRPSState, tls: PrivateCertificateAuthority? = nil,
        _ body: (RunningFakeYealinkRPS) async throws -> T
    ) async throws -> T {
        try await BackgroundServer.with(
            { try await Self.start(state: state, tls: tls) }, stop: { await $0.stop() }, body)
    }
}
