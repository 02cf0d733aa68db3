import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// A strict XML-RPC reader.
///
/// It refuses any DTD or entity declaration before the XML parser sees the text (so XXE and "billion laughs"
/// are refused, never expanded), caps the body size and the nesting depth, and checks every element against
/// the XML-RPC grammar. Whitespace between elements and an XML declaration with an encoding are accepted.
public struct XMLRPCDecoder: Sendable {
    /// The largest body accepted, in bytes.
    public var maxBodyBytes: Int
    /// The deepest element nesting accepted.
    public var maxDepth: Int

    /// One MiB, and 64 levels: far beyond any answer of the Snom service.
    public init(maxBodyBytes: Int = 1 << 20, maxDepth: Int = 64) {
        self.maxBodyBytes = maxBodyBytes
        self.maxDepth = maxDepth
    }

    /// Decodes a `<methodResponse>`: a value or a fault.
    public func decodeResponse(_ body: some Collection<UInt8>) throws(XMLRPCDecodingError) -> XMLRPCResponse {
        let root = try self.parseDocument(body)
        guard root.name == "methodResponse" else {
            throw .unexpectedElement(found: root.name, expected: "<methodResponse>", path: "/")
        }
        let path = "/methodResponse"
        let child = try root.onlyChild(path: path, expected: "<params> or <fault>")
        switch child.name {
        case "params":
            let param = try child.onlyChild(named: "param", path: path + "/params")
            let value = try param.onlyChild(named: "value", path: path + "/params/param")
            return .value(try Self.value(from: value, path: path + "/params/param/value"))
        case "fault":
            let value = try child.onlyChild(named: "value", path: path + "/fault")
            guard case .struct(let members) = try Self.value(from: value, path: path + "/fault/value"),
                case .int(let code)? = members["faultCode"], case .string(let message)? = members["faultString"]
            else { throw .malformedFault }
            return .fault(XMLRPCFault(code: code, message: message))
        default:
            throw .unexpectedElement(found: child.name, expected: "<params> or <fault>", path: path)
        }
    }

    /// Decodes a `<methodCall>`.
    public func decodeCall(_ body: some Collection<UInt8>) throws(XMLRPCDecodingError) -> XMLRPCMethodCall {
        let root = try self.parseDocument(body)
        guard root.name == "methodCall" else {
            throw .unexpectedElement(found: root.name, expected: "<methodCall>", path: "/")
        }
        let path = "/methodCall"
        guard let nameElement = root.children.first, nameElement.name == "methodName" else {
            throw .missingElement("methodName", path: path)
        }
        guard nameElement.children.isEmpty else {
            throw .unexpectedElement(found: nameElement.children[0].name, expected: "text", path: path + "/methodName")
        }
        let methodName = nameElement.text
        guard !methodName.isEmpty,
            methodName.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.:/".contains($0)) })
        else { throw .invalidScalar(type: "methodName", text: methodName) }
        var params: [XMLRPCValue] = []
        switch root.children.count {
        case 1:
            break
        case 2:
            let paramsElement = root.children[1]
            guard paramsElement.name == "params" else {
                throw .unexpectedElement(found: paramsElement.name, expected: "<params>", path: path)
            }
            for (index, param) in paramsElement.children.enumerated() {
                let paramPath = path + "/params/param[\(index + 1)]"
                guard param.name == "param" else {
                    throw .unexpectedElement(found: param.name, expected: "<param>", path: path + "/params")
                }
                let value = try param.onlyChild(named: "value", path: paramPath)
                params.append(try Self.value(from: value, path: paramPath + "/value"))
            }
        default:
            throw .unexpectedElement(found: root.children[2].name, expected: "end of <methodCall>", path: path)
        }
        return XMLRPCMethodCall(methodName: methodName, params: params)
    }

    // MARK: - Document

