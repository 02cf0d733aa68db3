import Logging
import StandInSupport

/// The Gigaset stand-in started in the background, on a free port of the loopback interface.
public typealias RunningFakeGigaset = RunningStandIn<FakeGigasetState>

extension RunningStandIn where State == FakeGigasetState {
    /// Starts a stand-in on `host` and `port` (0: a free one); with `tls`, it serves HTTPS with a certificate for
    /// `localhost` signed by `tls`. Its `url` is the endpoint to configure an account with (`…/apxml/rpc.do`).
    public static func start(
        state: FakeGigasetState, tls: PrivateCertificateAuthority? = nil, host: String = "127.0.0.1",
        port: Int = 0, logger: Logger = Logger(label: "fake-gigaset")
    ) async throws -> RunningFakeGigaset {
        try await Self.start(state: state, tls: tls, host: host, path: FakeGigasetState.path, logger: logger) {
            try XMLRPCStandInServer(state: state, paths: [FakeGigasetState.path], realm: FakeGigasetState.realm)
                .makeApplication(host: host, port: port, tls: tls, logger: logger, onServerRunning: $0)
        }
    }

    /// Starts a stand-in on a free loopback port, runs `body` with it, and stops it afterwards.
    public static func with<T>(
        state: FakeGigasetState, tls: PrivateCertificateAuthority? = nil,
        _ body: (RunningFakeGigaset) async throws -> T
    ) async throws -> T {
        try await BackgroundServer.with(
            { try await Self.start(state: state, tls: tls) }, stop: { await $0.stop() }, body)
    }
}
