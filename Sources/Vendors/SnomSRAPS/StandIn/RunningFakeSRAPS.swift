import StandInSupport

/// The SRAPS stand-in started in the background, on a free port of the loopback interface.
public typealias RunningFakeSRAPS = RunningStandIn<FakeSRAPSState>

extension RunningStandIn where State == FakeSRAPSState {
    /// The API root to configure a client with (`…/api/v1/`), trailing slash included.
    public var baseURL: String { self.url }
}

extension FakeSRAPSState: ServedStandInState {
    public nonisolated var servicePath: String { FakeSRAPSServer.basePath }
    public nonisolated func makeServer() -> FakeSRAPSServer { FakeSRAPSServer(state: self) }
}

extension FakeSRAPSServer: StandInServer {}
