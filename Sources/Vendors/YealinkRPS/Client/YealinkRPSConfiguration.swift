import ProvisioningModel
import VendorHTTP

/// Where and how to reach Yealink's RPS (redirection and provisioning service) over XML-RPC, for one account.
public struct YealinkRPSConfiguration: Sendable {
    /// The production endpoint, as falconieri and ngcp-panel call it (no trailing slash).
    public static let defaultEndpoint = "https://api-dm.yealink.com:8443/xmlrpc"
    /// The server name provhook registers MACs under: RPS takes `A-z 0-9 - _ .` and spaces, and clients keep it
    /// within 20 characters.
    public static let serverName = "provhook"

    /// The XML-RPC endpoint, used exactly as given.
    public var endpoint: String
    /// The RPS account's basic-auth user.
    public var user: String
    /// Its password. Never logged, never printed.
    public var password: String
    /// Whether registrations take a MAC another RPS account holds (the service's `override` flag).
    public var override: Bool
    /// An extra PEM file of trust roots, added to the system's.
    public var caFile: String?
    /// Whether an `http://` endpoint may be called (a local stand-in); basic auth would send the password in clear.
    public var allowsPlainHTTP: Bool
    /// How long to wait for a TCP connection.
    public var connectTimeout: Duration
    /// How long to wait for the whole answer once the request is sent.
    public var readTimeout: Duration
    /// The largest answer accepted: every RPS answer is a flag and a line of text.
    public var maxResponseBytes: Int
    /// Connections kept per host; matches the worker's concurrency.
    public var maxConnections: Int

    public init(
        endpoint: String = Self.defaultEndpoint, user: String, password: String, override: Bool = false,
        caFile: String? = nil, allowsPlainHTTP: Bool = false, connectTimeout: Duration = .seconds(10),
        readTimeout: Duration = .seconds(30), maxResponseBytes: Int = 64 << 10, maxConnections: Int = 8
    ) {
        self.endpoint = endpoint
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
    public func validate() throws(YealinkRPSConfigurationError) {
        let url: ServiceURL
        do {
            url = try ServiceURL(self.endpoint)
        } catch {
            switch error {
            case .notAbsoluteHTTP: throw .invalidEndpoint("must be an absolute http or https URL")
            case .holdsCredentials: throw .invalidEndpoint("must not hold credentials; give them to the account")
            }
        }
        if url.scheme == "http", !self.allowsPlainHTTP {
            throw .invalidEndpoint(
                "is http://, which would send the password in clear; use https://, or set PROVHOOK_REDIRECT_ALLOW_HTTP=1 for a local stand-in"
            )
        }
        guard !self.user.isEmpty, !self.user.contains(":") else { throw .invalidUser }
    }
}

extension YealinkRPSConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    /// The endpoint and the user, never the password.
    public var description: String {
        "YealinkRPSConfiguration(endpoint: \(self.endpoint), user: \(self.user), password: <redacted>)"
    }

    public var debugDescription: String { self.description }
}

extension YealinkRPSConfiguration: VendorHTTPSettings {}

/// Why an RPS account's settings cannot be used.
public enum YealinkRPSConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The endpoint is not usable.
    case invalidEndpoint(String)
    /// The user is empty or holds ':', which basic auth cannot carry.
    case invalidUser
    /// The CA file could not be read as PEM certificates.
    case unreadableCAFile(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidEndpoint(let reason): "the Yealink RPS endpoint \(reason)"
        case .invalidUser: "a Yealink RPS user must be non-empty and without ':'"
        case .unreadableCAFile(let path, let reason): "cannot read the CA file \(path): \(reason)"
        }
    }
}
