import Crypto
import Foundation

/// Why a webhook was not authenticated. The reasons are metric labels; none reveals the secret.
public enum WebhookAuthenticationFailure: String, Error, Sendable, CaseIterable {
    case missingHeaders = "missing_headers"
    case malformedTimestamp = "malformed_timestamp"
    case staleTimestamp = "stale_timestamp"
    case badSignature = "bad_signature"
    case badBearer = "bad_bearer"

    /// The message of the 401 answer.
    public var message: String {
        switch self {
        case .missingHeaders: "webhook-id, webhook-timestamp and webhook-signature are required"
        case .malformedTimestamp: "webhook-timestamp must be Unix seconds"
        case .staleTimestamp: "webhook-timestamp is more than 5 minutes from now"
        case .badSignature: "no webhook-signature matches"
        case .badBearer: "the bearer token does not match"
        }
    }
}

/// Verifies Standard Webhooks signatures: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed by the
/// base64 part of a `whsec_` secret, with timestamps within a tolerance and several signatures allowed.
public struct WebhookAuthenticator: Sendable {
    /// How far the timestamp may be from now: five minutes, per the specification.
    public var tolerance: TimeInterval = 300

    public init(tolerance: TimeInterval = 300) {
        self.tolerance = tolerance
    }

    /// Checks the `webhook-*` headers against `secret`.
    public func verify(
        id: String?, timestamp: String?, signatures: String?, body: some Collection<UInt8>, secret: String,
        now: Date = Date()
    ) -> Result<Void, WebhookAuthenticationFailure> {
        guard let id, !id.isEmpty, let timestamp, let signatures else { return .failure(.missingHeaders) }
        guard timestamp.utf8.count <= 12, let seconds = Int64(timestamp) else { return .failure(.malformedTimestamp) }
        guard abs(now.timeIntervalSince1970 - TimeInterval(seconds)) <= self.tolerance else {
            return .failure(.staleTimestamp)
        }
        guard let key = WebhookSecret.keyBytes(secret) else { return .failure(.badSignature) }
        let expected = Self.signature(id: id, timestamp: timestamp, body: body, key: key)
        // Several space-separated signatures may be sent, so that a secret can be rotated without downtime. The
        // header is split on bytes: split on Characters, a space after a prepending mark (U+070F) would not separate.
        let version = Array("v1,".utf8)
        for candidate in Array(signatures.utf8).split(separator: 0x20) {
            guard candidate.starts(with: version),
                let given = Data(base64Encoded: Data(candidate.dropFirst(version.count)))
            else { continue }
            if constantTimeEquals(Array(given), expected) { return .success(()) }
        }
        return .failure(.badSignature)
    }

    /// Checks `Authorization: Bearer <secret>`, for tenants that allow it.
    /// The scheme is matched byte by byte, ASCII case-insensitively, so that no Unicode folding or grapheme
    /// joining (a combining mark after the space) can move where the token starts.
    public func verifyBearer(_ authorization: String?, secret: String) -> Bool {
        guard let authorization else { return false }
        let given = Array(authorization.utf8)
        let scheme = Array("bearer ".utf8)
        guard given.count > scheme.count else { return false }
        for (byte, wanted) in zip(given, scheme) where byte != wanted {
            // Only the letters may differ, and only by ASCII case.
            guard (0x61...0x7A).contains(wanted), byte == wanted - 0x20 else { return false }
        }
        return constantTimeEquals(Array(given.dropFirst(scheme.count)), Array(secret.utf8))
    }

    /// The raw HMAC-SHA256 of `id.timestamp.body`.
    public static func signature(id: String, timestamp: String, body: some Collection<UInt8>, key: [UInt8]) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: key))
        hmac.update(data: Array("\(id).\(timestamp).".utf8))
        hmac.update(data: Array(body))
        return Array(hmac.finalize())
    }

    /// A `webhook-signature` header value for `body`, as a sender computes it.
    public static func sign(id: String, timestamp: String, body: some Collection<UInt8>, secret: String) -> String? {
        guard let key = WebhookSecret.keyBytes(secret) else { return nil }
        return "v1," + Data(Self.signature(id: id, timestamp: timestamp, body: body, key: key)).base64EncodedString()
    }
}

/// Compares two byte strings in time that depends only on their lengths, never on where they differ.
public func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    // The lengths' difference is kept whole: folded into a byte, lengths 256 apart would compare equal.
    var difference = lhs.count ^ rhs.count
    let count = max(lhs.count, rhs.count)
    for index in 0..<count {
        let left = index < lhs.count ? lhs[index] : 0
        let right = index < rhs.count ? rhs[index] : 0
        difference |= Int(left ^ right)
    }
    return difference == 0
}
