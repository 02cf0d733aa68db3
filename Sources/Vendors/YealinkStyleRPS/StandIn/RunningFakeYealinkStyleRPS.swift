import StandInSupport

/// A Yealink-style RPS stand-in started in the background, on a free port of the loopback interface; its `url` is
/// the endpoint to configure an account with (Htek's `…/index.php/xmlrpc`, Akuvox's `…/fcgi/do?id=1`).
public typealias RunningFakeYealinkStyleRPS = RunningStandIn<FakeYealinkStyleRPSState>

extension FakeYealinkStyleRPSState: ServedStandInState {
    public nonisolated var servicePath: String { self.service.pathAndQuery }
    public nonisolated func makeServer() -> FakeYealinkStyleRPSServer { FakeYealinkStyleRPSServer(state: self) }
}
