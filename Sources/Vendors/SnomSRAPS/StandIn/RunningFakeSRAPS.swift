import Foundation
import Logging
import StandInSupport

/// The SRAPS stand-in started in the background, on a free port of the loopback interface.
public typealias RunningFakeSRAPS = RunningStandIn<FakeSRAPSState>

extension RunningStandIn where State == FakeSRAPSState {
    /// The API root to configure a client with (`…/api/v1/`), trailing slash included.
    public var baseURL: String { self.url }

    /// Starts a stand-in on `host` and `port` (0: a free one); with `tls`, it serves HTTPS with a certificate for
    /// `localhost` signed by `tls`.
    public static func start(
        state: FakeSRAPSState, tls: PrivateCertificateAuthority? = nil, host: String = "127.0.0.1", port: Int = 0,
        logger: Logger = Logger(label: "fake-sraps")
    ) async throws -> RunningFakeSRAPS {
        try await Self.start(state: state, tls: tls, host: host, path: FakeSRAPSServer.basePath, logger: logger) {
            try FakeSRAPSServer(state: state).makeApplication(
                host: host, port: port, tls: tls, logger: logger, onServerRunning: $0)
        }
    }

    /// Starts a stand-in on a free loopback port (with `tls`, serving HTTPS as `start` does), runs `body` with it,
    /// and stops it afterwards, whether `body` returns or throws.
    public static func with<T>(
        state: FakeSRAPSState, tls: PrivateCertificateAuthority? = nil, _ body: (RunningFakeSRAPS) async throws -> T
    ) async throws -> T {
        try await BackgroundServer.with(
            { try await Self.start(state: state, tls: tls) }, stop: { await $0.stop() }, body)
    }
}
