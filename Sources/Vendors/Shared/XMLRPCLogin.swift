import AsyncHTTPClient
import Logging
import ProvisioningModel

/// Where and how to reach a vendor's XML-RPC service with basic auth, for one account: what the XML-RPC services
/// after Snom's share (Panasonic's, and the Yealink-style ones), each client adding only what its service has more.
public struct XMLRPCLogin: Sendable {
    /// The XML-RPC endpoint, used exactly as given.
    public var endpoint: String
    /// The account's basic-auth user.
    public var user: String
    /// Its password. Never logged, never printed.
    public var password: String
    /// The trust roots, timeouts and pool; `http://` only for a local stand-in, since basic auth would send the
    /// password in clear.
    public var connection: VendorConnection
    /// The largest answer accepted.
    public var maxResponseBytes: Int

    public init(
        endpoint: String, user: String, password: String, connection: VendorConnection = VendorConnection(),
        maxResponseBytes: Int = 64 << 10
    ) {
        self.endpoint = endpoint
        self.user = user
        self.password = password
        self.connection = connection
        self.maxResponseBytes = maxResponseBytes
    }

    /// Checks the endpoint (absolute, no credentials in it, https unless `allowsPlainHTTP`) and the user; `service`
    /// names the service in the error ("the Panasonic endpoint …"), and `plainHTTPNote` says, for a service that
    /// publishes an `http://` endpoint, why the opt-in is needed all the same.
    public func validate(service: String, plainHTTPNote: String? = nil) throws(XMLRPCLoginError) {
        let url = try ServiceURL(self.endpoint, credentials: "give them to the account") {
            XMLRPCLoginError.invalidEndpoint(service, $0)
        }
        if url.scheme == "http", !self.connection.allowsPlainHTTP {
            let why = plainHTTPNote.map { "\($0); " } ?? ""
            throw .invalidEndpoint(
                service,
                "is http://, which would send the password in clear; \(why)use https://, or set PROVHOOK_REDIRECT_ALLOW_HTTP=1 to allow it"
            )
        }
        guard !self.user.isEmpty, !self.user.contains(":") else { throw .invalidUser(service) }
    }
}

extension XMLRPCLogin: SecretHolding {
    /// The endpoint and the user, never the password.
    public var description: String {
        "XMLRPCLogin(endpoint: \(self.endpoint), user: \(self.user), password: <redacted>)"
    }
}

/// Why an XML-RPC account's settings cannot be used; each names the service.
public enum XMLRPCLoginError: CAFileError, Sendable, Hashable, CustomStringConvertible {
    /// The endpoint is not usable.
    case invalidEndpoint(String, String)
    /// The user is empty or holds ':', which basic auth cannot carry.
    case invalidUser(String)
    /// The CA file could not be read as PEM certificates.
    case unreadableCAFile(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidEndpoint(let service, let reason): "the \(service) endpoint \(reason)"
        case .invalidUser(let service): "a \(service) user must be non-empty and without ':'"
        case .unreadableCAFile(let path, let reason): "cannot read the CA file \(path): \(reason)"
        }
    }
}

extension XMLRPCEndpoint {
    /// An endpoint for `login` (its URL, credentials and call deadline) that sends through `httpClient`, which the
    /// caller owns and shuts down.
    public init(login: XMLRPCLogin, httpClient: HTTPClient, logger: Logger) {
        self.init(
            url: login.endpoint, user: login.user, password: login.password, httpClient: httpClient,
            callDeadline: login.connection.callDeadline, logger: logger)
    }

    /// An endpoint for `login` with an HTTP connection pool of its own, after checking `login`, and the function that
    /// closes that pool once the endpoint is no longer used: what each account of an XML-RPC service gets.
    public static func withOwnPool(
        login: XMLRPCLogin, service: String, plainHTTPNote: String? = nil, logger: Logger
    ) throws(XMLRPCLoginError) -> (endpoint: XMLRPCEndpoint, close: @Sendable () async -> Void) {
        try login.validate(service: service, plainHTTPNote: plainHTTPNote)
        let (endpoint, close) = try VendorHTTP.withOwnPool(login.connection) {
            (httpClient) throws(XMLRPCLoginError) in
            XMLRPCEndpoint(login: login, httpClient: httpClient, logger: logger)
        }
        return (endpoint, close)
    }
}
