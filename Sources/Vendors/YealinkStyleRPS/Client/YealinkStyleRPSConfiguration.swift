import ProvisioningModel
import VendorHTTP

/// Where and how to reach one account of a Yealink-style RPS (Htek's, Akuvox's) over XML-RPC.
public struct YealinkStyleRPSConfiguration: Sendable {
    /// Which vendor's service.
    public var dialect: RPSDialect
    /// The XML-RPC endpoint, used exactly as given (query included: Akuvox's is `…/fcgi/do?id=1`).
    public var endpoint: String
    /// The account's basic-auth user.
    public var user: String
    /// Its password. Never logged, never printed.
    public var password: String
    /// Whether registrations take a MAC another account holds (the service's `isOverride`).
    public var override: Bool
    /// An extra PEM file of trust roots, added to the system's.
    public var caFile: String?
    /// Whether an `http://` endpoint may be called; basic auth would send the password in clear.
    public var allowsPlainHTTP: Bool
    /// How long to wait for a TCP connection.
    public var connectTimeout: Duration
    /// How long to wait for the whole answer once the request is sent.
    public var readTimeout: Duration
    /// The largest answer accepted: every answer is a flag and a line of text.
    public var maxResponseBytes: Int
    /// Connections kept per host; matches the worker's concurrency.
    public var maxConnections: Int

    /// An account of `dialect`'s service; `endpoint` nil is the vendor's published one.
    public init(
        dialect: RPSDialect, endpoint: String? = nil, user: String, password: String, override: Bool = false,
        caFile: String? = nil, allowsPlainHTTP: Bool = false, connectTimeout: Duration = .seconds(10),
        readTimeout: Duration = .seconds(30), maxResponseBytes: Int = 64 << 10, maxConnections: Int = 8
    ) {
        self.dialect = dialect
        self.endpoint = endpoint ?? dialect.defaultEndpoint
        self.user = user
        self.password = password
        self.override = override
        self.caFile = caFile
        self.allowsPlainHTTP = allowsPlainHTTP
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.maxResponseBytes = maxResponseBytes
        self.maxConnections = maxConnections
    }

    /// The longest one call may take, answer included.
    public var callDeadline: Duration { self.connectTimeout + self.readTimeout }

    /// Checks the endpoint (absolute, no credentials in it, https unless `allowsPlainHTTP`) and the user.
    public func validate() throws(YealinkStyleRPSConfigurationError) {
        let url: ServiceURL
        do {
            url = try ServiceURL(self.endpoint)
        } catch {
            switch error {
            case .notAbsoluteHTTP: throw .invalidEndpoint(self.dialect.name, "must be an absolute http or https URL")
            case .holdsCredentials:
                throw .invalidEndpoint(self.dialect.name, "must not hold credentials; give them to the account")
            }
        }
        if url.scheme == "http", !self.allowsPlainHTTP {
            let why = self.dialect.plainHTTPNote.map { "\($0); " } ?? ""
            throw .invalidEndpoint(
                self.dialect.name,
                "is http://, which would send the password in clear; \(why)use https://, or accept it with PROVHOOK_REDIRECT_ALLOW_HTTP=1"
            )
        }
        guard !self.user.isEmpty, !self.user.contains(":") else { throw .invalidUser(self.dialect.name) }
    }
}

extension YealinkStyleRPSConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    /// The service, endpoint and user, never the password.
    public var description: String {
        "YealinkStyleRPSConfiguration(\(self.dialect.kind), endpoint: \(self.endpoint), user: \(self.user), password: <redacted>)"
    }

    public var debugDescription: String { self.description }
}

extension YealinkStyleRPSConfiguration: VendorHTTPSettings {}

/// Why an account's settings cannot be used; each case names the service.
public enum YealinkStyleRPSConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
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
