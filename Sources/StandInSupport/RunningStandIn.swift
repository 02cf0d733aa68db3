import Logging
import ServiceLifecycle

/// A stand-in of a vendor's service started in the background on a port of its own: its state, the URL a client is
/// configured with, and the authority whose CA signs its certificate when it serves HTTPS. Each stand-in names its
/// own (`RunningFakeRedirect`, `RunningFakeSRAPS`) and says how its application is made.
public final class RunningStandIn<State: Sendable>: Sendable {
    /// The stand-in's data.
    public let state: State
    /// The bound port.
    public var port: Int { self.server.port }
    /// The service's URL on this stand-in: scheme, host, port and the service's path, trailing slash included.
    public let url: String
    /// The authority whose CA signs the server certificate, when serving HTTPS.
    public let authority: PrivateCertificateAuthority?
    private let server: BackgroundServer

    private init(state: State, url: String, authority: PrivateCertificateAuthority?, server: BackgroundServer) {
        self.state = state
        self.url = url
        self.authority = authority
        self.server = server
    }

    /// Starts the application `makeApplication` builds on `host` and `port` (0: a free one), which reports its bound
    /// port to the function it is given; with `tls` the URL is `https://localhost:…` (the certificate's name), else
    /// `http://host:…`, followed by `path`.
    public static func start<App: Service>(
        state: State, tls: PrivateCertificateAuthority?, host: String, path: String, logger: Logger,
        _ makeApplication: (_ onServerRunning: @escaping @Sendable (Int) async -> Void) throws -> App
    ) async throws -> RunningStandIn {
        let server = try await BackgroundServer.start(logger: logger, makeApplication)
        let name = tls == nil ? host : "localhost"
        let scheme = tls == nil ? "http" : "https"
        return RunningStandIn(
            state: state, url: "\(scheme)://\(name):\(server.port)\(path)", authority: tls, server: server)
    }

    /// Stops the server and waits for it, at most 15 s (`BackgroundServer.stop`).
    public func stop() async {
        await self.server.stop()
    }
}

/// An application a stand-in serves, which `RunningStandIn` starts.
public protocol StandInServer: Sendable {
    associatedtype Application: Service
    /// Builds the application on `host` and `port` (0: a free one), which reports its bound port to
    /// `onServerRunning`; with `tls` it serves HTTPS with the authority's server certificate.
    func makeApplication(
        host: String, port: Int, tls: PrivateCertificateAuthority?, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void
    ) throws -> Application
}

/// A stand-in's state that says how it is served, so that `RunningStandIn` starts it with no code of its own.
public protocol ServedStandInState: Sendable {
    associatedtype StandInServing: StandInServer
    /// The service's path on the stand-in, which its `url` ends with.
    var servicePath: String { get }
    /// The server that answers for this state.
    func makeServer() -> StandInServing
}

extension RunningStandIn where State: ServedStandInState {
    /// Starts a stand-in on `host` and `port` (0: a free one); with `tls`, it serves HTTPS with a certificate for
    /// `localhost` signed by `tls`. Its `url` is the endpoint to configure an account with (`…` and
    /// `State.servicePath`).
    public static func start(
        state: State, tls: PrivateCertificateAuthority? = nil, host: String = "127.0.0.1", port: Int = 0,
        logger: Logger = Logger(label: "stand-in")
    ) async throws -> RunningStandIn {
        let server = state.makeServer()
        return try await Self.start(state: state, tls: tls, host: host, path: state.servicePath, logger: logger) {
            try server.makeApplication(host: host, port: port, tls: tls, logger: logger, onServerRunning: $0)
        }
    }

    /// Starts a stand-in on a free loopback port (with `tls`, serving HTTPS as `start` does), runs `body` with it,
    /// and stops it afterwards, whether `body` returns or throws.
    public static func with<T>(
        state: State, tls: PrivateCertificateAuthority? = nil, _ body: (RunningStandIn) async throws -> T
    ) async throws -> T {
        try await BackgroundServer.with(
            { try await Self.start(state: state, tls: tls) }, stop: { await $0.stop() }, body)
    }
}