    private func parseDocument(_ body: some Collection<UInt8>) throws(XMLRPCDecodingError) -> Element {
        guard body.count <= self.maxBodyBytes else { throw .bodyTooLarge(size: body.count, limit: self.maxBodyBytes) }
        let bytes = Array(body)
        guard bytes.contains(where: { !Self.isXMLSpace($0) }) else { throw .emptyBody }
        try Self.checkEncoding(bytes)
        try Self.refuseDeclarations(bytes)

        let builder = TreeBuilder(maxDepth: self.maxDepth)
        let parser = XMLParser(data: Data(bytes))
        parser.shouldProcessNamespaces = false
        parser.shouldReportNamespacePrefixes = false
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        _ = parser.parse()
        if let failure = builder.failure { throw failure }
        // On Linux `parse()` can report success for mismatched or truncated input; the error is what counts.
        if let error = parser.parserError as NSError? {
            throw .malformedXML(
                line: parser.lineNumber, column: parser.columnNumber, reason: Self.reason(forParserCode: error.code))
        }
        guard let root = builder.root, builder.stack.isEmpty else {
            throw .malformedXML(line: parser.lineNumber, column: parser.columnNumber, reason: "document is truncated")
        }
        return root
    }

    private static func isXMLSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// Accepts only ASCII-compatible encodings, so that `refuseDeclarations` sees markup as it is, and checks
    /// that the bytes are valid in the declared encoding. libxml2 passes invalid UTF-8 in element names on to
    /// FoundationXML, which crashes on it (found by fuzzing), so nothing invalid may reach the parser.
    private static func checkEncoding(_ bytes: [UInt8]) throws(XMLRPCDecodingError) {
        if bytes.contains(0) || bytes.starts(with: [0xFE, 0xFF]) || bytes.starts(with: [0xFF, 0xFE]) {
            throw .unsupportedEncoding("UTF-16 or UTF-32")
        }
        var declared = "utf-8"
        if bytes.starts(with: Array("<?xml".utf8)) {
            let declarationEnd = bytes.firstRange(of: Array("?>".utf8))?.lowerBound ?? bytes.count
            let declaration = String(decoding: bytes[..<declarationEnd], as: UTF8.self)
            if let range = declaration.range(of: "encoding") {
                let afterName = declaration[range.upperBound...].drop(while: { $0 == " " || $0 == "=" })
                if let quote = afterName.first, quote == "\"" || quote == "'" {
                    declared = String(afterName.dropFirst().prefix(while: { $0 != quote }))
                }
            }
        }
        switch declared.lowercased() {
        case "utf-8", "utf8":
            guard String(validating: bytes, as: UTF8.self) != nil else { throw .invalidBytes(encoding: "UTF-8") }
        case "us-ascii", "ascii":
            guard bytes.allSatisfy({ $0 < 0x80 }) else { throw .invalidBytes(encoding: "US-ASCII") }
        case "iso-8859-1", "latin1", "iso-8859-15":
            break  // Every byte is a character; libxml2 converts them to UTF-8.
        default:
            throw .unsupportedEncoding(declared)
        }
    }

    /// Refuses every `<!…>` markup declaration (only comments and CDATA sections may start with `<!`), and every
    /// processing instruction but the leading XML declaration: FoundationXML crashes on some (found by fuzzing),
    /// and XML-RPC has no use for them.
    private static func refuseDeclarations(_ bytes: [UInt8]) throws(XMLRPCDecodingError) {
        let comment = Array("<!--".utf8)
        let commentEnd = Array("-->".utf8)
        let cdata = Array("<![CDATA[".utf8)
        let cdataEnd = Array("]]>".utf8)
        var index = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        if bytes[index...].starts(with: Array("<?xml".utf8)), index + 5 < bytes.count,
            [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index + 5])
        {
            // An unterminated declaration would hide the rest of the document from this scan.
            guard let end = bytes[index...].firstRange(of: Array("?>".utf8)) else {
                throw .forbiddenDeclaration("unterminated XML declaration")
            }
            // A declaration holds no markup; a `<` before its end hides a processing instruction.
            guard !bytes[(index + 1)..<end.lowerBound].contains(UInt8(ascii: "<")) else {
                throw .forbiddenDeclaration("processing instruction")
            }
            index = end.upperBound
        }
        while index < bytes.count - 1 {
            guard bytes[index] == UInt8(ascii: "<") else {
                index += 1
                continue
            }
            if bytes[index + 1] == UInt8(ascii: "?") { throw .forbiddenDeclaration("processing instruction") }
            guard bytes[index + 1] == UInt8(ascii: "!") else {
                index += 1
                continue
            }
            let rest = bytes[index...]
            if rest.starts(with: comment) {
                guard let end = rest.dropFirst(comment.count).firstRange(of: commentEnd) else {
                    throw .forbiddenDeclaration("unterminated comment")
                }
                index = end.upperBound
            } else if rest.starts(with: cdata) {
                guard let end = rest.dropFirst(cdata.count).firstRange(of: cdataEnd) else {
                    throw .forbiddenDeclaration("unterminated CDATA section")
                }
                index = end.upperBound
            } else {
                let word = rest.dropFirst(2).prefix(while: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") })
                throw .forbiddenDeclaration(word.isEmpty ? "markup" : String(decoding: word.prefix(16), as: UTF8.self))
            }
        }
    }

