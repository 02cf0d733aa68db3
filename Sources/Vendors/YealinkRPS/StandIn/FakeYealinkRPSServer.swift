import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import StandInSupport
import XMLRPC

/// A strict stand-in of Yealink's RPS over XML-RPC, served over HTTP or HTTPS.
///
/// It takes what the clients that work against the real service send, and nothing more lenient: the path `/xmlrpc`
/// (peoplefone's `/xmlrpc/` too), POST with `Content-Type: text/xml`, basic auth, every parameter a string, RPS's
/// MAC spellings, a server name of `A-z 0-9 - _ .` and spaces, a URL beginning `http://`, `https://`, `ftp://` or
/// `tftp://`, and `override` `"0"` or `"1"`. Its answers are `[boolean, text]` with the text untyped, the shape
/// falconieri's parser expects.
public struct FakeYealinkRPSServer: RespondingStandInServer {
    /// The path the service answers on; `/xmlrpc/` is taken too.
    public static let path = "/xmlrpc"
    /// The largest request body taken.
    public static let maxRequestBytes = 64 << 10

    public let state: FakeYealinkRPSState

    public init(state: FakeYealinkRPSState) { self.state = state }

    /// Answers one HTTP request.
    public func respond(to request: Request, context: BasicRequestContext) async -> Response {
        var call = FakeYealinkRPSState.Call(user: nil, method: nil, params: [], status: 0)
        let response = await self.handle(request, call: &call)
        call.status = Int(response.status.code)
        await self.state.record(call)
        return response
    }

    private func handle(_ request: Request, call: inout FakeYealinkRPSState.Call) async -> Response {
        if let status = await self.state.takeFailure() {
            return StandInHTTP.plain(HTTPResponse.Status(code: status), "injected failure")
        }
        guard request.uri.path == Self.path || request.uri.path == Self.path + "/" else {
            return StandInHTTP.plain(.notFound, "not found")
        }
        var seen = BasicAuthXMLRPC.Seen()
        defer { (call.user, call.method, call.params) = (seen.user, seen.call?.methodName, seen.call?.params ?? []) }
        return await BasicAuthXMLRPC(realm: "RPS", maxRequestBytes: Self.maxRequestBytes).answer(
            request, seen: &seen, authenticate: { await self.state.authenticate(user: $0, password: $1) },
            dispatch: { await self.state.dispatch($0, user: $1) })
    }
}
