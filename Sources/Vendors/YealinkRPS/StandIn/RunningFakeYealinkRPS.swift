import StandInSupport

/// The Yealink RPS stand-in started in the background, on a free port of the loopback interface; its `url` is the
/// endpoint to configure an account with (`…/xmlrpc`).
public typealias RunningFakeYealinkRPS = RunningStandIn<FakeYealinkRPSState>

/// A strict stand-in of Yealink's RPS over XML-RPC, served over HTTP or HTTPS.
///
/// It takes what the clients that work against the real service send, and nothing more lenient: the path `/xmlrpc`
/// (peoplefone's `/xmlrpc/` too), POST with `Content-Type: text/xml`, basic auth, every parameter a string, RPS's
/// MAC spellings, a server name of `A-z 0-9 - _ .` and spaces, a URL beginning `http://`, `https://`, `ftp://` or
/// `tftp://`, and `override` `"0"` or `"1"`. Its answers are `[boolean, text]` with the text untyped, the shape
/// falconieri's parser expects.
extension FakeYealinkRPSState: ServedStandInState {
    /// The path the service answers on; `/xmlrpc/` is taken too.
    public static let path = "/xmlrpc"

    public nonisolated var servicePath: String { Self.path }

    public nonisolated func makeServer() -> XMLRPCStandInServer<FakeYealinkRPSState> {
        XMLRPCStandInServer(state: self, paths: [Self.path, Self.path + "/"], realm: "RPS", untypedStrings: true)
    }
}
