import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import StandInSupport
import XMLRPC
import YealinkRPSStandIn

/// A strict stand-in of a Yealink-style RPS (Htek's or Akuvox's), served over HTTP or HTTPS.
///
/// It takes what the vendors' pages say the service takes, and nothing more lenient: the service's path (and
/// Akuvox's query `id=1`), POST with `Content-Type: text/xml`, basic auth, string parameters, the four MAC spellings
/// the pages list, server names of `A-z 0-9 - _ .` and spaces, and `isOverride` `"0"` or `"1"` or left out. Its
/// answers are `[boolean, text]` with the text untyped, as the pages' examples show.
public struct FakeYealinkStyleRPSServer: RespondingStandInServer {
    public let state: FakeYealinkStyleRPSState

    public init(state: FakeYealinkStyleRPSState) { self.state = state }

    /// Answers one HTTP request.
    public func respond(to request: Request, context: BasicRequestContext) async -> Response {
        let service = self.state.service
        if let status = await self.state.takeFailure() {
            return StandInHTTP.plain(HTTPResponse.Status(code: status), "injected failure")
        }
        guard request.uri.path == service.path, request.uri.query == service.query else {
            return StandInHTTP.plain(.notFound, "not found")
        }
        var seen = BasicAuthXMLRPC.Seen()
        let response = await BasicAuthXMLRPC(realm: "RPS").answer(
            request, seen: &seen, authenticate: { await self.state.authenticate(user: $0, password: $1) },
            dispatch: { await self.state.dispatch($0, user: $1) })
        await self.state.record(
            .init(
                user: seen.user, method: seen.call?.methodName, params: seen.call?.params ?? [],
                status: Int(response.status.code)))
        return response
    }
}
