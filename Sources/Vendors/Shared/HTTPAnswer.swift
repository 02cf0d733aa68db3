import AsyncHTTPClient
import Deadlines
import NIOCore
import NIOHTTP1
import ProvisioningModel

/// A REST service's answer, whole: what the REST clients under `Sources/Vendors/` read statuses, headers and JSON
/// from.
public struct HTTPAnswer: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders, body: [UInt8]) {
        (self.status, self.headers, self.body) = (status, headers, body)
    }

    /// The body as text, for matching a service's error markers.
    public var text: String { String(decoding: self.body, as: UTF8.self) }
}

extension VendorHTTP {
    /// Sends `request` through `httpClient` and collects the whole answer, at most `maxBytes` of body, all within
    /// `deadline`.
    ///
    /// AsyncHTTPClient's deadline ends when the response head arrives, and its read timeout is the idle time between
    /// reads, so a body that trickles in a byte at a time would hold the call for ever. The whole exchange runs under
    /// one deadline instead; at the deadline the request is cancelled, which closes its connection. Failures are
    /// `RedirectError`s (`redirectError(for:maxBytes:)`).
    public static func exchange(
        _ request: HTTPClientRequest, on httpClient: HTTPClient, deadline: Duration, maxBytes: Int
    ) async throws(RedirectError) -> HTTPAnswer {
        do {
            return try await withDeadline(deadline, "the provisioning service's answer") {
                let response = try await httpClient.execute(request, timeout: TimeAmount(deadline))
                let body = try await response.body.collect(upTo: maxBytes)
                return HTTPAnswer(
                    status: Int(response.status.code), headers: response.headers, body: Array(body.readableBytesView))
            }
        } catch is DeadlineExceeded {
            throw .timeout(.response)
        } catch {
            throw Self.redirectError(for: error, maxBytes: maxBytes)
        }
    }
}
