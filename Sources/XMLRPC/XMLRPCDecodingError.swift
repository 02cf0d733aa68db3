/// Why an XML-RPC document was refused. Every refusal is precise; none crashes and none expands entities.
public enum XMLRPCDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The body is larger than the configured cap.
    case bodyTooLarge(size: Int, limit: Int)
    /// The body is empty.
    case emptyBody
    /// A DOCTYPE, ENTITY or other markup declaration; refused before parsing, so nothing is expanded.
    case forbiddenDeclaration(String)
    /// A reference to an entity other than the five predefined ones; nothing is resolved.
    case undeclaredEntity(String)
    /// The document declares, or starts in, an encoding other than UTF-8, US-ASCII or ISO-8859-1/-15.
    ///
    /// Only ASCII-compatible encodings are read, so that the declaration scan sees every byte as it is.
    case unsupportedEncoding(String)
    /// The bytes are not valid in the document's encoding (UTF-8 unless declared otherwise).
    case invalidBytes(encoding: String)
    /// The XML parser refused the text (ill-formed or truncated).
    case malformedXML(line: Int, column: Int, reason: String)
    /// Elements are nested deeper than the cap.
    case tooDeep(limit: Int)
    /// An element appeared where XML-RPC does not allow it.
    case unexpectedElement(found: String, expected: String, path: String)
    /// A required element is missing.
    case missingElement(String, path: String)
    /// Non-whitespace text appeared where only elements are allowed.
    case unexpectedText(path: String)
    /// A scalar's text does not parse as its declared type.
    case invalidScalar(type: String, text: String)
    /// A struct names the same member twice.
    case duplicateMember(String)
    /// A fault lacks an integer `faultCode` or a string `faultString`.
    case malformedFault
    /// An XML attribute was given; XML-RPC uses none.
    case unexpectedAttribute(element: String)

    public var description: String {
        switch self {
        case .bodyTooLarge(let size, let limit):
            "XML-RPC body of \(size) bytes exceeds the limit of \(limit) bytes"
        case .emptyBody:
            "XML-RPC body is empty"
        case .forbiddenDeclaration(let what):
            "XML-RPC body contains a \(what) declaration; DTDs and entities are refused"
        case .undeclaredEntity(let name):
            "XML-RPC body refers to the undeclared entity \(Self.clip(name).debugDescription); entities are refused"
        case .unsupportedEncoding(let name):
            "XML-RPC body uses the unsupported encoding \(Self.clip(name).debugDescription)"
        case .invalidBytes(let encoding):
            "XML-RPC body is not valid \(encoding)"
        case .malformedXML(let line, let column, let reason):
            "XML-RPC body is not well-formed XML at line \(line), column \(column): \(reason)"
        case .tooDeep(let limit):
            "XML-RPC body nests elements deeper than \(limit) levels"
        case .unexpectedElement(let found, let expected, let path):
            "unexpected <\(found)> at \(path); expected \(expected)"
        case .missingElement(let name, let path):
            "missing <\(name)> at \(path)"
        case .unexpectedText(let path):
            "unexpected text at \(path)"
        case .invalidScalar(let type, let text):
            "invalid <\(type)> value \(Self.clip(text).debugDescription)"
        case .duplicateMember(let name):
            "struct member \(Self.clip(name).debugDescription) appears twice"
        case .malformedFault:
            "XML-RPC fault lacks an integer faultCode or a string faultString"
        case .unexpectedAttribute(let element):
            "unexpected attribute on <\(element)>"
        }
    }

    /// Keeps error messages short when the offending text is huge.
    private static func clip(_ text: String) -> String {
        text.count <= 64 ? text : String(text.prefix(64)) + "…"
    }
}
