import AsyncHTTPClient
import Deadlines
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ProvisioningModel
import XMLRPC

/// One XML-RPC endpoint of a vendor's service, called with basic auth: what every XML-RPC client under
/// `Sources/Vendors/` (Snom's redirection service, Yealink's RPS, …) sends its calls through.
///
/// Every call is one HTTP POST with `Content-Type: text/xml` to the URL exactly as configured. The whole exchange,
/// answer body included, runs under one deadline; answers are decoded strictly under a size cap. Failures become typed
/// `RedirectError`s that never hold the password.
public struct XMLRPCEndpoint: Sendable {
    /// The URL calls are posted to, used exactly as given.
    public let url: String
    private let httpClient: HTTPClient
    private let authorization: String
    private let callDeadline: Duration
    private let logger: Logger

    /// An endpoint whose calls go through `httpClient` (which the caller owns and shuts down), each limited to
    /// `callDeadline` from request to the answer's last byte.
    public init(
        url: String, user: String, password: String, httpClient: HTTPClient, callDeadline: Duration, logger: Logger
    ) {
        self.url = url
        self.httpClient = httpClient
        self.authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        self.callDeadline = callDeadline
        self.logger = logger
    }

    /// Sends `method(params)` and returns the answer's value, taking at most `maxBytes` of answer; faults and HTTP
    /// failures are thrown.
    public func call(
        _ method: String, _ params: [XMLRPCValue], maxBytes: Int
    ) async throws(RedirectError)
        -> XMLRPCValue
    {
        switch try await self.answer(method, params, maxBytes: maxBytes) {
        case .value(let value): return value
        case .fault(let fault): throw .fault(fault.description)
        }
    }

    /// Sends `method(params)` and returns the answer, a value or a fault, for a service whose faults are answers
    /// (Panasonic's codes); HTTP failures are thrown.
    public func answer(
        _ method: String, _ params: [XMLRPCValue], maxBytes: Int
    ) async throws(RedirectError)
        -> XMLRPCResponse
    {
        let body: String
        do {
            body = try XMLRPCEncoder.encodeCall(method, params)
        } catch {
            throw .invalidRequest(error.description)
        }
        var request = HTTPClientRequest(url: self.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "text/xml")
        request.headers.add(name: "Authorization", value: self.authorization)
        request.headers.add(name: "User-Agent", value: "provhook")
        request.body = .bytes(ByteBuffer(string: body))

        let started = ContinuousClock.now
        let bytes: ByteBuffer
        do {
            bytes = try await self.exchange(request, maxBytes: maxBytes)
        } catch let error as RedirectError {
            throw error
        } catch {
            throw VendorHTTP.redirectError(for: error, maxBytes: maxBytes)
        }
        self.logger.debug(
            "provisioning service call answered",
            metadata: [
                "method": "\(method)", "latency_ms": "\((ContinuousClock.now - started).wholeMilliseconds)",
            ])

        do {
            return try XMLRPCDecoder(maxBodyBytes: maxBytes).decodeResponse(bytes.readableBytesView)
        } catch {
            throw .invalidResponse(error.description)
        }
    }

    /// Sends the request and collects the answer's body, all within the call's deadline.
    ///
    /// AsyncHTTPClient's deadline ends when the response head arrives, and its read timeout is the idle time between
    /// reads, so a body that trickles in a byte at a time would hold the call for ever. The whole exchange runs under
    /// one deadline instead; at the deadline the request is cancelled, which closes its connection.
    private func exchange(_ request: HTTPClientRequest, maxBytes: Int) async throws -> ByteBuffer {
        let limit = self.callDeadline
        let httpClient = self.httpClient
        do {
            return try await withDeadline(limit, "the provisioning service's answer") {
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
