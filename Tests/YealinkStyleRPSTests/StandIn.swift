import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ProvisioningModel
import StandInSupport
import VendorHTTP
import VendorTestSupport
import YealinkRPSStandIn
import YealinkStyleRPS
import YealinkStyleRPSStandIn

/// Starts a stand-in of Htek's or Akuvox's RPS with our account and another's, and gives a client for ours, over HTTP
/// or HTTPS.
struct StandIn {
    static let user = "rps-ours"
    /// Distinctive, so that a test can look for it in every message.
    static let password = "rps-SECRET-5d02aa"
    static let otherUser = "rps-other"
    static let otherPassword = "rps-other-pw"

    let server: RunningFakeYealinkStyleRPS
    let client: YealinkStyleRPSClient
    let httpClient: HTTPClient

    var state: FakeYealinkStyleRPSState { self.server.state }

    /// The client's dialect for a stand-in's service.
    static func dialect(_ service: FakeYealinkStyleRPSState.Service) -> RPSDialect {
        service == .htek ? .htek : .akuvox
    }

    /// A client of the stand-in with other settings (another account, override), sharing the HTTP client.
    func client(
        user: String = Self.user, password: String = Self.password, override: Bool = false
    ) -> YealinkStyleRPSClient {
        var configuration = self.client.configuration
        (configuration.login.user, configuration.login.password, configuration.override) = (user, password, override)
        return YealinkStyleRPSClient(
            configuration: configuration, httpClient: self.httpClient, logger: Logger(label: "t"))
    }

    @discardableResult
    static func with<T>(
        _ service: FakeYealinkStyleRPSState.Service, tls: Bool = false, _ body: (StandIn) async throws -> T
    ) async throws -> T {
        let authority = tls ? try PrivateCertificateAuthority() : nil
        let state = FakeYealinkStyleRPSState(
            service: service, accounts: [Self.user: Self.password, Self.otherUser: Self.otherPassword])
        return try await RunningFakeYealinkStyleRPS.with(state: state, tls: authority) { server in
            try await VendorTestHarness.with(authority: authority) { caFile in
                let configuration = YealinkStyleRPSConfiguration(
                    dialect: Self.dialect(service), endpoint: server.url, user: Self.user, password: Self.password,
                    caFile: caFile, allowsPlainHTTP: !tls, connectTimeout: .seconds(2), readTimeout: .seconds(5))
                return try YealinkStyleRPSClient.withOwnPool(
                    configuration: configuration, logger: Logger(label: "rps-test"))
            } _: { client, plain in
                try await body(StandIn(server: server, client: client, httpClient: plain))
            }
        }
    }

    /// Posts `body` to the service's path and query (or `path`) with our credentials (unless `authorization` says
    /// otherwise) and `contentType`: the stand-in's answer, status and text.
    func post(
        _ body: String, path: String? = nil, method: HTTPMethod = .POST, contentType: String? = "text/xml",
        authorization: String? = nil
    ) async throws -> (status: Int, text: String) {
        let target = path ?? self.state.service.pathAndQuery
        let answer = try await VendorTestHarness.send(
            body, to: "http://127.0.0.1:\(self.server.port)\(target)", method: method, contentType: contentType,
            authorization: authorization ?? VendorTestHarness.basic(Self.user, Self.password), through: self.httpClient)
        return (answer.status, answer.text)
    }

    /// A `<methodCall>` of parameters written as given (`<string>x</string>`, `<array>…</array>`).
    static func call(_ method: String, values: [String]) -> String {
        "<?xml version=\"1.0\"?><methodCall><methodName>\(method)</methodName><params>"
            + values.map { "<param><value>\($0)</value></param>" }.joined() + "</params></methodCall>"
    }

    /// A `<methodCall>` of string parameters.
    static func call(_ method: String, _ params: [String]) -> String {
        Self.call(method, values: params.map { "<string>\($0)</string>" })
    }
}