    private static func reason(forParserCode code: Int) -> String {
        switch code {
        case 4: "document is empty"
        case 5: "document ends before its root element is closed"
        case 9: "invalid character"
        case 26: "undeclared entity reference"
        case 38, 39, 40, 41: "malformed attribute"
        case 68: "name is missing or malformed"
        case 73, 76: "closing tag does not match the opening tag"
        case 85: "extra content after the root element"
        default: "XML parser error \(code)"
        }
    }

    // MARK: - Values

    static func value(from element: Element, path: String) throws(XMLRPCDecodingError) -> XMLRPCValue {
        if element.children.isEmpty {
            return .string(element.text)
        }
        guard element.text.allSatisfy(\.isWhitespace) else { throw .unexpectedText(path: path) }
        let typed = try element.onlyChild(path: path, expected: "one typed value")
        let typedPath = path + "/" + typed.name
        if typed.name != "array" && typed.name != "struct", let child = typed.children.first {
            throw .unexpectedElement(found: child.name, expected: "text", path: typedPath)
        }
        let text = typed.text
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        switch typed.name {
        case "string":
            return .string(text)
        case "int", "i4":
            guard let number = Int32(trimmed) else { throw .invalidScalar(type: typed.name, text: text) }
            return .int(Int(number))
        case "i8":
            guard let number = Int64(trimmed) else { throw .invalidScalar(type: typed.name, text: text) }
            return .int(Int(number))
        case "boolean":
            switch trimmed {
            case "0": return .bool(false)
            case "1": return .bool(true)
            default: throw .invalidScalar(type: "boolean", text: text)
            }
        case "double":
            guard !trimmed.isEmpty, trimmed.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }),
                let number = Double(trimmed), number.isFinite
            else { throw .invalidScalar(type: "double", text: text) }
            return .double(number)
        case "dateTime.iso8601":
            guard let date = ISO8601Basic.parse(trimmed) else { throw .invalidScalar(type: typed.name, text: text) }
            return .dateTime(date)
        case "base64":
            let compact = String(text.unicodeScalars.filter { !CharacterSet.whitespacesAndNewlines.contains($0) })
            guard let data = Data(base64Encoded: compact) else { throw .invalidScalar(type: "base64", text: text) }
            return .base64(Array(data))
        case "nil":
            guard trimmed.isEmpty else { throw .invalidScalar(type: "nil", text: text) }
            return .nil
        case "array":
            guard typed.text.allSatisfy(\.isWhitespace) else { throw .unexpectedText(path: typedPath) }
            let data = try typed.onlyChild(named: "data", path: typedPath)
            guard data.text.allSatisfy(\.isWhitespace) else { throw .unexpectedText(path: typedPath + "/data") }
            var elements: [XMLRPCValue] = []
            elements.reserveCapacity(data.children.count)
            for (index, child) in data.children.enumerated() {
                guard child.name == "value" else {
                    throw .unexpectedElement(found: child.name, expected: "<value>", path: typedPath + "/data")
                }
                elements.append(try Self.value(from: child, path: typedPath + "/data/value[\(index + 1)]"))
            }
            return .array(elements)
        case "struct":
            guard typed.text.allSatisfy(\.isWhitespace) else { throw .unexpectedText(path: typedPath) }
            var members: [String: XMLRPCValue] = [:]
            for member in typed.children {
                let memberPath = typedPath + "/member"
                guard member.name == "member" else {
                    throw .unexpectedElement(found: member.name, expected: "<member>", path: typedPath)
                }
                guard member.text.allSatisfy(\.isWhitespace) else { throw .unexpectedText(path: memberPath) }
                guard member.children.count == 2, member.children[0].name == "name",
                    member.children[1].name == "value"
                else { throw .missingElement("name> followed by <value", path: memberPath) }
                let nameElement = member.children[0]
                guard nameElement.children.isEmpty else {
                    throw .unexpectedElement(
                        found: nameElement.children[0].name, expected: "text", path: memberPath + "/name")
                }
                let name = nameElement.text
                guard members[name] == nil else { throw .duplicateMember(name) }
                members[name] = try Self.value(from: member.children[1], path: memberPath + "/value")
            }
            return .struct(members)
        default:
            throw .unexpectedElement(found: typed.name, expected: "an XML-RPC type", path: path)
        }
    }
}

