import StandInSupport

/// The Yealink RPS stand-in started in the background, on a free port of the loopback interface; its `url` is the
/// endpoint to configure an account with (`…/xmlrpc`).
public typealias RunningFakeYealinkRPS = RunningStandIn<FakeYealinkRPSState>

extension FakeYealinkRPSState: ServedStandInState {
    public nonisolated var servicePath: String { FakeYealinkRPSServer.path }
    public nonisolated func makeServer() -> FakeYealinkRPSServer { FakeYealinkRPSServer(state: self) }
}
