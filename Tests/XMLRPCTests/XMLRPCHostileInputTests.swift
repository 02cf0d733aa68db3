import Testing

@testable import XMLRPC

@Suite("XML-RPC decoder refuses hostile and broken input")
struct XMLRPCHostileInputTests {
    let decoder = XMLRPCDecoder()

    func decode(_ text: String) throws(XMLRPCDecodingError) -> XMLRPCResponse {
        try self.decoder.decodeResponse(Array(text.utf8))
    }

    static func wrap(_ inner: String) -> String {
        "<?xml version=\"1.0\"?><methodResponse><params><param><value>\(inner)</value></param></params></methodResponse>"
    }

    @Test("XXE with an external entity is refused before parsing")
    func xxe() {
        let text = """
            <?xml version="1.0"?>
            <!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
            <methodResponse><params><param><value>&xxe;</value></param></params></methodResponse>
            """
        #expect(throws: XMLRPCDecodingError.forbiddenDeclaration("DOCTYPE")) { try self.decode(text) }
    }

    @Test("a DOCTYPE after a comment, or after a comment and a CDATA section, is refused all the same")
    func doctypeAfterComment() {
        let entity = "<!DOCTYPE foo [ <!ENTITY xxe SYSTEM \"file:///etc/passwd\"> ]>"
        for text in [
            "<?xml version=\"1.0\"?><!-- c -->" + entity + Self.wrap("&xxe;"),
            "<!-- one --><!-- two -->\n" + entity + Self.wrap("&xxe;"),
            "<methodResponse><!-- c --><![CDATA[x]]>" + entity + "<params/></methodResponse>",
        ] {
            #expect(throws: XMLRPCDecodingError.forbiddenDeclaration("DOCTYPE"), "\(text)") { try self.decode(text) }
        }
    }

    @Test("billion laughs is refused, never expanded")
    func billionLaughs() {
        var text = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
        for level in 1...9 {
            let previous = level == 1 ? "lol" : "lol\(level - 1)"
            text += " <!ENTITY lol\(level) \"" + String(repeating: "&\(previous);", count: 10) + "\">\n"
        }
        text += "]>\n" + Self.wrap("&lol9;")
        #expect(throws: XMLRPCDecodingError.forbiddenDeclaration("DOCTYPE")) { try self.decode(text) }
    }

