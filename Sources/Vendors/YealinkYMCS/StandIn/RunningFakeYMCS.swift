import StandInSupport

/// The YMCS stand-in started in the background, on a free port of the loopback interface; its `url` is the API root
/// to configure an account with (`…/`).
public typealias RunningFakeYMCS = RunningStandIn<FakeYMCSState>

extension FakeYMCSState: ServedStandInState {
    public nonisolated var servicePath: String { "/" }
    public nonisolated func makeServer() -> FakeYMCSServer { FakeYMCSServer(state: self) }
}
