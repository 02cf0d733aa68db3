import StandInSupport

/// The Panasonic stand-in started in the background, on a free port of the loopback interface; its `url` is the
/// endpoint to configure an account with (`…/redirect/xmlrpc`).
public typealias RunningFakePanasonic = RunningStandIn<FakePanasonicState>