/// A parsed element: its name, child elements and the text directly inside it.
final class Element {
    let name: String
    var children: [Element] = []
    var text = ""

    init(name: String) { self.name = name }

    func onlyChild(path: String, expected: String) throws(XMLRPCDecodingError) -> Element {
        guard self.text.allSatisfy(\.isWhitespace) else { throw .unexpectedText(path: path) }
        guard let child = self.children.first else { throw .missingElement(expected, path: path) }
        guard self.children.count == 1 else {
            throw .unexpectedElement(found: self.children[1].name, expected: "end of <\(self.name)>", path: path)
        }
        return child
    }

    func onlyChild(named name: String, path: String) throws(XMLRPCDecodingError) -> Element {
        let child = try self.onlyChild(path: path, expected: name)
        guard child.name == name else { throw .unexpectedElement(found: child.name, expected: "<\(name)>", path: path) }
        return child
    }
}

/// Builds the element tree from the parser's events, under a depth cap.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    let maxDepth: Int
    var stack: [Element] = []
    var root: Element?
    var failure: XMLRPCDecodingError?

    init(maxDepth: Int) { self.maxDepth = maxDepth }

    private func fail(_ parser: XMLParser, _ error: XMLRPCDecodingError) {
        if self.failure == nil { self.failure = error }
        parser.abortParsing()
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        guard self.failure == nil else { return }
        guard self.stack.count < self.maxDepth else { return self.fail(parser, .tooDeep(limit: self.maxDepth)) }
        guard attributes.isEmpty else { return self.fail(parser, .unexpectedAttribute(element: elementName)) }
        let element = Element(name: elementName)
        if let parent = self.stack.last {
            parent.children.append(element)
        } else if self.root == nil {
            self.root = element
        } else {
            return self.fail(
                parser,
                .malformedXML(
                    line: parser.lineNumber, column: parser.columnNumber, reason: "extra content after the root element"
                ))
        }
        self.stack.append(element)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        guard self.failure == nil else { return }
        _ = self.stack.popLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard self.failure == nil else { return }
        guard let current = self.stack.last else { return }
        current.text += string
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        guard self.failure == nil else { return }
        guard let current = self.stack.last else { return }
        current.text += String(decoding: CDATABlock, as: UTF8.self)
    }

    func parser(_ parser: XMLParser, foundElementDeclarationWithName elementName: String, model: String) {
        self.fail(parser, .forbiddenDeclaration("ELEMENT"))
    }

    func parser(_ parser: XMLParser, foundInternalEntityDeclarationWithName name: String, value: String?) {
        self.fail(parser, .forbiddenDeclaration("ENTITY"))
    }

    func parser(
        _ parser: XMLParser, foundExternalEntityDeclarationWithName name: String, publicID: String?, systemID: String?
    ) {
        self.fail(parser, .forbiddenDeclaration("ENTITY"))
    }

    func parser(_ parser: XMLParser, resolveExternalEntityName name: String, systemID: String?) -> Data? {
        self.fail(parser, .undeclaredEntity(name))
        return nil
    }
}
