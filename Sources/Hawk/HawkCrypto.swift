import Crypto
import Foundation

/// A request body as Hawk hashes it: the content type without parameters, and the exact bytes sent.
public struct HawkPayload: Sendable, Hashable {
    /// The `Content-Type` header as sent, parameters included; `nil` when the request has none.
    public var contentType: String?
    /// The body bytes, exactly as sent on the wire.
    public var body: [UInt8]

    /// A payload from its content type and body bytes.
    public init(contentType: String?, body: [UInt8]) {
        self.contentType = contentType
        self.body = body
    }

    /// A payload from its content type and a UTF-8 text body.
    public init(contentType: String?, text: String) {
        self.init(contentType: contentType, body: Array(text.utf8))
    }

    /// The content type as Hawk hashes it: without parameters, trimmed, lowercased (mozilla/hawk `parseContentType`).
    public var normalizedContentType: String {
        guard let contentType = self.contentType else { return "" }
        let mediaType = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return mediaType.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// The `hash` attribute: base64(SHA-256("hawk.1.payload\n" + content type + "\n" + body + "\n")).
    public var hash: String {
        var hasher = SHA256()
        hasher.update(data: Array("hawk.1.payload\n\(self.normalizedContentType)\n".utf8))
        hasher.update(data: self.body)
        hasher.update(data: [UInt8(ascii: "\n")])
        return Data(hasher.finalize()).base64EncodedString()
    }
}

/// What a Hawk request MAC covers, as the client sends it and the server sees it (mozilla/hawk's "artifacts").
public struct HawkArtifacts: Sendable, Hashable {
    /// The HTTP method; the MAC covers it uppercased.
    public var method: String
    /// The path and query exactly as sent in the request line.
    public var resource: String
    /// The host name; the MAC covers it lowercased.
    public var host: String
    /// The port, explicit or the scheme's default.
    public var port: Int
    /// The timestamp exactly as written in the header (Unix seconds).
    public var timestamp: String
    /// The client's nonce.
    public var nonce: String
    /// The payload hash, when the request carries one.
    public var hash: String?
    /// Application data covered by the MAC.
    public var ext: String?
    /// Oz application id; covered by the MAC when present.
    public var app: String?
    /// Oz delegating application id; covered only together with `app`.
    public var dlg: String?

    /// Artifacts from their parts.
    public init(
        method: String, resource: String, host: String, port: Int, timestamp: String, nonce: String,
        hash: String? = nil, ext: String? = nil, app: String? = nil, dlg: String? = nil
    ) {
        self.method = method
        self.resource = resource
        self.host = host
        self.port = port
        self.timestamp = timestamp
        self.nonce = nonce
        self.hash = hash
        self.ext = ext
        self.app = app
        self.dlg = dlg
    }

    /// The normalized string of a `header` MAC (mozilla/hawk `generateNormalizedString`).
    public var normalizedString: String {
        var normalized =
            "hawk.1.header\n\(self.timestamp)\n\(self.nonce)\n\(self.method.uppercased())\n\(self.resource)\n"
            + "\(self.host.lowercased())\n\(self.port)\n\(self.hash ?? "")\n"
        // The reference escapes backslashes and newlines so that ext cannot forge the lines after it.
        if let ext = self.ext, !ext.isEmpty {
            normalized += ext.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
        }
        normalized += "\n"
        if let app = self.app, !app.isEmpty {
            normalized += "\(app)\n\(self.dlg ?? "")\n"
        }
        return normalized
    }

    /// The `mac` attribute: base64(HMAC-SHA256(key, normalized string)).
    public func mac(using credentials: HawkCredentials) -> String {
        HawkCrypto.hmac(Array(self.normalizedString.utf8), key: credentials.key)
    }
}

/// The primitives shared by the client and the server side.
enum HawkCrypto {
    /// base64(HMAC-SHA256(key, message)).
    static func hmac(_ message: [UInt8], key: SymmetricKey) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: message, using: key)).base64EncodedString()
    }

    /// The `tsm` of a stale-timestamp answer: base64(HMAC-SHA256(key, "hawk.1.ts\n" + ts + "\n")) (`calculateTsMac`).
    static func timestampMAC(_ timestamp: String, credentials: HawkCredentials) -> String {
        self.hmac(Array("hawk.1.ts\n\(timestamp)\n".utf8), key: credentials.key)
    }

    /// Compares two MACs in time that depends only on their lengths, as the reference's `fixedTimeComparison`.
    @inline(never)
    static func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices {
            difference |= left[index] ^ right[index]
        }
        return difference == 0
    }
}
