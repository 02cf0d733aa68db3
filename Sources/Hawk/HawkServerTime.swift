import Foundation

/// The server's clock, read from a verified stale-timestamp answer, so a caller can say how far off its clock is.
///
/// A Hawk server answers a request whose `ts` is off by more than its skew with 401 and
/// `WWW-Authenticate: Hawk ts="<now>", tsm="<mac>", error="Stale timestamp"`. The `tsm` is an HMAC of `ts` under
/// the shared key, so only a server holding the key can have written it (mozilla/hawk `client.authenticate`).
public struct HawkServerTime: Sendable, Hashable {
    /// The server's time when it answered, in Unix seconds.
    public let timestamp: Int64
    /// The server's `error` attribute, such as `Stale timestamp`, when it sent one.
    public let error: String?

    /// Reads and verifies a `WWW-Authenticate` value; refuses one without `ts` and `tsm` or whose `tsm` is wrong.
    public init(wwwAuthenticate header: String, credentials: HawkCredentials) throws(HawkClientError) {
        let attributes: [String: String]
        do {
            attributes = try HawkHeaderParser.parse(
                header, allowedAttributes: HawkHeaderParser.wwwAuthenticateAttributes)
        } catch {
            throw .invalidWWWAuthenticate(error)
        }
        guard let timestamp = attributes["ts"], let tsm = attributes["tsm"] else { throw .missingServerTimestamp }
        guard HawkCrypto.constantTimeEquals(HawkCrypto.timestampMAC(timestamp, credentials: credentials), tsm) else {
            throw .badServerTimestampMAC
        }
        guard let seconds = parseSeconds(timestamp) else { throw .invalidServerTimestamp }
        self.timestamp = seconds
        self.error = attributes["error"]
    }

    /// How many seconds the server's clock is ahead of `now` (negative when it is behind).
    public func clockOffset(from now: Date = Date()) -> Int64 {
        self.timestamp - Int64(now.timeIntervalSince1970.rounded(.down))
    }
}

/// Unix seconds written as 1 to 15 ASCII digits; the bound keeps the milliseconds within `Int64`.
func parseSeconds(_ text: String) -> Int64? {
    guard (1...15).contains(text.utf8.count), text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
    return Int64(text)
}
