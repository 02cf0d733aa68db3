import Logging
import StandInSupport

/// The Poly ZTP stand-in started in the background, on a free port of the loopback interface.
public typealias RunningFakePolyZTP = RunningStandIn<FakePolyZTPState>

extension RunningStandIn where State == FakePolyZTPState {
    /// Starts a stand-in on `host` and `port` (0: a free one); with `tls`, it serves HTTPS with a certificate for
    /// `localhost` signed by `tls`. Its `url` is the API root to configure an account with (`…/v1`).
    public static func start(
        state: FakePolyZTPState, tls: PrivateCertificateAuthority? = nil, host: String = "127.0.0.1", port: Int = 0,
        logger: Logger = Logger(label: "fake-poly-ztp")
    ) async throws -> RunningFakePolyZTP {
        try await Self.start(state: state, tls: tls, host: host, path: FakePolyZTPServer.basePath, logger: logger) {
            try FakePolyZTPServer(state: state).makeApplication(
                host: host, port: port, tls: tls, logger: logger, onServerRunning: $0)
        }
    }

    /// Starts a stand-in on a free loopback port (with `tls`, serving HTTPS as `start` does), runs `body` with it,
    /// and stops it afterwards, whether `body` returns or throws.
    public static func with<T>(
        state: FakePolyZTPState, tls: PrivateCertificateAuthority? = nil, _ body: (RunningFakePolyZTP) async throws -> T
    ) async throws -> T {
        try await BackgroundServer.with(
            { try await Self.start(state: state, tls: tls) }, stop: { await $0.stop() }, body)
    }
}
