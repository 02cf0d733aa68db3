import ProvisioningModel
import VendorHTTP

/// Where and how to reach Yealink's YMCS (device management cloud, API v2) for one account: an OAuth client.
public struct YMCSConfiguration: Sendable {
    /// YMCS's regions and their API roots.
    public static let regions: [String: String] = [
        "us": "https://us-api.ymcs.yealink.com/", "eu": "https://eu-api.ymcs.yealink.com/",
        "au": "https://au-api.ymcs.yealink.com/",
    ]
    /// The most MACs one `addDevicesByMac` may carry.
    public static let maxBatchSize = 100

    /// The API root, ending in '/': `v2/token`, `v2/rps/…` are resolved against it.
    public var baseURL: String
    /// The OAuth client's id (YMCS's AccessKey ID).
    public var clientID: String
    /// The OAuth client's secret. Never logged, never printed.
    public var clientSecret: String
    /// Whether phones are registered by serial number (the account is not enabled for MAC-only registration).
    public var serialRequired: Bool
    /// The trust roots, timeouts and pool; an `http://` root only for a local stand-in, since it would send the
    /// secret in clear.
    public var connection: VendorConnection
    /// The largest answer accepted (a page of `listDevices`, 100 devices, is a few tens of kilobytes).
    public var maxResponseBytes: Int
    /// Devices asked for per page of `listDevices`.
    public var pageSize: Int

    public init(
        baseURL: String, clientID: String, clientSecret: String, serialRequired: Bool = false,
        connection: VendorConnection = VendorConnection(), maxResponseBytes: Int = 4 << 20, pageSize: Int = 100
    ) {
        self.baseURL = baseURL
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.serialRequired = serialRequired
        self.connection = connection
        self.maxResponseBytes = maxResponseBytes
        self.pageSize = pageSize
    }

    /// Checks the root (absolute, ending in '/', no query, no credentials, https unless allowed) and the client id.
    public func validate() throws(YMCSConfigurationError) {
        let url = try ServiceURL(self.baseURL, credentials: "the client id and secret go to the account") {
            YMCSConfigurationError.invalidBaseURL($0)
        }
        guard url.path.hasSuffix("/"), !url.hasQueryOrFragment else {
            throw .invalidBaseURL("must end with '/' and have no query, like https://eu-api.ymcs.yealink.com/")
        }
        if url.scheme == "http", !self.connection.allowsPlainHTTP {
            throw .invalidBaseURL(
                "is http://, which would send the client secret in clear; use https://, or set PROVHOOK_REDIRECT_ALLOW_HTTP=1 for a local stand-in"
            )
        }
        guard !self.clientID.isEmpty, !self.clientID.contains(":") else { throw .invalidClientID }
    }
}

extension YMCSConfiguration: SecretHolding {
    /// The root and the client id, never the secret.
    public var description: String {
        "YMCSConfiguration(baseURL: \(self.baseURL), clientID: \(self.clientID), clientSecret: <redacted>)"
    }
}

/// Why a YMCS account's settings cannot be used.
public enum YMCSConfigurationError: CAFileError, Sendable, Hashable, CustomStringConvertible {
    case invalidBaseURL(String)
    case invalidClientID
    case unreadableCAFile(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidBaseURL(let reason): "the YMCS URL \(reason)"
        case .invalidClientID: "a YMCS client id must be non-empty and without ':'"
        case .unreadableCAFile(let path, let reason): "cannot read the CA file \(path): \(reason)"
        }
    }
}
