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

/// An RPS stand-in with our account and another's, and a client for ours, over HTTP or HTTPS.
typealias StandIn = VendorStandIn<FakeYealinkRPSState, YealinkRPSClient>

extension StandIn {
    /// A client of the stand-in with other settings (another account, override), sharing the HTTP client.
    func client(user: String = Self.user, password: String = Self.password, override: Bool = false) -> YealinkRPSClient
    {
        var configuration = self.client.configuration
        (configuration.login.user, configuration.login.password, configuration.override) = (user, password, override)
        return YealinkRPSClient(configuration: configuration, httpClient: self.httpClient, logger: Logger(label: "t"))
    }

    @discardableResult
    static func with<T>(tls: Bool = false, _ body: (StandIn) async throws -> T) async throws -> T {
        try await Self.with(
            state: FakeYealinkRPSState(accounts: Self.accounts), tls: tls,
            client: { url, caFile in
                let configuration = YealinkRPSConfiguration(
                    endpoint: url, user: Self.user, password: Self.password, connection: .forTests(caFile: caFile))
                return try YealinkRPSClient.withOwnPool(configuration: configuration, logger: Logger(label: "t"))
            }, body)
    }

    /// A `<methodCall>` of string parameters.
    static func call(_ method: String, _ params: [String]) -> String {
        "<?xml version=\"1.0\"?><methodCall><methodName>\(method)</methodName><params>"
            + params.map { "<param><value><string>\($0)</string></value></param>" }.joined()
            + "</params></methodCall>"
    }
}
