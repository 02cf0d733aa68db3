/// A tenant's provisioning URL template: an absolute `http`, `https`, `ftp` or `tftp` URL in which `<mac>` becomes
/// the MAC as 12 uppercase hex digits. Phone-side placeholders such as `{mac}` are kept as they are.
public struct URLTemplate: Sendable, Hashable, CustomStringConvertible {
    /// The placeholder provhook fills in.
    public static let macPlaceholder = "<mac>"

    public let text: String

    /// Checks the template; `<mac>` is optional.
    public init(_ text: String) throws(URLTemplateError) {
        guard text.unicodeScalars.count <= 2000 else { throw .tooLong }
        guard !text.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) else {
            throw .containsSpaceOrControl
        }
        // Read by code points, as the schema's pattern and PostgreSQL read it: a combining mark after "/" must not
        // hide the "/" inside one grapheme cluster.
        let scalars = Array(text.unicodeScalars)
        guard
            let separator = scalars.indices.first(where: {
                $0 + 2 < scalars.count && scalars[$0] == ":" && scalars[$0 + 1] == "/" && scalars[$0 + 2] == "/"
            })
        else { throw .notAbsolute }
        let scheme = String(String.UnicodeScalarView(scalars[..<separator])).lowercased()
        guard ["http", "https", "ftp", "tftp"].contains(scheme) else { throw .unsupportedScheme(scheme) }
        let authority = scalars[(separator + 3)...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        // user:pass@ would put a password in every device row, call and journal row.
        guard !authority.contains("@") else { throw .containsCredentials }
        let host = authority.first == "[" ? authority : authority.prefix { $0 != ":" }
        guard !host.isEmpty, !host.contains("<") else { throw .missingHost }
        self.text = text
    }

    public var description: String { self.text }
}

/// Why a URL template is refused.
public enum URLTemplateError: Error, Sendable, Hashable, CustomStringConvertible {
    case notAbsolute, unsupportedScheme(String), missingHost, containsSpaceOrControl, tooLong, containsCredentials

    public var description: String {
        switch self {
        case .notAbsolute: "URL template must be an absolute URL such as https://prov.example.com/snom/<mac>.xml"
        case .unsupportedScheme(let scheme):
            "URL template scheme \(scheme.debugDescription) is not http, https, ftp or tftp"
        case .missingHost: "URL template has no host"
        case .containsSpaceOrControl: "URL template contains a space or a control character"
        case .tooLong: "URL template is longer than 2000 characters"
        case .containsCredentials:
            "URL template holds credentials (user:password@); they would reach every device and journal row"
        }
    }
}
