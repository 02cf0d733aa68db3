import Logging
import StandInSupport

/// The Panasonic stand-in started in the background, on a free port of the loopback interface.
public typealias RunningFakePanasonic = RunningStandIn<FakePanasonicState>

extension RunningStandIn where State == FakePanasonicState {
    /// Starts a stand-in on `host` and `port` (0: a free one); with `tls`, it serves HTTPS with a certificate for
    /// `localhost` signed by `tls`. Its `url` is the endpoint to configure an account with (`…/redirect/xmlrpc`).
    public static func start(
        state: FakePanasonicState, tls: PrivateCertificateAuthority? = nil, host: String = "127.0.0.1",
        port: Int = 0, logger: Logger = Logger(label: "fake-panasonic")
    ) async throws -> RunningFakePanasonic {
        try await Self.start(state: state, tls: tls, host: host, path: FakePanasonicState.path, logger: logger) {
            try XMLRPCStandInServer(state: state, paths: [FakePanasonicState.path], realm: FakePanasonicState.realm)
                .makeApplication(host: host, port: port, tls: tls, logger: logger, onServerRunning: $0)
        }
    }

    /// Starts a stand-in on a free loopback port, runs `body` with it, and stops it afterwards.
    public static func with<T>(
        state: FakePanasonicState, tls: PrivateCertificateAuthority? = nil,
        _ body: (RunningFakePanasonic) async throws -> T
    ) async throws -> T {
        try await BackgroundServer.with(
            { try await Self.start(state: state, tls: tls) }, stop: { await $0.stop() }, body)
    }
}
