import StandInSupport

/// The Gigaset stand-in started in the background, on a free port of the loopback interface; its `url` is the
/// endpoint to configure an account with (`…/apxml/rpc.do`).
public typealias RunningFakeGigaset = RunningStandIn<FakeGigasetState>
