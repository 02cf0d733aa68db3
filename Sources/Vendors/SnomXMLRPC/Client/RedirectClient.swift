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
    private let httpClient: HTTPClient
    private let authorization: String
    private let decoder: XMLRPCDecoder
    /// For `listPhones`, whose answers may be larger.
    private let listDecoder: XMLRPCDecoder
    private let logger: Logger

    /// Makes a client that sends its calls through `httpClient`, which the caller owns and shuts down.
    public init(configuration: RedirectConfiguration, httpClient: HTTPClient, logger: Logger) {
        self.configuration = configuration
        self.httpClient = httpClient
        let credentials = Data("\(configuration.user):\(configuration.password)".utf8).base64EncodedString()
        self.authorization = "Basic \(credentials)"
        self.decoder = XMLRPCDecoder(maxBodyBytes: configuration.maxResponseBytes)
        self.listDecoder = XMLRPCDecoder(maxBodyBytes: configuration.maxListResponseBytes)
        self.logger = logger
    }

    /// Makes the process's one HTTP client for the service (`VendorHTTP.makeClient`): timeouts, keep-alive pool, no
    /// redirects, and TLS verified against the system roots plus the optional CA file.
    public static func makeHTTPClient(
        configuration: RedirectConfiguration
    ) throws(RedirectConfigurationError) -> HTTPClient {
        do { return try VendorHTTP.makeClient(for: configuration) } catch {
            throw .unreadableCAFile(path: error.path, reason: error.reason)
        }
    }

    /// Makes a client with an HTTP connection pool of its own, and the function that closes that pool once the
    /// client is no longer used: what each redirection account gets.
    public static func withOwnPool(
        configuration: RedirectConfiguration, logger: Logger
    ) throws(RedirectConfigurationError) -> (client: RedirectClient, close: @Sendable () async -> Void) {
        let httpClient = try Self.makeHTTPClient(configuration: configuration)
        return (
            RedirectClient(configuration: configuration, httpClient: httpClient, logger: logger),
            { try? await httpClient.shutdown() }
        )
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

    /// Sends one call and returns the answer's value; faults and HTTP failures are thrown.
    func call(_ method: RedirectMethod, _ params: [XMLRPCValue]) async throws(RedirectError) -> XMLRPCValue {
        let body: String
        do {
            body = try XMLRPCEncoder.encodeCall(method.rawValue, params)
        } catch {
            throw .invalidRequest(error.description)
        }
        var request = HTTPClientRequest(url: self.configuration.endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "text/xml")
        request.headers.add(name: "Authorization", value: self.authorization)
        request.headers.add(name: "User-Agent", value: "provhook")
        request.body = .bytes(ByteBuffer(string: body))

        let started = ContinuousClock.now
        let isList = method == .listPhones
        let maxBytes = isList ? self.configuration.maxListResponseBytes : self.configuration.maxResponseBytes
        let bytes: ByteBuffer
        do {
            bytes = try await self.exchange(request, maxBytes: maxBytes)
        } catch let error as RedirectError {
            throw error
        } catch {
            throw VendorHTTP.redirectError(for: error, maxBytes: maxBytes)
        }
        self.logger.debug(
            "redirect call answered",
            metadata: [
                "method": "\(method.shortName)",
                "latency_ms": "\((ContinuousClock.now - started).wholeMilliseconds)",
            ])

        let response: XMLRPCResponse
        do {
            response = try (isList ? self.listDecoder : self.decoder).decodeResponse(bytes.readableBytesView)
        } catch {
            throw .invalidResponse(error.description)
        }
        switch response {
        case .value(let value): return value
        case .fault(let fault): throw .fault(fault.description)
        }
    }

    /// Sends the request and collects the answer's body, all within connect timeout + read timeout.
    ///
    /// AsyncHTTPClient's deadline ends when the response head arrives, and its read timeout is the idle time between
    /// reads, so a body that trickles in a byte at a time would hold the call for ever. The whole exchange runs under
    /// one deadline instead; at the deadline the request is cancelled, which closes its connection.
    private func exchange(_ request: HTTPClientRequest, maxBytes: Int) async throws -> ByteBuffer {
        let limit = self.configuration.callDeadline
        let httpClient = self.httpClient
        do {
            return try await withDeadline(limit, "the redirection service's answer") {
                let response = try await httpClient.execute(request, timeout: TimeAmount(limit))
                try Self.check(response)
                return try await response.body.collect(upTo: maxBytes)
            }
        } catch is DeadlineExceeded {
            throw RedirectError.timeout(.response)
        }
    }

    private static func check(_ response: HTTPClientResponse) throws(RedirectError) {
        switch response.status.code {
        case 200: return
        case 401, 403: throw .authenticationFailed(status: Int(response.status.code))
        case 429: throw .rateLimited(retryAfterSeconds: RetryAfter.seconds(response.headers.first(name: "Retry-After")))
        case 500...599: throw .serverError(status: Int(response.status.code))
        default: throw .unexpectedStatus(Int(response.status.code))
        }
    }
}
