import Hawk
import Testing

/// The parser refuses what mozilla/hawk's `parseAuthorizationHeader` refuses, with the same messages.
@Suite struct HeaderParserTests {
    @Test func readsAttributesInAnyOrder() throws {
        let attributes = try HawkHeaderParser.parse(
            "hawk mac=\"m/+=\", hash=\"h\",id=\"i d\" ,  ts=\"1\",nonce=\"n-_~\"  , "
                + "ext=\"a:b;c!#$%&'()*+,./<=>?@[]^`{|}~\"")
        #expect(attributes["id"] == "i d")
        #expect(attributes["mac"] == "m/+=")
        #expect(attributes["nonce"] == "n-_~")
        #expect(attributes["ext"] == "a:b;c!#$%&'()*+,./<=>?@[]^`{|}~")
        #expect(attributes.count == 6)
    }

    @Test(arguments: [
        ("Hawk id=\"1\", x=\"2\", mac=\"3\"", HawkHeaderError.unknownAttribute("x")),
        ("Hawk id=\"1\", id=\"2\"", .duplicateAttribute("id")),
        ("Hawk id=\"1é\", ts=\"2\"", .badAttributeValue("id")),
        ("Hawk id=\"\", ts=\"2\"", .badAttributeValue("id")),
        ("Hawk id=\"a\\\"b\", ts=\"2\"", .badFormat),
        ("Hawk id=\"1\" garbage", .badFormat),
        ("Hawk id=\"1\", ts=2", .badFormat),
        ("Hawk garbage", .badFormat),
        ("Hawk x=\"1\", y=\"2\"", .unknownAttribute("y")),
        ("Hawk", .invalidSyntax),
        ("Hawk   ", .invalidSyntax),
        ("!@#", .invalidSyntax),
        ("Hawk: id=\"1\"", .invalidSyntax),
        ("Hawk id=\"1\",\n ts=\"2\"", .invalidSyntax),
        ("Basic YWxhZGRpbjpvcGVuc2VzYW1l", .otherScheme),
        ("", .missing),
    ])
    func refusesMalformedHeader(header: String, expected: HawkHeaderError) {
        #expect(throws: expected) { try HawkHeaderParser.parse(header) }
    }

    @Test func refusesMissingHeader() {
        #expect(throws: HawkHeaderError.missing) { try HawkHeaderParser.parse(nil) }
    }

    @Test func leadingLineBreakInWhitespaceIsAccepted() throws {
        // `\s+` swallows the line break before `(.*)` starts, as in the reference.
        let attributes = try HawkHeaderParser.parse("Hawk \r\n id=\"1\"")
        #expect(attributes == ["id": "1"])
    }

    @Test func enforcesLengthLimit() throws {
        let prefix = "Hawk id=\"1\", ext=\""
        let fitting =
            prefix + String(repeating: "a", count: HawkHeaderParser.maximumLength - prefix.utf8.count - 1) + "\""
        #expect(fitting.utf8.count == HawkHeaderParser.maximumLength)
        #expect(try HawkHeaderParser.parse(fitting)["id"] == "1")
        let oversize = prefix + String(repeating: "a", count: 100_000) + "\""
        #expect(throws: HawkHeaderError.tooLong) { try HawkHeaderParser.parse(oversize) }
    }

    @Test func wwwAuthenticateAttributesAreTheirOwnSet() {
        #expect(throws: HawkHeaderError.unknownAttribute("id")) {
            try HawkHeaderParser.parse(
                "Hawk ts=\"1\", id=\"2\"", allowedAttributes: HawkHeaderParser.wwwAuthenticateAttributes)
        }
    }

    @Test func messagesAreTheReferences() {
        #expect(HawkHeaderError.unknownAttribute("x").message == "Unknown attribute: x")
        #expect(HawkHeaderError.badAttributeValue("id").message == "Bad attribute value: id")
        #expect(HawkHeaderError.duplicateAttribute("id").message == "Duplicate attribute: id")
        #expect(HawkHeaderError.badFormat.message == "Bad header format")
        #expect(HawkHeaderError.invalidSyntax.message == "Invalid header syntax")
        #expect(HawkHeaderError.tooLong.message == "Header length too long")
    }
}
