import Gigaset
import GigasetStandIn
import VendorTestSupport

/// A Gigaset stand-in with our account and another's, and a client for ours, over HTTP or HTTPS.
typealias StandIn = VendorStandIn<FakeGigasetState, GigasetClient>
