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

/// A stand-in of Htek's or Akuvox's RPS with our account and another's, and a client for ours, over HTTP or HTTPS.
typealias StandIn = VendorStandIn<FakeYealinkStyleRPSState, YealinkStyleRPSClient>

extension StandIn {
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
        try await Self.with(
            state: FakeYealinkStyleRPSState(service: service, accounts: Self.accounts), tls: tls,
            client: { url, caFile in
                let configuration = YealinkStyleRPSConfiguration(
                    dialect: Self.dialect(service), endpoint: url, user: Self.user, password: Self.password,
                    connection: .forTests(caFile: caFile))
                return try YealinkStyleRPSClient.withOwnPool(configuration: configuration, logger: Logger(label: "t"))
            }, body)
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
