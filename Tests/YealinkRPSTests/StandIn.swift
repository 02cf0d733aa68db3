import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ProvisioningModel
import StandInSupport
import VendorHTTP
import VendorTestSupport
import YealinkRPS
import YealinkRPSStandIn

/// Starts an RPS stand-in with our account and another's, and gives a client for ours, over HTTP or HTTPS.
struct StandIn {
    static let user = "rps-ours"
    /// Distinctive, so that a test can look for it in every message.
    static let password = "rps-SECRET-41c7e9"
    static let otherUser = "rps-other"
    static let otherPassword = "rps-other-pw"

    let server: RunningFakeYealinkRPS
    let client: YealinkRPSClient
    let httpClient: HTTPClient

    var state: FakeYealinkRPSState { self.server.state }

    /// A client of the stand-in with other settings (another account, override), sharing the HTTP client.
    func client(
        user: String = Self.user, password: String = Self.password, override: Bool = false
    )
        -> YealinkRPSClient
    {
        var configuration = self.client.configuration
        (configuration.login.user, configuration.login.password, configuration.override) = (user, password, override)
        return YealinkRPSClient(configuration: configuration, httpClient: self.httpClient, logger: Logger(label: "t"))
    }

    @discardableResult
    static func with<T>(tls: Bool = false, _ body: (StandIn) async throws -> T) async throws -> T {
        let authority = tls ? try PrivateCertificateAuthority() : nil
        let state = FakeYealinkRPSState(accounts: [Self.user: Self.password, Self.otherUser: Self.otherPassword])
        return try await RunningFakeYealinkRPS.with(state: state, tls: authority) { server in
            try await VendorTestHarness.with(authority: authority) { caFile in
                let configuration = YealinkRPSConfiguration(
                    endpoint: server.url, user: Self.user, password: Self.password, caFile: caFile,
                    allowsPlainHTTP: !tls, connectTimeout: .seconds(2), readTimeout: .seconds(5))
                return try YealinkRPSClient.withOwnPool(configuration: configuration, logger: Logger(label: "rps-test"))
            } _: { client, plain in
                try await body(StandIn(server: server, client: client, httpClient: plain))
            }
        }
    }

    /// Posts `body` to `path` with our credentials (unless `authorization` says otherwise) and `contentType`: the
    /// stand-in's answer, status and text.
    func post(
        _ body: String, path: String = FakeYealinkRPSServer.path, method: HTTPMethod = .POST,
        contentType: String? = "text/xml", authorization: String? = nil
    ) async throws -> (status: Int, text: String) {
        let answer = try await VendorTestHarness.send(
            body, to: "http://127.0.0.1:\(self.server.port)\(path)", method: method, contentType: contentType,
            authorization: authorization ?? VendorTestHarness.basic(Self.user, Self.password), through: self.httpClient)
        return (answer.status, answer.text)
    }

    /// A `<methodCall>` of string parameters.
    static func call(_ method: String, _ params: [String]) -> String {
        "<?xml version=\"1.0\"?><methodCall><methodName>\(method)</methodName><params>"
            + params.map { "<param><value><string>\($0)</string></value></param>" }.joined()
            + "</params></methodCall>"
    }
}
