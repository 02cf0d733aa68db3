import Foundation

/// Why a request could not be signed, or a server's answer could not be read.
public enum HawkClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A scheme other than http or https, so no default port is known.
    case unsupportedScheme(String)
    /// A port outside 1...65535.
    case invalidPort(Int)
    /// An empty host, or one with characters that would break the normalized string.
    case invalidHost
    /// A path-and-query that does not start with `/` or holds a line break.
    case invalidResource
    /// A method that is empty or not a plain token.
    case invalidMethod
    /// `id`, `nonce` or `ext` holds a character that a Hawk header cannot carry; the value is not repeated.
    case invalidAttributeValue(name: String)
    /// The `WWW-Authenticate` answer is not a Hawk header the reference would write.
    case invalidWWWAuthenticate(HawkHeaderError)
    /// The answer carries no `ts` and `tsm`, so it says nothing about the server's clock.
    case missingServerTimestamp
    /// The `ts` attribute is not a number of seconds.
    case invalidServerTimestamp
    /// The `tsm` does not match `ts` under our key: the answer is not from a server that holds the key.
    case badServerTimestampMAC

    /// A message an operator understands; never holds the key.
    public var description: String {
        switch self {
        case .unsupportedScheme(let scheme): "Hawk: unsupported URL scheme \"\(scheme)\" (only http and https)"
        case .invalidPort(let port): "Hawk: port \(port) is outside 1...65535"
        case .invalidHost: "Hawk: the host is empty or holds whitespace or a line break"
        case .invalidResource: "Hawk: the path-and-query must start with \"/\" and hold no line break"
        case .invalidMethod: "Hawk: the HTTP method must be a non-empty token"
        case .invalidAttributeValue(let name): "Hawk: the \(name) holds a character a Hawk header cannot carry"
        case .invalidWWWAuthenticate(let error): "Hawk: invalid WWW-Authenticate header: \(error.message)"
        case .missingServerTimestamp: "Hawk: the WWW-Authenticate answer has no ts and tsm"
        case .invalidServerTimestamp: "Hawk: the server's ts is not a number of seconds"
        case .badServerTimestampMAC: "Hawk: the server's tsm does not match its ts (Invalid server timestamp hash)"
        }
    }
}

/// Where a request goes, as Hawk's MAC covers it: method, host, port and path-and-query.
public struct HawkRequestTarget: Sendable, Hashable {
    /// The HTTP method, such as `PUT`.
    public var method: String
    /// The host name as in the URL.
    public var host: String
    /// The port, explicit or the scheme's default.
    public var port: Int
    /// The path and query exactly as sent in the request line, such as `/api/v1/endpoints/000413aabbcc`.
    public var resource: String

    /// A target with an explicit port.
    public init(method: String, host: String, port: Int, resource: String) {
        self.method = method
        self.host = host
        self.port = port
        self.resource = resource
    }

    /// A target from URL parts; without a port, https means 443 and http means 80.
    public init(
        method: String, scheme: String, host: String, port: Int? = nil, resource: String
    ) throws(HawkClientError) {
        let defaultPort: Int
        switch scheme.lowercased() {
        case "https": defaultPort = 443
        case "http": defaultPort = 80
        default: throw .unsupportedScheme(scheme)
        }
        self.init(method: method, host: host, port: port ?? defaultPort, resource: resource)
    }

    /// Refuses a target whose parts would make the normalized string ambiguous.
    func validate() throws(HawkClientError) {
        guard !self.method.isEmpty, isToken(self.method) else { throw .invalidMethod }
        guard !self.host.isEmpty, !self.host.unicodeScalars.contains(where: isWhitespace) else { throw .invalidHost }
        guard (1...65535).contains(self.port) else { throw .invalidPort(self.port) }
        guard self.resource.hasPrefix("/"), !self.resource.unicodeScalars.contains(where: isLineTerminator) else {
            throw .invalidResource
        }
    }
}

/// An HTTP token (RFC 9110): the characters a method may hold.
private func isToken(_ text: String) -> Bool {
    text.unicodeScalars.allSatisfy { isWordCharacter($0) || "!#$%&'*+-.^`|~".unicodeScalars.contains($0) }
}

/// Signs requests: builds the `Authorization` header value of Hawk 1 (mozilla/hawk `client.header`).
public enum HawkClient {
    /// The `Authorization` header value for a request, with the given timestamp and nonce.
    ///
    /// `hash` is sent only with a payload, `ext` only when given and not empty, in the reference's order:
    /// `Hawk id="…", ts="…", nonce="…", hash="…", ext="…", mac="…"`.
    public static func authorization(
        for target: HawkRequestTarget, credentials: HawkCredentials, timestamp: Int64, nonce: String,
        payload: HawkPayload? = nil, ext: String? = nil
    ) throws(HawkClientError) -> String {
        try target.validate()
        try self.checkAttribute(credentials.id, name: "id")
        try self.checkAttribute(nonce, name: "nonce")
        let ext = ext.flatMap { $0.isEmpty ? nil : $0 }
        if let ext { try self.checkAttribute(ext, name: "ext") }
        let artifacts = HawkArtifacts(
            method: target.method, resource: target.resource, host: target.host, port: target.port,
            timestamp: String(timestamp), nonce: nonce, hash: payload?.hash, ext: ext)
        var header = "Hawk id=\"\(credentials.id)\", ts=\"\(timestamp)\", nonce=\"\(nonce)\""
        if let hash = artifacts.hash { header += ", hash=\"\(hash)\"" }
        if let ext { header += ", ext=\"\(ext)\"" }
        header += ", mac=\"\(artifacts.mac(using: credentials))\""
        return header
    }

    /// The `Authorization` header value for a request sent now, with a fresh random nonce.
    public static func authorization(
        for target: HawkRequestTarget, credentials: HawkCredentials, payload: HawkPayload? = nil,
        ext: String? = nil, now: Date = Date()
    ) throws(HawkClientError) -> String {
        try self.authorization(
            for: target, credentials: credentials, timestamp: Int64(now.timeIntervalSince1970.rounded(.down)),
            nonce: self.makeNonce(), payload: payload, ext: ext)
    }

    /// A random nonce: 9 random bytes in base64url, 12 characters (the reference sends 6 such characters).
    public static func makeNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<9).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
    }

    /// Refuses a value that the reference's parser would refuse, so a signed header is always readable.
    private static func checkAttribute(_ value: String, name: String) throws(HawkClientError) {
        guard !value.isEmpty, value.unicodeScalars.allSatisfy(isAttributeValueCharacter) else {
            throw .invalidAttributeValue(name: name)
        }
    }
}