    @Test("a bare ENTITY or ELEMENT declaration is refused; comments and CDATA are not")
    func otherDeclarations() throws {
        #expect(throws: XMLRPCDecodingError.forbiddenDeclaration("ENTITY")) {
            try self.decode("<!ENTITY x \"y\">" + Self.wrap("a"))
        }
        #expect(throws: XMLRPCDecodingError.forbiddenDeclaration("ELEMENT")) {
            try self.decode(Self.wrap("<!ELEMENT a ANY>"))
        }
        let commented =
            "<methodResponse><!-- <!DOCTYPE in a comment --><params><param><value>"
            + "<![CDATA[<!DOCTYPE]]></value></param></params></methodResponse>"
        #expect(try self.decode(commented) == .value("<!DOCTYPE"))
    }

    @Test("UTF-16 and undeclared encodings are refused, so declarations cannot hide")
    func encodings() {
        var utf16: [UInt8] = [0xFF, 0xFE]
        for unit in Self.wrap("x").utf16 { utf16 += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        #expect(throws: XMLRPCDecodingError.unsupportedEncoding("UTF-16 or UTF-32")) {
            try self.decoder.decodeResponse(utf16)
        }
        #expect(throws: XMLRPCDecodingError.unsupportedEncoding("UTF-7")) {
            try self.decode("<?xml version=\"1.0\" encoding=\"UTF-7\"?><methodResponse/>")
        }
    }

    @Test("invalid bytes for the declared encoding are refused before parsing (a crash found by fuzzing)")
    func invalidBytes() {
        // FoundationXML crashed on this element name with a stray 0xFD byte; fuzz/corpus keeps the input too.
        var crasher =
            Array("<methodResponse><p".utf8) + [0xFD]
            + Array("arams><param><value>x</value></param></params></methodResponse>".utf8)
        #expect(throws: XMLRPCDecodingError.invalidBytes(encoding: "UTF-8")) {
            try self.decoder.decodeResponse(crasher)
        }
        #expect(throws: XMLRPCDecodingError.invalidBytes(encoding: "UTF-8")) { try self.decoder.decodeCall(crasher) }
        crasher =
            Array("<?xml version=\"1.0\" encoding=\"us-ascii\"?><methodResponse><params><param><value>caf".utf8) + [
                0xE9
            ]
            + Array("</value></param></params></methodResponse>".utf8)
        #expect(throws: XMLRPCDecodingError.invalidBytes(encoding: "US-ASCII")) {
            try self.decoder.decodeResponse(crasher)
        }
    }

    @Test("an unterminated XML declaration, comment or CDATA section is refused by the pre-scan itself")
    func unterminated() throws {
        // Without `?>` the declaration would hide a DOCTYPE from the scan, leaving it to the system's libxml2.
        #expect(throws: XMLRPCDecodingError.forbiddenDeclaration("unterminated XML declaration")) {
            try self.decode("<?xml version=\"1.0\" <!DOCTYPE x [<!ENTITY a \"b\">]><methodResponse/>")
        }
        #expect(throws: XMLRPCDecodingError.forbiddenDeclaration("unterminated comment")) {
            try self.decode("<methodResponse><!-- <!DOCTYPE x>")
        }
        #expect(throws: XMLRPCDecodingError.forbiddenDeclaration("unterminated CDATA section")) {
            try self.decode("<methodResponse><![CDATA[ <!ENTITY a \"b\">")
        }
    }

    @Test("processing instructions other than the XML declaration are refused (a crash found by fuzzing)")
    func processingInstructions() throws {
        #expect(throws: XMLRPCDecodingError.forbiddenDeclaration("processing instruction")) {
            try self.decode("<?xvelau.?>>(")
        }
        #expect(throws: XMLRPCDecodingError.forbiddenDeclaration("processing instruction")) {
            try self.decode(
                "<methodResponse><?php x ?><params><param><value>x</value></param></params></methodResponse>")
        }
        #expect(throws: XMLRPCDecodingError.forbiddenDeclaration("processing instruction")) {
            try self.decode("<?xml-stylesheet href=\"x\"?>" + Self.wrap("x"))
        }
        #expect(throws: XMLRPCDecodingError.forbiddenDeclaration("processing instruction")) {
            try self.decode("<?xml qersion='1' <methodResponse><?xvelau.?>>(</methodResponse>")
        }
        #expect(try self.decoder.decodeResponse([0xEF, 0xBB, 0xBF] + Array(Self.wrap("x").utf8)) == .value("x"))
    }

    @Test("an undeclared entity reference is refused, not resolved")
    func undeclaredEntity() {
        #expect(throws: XMLRPCDecodingError.undeclaredEntity("xxe")) { try self.decode(Self.wrap("&xxe;")) }
    }

    @Test("the body size is capped before parsing")
    func sizeCap() {
        let small = XMLRPCDecoder(maxBodyBytes: 100)
        let text = Self.wrap(String(repeating: "a", count: 200))
        #expect(throws: XMLRPCDecodingError.bodyTooLarge(size: text.utf8.count, limit: 100)) {
            try small.decodeResponse(Array(text.utf8))
        }
        let tenMiB = [UInt8](repeating: UInt8(ascii: "a"), count: 10 << 20)
        #expect(throws: XMLRPCDecodingError.bodyTooLarge(size: 10 << 20, limit: 1 << 20)) {
            try self.decoder.decodeResponse(tenMiB)
        }
    }

    @Test("the nesting depth is capped")
    func depthCap() {
        let deep =
            String(repeating: "<array><data><value>", count: 100)
            + String(repeating: "</value></data></array>", count: 100)
        #expect(throws: XMLRPCDecodingError.tooDeep(limit: 64)) { try self.decode(Self.wrap(deep)) }
    }

    @Test(
        "truncated and ill-formed documents give precise errors",
        arguments: [
            "<methodResponse><params><param><value><string>Ok",
            "<methodResponse><params><param><value><string>Ok</value></param></params></methodResponse>",
            "<methodResponse><params></methodResponse",
            "<methodResponse>",
            "not xml at all",
            "<methodResponse/><second/>",
        ])
    func illFormed(text: String) {
        #expect {
            try self.decode(text)
        } throws: { error in
            guard case .malformedXML = error as? XMLRPCDecodingError else { return false }
            return true
        }
    }

    @Test("wrong value types and shapes give precise errors")
    func wrongTypes() {
        let scalars = [
            ("int", "abc"),
            ("int", "2147483648"),
            ("boolean", "true"),
            ("double", "inf"),
            ("base64", "!!"),
            ("dateTime.iso8601", "yesterday"),
        ]
        for (type, text) in scalars {
            #expect(throws: XMLRPCDecodingError.invalidScalar(type: type, text: text)) {
                try self.decode(Self.wrap("<\(type)>\(text)</\(type)>"))
            }
        }
        #expect(
            throws: XMLRPCDecodingError.unexpectedElement(
                found: "float", expected: "an XML-RPC type", path: "/methodResponse/params/param/value")
        ) {
            try self.decode(Self.wrap("<float>1</float>"))
        }
        #expect(throws: XMLRPCDecodingError.duplicateMember("a")) {
            try self.decode(
                Self.wrap(
                    "<struct><member><name>a</name><value>1</value></member><member><name>a</name><value>2</value></member></struct>"
                ))
        }
        #expect(throws: XMLRPCDecodingError.unexpectedText(path: "/methodResponse/params/param/value")) {
            try self.decode(Self.wrap("text<string>x</string>"))
        }
        #expect(throws: XMLRPCDecodingError.unexpectedAttribute(element: "value")) {
            try self.decode("<methodResponse><params><param><value a=\"1\">x</value></param></params></methodResponse>")
        }
        #expect(
            throws: XMLRPCDecodingError.unexpectedElement(found: "methodCall", expected: "<methodResponse>", path: "/")
        ) {
            try self.decode("<methodCall><methodName>x</methodName></methodCall>")
        }
        #expect(throws: XMLRPCDecodingError.malformedFault) {
            try self.decode("<methodResponse><fault><value><struct></struct></value></fault></methodResponse>")
        }
        #expect(throws: XMLRPCDecodingError.emptyBody) { try self.decode("  \n") }
    }
}
