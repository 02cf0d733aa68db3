/// Why a call to a provisioning (redirection) service produced no answer from the service itself, whichever vendor's
/// it is: transport, HTTP status, a malformed answer or a protocol fault.
///
/// No case ever carries the password: descriptions are built from status codes and library errors only.
public enum RedirectError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Which deadline passed.
    public enum TimeoutPhase: String, Sendable, Hashable {
        case connect, tlsHandshake = "TLS handshake", response
    }

    /// A deadline passed before the service answered.
    case timeout(TimeoutPhase)
    /// TLS failed: an untrusted or mismatched certificate, or a failed handshake.
    case tls(String)
    /// The connection could not be made, or was lost.
    case connection(String)
    /// HTTP 401 or 403: the credentials were refused; with `clockOffsetSeconds` when the service said our timestamp
    /// is stale and proved it with the key (Hawk's `tsm`): the service's clock minus ours, in seconds.
    case authenticationFailed(status: Int, clockOffsetSeconds: Int? = nil)
    /// HTTP 429, with the server's `Retry-After` in seconds (at most a day) when given and well-formed.
    case rateLimited(retryAfterSeconds: Int?)
    /// HTTP 5xx.
    case serverError(status: Int)
    /// Any other HTTP status.
    case unexpectedStatus(Int)
    /// The answer was larger than the cap.
    case responseTooLarge(limit: Int)
    /// The answer was not a valid XML-RPC response of the expected shape.
    case invalidResponse(String)
    /// The service refused the call with a fault of its protocol (XML-RPC's `<fault>`, …), as that protocol describes
    /// it, for example `XML-RPC fault 4: Too many parameters`.
    case fault(String)
    /// The request could not be built, for example a URL with characters XML cannot carry.
    case invalidRequest(String)
    /// The call was cancelled, for example at shutdown.
    case cancelled

    /// Whether the same call may succeed later: transport errors, timeouts, 5xx and 429.
    public var isTransient: Bool {
        switch self {
        case .timeout, .connection, .rateLimited, .serverError, .tls: true
        case .authenticationFailed, .unexpectedStatus, .responseTooLarge, .invalidResponse, .fault,
            .invalidRequest, .cancelled:
            false
        }
    }

    /// A short stable name, for metrics labels and the journal.
    public var kind: String {
        switch self {
        case .timeout: "timeout"
        case .tls: "tls"
        case .connection: "connection"
        case .authenticationFailed: "auth"
        case .rateLimited: "rate_limited"
        case .serverError: "http_5xx"
        case .unexpectedStatus: "http_status"
        case .responseTooLarge: "too_large"
        case .invalidResponse: "invalid_response"
        case .fault: "fault"
        case .invalidRequest: "invalid_request"
        case .cancelled: "cancelled"
        }
    }

    public var description: String {
        switch self {
        case .timeout(let phase): "redirection service timed out (\(phase.rawValue))"
        case .tls(let detail): "TLS failure talking to the redirection service: \(detail)"
        case .connection(let detail): "cannot reach the redirection service: \(detail)"
        case .authenticationFailed(let status, clockOffsetSeconds: nil):
            "redirection service refused the credentials (HTTP \(status)); check the account's user and password "
                + "(PROVHOOK_REDIRECT_USER for the default account) or its SRAPS API key"
        case .authenticationFailed(let status, clockOffsetSeconds: let offset?):
            "redirection service refused the request's timestamp as stale (HTTP \(status)): this machine's clock is "
                + "\(abs(offset)) s \(offset > 0 ? "behind" : "ahead of") the service's; set the clock (NTP)"
        case .rateLimited(let seconds):
            "redirection service is rate limiting (HTTP 429)" + (seconds.map { "; retry after \($0) s" } ?? "")
        case .serverError(let status): "redirection service failed (HTTP \(status))"
        case .unexpectedStatus(let status):
            status == 404
                ? "redirection service answered HTTP 404; check the endpoint, whose trailing slash is mandatory"
                : "redirection service answered HTTP \(status)"
        case .responseTooLarge(let limit): "redirection service answer exceeds \(limit) bytes"
        case .invalidResponse(let detail): "redirection service sent an invalid answer: \(detail)"
        case .fault(let fault): "redirection service answered with \(fault)"
        case .invalidRequest(let detail): "cannot build the request: \(detail)"
        case .cancelled: "the call was cancelled"
        }
    }
}
