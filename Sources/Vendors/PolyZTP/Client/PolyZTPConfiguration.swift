import ProvisioningModel
import VendorHTTP

/// Where and how to reach Poly's Zero Touch Provisioning (ZTP) API with one account's API key.
public struct PolyZTPConfiguration: Sendable {
    /// The production API root (fspbx's `Http::polycom()` base), without a trailing slash: every path, such as
    /// `/devices`, is appended to it.
    public static let defaultBaseURL = "https://api.ztp.poly.com/v1"

    /// The API root, such as `https://api.ztp.poly.com/v1`; a trailing slash is dropped.
    public var baseURL: String
    /// The API key, sent as the `API-KEY` header: the whole credential. Never logged, never printed.
    public var apiKey: String
    /// The profile an operator named (`account --profile ID`): every phone is assigned to it, and provhook never
    /// creates or changes a profile. Nil: provhook keeps one profile of its own per provisioning server.
    public var profile: String?
    /// The trust roots, timeouts and pool; `http://` only for a local stand-in, since the API key would travel in
    /// clear.
    public var connection: VendorConnection
    /// The largest answer accepted for one device or profile.
    public var maxResponseBytes: Int
    /// The largest page accepted from `GET /devices` or `GET /profiles`.
    public var maxPageBytes: Int
    /// Devices asked per page of `GET /devices` (`limit`): fspbx's own default.
    public var pageSize: Int
    /// The most pages read from one listing, so that a cursor loop cannot hold a call for ever.
    public var maxPages: Int

    /// Settings for one API key; the defaults are the production URL and the other clients' timeouts.
    public init(
        baseURL: String = Self.defaultBaseURL, apiKey: String, profile: String? = nil,
        connection: VendorConnection = VendorConnection(), maxResponseBytes: Int = 1 << 20,
        maxPageBytes: Int = 8 << 20, pageSize: Int = 50, maxPages: Int = 10_000
    ) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.profile = profile
        self.connection = connection
        self.maxResponseBytes = maxResponseBytes
        self.maxPageBytes = max(maxResponseBytes, maxPageBytes)
        self.pageSize = max(1, pageSize)
        self.maxPages = max(1, maxPages)
    }

    /// The API root without its trailing slashes, to which paths beginning with `/` are appended.
    var root: String {
        var root = Substring(self.baseURL)
        while root.hasSuffix("/") { root = root.dropLast() }
        return String(root)
    }

    /// Checks the URL (absolute, https unless allowed, no credentials, query or fragment), the key (visible ASCII,
    /// what a header can carry) and the profile id (the admin API's pattern: letters, digits and `_.:-`).
    public func validate() throws(PolyZTPConfigurationError) {
        let url = try ServiceURL(
            self.baseURL, example: Self.defaultBaseURL, credentials: "the API key is sent as a header"
        ) { PolyZTPConfigurationError.invalidBaseURL($0) }
        guard url.scheme == "https" || self.connection.allowsPlainHTTP else {
            throw .invalidBaseURL(
                "must use https (plain http, which would send the API key in clear, is allowed only for a local stand-in)"
            )
        }
        guard !url.hasQueryOrFragment else { throw .invalidBaseURL("must not have a query or a fragment") }
        guard !self.apiKey.isEmpty else { throw .missingKey }
        guard self.apiKey.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) else { throw .invalidKey }
        if let profile {
            let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:".unicodeScalars)
            guard !profile.isEmpty, profile.count <= 128, profile.unicodeScalars.allSatisfy(allowed.contains) else {
                throw .invalidProfile
            }
        }
    }
}

extension PolyZTPConfiguration: SecretHolding {
    /// The URL and the profile, never the key: a configuration printed by a log line or an error message must not
    /// carry it along.
    public var description: String {
        "PolyZTPConfiguration(baseURL: \(self.baseURL), profile: \(self.profile ?? "<provhook's own>"), apiKey: <redacted>)"
    }
}

/// Why Poly ZTP settings cannot be used. No case holds the API key.
public enum PolyZTPConfigurationError: CAFileError, Sendable, Hashable, CustomStringConvertible {
    /// The base URL is not usable.
    case invalidBaseURL(String)
    /// The API key is empty.
    case missingKey
    /// The API key holds spaces, control or non-ASCII characters, which an HTTP header cannot carry as they are.
    case invalidKey
    /// The profile id is empty, longer than 128 characters, or holds characters other than letters, digits and `_.:-`.
    case invalidProfile
    /// The CA file could not be read as PEM certificates.
    case unreadableCAFile(path: String, reason: String)

    /// What is wrong, for an operator.
    public var description: String {
        switch self {
        case .invalidBaseURL(let reason): "the Poly ZTP URL \(reason)"
        case .missingKey: "a Poly ZTP account needs its API key (--api-key-file)"
        case .invalidKey: "the Poly ZTP API key may hold only visible ASCII characters (no spaces)"
        case .invalidProfile: "a Poly ZTP profile id is 1 to 128 letters, digits and _.:-"
        case .unreadableCAFile(let path, let reason): "cannot read the Poly ZTP CA file \(path): \(reason)"
        }
    }
}
