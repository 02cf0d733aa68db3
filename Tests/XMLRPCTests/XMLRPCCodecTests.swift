import Foundation
import Testing

@testable import XMLRPC

@Suite("XML-RPC codec")
struct XMLRPCCodecTests {
    let decoder = XMLRPCDecoder()

    static let everyType: [XMLRPCValue] = [
        .string("plain"),
        .string(""),
        .string("http://prov.example.com/snom?mac=<mac>&x=1 \"quoted\" 'single' > end"),
        .string("line\r\nbreak\ttab ünïcödé 🎧"),
        .int(0), .int(-42), .int(Int(Int32.max)), .int(Int(Int32.min)), .int(1 << 40),
        .bool(true), .bool(false),
        .double(3.5), .double(-0.25), .double(1e20),
        .dateTime(Date(timeIntervalSince1970: 1_614_265_330)),
        .base64([0, 1, 2, 254, 255]),
        .base64([]),
        .array([]),
        .array([.string("a"), .int(1), .array([.bool(true)])]),
        .struct([:]),
        .struct(["000413250c24": .string("Error:malformed_url"), "a&b": .nil, "nested": .struct(["x": .int(1)])]),
        .nil,
    ]

    @Test("every type survives a response round trip", arguments: everyType)
    func responseRoundTrip(value: XMLRPCValue) throws {
        let text = try XMLRPCEncoder.encodeResponse(value)
        #expect(try self.decoder.decodeResponse(Array(text.utf8)) == .value(value))
    }

    @Test("a call round-trips with all its parameters in order")
    func callRoundTrip() throws {
        let text = try XMLRPCEncoder.encodeCall("redirect.registerPhoneList", Self.everyType)
        let call = try self.decoder.decodeCall(Array(text.utf8))
        #expect(call.methodName == "redirect.registerPhoneList")
        #expect(call.params == Self.everyType)
    }

    @Test("a URL holding <mac> and & is escaped on the wire and arrives intact")
    func urlEscaping() throws {
        let url = "https://pbx.example.com/prov/<mac>.xml?a=1&b=2"
        let text = try XMLRPCEncoder.encodeCall("redirect.registerPhone", [.string("000413610FF5"), .string(url)])
        #expect(text.contains("https://pbx.example.com/prov/&lt;mac&gt;.xml?a=1&amp;b=2"))
        #expect(!text.contains("<mac>"))
        #expect(try self.decoder.decodeCall(Array(text.utf8)).params[1] == .string(url))
    }

    @Test("the pretty-printed answer from the API reference decodes")
    func referenceAnswer() throws {
        let text = """
            <?xml version='1.0' encoding='utf-8'?>
            <methodResponse>
             <params>
              <param>
               <value>
                <array>
                 <data>
                  <value><boolean>1</boolean></value>
                  <value><string>Ok</string></value>
                 </data>
                </array>
               </value>
              </param>
             </params>
            </methodResponse>
            """
        #expect(try self.decoder.decodeResponse(Array(text.utf8)) == .value([true, "Ok"]))
    }

    @Test("untyped values are strings, whitespace kept; typed numbers tolerate surrounding whitespace")
    func untypedAndWhitespace() throws {
        let text = """
            <?xml version="1.0"?>
            <methodResponse><params><param><value><array><data>
              <value> spaced text </value>
              <value></value>
              <value><int> 7 </int></value>
              <value><i4>-3</i4></value>
              <value><i8>9000000000</i8></value>
              <value><string/></value>
              <value><base64>AAEC
                /v8=</base64></value>
              <value><dateTime.iso8601>2021-02-25T15:02:10</dateTime.iso8601></value>
            </data></array></value></param></params></methodResponse>
            """
        let expected: XMLRPCValue = [
            " spaced text ", "", 7, -3, .int(9_000_000_000), "", .base64([0, 1, 2, 254, 255]),
            .dateTime(Date(timeIntervalSince1970: 1_614_265_330)),
        ]
        #expect(try self.decoder.decodeResponse(Array(text.utf8)) == .value(expected))
    }

    @Test("an XML declaration with another ASCII-compatible encoding is honoured")
    func latin1Declaration() throws {
        var bytes = Array(
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><methodResponse><params><param><value>caf".utf8)
        bytes.append(0xE9)  // é in ISO-8859-1
        bytes += Array("</value></param></params></methodResponse>".utf8)
        #expect(try self.decoder.decodeResponse(bytes) == .value("café"))
    }

    @Test("a fault becomes a typed fault with code and string")
    func fault() throws {
        let text = XMLRPCEncoder.encodeFault(XMLRPCFault(code: 4, message: "Too many <params> & such"))
        #expect(
            try self.decoder.decodeResponse(Array(text.utf8))
                == .fault(XMLRPCFault(code: 4, message: "Too many <params> & such")))
        let pretty = """
            <methodResponse>
              <fault>
                <value><struct>
                  <member><name>faultCode</name><value><int>-32601</int></value></member>
                  <member><name>faultString</name><value>no such method</value></member>
                </struct></value>
              </fault>
            </methodResponse>
            """
        #expect(
            try self.decoder.decodeResponse(Array(pretty.utf8))
                == .fault(XMLRPCFault(code: -32601, message: "no such method")))
    }

    @Test("CDATA text is read as text")
    func cdata() throws {
        let text =
            "<methodResponse><params><param><value><string><![CDATA[a<b>&c]]></string></value></param></params></methodResponse>"
        #expect(try self.decoder.decodeResponse(Array(text.utf8)) == .value("a<b>&c"))
    }

    @Test("dateTime formats and parses in UTC")
    func dateTime() {
        let date = Date(timeIntervalSince1970: 951_782_400 + 3_723)  // 2000-02-29T01:02:03Z
        #expect(ISO8601Basic.format(date) == "20000229T01:02:03")
        #expect(ISO8601Basic.parse("20000229T01:02:03") == date)
        #expect(ISO8601Basic.parse("20010229T01:02:03") == nil)
        #expect(ISO8601Basic.parse("20000229T24:00:00") == nil)
        #expect(ISO8601Basic.parse("2000-02-29 01:02:03") == nil)
    }

    @Test("the encoder refuses what XML cannot carry")
    func encoderRefusals() {
        #expect(throws: XMLRPCEncodingError.unrepresentableCharacter(0)) {
            try XMLRPCEncoder.encodeResponse("nul\u{0}byte")
        }
        #expect(throws: XMLRPCEncodingError.nonFiniteDouble) { try XMLRPCEncoder.encodeResponse(.double(.nan)) }
        #expect(throws: XMLRPCEncodingError.invalidMethodName("bad name<")) {
            try XMLRPCEncoder.encodeCall("bad name<", [])
        }
    }
}
