import Foundation
import Hawk
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import StandInSupport

/// A strict stand-in of Snom's SRAPS REST API (`/api/v1/`), served over HTTP or HTTPS.
///
/// Every request must carry a Hawk header that verifies exactly (mozilla/hawk's `server.authenticate`: MAC, payload
/// hash when sent, a nonce seen twice refused, 60 s of skew), like the reference the real service follows. What it
/// answers beyond that comes from the clients that work against the real service (falconieri, ngcp-panel) and is
/// shaped as Django REST framework answers: `{"detail": …}` errors, field errors by name, `Link` pagination.
public struct FakeSRAPSServer: Sendable {
    /// The API root path.
    public static let basePath = "/api/v1/"
    /// The largest request body taken.
    public static let maxRequestBytes = 1 << 20

    /// The stand-in's data.
    public let state: FakeSRAPSState
    /// Whether it serves HTTPS, which sets the port Hawk assumes when the `Host` header has none.
    let isTLS: Bool
    private let hawk: HawkServer

    /// A server of `state`; `isTLS` when it is served over HTTPS.
    public init(state: FakeSRAPSState, isTLS: Bool = false) {
        self.state = state
        self.isTLS = isTLS
        // SRAPS takes a request without a payload hash (ngcp has sent its PUTs without one since 2020).
        self.hawk = HawkServer(
            options: HawkServerOptions(timestampSkew: 60, requiresPayloadHash: false),
            replayCache: state.replayCache
        ) { id in await state.credentials(id) }
    }

    /// Builds the Hummingbird application; `tls` serves HTTPS with the given authority's server certificate.
    public func makeApplication(
        host: String = "127.0.0.1", port: Int = 0, tls: PrivateCertificateAuthority? = nil, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let server = FakeSRAPSServer(state: self.state, isTLS: tls != nil)
        let responder = CallbackResponder<BasicRequestContext> { request, _ in await server.respond(to: request) }
        return try makeStandInApplication(
            responder: responder, host: host, port: port, tls: try tls?.serverTLSConfiguration(), logger: logger,
            onServerRunning: onServerRunning)
    }

    /// Answers one HTTP request and logs it.
    func respond(to request: Request) async -> Response {
        let authorization = request.headers[.authorization]
        var call = FakeSRAPSState.Call(
            method: request.method.rawValue, resource: request.uri.string, keyID: nil,
            hadPayloadHash: (try? HawkHeaderParser.parse(authorization))?["hash"] != nil, status: 0, hawkError: nil,
            startedAt: Date())
        let response = await self.handle(request, call: &call)
        call.status = Int(response.status.code)
        await self.state.record(call)
        return response
    }

    private func handle(_ request: Request, call: inout FakeSRAPSState.Call) async -> Response {
        if let failure = await self.state.takeFailure() {
            switch failure {
            case .status(let status, let retryAfter):
                var response = Self.json(HTTPResponse.Status(code: status), ["detail": "injected failure"])
                if let retryAfter { response.headers[.retryAfter] = retryAfter }
                return response
            }
        }
        let path = request.uri.path
        guard path.hasPrefix(Self.basePath) else { return Self.notFound }
        let segments = path.dropFirst(Self.basePath.count).split(separator: "/", omittingEmptySubsequences: false)
            .map(String.init)
        let route: SRAPSRoute
        switch SRAPSRoute.match(segments) {
        case .route(let matched)?: route = matched
        case .appendSlash?:
            // Django's CommonMiddleware (APPEND_SLASH) answers before any view runs, so before authentication: a
            // collection's URL without its slash is redirected with 301, whatever the method.
            var location = path + "/"
            if let query = request.uri.query { location += "?" + query }
            return Response(status: .movedPermanently, headers: [.location: location])
        case nil: return Self.notFound
        }

        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maxRequestBytes)
        } catch {
            return Self.json(.contentTooLarge, ["detail": "Request body too large."])
        }
        let contentType = request.headers[.contentType]
        let keyID: String
        do {
            let target = try HawkRequestTarget(
                method: request.method.rawValue, hostHeader: request.head.authority, isTLS: self.isTLS,
                resource: request.uri.string)
            let incoming = HawkIncomingRequest(
                target: target, authorization: request.headers[.authorization],
                payload: HawkPayload(contentType: contentType, body: Array(body.readableBytesView)))
            keyID = try await self.hawk.authenticate(incoming, now: await self.state.now()).credentials.id
        } catch {
            call.hawkError = error.message
            var response = Self.json(HTTPResponse.Status(code: error.statusCode), ["detail": error.message])
            if let challenge = error.wwwAuthenticate { response.headers[.wwwAuthenticate] = challenge }
            return response
        }
        call.keyID = keyID
        let context = SRAPSRequestContext(
            keyID: keyID, method: request.method,
            query: Dictionary(
                request.uri.queryParameters.map { (String($0.key), String($0.value)) },
                uniquingKeysWith: { first, _ in first }), contentType: contentType,
            body: Array(body.readableBytesView), origin: self.origin(request), path: path)
        return await self.dispatch(route, context)
    }

    /// `scheme://host[:port]` as the client reached the stand-in, for absolute links (Django's `build_absolute_uri`).
    private func origin(_ request: Request) -> String {
        "\(self.isTLS ? "https" : "http")://\(request.head.authority ?? "127.0.0.1")"
    }

    static let notFound = Self.json(.notFound, ["detail": "Not found."])

    /// A JSON answer with sorted keys.
    static func json(_ status: HTTPResponse.Status, _ value: Any, headers: HTTPFields = [:]) -> Response {
        let data =
            (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The resources the stand-in serves, from the path after `/api/v1/`.
enum SRAPSRoute: Sendable, Hashable {
    case token(String)
    case company(String)
    case settings
    case endpoints(company: String)
    case endpoint(company: String, mac: String)

    /// What a path names: a resource, or a collection's URL without its trailing slash, which Django redirects.
    enum Match: Sendable, Hashable {
        case route(SRAPSRoute)
        case appendSlash
    }

    /// The match for the path's segments after `/api/v1/`, or nil for a path that names nothing (404; Django's
    /// APPEND_SLASH only adds a slash, so a record's URL with one added is not found).
    static func match(_ segments: [String]) -> Match? {
        let named = segments.enumerated().allSatisfy { $0.element.isEmpty == ($0.offset == segments.count - 1) }
        switch (segments.count, segments.first) {
        // `tokens/{id}` and `endpoints/{mac}` have no trailing slash (falconieri, ngcp).
        case (2, "tokens") where !segments[1].isEmpty: return .route(.token(segments[1]))
        case (1, "settings"): return .appendSlash
        case (2, "settings") where segments[1].isEmpty: return .route(.settings)
        case (2, "companies") where !segments[1].isEmpty: return .appendSlash
        case (3, "companies") where named: return .route(.company(segments[1]))
        case (3, "companies") where !segments[1].isEmpty && segments[2] == "endpoints": return .appendSlash
        case (4, "companies") where segments[2] == "endpoints" && named:
            return .route(.endpoints(company: segments[1]))
        case (4, "companies") where !segments[1].isEmpty && segments[2] == "endpoints" && !segments[3].isEmpty:
            return .route(.endpoint(company: segments[1], mac: segments[3]))
        default: return nil
        }
    }
}
