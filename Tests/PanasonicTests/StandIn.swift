import Panasonic
import PanasonicStandIn
import VendorTestSupport

/// A Panasonic stand-in with our account and another's, and a client for ours, over HTTP or HTTPS.
typealias StandIn = VendorStandIn<FakePanasonicState, PanasonicClient>
