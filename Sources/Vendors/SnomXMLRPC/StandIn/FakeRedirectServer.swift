import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import StandInSupport
import XMLRPC

/// A strict stand-in of the Snom redirection service, served over HTTP or HTTPS.
///
/// It follows the API reference and nothing more lenient: the path is exactly `/xmlrpc/` (the trailing slash
/// is mandatory), only POST with `Content-Type: text/xml` is taken, basic auth is checked, MACs are 12 hex digits.
/// It also answers what Snom's own CLI (Snomio/RDS-CLI) evidently gets from the real service: `network.echo` for its
/// password check, an explicit `<nil/>` as `listPhones`'s absent URL, and its doubled `Content-Type: text/xml`.
public struct FakeRedirectServer: RespondingStandInServer {
    /// The path the service answers on.
    public static let path = "/xmlrpc/"
    /// The largest request body taken.
    public static let maxRequestBytes = 1 << 20

    public let state: FakeRedirectState
    private let decoder = XMLRPCDecoder(maxBodyBytes: Self.maxRequestBytes)

    public init(state: FakeRedirectState) {
        self.state = state
    }

    /// Answers one HTTP request.
    public func respond(to request: Request, context: BasicRequestContext) async -> Response {
        await self.state.hold.arrive()
        let started = Date()
        var call = FakeRedirectState.Call(
            user: nil, method: nil, params: [], status: 0, startedAt: started, finishedAt: started)
        let response = await self.handle(request, context: context, call: &call)
        call.status = Int(response.status.code)
        call.finishedAt = Date()
        await self.state.record(call)
        return response
    }

    private func handle(
        _ request: Request, context: BasicRequestContext, call: inout FakeRedirectState.Call
    ) async
        -> Response
    {
        if let (failure, generation) = await self.state.takeFailure() {
            switch failure {
            case .status(let status, let retryAfter):
                var response = StandInHTTP.plain(HTTPResponse.Status(code: status), "injected failure")
                if let retryAfter { response.headers[.retryAfter] = retryAfter }
                return response
            case .hang(let limit):
                let deadline = ContinuousClock.now + limit
                while ContinuousClock.now < deadline, !Task.isCancelled,
                    await !self.state.isReleased(since: generation)
                {
                    try? await Task.sleep(for: .milliseconds(20))
                }
                return StandInHTTP.plain(.serviceUnavailable, "released from an injected hang")
            case .slowStatus(let delay, let status, let retryAfter):
                try? await Task.sleep(for: delay)
                var response = StandInHTTP.plain(HTTPResponse.Status(code: status), "injected slow failure")
                if let retryAfter { response.headers[.retryAfter] = retryAfter }
                return response
            case .answer(let bytes, byteInterval: nil):
                return Response(
                    status: .ok, headers: [.contentType: "text/xml"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            case .answer(let bytes, byteInterval: let interval?):
                let body = ResponseBody(contentLength: bytes.count) { writer in
                    for byte in bytes {
                        try await writer.write(ByteBuffer(bytes: [byte]))
                        try await Task.sleep(for: interval)
                    }
                    try await writer.finish(nil)
                }
                return Response(status: .ok, headers: [.contentType: "text/xml"], body: body)
            }
        }
        let latency = await self.state.latency
        if latency > .zero { try? await Task.sleep(for: latency) }
        await self.state.hold.pass()

        guard request.uri.path == Self.path else { return StandInHTTP.plain(.notFound, "not found") }
        guard request.method == .post else {
            var response = StandInHTTP.plain(.methodNotAllowed, "only POST is supported")
            response.headers[.allow] = "POST"
            return response
        }
        guard let (user, password) = StandInHTTP.basicCredentials(request.headers[.authorization]),
            await self.state.authenticate(user: user, password: password)
        else {
            var response = StandInHTTP.plain(.unauthorized, "authentication required")
            response.headers[.wwwAuthenticate] = "Basic realm=\"xmlrpc\""
            return response
        }
        call.user = user
        // Python 3's xmlrpc.client, under Snom's own CLI (which overrides `send_content`), sends the header twice,
        // both times `text/xml`; the real service takes that, so the stand-in takes a repeat of the same type.
        let mediaTypes = Set(
            request.headers[values: .contentType].map {
                $0.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            })
        guard mediaTypes == ["text/xml"] else {
            return StandInHTTP.plain(.unsupportedMediaType, "Content-type: text/xml is mandatory")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maxRequestBytes)
        } catch {
            return StandInHTTP.plain(.contentTooLarge, "request body too large")
        }

        let methodCall: XMLRPCMethodCall
        do {
            methodCall = try self.decoder.decodeCall(body.readableBytesView)
        } catch {
            return StandInHTTP.xml(
                XMLRPCEncoder.encodeFault(XMLRPCFault(code: 1, message: "<class 'ExpatError'>:\(error)")))
        }
        call.method = methodCall.methodName
        call.params = methodCall.params
        switch await self.state.dispatch(methodCall, user: user) {
        case .success(let value):
            do {
                return StandInHTTP.xml(try XMLRPCEncoder.encodeResponse(value))
            } catch {
                return StandInHTTP.xml(XMLRPCEncoder.encodeFault(XMLRPCFault(code: 1, message: "\(error)")))
            }
        case .failure(let fault):
            return StandInHTTP.xml(XMLRPCEncoder.encodeFault(fault))
        }
    }
}
