import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PanasonicStandIn
import ProvisioningModel
import StandInSupport
import VendorHTTP
import VendorTestSupport
import XMLRPC

@testable import Panasonic

/// Starts a Panasonic stand-in with our account and another's, and gives a client for ours, over HTTP or HTTPS.
struct StandIn {
    static let user = "pana-ours"
    /// Distinctive, so that a test can look for it in every message.
    static let password = "pana-SECRET-7d21f0"
    static let otherUser = "pana-other"
    static let otherPassword = "pana-other-pw"

    let server: RunningFakePanasonic
    let client: PanasonicClient
    let httpClient: HTTPClient

    var state: FakePanasonicState { self.server.state }

    /// A client of the stand-in for another login, sharing the HTTP client.
    func client(user: String, password: String) -> PanasonicClient {
        var login = self.client.login
        (login.user, login.password) = (user, password)
        return PanasonicClient(
            login: login,
            endpoint: XMLRPCEndpoint(login: login, httpClient: self.httpClient, logger: Logger(label: "t")))
    }

    @discardableResult
    static func with<T>(tls: Bool = false, _ body: (StandIn) async throws -> T) async throws -> T {
        let authority = tls ? try PrivateCertificateAuthority() : nil
        let state = FakePanasonicState(accounts: [Self.user: Self.password, Self.otherUser: Self.otherPassword])
        return try await RunningFakePanasonic.with(state: state, tls: authority) { server in
            try await VendorTestHarness.with(authority: authority) { caFile in
                let login = XMLRPCLogin(
                    endpoint: server.url, user: Self.user, password: Self.password, caFile: caFile,
                    allowsPlainHTTP: !tls, connectTimeout: .seconds(2), readTimeout: .seconds(5))
                return try PanasonicClient.withOwnPool(login: login, logger: Logger(label: "pana-test"))
            } _: { client, plain in
                try await body(StandIn(server: server, client: client, httpClient: plain))
            }
        }
    }

    /// Posts `body` to `path` with our credentials (unless `authorization` says otherwise) and `contentType`: the
    /// stand-in's answer, status, `WWW-Authenticate` and text.
    func post(
        _ body: String, path: String = FakePanasonicState.path, method: HTTPMethod = .POST,
        contentType: String? = "text/xml", authorization: String? = nil
    ) async throws -> (status: Int, challenge: String?, text: String) {
        try await VendorTestHarness.send(
            body, to: "http://127.0.0.1:\(self.server.port)\(path)", method: method, contentType: contentType,
            authorization: authorization ?? VendorTestHarness.basic(Self.user, Self.password), through: self.httpClient)
    }

    /// Calls `method(params)` with our credentials and decodes the answer.
    func call(_ method: String, _ params: [XMLRPCValue]) async throws -> XMLRPCResponse {
        let answer = try await self.post(try XMLRPCEncoder.encodeCall(method, params))
        return try XMLRPCDecoder(maxBodyBytes: 1 << 20).decodeResponse(Array(answer.text.utf8))
    }
}
