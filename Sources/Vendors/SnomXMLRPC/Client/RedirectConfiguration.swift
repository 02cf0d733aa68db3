import Foundation
import ProvisioningModel
import VendorHTTP

/// Where and how to reach the redirection service.
public struct RedirectConfiguration: Sendable {
    /// The production endpoint; its trailing slash is mandatory.
    public static let defaultEndpoint = "https://secure-provisioning.snom.com:8083/xmlrpc/"

    /// The XML-RPC endpoint, used exactly as given.
    public var endpoint: String
    /// The basic-auth user.
    public var user: String
    /// The basic-auth password. Never logged, never printed.
    public var password: String
    /// The trust roots, timeouts and pool. `allowsPlainHTTP` is `PROVHOOK_REDIRECT_ALLOW_HTTP`, which the settings
    /// and each Snom account's factory check (basic auth would send the password in clear); the client calls the
    /// endpoint it is given.
    public var connection: VendorConnection
    /// The largest answer accepted.
    public var maxResponseBytes: Int
    /// The largest answer accepted from `listPhones`, which lists every MAC of a model: about 60 bytes a MAC, so the
    /// default (32 MiB) holds half a million.
    public var maxListResponseBytes: Int

    public init(
        endpoint: String = Self.defaultEndpoint, user: String, password: String,
        connection: VendorConnection = VendorConnection(), maxResponseBytes: Int = 1 << 20,
        maxListResponseBytes: Int = 32 << 20
    ) {
        self.endpoint = endpoint
        self.user = user
        self.password = password
        self.connection = connection
        self.maxResponseBytes = maxResponseBytes
        self.maxListResponseBytes = max(maxResponseBytes, maxListResponseBytes)
    }

    /// Whether the endpoint is plain `http://`, where basic auth would send the password in clear.
    public var isPlainHTTP: Bool { self.endpoint.lowercased().hasPrefix("http://") }

    /// Checks the endpoint: an absolute `http` or `https` URL with a host and no credentials in it.
    public func validate() throws(RedirectConfigurationError) {
        _ = try ServiceURL(self.endpoint, credentials: "set PROVHOOK_REDIRECT_USER and the password instead") {
            RedirectConfigurationError.invalidEndpoint($0)
        }
        guard !self.user.isEmpty else { throw .missingCredentials }
        guard !self.user.contains(":") else { throw .invalidUser }
    }
}

extension RedirectConfiguration: SecretHolding {
    /// The endpoint and the user, never the password: a configuration printed by a log line or an error message
    /// (ServiceLifecycle logs its services at debug level) must not carry the secret along.
    public var description: String {
        "RedirectConfiguration(endpoint: \(self.endpoint), user: \(self.user), password: <redacted>)"
    }
}

/// Why the redirection settings cannot be used.
public enum RedirectConfigurationError: CAFileError, Sendable, Hashable, CustomStringConvertible {
    /// The endpoint is not usable.
    case invalidEndpoint(String)
    /// No user was given.
    case missingCredentials
    /// A basic-auth user cannot contain `:`.
    case invalidUser
    /// The CA file could not be read as PEM certificates.
    case unreadableCAFile(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidEndpoint(let reason): "PROVHOOK_REDIRECT_URL \(reason)"
        case .missingCredentials:
            "PROVHOOK_REDIRECT_USER and PROVHOOK_REDIRECT_PASSWORD (or PROVHOOK_REDIRECT_PASSWORD_FILE) are required"
        case .invalidUser: "PROVHOOK_REDIRECT_USER must not contain ':'"
        case .unreadableCAFile(let path, let reason): "cannot read PROVHOOK_REDIRECT_CA_FILE \(path): \(reason)"
        }
    }
}
