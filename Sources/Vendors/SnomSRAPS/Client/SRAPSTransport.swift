import AsyncHTTPClient
import Deadlines
import Foundation
import Hawk
import Logging
import NIOCore
import NIOHTTP1
import ProvisioningModel
import VendorHTTP

extension SRAPSClient {
    /// Signs and sends one request; answers that say nothing about the call itself are thrown: 3xx (redirects are
    /// not followed), 401 and 403 (the key refused, or our clock off), 429 and 5xx (retried later, with
    /// `Retry-After`), transport failures.
    func send(
        _ method: HTTPMethod, _ url: String, body: [UInt8]?, maxBytes: Int
    ) async throws(RedirectError) -> SRAPSAnswer {
        let payload = body.map { HawkPayload(contentType: "application/json", body: $0) }
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Authorization", value: try self.authorization(method, url, payload: payload))
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "provhook")
        if let payload {
            request.headers.add(name: "Content-Type", value: payload.contentType ?? "application/json")
            request.body = .bytes(ByteBuffer(bytes: payload.body))
        }

        let started = ContinuousClock.now
        let answer = try await VendorHTTP.exchange(
            request, on: self.httpClient, deadline: self.configuration.connection.callDeadline, maxBytes: maxBytes)
        self.logger.debug(
            "SRAPS request answered",
            metadata: [
                "method": "\(method.rawValue)", "status": "\(answer.status)",
                "latency_ms": "\((ContinuousClock.now - started).wholeMilliseconds)",
            ])
        try self.check(answer)
        return answer
    }

    /// The Hawk `Authorization` value for `url` as AsyncHTTPClient will send it: the MAC covers the request line's
    /// path and query exactly, so they are taken the way AsyncHTTPClient takes them (percent-encoded path, raw query).
    private func authorization(
        _ method: HTTPMethod, _ url: String, payload: HawkPayload?
    ) throws(RedirectError) -> String {
        guard let parsed = URL(string: url), let components = URLComponents(url: parsed, resolvingAgainstBaseURL: true),
            let scheme = components.scheme, let host = components.host
        else { throw .invalidRequest("not an absolute URL: \(url.prefix(200))") }
        var resource = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        if let query = parsed.query { resource += "?" + query }
        do {
            let target = try HawkRequestTarget(
                method: method.rawValue, scheme: scheme, host: host, port: components.port, resource: resource)
            return try HawkClient.authorization(for: target, credentials: self.credentials, payload: payload)
        } catch {
            throw .invalidRequest(error.description)
        }
    }

    /// Throws for the statuses that are not the service's answer to the call. A 403 that says another account
    /// holds the MAC is such an answer, and passes.
    private func check(_ answer: SRAPSAnswer) throws(RedirectError) {
        switch answer.status {
        case 401:
            throw .authenticationFailed(status: 401, clockOffsetSeconds: self.clockOffset(answer))
        case 403:
            guard SRAPSAnswers.ownedByOther(answer) != nil else { throw .authenticationFailed(status: 403) }
        case 300...399:
            // Redirects are refused: following one would sign a request for wherever the answer points.
            throw .unexpectedStatus(answer.status)
        case 429:
            throw .rateLimited(retryAfterSeconds: RetryAfter.seconds(answer.headers.first(name: "Retry-After")))
        case 500...599:
            throw .serverError(status: answer.status)
        default:
            return
        }
    }

    /// How far the service's clock is ahead of ours, when a 401 says our timestamp is stale and its `tsm` proves the
    /// answer came from a holder of our key; nil otherwise, since an unproven `ts` could be anyone's.
    private func clockOffset(_ answer: SRAPSAnswer) -> Int? {
        guard let header = answer.headers.first(name: "WWW-Authenticate"),
            let serverTime = try? HawkServerTime(wwwAuthenticate: header, credentials: self.credentials),
            serverTime.error == "Stale timestamp"
        else { return nil }
        let offset = Int(clamping: serverTime.clockOffset())
        self.logger.error(
            "SRAPS refused our timestamp as stale: this machine's clock is off",
            metadata: ["offset_seconds": "\(offset)", "key_id": "\(self.configuration.keyID)"])
        return offset
    }
}
