import StandInSupport

/// The Fanvil FDPS stand-in started in the background, on a free port of the loopback interface; its `url` is the
/// endpoint to configure an account with (`…/xmlrpc.php`).
public typealias RunningFakeFanvil = RunningStandIn<FakeFanvilState>
