import StandInSupport

/// A Yealink-style RPS stand-in started in the background, on a free port of the loopback interface; its `url` is
/// the endpoint to configure an account with (Htek's `…/index.php/xmlrpc`, Akuvox's `…/fcgi/do?id=1`).
public typealias RunningFakeYealinkStyleRPS = RunningStandIn<FakeYealinkStyleRPSState>

/// A strict stand-in of a Yealink-style RPS (Htek's or Akuvox's), served over HTTP or HTTPS.
///
/// It takes what the vendors' pages say the service takes, and nothing more lenient: the service's path (and
/// Akuvox's query `id=1`), POST with `Content-Type: text/xml`, basic auth, string parameters, the four MAC spellings
/// the pages list, server names of `A-z 0-9 - _ .` and spaces, and `isOverride` `"0"` or `"1"` or left out. Its
/// answers are `[boolean, text]` with the text untyped, as the pages' examples show.
extension FakeYealinkStyleRPSState: ServedStandInState {
    public nonisolated var servicePath: String { self.service.pathAndQuery }

    public nonisolated func makeServer() -> XMLRPCStandInServer<FakeYealinkStyleRPSState> {
        XMLRPCStandInServer(
            state: self, paths: [self.service.path], query: .exactly(self.service.query), realm: "RPS",
            untypedStrings: true)
    }
}
