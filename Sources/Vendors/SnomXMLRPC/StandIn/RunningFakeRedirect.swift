import StandInSupport

/// The Snom XML-RPC stand-in started in the background, on a free port of the loopback interface.
public typealias RunningFakeRedirect = RunningStandIn<FakeRedirectState>

extension RunningStandIn where State == FakeRedirectState {
    /// The endpoint to configure a client with, trailing slash included.
    public var endpoint: String { self.url }
}

extension FakeRedirectState: ServedStandInState {
    public nonisolated var servicePath: String { FakeRedirectServer.path }
    public nonisolated func makeServer() -> FakeRedirectServer { FakeRedirectServer(state: self) }
}
