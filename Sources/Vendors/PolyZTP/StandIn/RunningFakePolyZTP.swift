import StandInSupport

/// The Poly ZTP stand-in started in the background, on a free port of the loopback interface; its `url` is the API
/// root to configure an account with (`…/v1`).
public typealias RunningFakePolyZTP = RunningStandIn<FakePolyZTPState>

extension FakePolyZTPState: ServedStandInState {
    public nonisolated var servicePath: String { FakePolyZTPServer.basePath }
    public nonisolated func makeServer() -> FakePolyZTPServer { FakePolyZTPServer(state: self) }
}
