import Foundation
import Hummingbird
import HummingbirdCore
import NIOCore
import XMLRPC

/// How a stand-in of an XML-RPC service with basic auth (Yealink's RPS and the services that copy it) takes a request
/// on its path: POST only, basic auth, `Content-Type: text/xml`, a body of at most `maxRequestBytes` decoded strictly,
/// and the service's answer, its strings untyped (`<value>OK</value>`, the shape Yealink-style services write) unless
/// told otherwise.
public struct BasicAuthXMLRPC: Sendable {
    /// What the request was, as far as it got: who sent it and which call.
    public struct Seen: Sendable {
        /// The authenticated user, or nil.
        public var user: String?
        /// The decoded call, or nil.
        public var call: XMLRPCMethodCall?

        public init() {}
    }

    /// The realm of the `WWW-Authenticate` challenge.
    public let realm: String
    /// The largest request body taken.
    public let maxRequestBytes: Int
    /// Whether string values are written untyped.
    public let untypedStrings: Bool

    public init(realm: String, maxRequestBytes: Int = 64 << 10, untypedStrings: Bool = true) {
        (self.realm, self.maxRequestBytes, self.untypedStrings) = (realm, maxRequestBytes, untypedStrings)
    }

    /// Answers `request`: `authenticate` checks the credentials, `dispatch` answers the call of an authenticated user.
    public func answer(
        _ request: Request, seen: inout Seen, authenticate: (String, String) async -> Bool,
        dispatch: (XMLRPCMethodCall, String) async -> Result<XMLRPCValue, XMLRPCFault>
    ) async -> Response {
        guard request.method == .post else {
            var response = StandInHTTP.plain(.methodNotAllowed, "only POST is supported")
            response.headers[.allow] = "POST"
            return response
        }
        guard let (user, password) = StandInHTTP.basicCredentials(request.headers[.authorization]),
            await authenticate(user, password)
        else {
            var response = StandInHTTP.plain(.unauthorized, "authentication required")
            response.headers[.wwwAuthenticate] = "Basic realm=\"\(self.realm)\""
            return response
        }
        seen.user = user
        let mediaType = request.headers[.contentType]?.split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        guard mediaType == "text/xml" else { return StandInHTTP.plain(.unsupportedMediaType, "Content-Type: text/xml") }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: self.maxRequestBytes)
        } catch {
            return StandInHTTP.plain(.contentTooLarge, "request body too large")
        }
        let methodCall: XMLRPCMethodCall
        do {
            methodCall = try XMLRPCDecoder(maxBodyBytes: self.maxRequestBytes).decodeCall(body.readableBytesView)
        } catch {
            return StandInHTTP.xml(
                XMLRPCEncoder.encodeFault(XMLRPCFault(code: -32700, message: "Parse error: \(error)")))
        }
        seen.call = methodCall
        switch await dispatch(methodCall, user) {
        case .success(let value):
            do {
                return StandInHTTP.xml(try XMLRPCEncoder.encodeResponse(value, untypedStrings: self.untypedStrings))
            } catch {
                return StandInHTTP.xml(XMLRPCEncoder.encodeFault(XMLRPCFault(code: -32603, message: "\(error)")))
            }
        case .failure(let fault):
            return StandInHTTP.xml(XMLRPCEncoder.encodeFault(fault))
        }
    }
}
