import Logging
import StandInSupport

/// The YMCS stand-in started in the background, on a free port of the loopback interface.
public typealias RunningFakeYMCS = RunningStandIn<FakeYMCSState>

extension RunningStandIn where State == FakeYMCSState {
    /// Starts a stand-in on `host` and `port` (0: a free one); with `tls`, it serves HTTPS with a certificate for
    /// `localhost` signed by `tls`. Its `url` is the API root to configure an account with (`…/`).
    public static func start(
        state: FakeYMCSState, tls: PrivateCertificateAuthority? = nil, host: String = "127.0.0.1", port: Int = 0,
        logger: Logger = Logger(label: "fake-ymcs")
    ) async throws -> RunningFakeYMCS {
        try await Self.start(state: state, tls: tls, host: host, path: "/", logger: logger) {
            try FakeYMCSServer(state: state).makeApplication(
                host: host, port: port, tls: tls, logger: logger, onServerRunning: $0)
        }
    }

    /// Starts a stand-in on a free loopback port, runs `body` with it, and stops it afterwards.
    public static func with<T>(
        state: FakeYMCSState, tls: PrivateCertificateAuthority? = nil, _ body: (RunningFakeYMCS) async throws -> T
    ) async throws -> T {
        try await BackgroundServer.with(
            { try await Self.start(state: state, tls: tls) }, stop: { await $0.stop() }, body)
    }
}
