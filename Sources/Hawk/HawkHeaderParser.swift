/// Why a Hawk `Authorization` or `WWW-Authenticate` header could not be read.
public enum HawkHeaderError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No header, or an empty one.
    case missing
    /// Another scheme than Hawk, such as Basic.
    case otherScheme
    /// Longer than `HawkHeaderParser.maximumLength` bytes.
    case tooLong
    /// No scheme token, or no attributes after it.
    case invalidSyntax
    /// An attribute that this kind of header does not have.
    case unknownAttribute(String)
    /// An attribute whose value is empty or holds a character outside Hawk's set.
    case badAttributeValue(String)
    /// An attribute given twice.
    case duplicateAttribute(String)
    /// Text between or after the attributes that is not an attribute.
    case badFormat

    /// The reference's message for this error (mozilla/hawk `parseAuthorizationHeader`).
    public var message: String {
        switch self {
        case .missing: "Missing authentication"
        case .otherScheme: "Missing Hawk authentication"
        case .tooLong: "Header length too long"
        case .invalidSyntax: "Invalid header syntax"
        case .unknownAttribute(let name): "Unknown attribute: \(name)"
        case .badAttributeValue(let name): "Bad attribute value: \(name)"
        case .duplicateAttribute(let name): "Duplicate attribute: \(name)"
        case .badFormat: "Bad header format"
        }
    }

    /// The message; attribute names come from the header, whose length is capped, and values never appear.
    public var description: String {
        self.message
    }
}

/// Reads Hawk headers exactly as mozilla/hawk's `utils.parseAuthorizationHeader` does.
///
/// The reference matches `^(\w+)(?:\s+(.*))?$` and then removes every `name="value"` followed by optional
/// whitespace and a comma or the end; anything left over refuses the header. This type does the same scan by hand,
/// in time linear in the header's length, which `maximumLength` caps.
public enum HawkHeaderParser {
    /// The longest header read at all, in UTF-8 bytes (the reference's `maxMatchLength`).
    public static let maximumLength = 4096

    /// The attributes of a request's `Authorization` header.
    public static let requestAttributes: Set<String> = ["id", "ts", "nonce", "hash", "ext", "mac", "app", "dlg"]

    /// The attributes of a server's `WWW-Authenticate` answer.
    public static let wwwAuthenticateAttributes: Set<String> = ["ts", "tsm", "error"]

    /// The attributes of a Hawk header, by name; refuses anything the reference refuses.
    public static func parse(
        _ header: String?, allowedAttributes: Set<String> = requestAttributes
    ) throws(HawkHeaderError) -> [String: String] {
        guard let header, !header.isEmpty else { throw .missing }
        guard header.utf8.count <= self.maximumLength else { throw .tooLong }
        let scalars = Array(header.unicodeScalars)

        var index = 0
        while index < scalars.count, isWordCharacter(scalars[index]) { index += 1 }
        guard index > 0 else { throw .invalidSyntax }
        let scheme = String(String.UnicodeScalarView(scalars[0..<index]))
        let attributesStart: Int?
        if index == scalars.count {
            attributesStart = nil
        } else if isWhitespace(scalars[index]) {
            while index < scalars.count, isWhitespace(scalars[index]) { index += 1 }
            // `.*` stops at line terminators, so one after the leading whitespace fails the whole match.
            guard !scalars[index...].contains(where: isLineTerminator) else { throw .invalidSyntax }
            attributesStart = index
        } else {
            throw .invalidSyntax
        }
        guard scheme.lowercased() == "hawk" else { throw .otherScheme }
        guard let attributesStart, attributesStart < scalars.count else { throw .invalidSyntax }

        return try self.parseAttributes(scalars[attributesStart...], allowed: allowedAttributes)
    }

    /// The reference's global `replace`: each match is checked, and any text left between matches refuses the header.
    private static func parseAttributes(
        _ scalars: ArraySlice<Unicode.Scalar>, allowed: Set<String>
    ) throws(HawkHeaderError) -> [String: String] {
        var attributes: [String: String] = [:]
        var lastError: HawkHeaderError?
        var hasLeftovers = false
        var position = scalars.startIndex
        var searchFrom = position
        while searchFrom < scalars.endIndex {
            guard let match = self.matchAttribute(in: scalars, at: searchFrom) else {
                // A failed start inside a word fails the same way at every later start in that word.
                var next = searchFrom + 1
                if isWordCharacter(scalars[searchFrom]) {
                    while next < scalars.endIndex, isWordCharacter(scalars[next]) { next += 1 }
                }
                searchFrom = next
                continue
            }
            if match.start > position { hasLeftovers = true }
            if !allowed.contains(match.name) {
                lastError = .unknownAttribute(match.name)
            } else if match.value.isEmpty || !match.value.unicodeScalars.allSatisfy(isAttributeValueCharacter) {
                lastError = .badAttributeValue(match.name)
            } else if attributes[match.name] != nil {
                lastError = .duplicateAttribute(match.name)
            } else {
                attributes[match.name] = match.value
            }
            position = match.end
            searchFrom = match.end
        }
        if position < scalars.endIndex { hasLeftovers = true }
        if let lastError { throw lastError }
        if hasLeftovers { throw .badFormat }
        return attributes
    }

    /// One match of `(\w+)="([^"\\]*)"\s*(?:,\s*|$)` starting exactly at `start`.
    private static func matchAttribute(
        in scalars: ArraySlice<Unicode.Scalar>, at start: Int
    ) -> (start: Int, end: Int, name: String, value: String)? {
        var index = start
        while index < scalars.endIndex, isWordCharacter(scalars[index]) { index += 1 }
        let nameEnd = index
        guard nameEnd > start, index + 1 < scalars.endIndex, scalars[index] == "=", scalars[index + 1] == "\"" else {
            return nil
        }
        index += 2
        let valueStart = index
        while index < scalars.endIndex, scalars[index] != "\"", scalars[index] != "\\" { index += 1 }
        guard index < scalars.endIndex, scalars[index] == "\"" else { return nil }
        let valueEnd = index
        index += 1
        while index < scalars.endIndex, isWhitespace(scalars[index]) { index += 1 }
        if index < scalars.endIndex {
            guard scalars[index] == "," else { return nil }
            index += 1
            while index < scalars.endIndex, isWhitespace(scalars[index]) { index += 1 }
        }
        return (
            start, index, String(String.UnicodeScalarView(scalars[start..<nameEnd])),
            String(String.UnicodeScalarView(scalars[valueStart..<valueEnd]))
        )
    }
}

/// JavaScript's `\w` without the `u` flag: ASCII letters, digits and underscore.
func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x5F: true
    default: false
    }
}

/// JavaScript's `\s`: ASCII whitespace, line terminators and the Unicode space separators.
func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x09...0x0D, 0x20, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF: true
    default: false
    }
}

/// What JavaScript's `.` does not match.
func isLineTerminator(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x0A, 0x0D, 0x2028, 0x2029: true
    default: false
    }
}

/// The reference's attribute value set: letters, digits, space and ``!#$%&'()*+,-./:;<=>?@[]^_`{|}~``.
func isAttributeValueCharacter(_ scalar: Unicode.Scalar) -> Bool {
    if isWordCharacter(scalar) || scalar == " " { return true }
    return "!#$%&'()*+,-./:;<=>?@[]^`{|}~".unicodeScalars.contains(scalar)
}
