import Fanvil
import FanvilStandIn
import VendorTestSupport
import XMLRPC

/// A Fanvil FDPS stand-in with our account and another's, and a client for ours, over HTTP or HTTPS.
typealias StandIn = VendorStandIn<FakeFanvilState, FanvilClient>

extension StandIn {
    /// `[flag, text]`, the service's answer.
    static func answer(_ done: Bool, _ text: String) -> XMLRPCResponse { .value(.array([.bool(done), .string(text)])) }
}
