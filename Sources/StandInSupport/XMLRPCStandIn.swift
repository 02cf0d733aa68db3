import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import XMLRPC

/// What a vendor's XML-RPC stand-in keeps and answers, behind the HTTP front every such stand-in shares
/// (`XMLRPCStandInServer`): its accounts, its calls, and the service's methods.
public protocol XMLRPCStandInState: Actor {
    /// The HTTP status to answer the next request with before anything else (a broken front end), if any.
    func takeFailure() -> Int?
    /// Whether the basic-auth `user` and `password` are an account's.
    func authenticate(user: String, password: String) -> Bool
    /// The service's answer to an authenticated call: a value, or a fault.
    func dispatch(_ call: XMLRPCMethodCall, user: String) -> Result<XMLRPCValue, XMLRPCFault>
    /// Keeps a request: its user once authenticated, its method and parameters once decoded, and the status answered.
    func record(user: String?, method: String?, params: [XMLRPCValue], status: Int)
}

/// The HTTP front of a strict XML-RPC stand-in, as the vendors' XML-RPC services answer: one path (and, where a
/// service's clients send it, the path with a trailing slash), POST only, basic auth (401 with the service's realm
/// otherwise), `Content-Type: text/xml`, a capped body, then the state's answer as `<methodResponse>`.
public struct XMLRPCStandInServer<State: XMLRPCStandInState>: Sendable {
    /// The largest request body taken.
    public static var maxRequestBytes: Int { 64 << 10 }

    public let state: State
    /// The paths the service answers on.
    public let paths: Set<String>
    /// The realm of the 401's `WWW-Authenticate`.
    public let realm: String
    /// Whether string values are written untyped (`<value>OK</value>`), as some services write them.
    public let untypedStrings: Bool
    private let decoder = XMLRPCDecoder(maxBodyBytes: Self.maxRequestBytes)

    public init(state: State, paths: Set<String>, realm: String, untypedStrings: Bool = false) {
        self.state = state
        self.paths = paths
        self.realm = realm
        self.untypedStrings = untypedStrings
    }

    /// Builds the Hummingbird application; `tls` serves HTTPS with the given authority's server certificate.
    public func makeApplication(
        host: String = "127.0.0.1", port: Int = 0, tls: PrivateCertificateAuthority? = nil, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            var seen: (user: String?, call: XMLRPCMethodCall?) = (nil, nil)
            let response = await self.handle(request, seen: &seen)
            await self.state.record(
                user: seen.user, method: seen.call?.methodName, params: seen.call?.params ?? [],
                status: Int(response.status.code))
            return response
        }
        return try makeStandInApplication(
            responder: responder, host: host, port: port, tls: try tls?.serverTLSConfiguration(), logger: logger,
            onServerRunning: onServerRunning)
    }

    private func handle(_ request: Request, seen: inout (user: String?, call: XMLRPCMethodCall?)) async -> Response {
        if let status = await self.state.takeFailure() {
            return StandInHTTP.plain(HTTPResponse.Status(code: status), "injected failure")
        }
        guard self.paths.contains(request.uri.path) else { return StandInHTTP.plain(.notFound, "not found") }
        guard request.method == .post else {
            var response = StandInHTTP.plain(.methodNotAllowed, "only POST is supported")
            response.headers[.allow] = "POST"
            return response
        }
        guard let (user, password) = StandInHTTP.basicCredentials(request.headers[.authorization]),
            await self.state.authenticate(user: user, password: password)
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
            body = try await request.body.collect(upTo: Self.maxRequestBytes)
        } catch {
            return StandInHTTP.plain(.contentTooLarge, "request body too large")
        }
        let call: XMLRPCMethodCall
        do {
            call = try self.decoder.decodeCall(body.readableBytesView)
        } catch {
            return StandInHTTP.xml(
                XMLRPCEncoder.encodeFault(XMLRPCFault(code: -32700, message: "Parse error: \(error)")))
        }
        seen.call = call
        switch await self.state.dispatch(call, user: user) {
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
