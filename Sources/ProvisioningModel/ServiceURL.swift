import Foundation

/// A URL a provisioning service's client may call: absolute `http` or `https`, with a host, and no credentials in it
/// (they go to the account, never into a URL that logs and errors print). Each client adds its own rules on top (a
/// trailing slash, https only, no query).
public struct ServiceURL: Sendable, Hashable {
    /// Why a text is not a service URL.
    public enum Problem: Error, Sendable, Hashable {
        /// Not an absolute `http` or `https` URL with a host.
        case notAbsoluteHTTP
        /// It holds a user or a password.
        case holdsCredentials

        /// What is wrong, for an operator, as the end of a sentence that names the URL ("the Poly ZTP URL …"):
        /// `example` is a URL that would do, `credentials` says where the account's credentials go instead.
        public func reason(example: String? = nil, credentials: String) -> String {
            switch self {
            case .notAbsoluteHTTP: "must be an absolute http or https URL" + (example.map { " such as \($0)" } ?? "")
            case .holdsCredentials: "must not hold credentials; \(credentials)"
            }
        }
    }

    /// `http` or `https`, lowercased.
    public let scheme: String
    /// The host, lowercased.
    public let host: String
    /// The port, or the scheme's default (443, 80).
    public let port: Int
    /// The path, as written.
    public let path: String
    /// Whether it has a query or a fragment.
    public let hasQueryOrFragment: Bool

    public init(_ text: String) throws(Problem) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "https" || scheme == "http", let host = components.host?.lowercased(), !host.isEmpty
        else { throw .notAbsoluteHTTP }
        guard components.user == nil, components.password == nil else { throw .holdsCredentials }
        self.scheme = scheme
        self.host = host
        self.port = components.port ?? (scheme == "https" ? 443 : 80)
        self.path = components.path
        self.hasQueryOrFragment = components.query != nil || components.fragment != nil
    }

    /// Parses `text`, or throws what `refusal` makes of the problem's `reason`: each client's own settings error,
    /// worded the same way for every service.
    public init<Failure: Error>(
        _ text: String, example: String? = nil, credentials: String, or refusal: (String) -> Failure
    ) throws(Failure) {
        do {
            self = try ServiceURL(text)
        } catch {
            throw refusal(error.reason(example: example, credentials: credentials))
        }
    }

    /// `scheme://host:port`: what a link must share with the configured URL to be followed.
    public var origin: String { "\(self.scheme)://\(self.host):\(self.port)" }
}
