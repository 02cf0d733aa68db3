/// Why a server refused a Hawk request, with the HTTP answer mozilla/hawk's `server.authenticate` gives.
public enum HawkAuthenticationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No `Authorization` header, or one of another scheme: 401 with `WWW-Authenticate: Hawk` and no error.
    case missingAuthentication
    /// A header the reference's parser refuses: 400.
    case invalidHeader(HawkHeaderError)
    /// A header without id, ts, nonce or mac: 400.
    case missingAttributes
    /// The Host header cannot be read: 400.
    case invalidHostHeader
    /// No credentials have this id: 401.
    case unknownCredentials
    /// The caller's credentials lookup threw: 500, as the reference passes the error on.
    case credentialsLookupFailed(String)
    /// The MAC does not match the request: 401.
    case badMAC
    /// Payload validation is required and the request has no `hash`: 401.
    case missingPayloadHash
    /// The `hash` does not match the body and content type: 401.
    case badPayloadHash
    /// The nonce was already used with this id and ts, or the replay cache is full: 401.
    case invalidNonce
    /// The timestamp is outside the skew: 401 with the server's time and its MAC, so the client can correct.
    case staleTimestamp(serverTimestamp: Int64, tsm: String)

    /// The HTTP status to answer with.
    public var statusCode: Int {
        switch self {
        case .invalidHeader, .missingAttributes, .invalidHostHeader: 400
        case .credentialsLookupFailed: 500
        case .missingAuthentication, .unknownCredentials, .badMAC, .missingPayloadHash, .badPayloadHash,
            .invalidNonce, .staleTimestamp:
            401
        }
    }

    /// The reference's message (Boom's `message`).
    public var message: String {
        switch self {
        case .missingAuthentication: "Missing authentication"
        case .invalidHeader(let error): error.message
        case .missingAttributes: "Missing attributes"
        case .invalidHostHeader: "Invalid Host header"
        case .unknownCredentials: "Unknown credentials"
        case .credentialsLookupFailed: "An internal server error occurred"
        case .badMAC: "Bad mac"
        case .missingPayloadHash: "Missing required payload hash"
        case .badPayloadHash: "Bad payload hash"
        case .invalidNonce: "Invalid nonce"
        case .staleTimestamp: "Stale timestamp"
        }
    }

    /// The `WWW-Authenticate` value of a 401, as Boom writes it; `nil` for the other statuses.
    public var wwwAuthenticate: String? {
        switch self {
        case .missingAuthentication: "Hawk"
        case .staleTimestamp(let serverTimestamp, let tsm):
            "Hawk ts=\"\(serverTimestamp)\", tsm=\"\(tsm)\", error=\"Stale timestamp\""
        case .unknownCredentials, .badMAC, .missingPayloadHash, .badPayloadHash, .invalidNonce:
            "Hawk error=\"\(self.message)\""
        case .invalidHeader, .missingAttributes, .invalidHostHeader, .credentialsLookupFailed: nil
        }
    }

    /// Status and message for an operator; the lookup's own error is kept for the log, the key never appears.
    public var description: String {
        switch self {
        case .credentialsLookupFailed(let reason): "Hawk: \(self.statusCode) credentials lookup failed: \(reason)"
        default: "Hawk: \(self.statusCode) \(self.message)"
        }
    }
}
