import AsyncHTTPClient
import FanvilStandIn
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ProvisioningModel
import StandInSupport
import VendorHTTP
import VendorTestSupport
import XMLRPC

@testable import Fanvil

/// Starts a Fanvil FDPS stand-in with our account and another's, and gives a client for ours, over HTTP or HTTPS.
struct StandIn {
    static let user = "fanvil-ours"
    /// Distinctive, so that a test can look for it (and its hashes) in every message.
    static let password = "fanvil-SECRET-3c9a51"
    static let otherUser = "fanvil-other"
    static let otherPassword = "fanvil-other-pw"

    let server: RunningFakeFanvil
    let client: FanvilClient
    let httpClient: HTTPClient

    var state: FakeFanvilState { self.server.state }

    /// A client of the stand-in for another login, sharing the HTTP client; the password is sent as the service
    /// takes it unless `hashed` is false.
    func client(user: String, password: String, hashed: Bool = true) -> FanvilClient {
        var login = self.client.login
        (login.user, login.password) = (user, password)
        return FanvilClient(
            login: login,
            endpoint: XMLRPCEndpoint(
                url: login.endpoint, user: user, password: hashed ? FanvilClient.sentPassword(for: password) : password,
                httpClient: self.httpClient, callDeadline: login.callDeadline, logger: Logger(label: "t")))
    }

    @discardableResult
    static func with<T>(tls: Bool = false, _ body: (StandIn) async throws -> T) async throws -> T {
        let authority = tls ? try PrivateCertificateAuthority() : nil
        let state = FakeFanvilState(accounts: [Self.user: Self.password, Self.otherUser: Self.otherPassword])
        return try await RunningFakeFanvil.with(state: state, tls: authority) { server in
            try await VendorTestHarness.with(authority: authority) { caFile in
                let login = XMLRPCLogin(
                    endpoint: server.url, user: Self.user, password: Self.password, caFile: caFile,
                    allowsPlainHTTP: !tls, connectTimeout: .seconds(2), readTimeout: .seconds(5))
                return try FanvilClient.withOwnPool(login: login, logger: Logger(label: "fanvil-test"))
            } _: { client, plain in
                try await body(StandIn(server: server, client: client, httpClient: plain))
            }
        }
    }

    /// Posts `body` to `path` with our credentials as the service takes them (unless `authorization` says
    /// otherwise) and `contentType`: the stand-in's answer, status, `WWW-Authenticate` and text.
    func post(
        _ body: String, path: String = FakeFanvilState.path, method: HTTPMethod = .POST,
        contentType: String? = "text/xml", authorization: String? = nil
    ) async throws -> (status: Int, challenge: String?, text: String) {
        try await VendorTestHarness.send(
            body, to: "http://127.0.0.1:\(self.server.port)\(path)", method: method, contentType: contentType,
            authorization: authorization
                ?? VendorTestHarness.basic(Self.user, FanvilClient.sentPassword(for: Self.password)),
            through: self.httpClient)
    }

    /// Calls `method(params)` with our credentials and decodes the answer.
    func call(_ method: String, _ params: [XMLRPCValue]) async throws -> XMLRPCResponse {
        let answer = try await self.post(try XMLRPCEncoder.encodeCall(method, params))
        return try XMLRPCDecoder(maxBodyBytes: 1 << 20).decodeResponse(Array(answer.text.utf8))
    }

    /// `[flag, text]`, the service's answer.
    static func answer(_ done: Bool, _ text: String) -> XMLRPCResponse { .value(.array([.bool(done), .string(text)])) }
}
