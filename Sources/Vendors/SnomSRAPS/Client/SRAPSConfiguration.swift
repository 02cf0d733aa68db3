import Foundation
import ProvisioningModel
import VendorHTTP

/// Where and how to reach Snom's SRAPS API with one account's API key.
public struct SRAPSConfiguration: Sendable {
    /// The production API root; its trailing slash is mandatory, since every path is appended to it.
    public static let defaultBaseURL = SRAPSService.snom.defaultBaseURL

    /// Which service of the family: Snom's SRAPS, or Gigaset's GRAPE.
    public var service: SRAPSService
    /// The API root, such as `https://api.sraps.snom.com/api/v1/`.
    public var baseURL: String
    /// The API key's *Access Key ID*: Hawk's `id`, and the `tokens/{id}` resource.
    public var keyID: String
    /// The API key's *Access Key Secret*: Hawk's key. Never logged, never printed.
    public var keySecret: String
    /// The trust roots, timeouts and pool; `http://` only for stand-ins on loopback: Hawk never sends the key, but
    /// plain HTTP exposes every request and answer.
    public var connection: VendorConnection
    /// The largest answer accepted for one resource.
    public var maxResponseBytes: Int
    /// The largest page accepted from a collection (`settings/`, `endpoints/`): over 1,100 settings exist, and a
    /// page of 1,000 settings or endpoints is a few hundred KiB.
    public var maxPageBytes: Int
    /// The most pages read from one collection, so that a `Link` loop cannot hold a call for ever.
    public var maxPages: Int

    /// Settings for one API key; the defaults are the production URL and the XML-RPC client's timeouts.
    public init(
        service: SRAPSService = .snom, baseURL: String? = nil, keyID: String, keySecret: String,
        connection: VendorConnection = VendorConnection(), maxResponseBytes: Int = 1 << 20,
        maxPageBytes: Int = 8 << 20, maxPages: Int = 1000
    ) {
        self.service = service
        self.baseURL = baseURL ?? service.defaultBaseURL
        self.keyID = keyID
        self.keySecret = keySecret
        self.connection = connection
        self.maxResponseBytes = maxResponseBytes
        self.maxPageBytes = max(maxResponseBytes, maxPageBytes)
        self.maxPages = max(1, maxPages)
    }

    /// The base URL's origin (scheme, lowercased host, port): links the service answers must stay on it.
    var origin: String? { (try? ServiceURL(self.baseURL))?.origin }

    /// Checks the base URL and the key: https (or http when allowed), a host, no credentials, a query or a fragment,
    /// a trailing slash; a key id Hawk can carry and that is one path segment.
    public func validate() throws(SRAPSConfigurationError) {
        let url = try ServiceURL(
            self.baseURL, example: Self.defaultBaseURL, credentials: "the API key signs each request instead"
        ) { SRAPSConfigurationError.invalidBaseURL($0) }
        guard url.scheme == "https" || self.connection.allowsPlainHTTP else {
            throw .invalidBaseURL("must use https (plain http is allowed only for a local stand-in)")
        }
        guard !url.hasQueryOrFragment else { throw .invalidBaseURL("must not have a query or a fragment") }
        guard url.path.hasSuffix("/") else {
            throw .invalidBaseURL("must end with \"/\", like \(Self.defaultBaseURL)")
        }
        guard !self.keyID.isEmpty, !self.keySecret.isEmpty else { throw .missingKey }
        // Hawk's attribute set without the characters that would change the `tokens/{id}` path.
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        guard self.keyID.unicodeScalars.allSatisfy(allowed.contains) else { throw .invalidKeyID }
    }
}

extension SRAPSConfiguration: SecretHolding {
    /// The base URL and the key id, never the secret: a configuration printed by a log line or an error message must
    /// not carry it along.
    public var description: String {
        "SRAPSConfiguration(baseURL: \(self.baseURL), keyID: \(self.keyID), keySecret: <redacted>)"
    }
}

/// Why SRAPS settings cannot be used. No case holds the key secret.
public enum SRAPSConfigurationError: CAFileError, Sendable, Hashable, CustomStringConvertible {
    /// The base URL is not usable.
    case invalidBaseURL(String)
    /// The key id or the key secret is empty.
    case missingKey
    /// The key id holds characters other than letters, digits and `-._~`.
    case invalidKeyID
    /// The CA file could not be read as PEM certificates.
    case unreadableCAFile(path: String, reason: String)

    /// What is wrong, for an operator.
    public var description: String {
        switch self {
        case .invalidBaseURL(let reason): "the SRAPS URL \(reason)"
        case .missingKey: "an SRAPS account needs its API key: the access key id and the access key secret"
        case .invalidKeyID: "the SRAPS access key id may hold only letters, digits and -._~"
        case .unreadableCAFile(let path, let reason): "cannot read the SRAPS CA file \(path): \(reason)"
        }
    }
}
