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
    /// An extra PEM file of trust roots, added to the system's.
    public var caFile: String?
    /// Whether an `http://` endpoint may be called (a local stand-in); basic auth would send the password in clear.
    public var allowsPlainHTTP: Bool
    /// How long to wait for a TCP connection.
    public var connectTimeout: Duration
    /// How long to wait for the whole answer once the request is sent.
    public var readTimeout: Duration
    /// The largest answer accepted.
    public var maxResponseBytes: Int
    /// Connections kept per host; matches the worker's concurrency.
    public var maxConnections: Int

    public init(
        endpoint: String, user: String, password: String, caFile: String? = nil, allowsPlainHTTP: Bool = false,
        connectTimeout: Duration = .seconds(10), readTimeout: Duration = .seconds(30),
        maxResponseBytes: Int = 64 << 10, maxConnections: Int = 8
    ) {
        self.endpoint = endpoint
        self.user = user
        self.password = password
        self.caFile = caFile
        self.allowsPlainHTTP = allowsPlainHTTP
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.maxResponseBytes = maxResponseBytes
        self.maxConnections = maxConnections
    }

    /// The longest one call may take, answer included.
    public var callDeadline: Duration { self.connectTimeout + self.readTimeout }

    /// Checks the endpoint (absolute, no credentials in it, https unless `allowsPlainHTTP`) and the user; `service`
    /// names the service in the error ("the Panasonic endpoint …"), and `plainHTTPNote` says, for a service that
    /// publishes an `http://` endpoint, why the opt-in is needed all the same.
    public func validate(service: String, plainHTTPNote: String? = nil) throws(XMLRPCLoginError) {
        let url: ServiceURL
        do {
            url = try ServiceURL(self.endpoint)
        } catch {
            switch error {
            case .notAbsoluteHTTP: throw .invalidEndpoint(service, "must be an absolute http or https URL")
            case .holdsCredentials:
                throw .invalidEndpoint(service, "must not hold credentials; give them to the account")
            }
        }
        if url.scheme == "http", !self.allowsPlainHTTP {
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

extension XMLRPCLogin: VendorHTTPSettings {}

/// Why an XML-RPC account's settings cannot be used; each names the service.
public enum XMLRPCLoginError: Error, Sendable, Hashable, CustomStringConvertible {
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
            callDeadline: login.callDeadline, logger: logger)
    }

    /// An endpoint for `login` with an HTTP connection pool of its own, after checking `login`, and the function that
    /// closes that pool once the endpoint is no longer used: what each account of an XML-RPC service gets.
    public static func withOwnPool(
        login: XMLRPCLogin, service: String, plainHTTPNote: String? = nil, logger: Logger
    ) throws(XMLRPCLoginError) -> (endpoint: XMLRPCEndpoint, close: @Sendable () async -> Void) {
        try login.validate(service: service, plainHTTPNote: plainHTTPNote)
        let httpClient: HTTPClient
        do { httpClient = try VendorHTTP.makeClient(for: login) } catch {
            throw .unreadableCAFile(path: error.path, reason: error.reason)
        }
        return (
            XMLRPCEndpoint(login: login, httpClient: httpClient, logger: logger), { try? await httpClient.shutdown() }
        )
    }
}
