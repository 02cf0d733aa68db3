import AsyncHTTPClient
import Deadlines
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ProvisioningModel
import VendorHTTP

/// The client of Poly's Zero Touch Provisioning REST API for one account (one API key), and `ProvisioningService`
/// on top of it.
///
/// Poly assigns a phone to a profile, and the profile holds the provisioning server. Unless the account names a
/// profile (`--profile`), provhook keeps one profile per provisioning server, named after it (`profileName(for:)`),
/// found by listing `GET /profiles`, created with `POST /profiles` when there is none, and corrected with `PUT` when
/// its address was changed; the ids are cached, and looked up again when the service says one is gone. Every request
/// carries the `API-KEY` header; transport failures become typed `RedirectError`s that never hold the key.
public struct PolyZTPClient: Sendable {
    /// The settings this client was made with.
    public let configuration: PolyZTPConfiguration
    let httpClient: HTTPClient
    let cache: PolyZTPProfileCache
    let logger: Logger

    /// Makes a client that sends its requests through `httpClient`, which the caller owns and shuts down.
    public init(
        configuration: PolyZTPConfiguration, httpClient: HTTPClient, logger: Logger
    ) throws(PolyZTPConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        self.httpClient = httpClient
        self.cache = PolyZTPProfileCache()
        self.logger = logger
    }

    /// Makes a client with an HTTP connection pool of its own (`VendorHTTP.makeClient`), and the function that
    /// closes that pool once the client is no longer used: what each Poly ZTP account gets.
    public static func withOwnPool(
        configuration: PolyZTPConfiguration, logger: Logger
    ) throws(PolyZTPConfigurationError) -> (client: PolyZTPClient, close: @Sendable () async -> Void) {
        try configuration.validate()
        return try VendorHTTP.withOwnPool(configuration.connection) {
            (httpClient) throws(PolyZTPConfigurationError) in
            try PolyZTPClient(configuration: configuration, httpClient: httpClient, logger: logger)
        }
    }

    /// The MAC as the service's paths and bodies carry it: 12 lowercase hex digits, no separators (fspbx).
    public static func pathMAC(_ mac: MACAddress) -> String { mac.canonical.lowercased() }

    // MARK: - Transport

    /// Sends one request to `path` (which begins with `/`) under the API root, with the key and, when there is a
    /// body, `Content-Type: application/json`. Answers that say nothing about the call itself are thrown: 401 and
    /// 403 (the key refused) unless they say another organisation holds the device, 3xx (redirects are not
    /// followed: one would carry the key elsewhere), 429 and 5xx (retried later), transport failures.
    func send(
        _ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, maxBytes: Int? = nil
    ) async throws(RedirectError) -> PolyZTPAnswer {
        let maxBytes = maxBytes ?? self.configuration.maxResponseBytes
        var request = HTTPClientRequest(url: self.configuration.root + path)
        request.method = method
        request.headers.add(name: "API-KEY", value: self.configuration.apiKey)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "provhook")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }

        let started = ContinuousClock.now
        let answer: PolyZTPAnswer
        do {
            answer = try await self.exchange(request, maxBytes: maxBytes)
        } catch let error as RedirectError {
            throw error
        } catch {
            throw VendorHTTP.redirectError(for: error, maxBytes: maxBytes)
        }
        self.logger.debug(
            "Poly ZTP request answered",
            metadata: [
                "method": "\(method.rawValue)", "path": "\(path.prefix { $0 != "?" })", "status": "\(answer.status)",
                "latency_ms": "\((ContinuousClock.now - started).wholeMilliseconds)",
            ])
        try Self.check(answer)
        return answer
    }

    /// Sends the request and collects the answer's body, all within connect timeout + read timeout: a body that
    /// trickles in a byte at a time must not hold the call for ever (AsyncHTTPClient's read timeout is per read).
    private func exchange(_ request: HTTPClientRequest, maxBytes: Int) async throws -> PolyZTPAnswer {
        let limit = self.configuration.connection.callDeadline
        let httpClient = self.httpClient
        do {
            return try await withDeadline(limit, "the Poly ZTP service's answer") {
                let response = try await httpClient.execute(request, timeout: TimeAmount(limit))
                let body = try await response.body.collect(upTo: maxBytes)
                return PolyZTPAnswer(
                    status: Int(response.status.code), headers: response.headers,
                    body: Array(body.readableBytesView))
            }
        } catch is DeadlineExceeded {
            throw RedirectError.timeout(.response)
        }
    }

    /// Throws for the statuses that are not the service's answer to the call. The text decides before the status
    /// where the status is not recorded: a "claimed by another organization" passes whatever its status.
    private static func check(_ answer: PolyZTPAnswer) throws(RedirectError) {
        if answer.saysClaimedByAnother { return }
        switch answer.status {
        case 401, 403: throw .authenticationFailed(status: answer.status)
        case 300...399: throw .unexpectedStatus(answer.status)
        case 429: throw .rateLimited(retryAfterSeconds: RetryAfter.seconds(answer.headers.first(name: "Retry-After")))
        case 500...599: throw .serverError(status: answer.status)
        default: return
        }
    }

    // MARK: - Listings

    /// Reads a cursor-paged collection, handing each page's `results` to `page`, while the answer names a `next`
    /// cursor: at most `maxPages` pages, and a cursor seen before ends the listing as an invalid answer rather than a
    /// loop. With `limit`, each call is `GET {path}?limit=…&cursor=…`, the first with an empty cursor, as fspbx lists
    /// devices; without, the first is `GET {path}` as fspbx lists profiles, and the next ones carry the cursor only.
    func readPages(
        _ path: String, limit: Int?, _ page: ([[String: Any]]) throws(RedirectError) -> Void
    ) async throws(RedirectError) {
        var cursor = ""
        var seen: Set<String> = []
        for _ in 0..<self.configuration.maxPages {
            let query =
                if let limit { "?limit=\(limit)&cursor=\(Self.queryValue(cursor))" } else if cursor.isEmpty { "" } else
                {
                    "?cursor=\(Self.queryValue(cursor))"
                }
            let answer = try await self.send(.GET, path + query, maxBytes: self.configuration.maxPageBytes)
            guard answer.status == 200 else { throw PolyZTPAnswers.unexpected(answer, what: "a page of \(path)") }
            let (results, next) = try PolyZTPAnswers.page(answer)
            try page(results)
            guard let next else { return }
            guard seen.insert(next).inserted else { throw .invalidResponse("the cursor of \(path) came back again") }
            cursor = next
        }
        throw .invalidResponse("more than \(self.configuration.maxPages) pages at \(path)")
    }

    /// A cursor percent-encoded for the query: only letters, digits and `-._~` are left as they are.
    static func queryValue(_ text: String) -> String {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
