import AsyncHTTPClient
import Deadlines
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ProvisioningModel
import VendorHTTP
import XMLRPC

/// The XML-RPC client of the Snom redirection service: its seven methods, and `ProvisioningService` on top of them.
///
/// Every call is one HTTP POST with basic auth and `Content-Type: text/xml` to the endpoint exactly as configured.
/// Answers are decoded strictly; transport failures become typed `RedirectError`s that never hold the password.
public struct RedirectClient: Sendable {
    /// The settings this client was made with.
    public let configuration: RedirectConfiguration
    private let endpoint: XMLRPCEndpoint

    /// Makes a client that sends its calls through `httpClient`, which the caller owns and shuts down.
    public init(configuration: RedirectConfiguration, httpClient: HTTPClient, logger: Logger) {
        self.configuration = configuration
        self.endpoint = XMLRPCEndpoint(
            url: configuration.endpoint, user: configuration.user, password: configuration.password,
            httpClient: httpClient, callDeadline: configuration.connection.callDeadline, logger: logger)
    }

    /// Makes the process's one HTTP client for the service (`VendorHTTP.makeClient`): timeouts, keep-alive pool, no
    /// redirects, and TLS verified against the system roots plus the optional CA file.
    public static func makeHTTPClient(
        configuration: RedirectConfiguration
    ) throws(RedirectConfigurationError) -> HTTPClient {
        try VendorHTTP.makeClient(for: configuration.connection, failure: RedirectConfigurationError.self)
    }

    /// Makes a client with an HTTP connection pool of its own, and the function that closes that pool once the
    /// client is no longer used: what each redirection account gets.
    public static func withOwnPool(
        configuration: RedirectConfiguration, logger: Logger
    ) throws(RedirectConfigurationError) -> (client: RedirectClient, close: @Sendable () async -> Void) {
        try VendorHTTP.withOwnPool(configuration.connection) { (httpClient) throws(RedirectConfigurationError) in
            RedirectClient(configuration: configuration, httpClient: httpClient, logger: logger)
        }
    }

    // MARK: - The seven methods

    /// `redirect.registerPhone(mac, provisioningUrl)`.
    public func registerPhone(_ mac: MACAddress, url: String) async throws(RedirectError) -> RedirectOutcome {
        try AnswerDecoding.outcome(await self.call(.registerPhone, [.string(mac.canonical), .string(url)]))
    }

    /// `redirect.deregisterPhone(mac)`.
    public func deregisterPhone(_ mac: MACAddress) async throws(RedirectError) -> RedirectOutcome {
        try AnswerDecoding.outcome(await self.call(.deregisterPhone, [.string(mac.canonical)]))
    }

    /// `redirect.getPhoneRedirection(mac)`.
    public func phoneRedirection(_ mac: MACAddress) async throws(RedirectError) -> PhoneRedirection {
        try AnswerDecoding.redirection(await self.call(.getPhoneRedirection, [.string(mac.canonical)]))
    }

    /// `redirect.checkPhone(mac)`: `Ok` only to the account that holds the MAC.
    public func checkPhone(_ mac: MACAddress) async throws(RedirectError) -> RedirectOutcome {
        try AnswerDecoding.outcome(await self.call(.checkPhone, [.string(mac.canonical)]))
    }

    /// `redirect.listPhones(deviceType[, provisioningUrl])`.
    public func listPhones(model: String, url: String?) async throws(RedirectError) -> [MACAddress] {
        var params: [XMLRPCValue] = [.string(model)]
        if let url { params.append(.string(url)) }
        return try AnswerDecoding.macList(await self.call(.listPhones, params))
    }

    /// `redirect.registerPhoneList(macList, provisioningUrl)`.
    public func registerPhoneList(_ macs: [MACAddress], url: String) async throws(RedirectError) -> ListOutcome {
        let list = XMLRPCValue.array(macs.map { .string($0.canonical) })
        return try AnswerDecoding.listOutcome(await self.call(.registerPhoneList, [list, .string(url)]))
    }

    /// `redirect.deregisterPhoneList(macList)`.
    public func deregisterPhoneList(_ macs: [MACAddress]) async throws(RedirectError) -> ListOutcome {
        let list = XMLRPCValue.array(macs.map { .string($0.canonical) })
        return try AnswerDecoding.listOutcome(await self.call(.deregisterPhoneList, [list]))
    }

    // MARK: - Transport

    /// Sends one call and returns the answer's value; faults and HTTP failures are thrown. `listPhones` may answer
    /// with more (`maxListResponseBytes`).
    func call(_ method: RedirectMethod, _ params: [XMLRPCValue]) async throws(RedirectError) -> XMLRPCValue {
        let maxBytes =
            method == .listPhones ? self.configuration.maxListResponseBytes : self.configuration.maxResponseBytes
        return try await self.endpoint.call(method.rawValue, params, maxBytes: maxBytes)
    }
}
