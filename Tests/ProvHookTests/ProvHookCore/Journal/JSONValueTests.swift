import Foundation
import ProvHookCore
import Testing

@Suite("JSONValue.encodeObject: compact JSON with sorted keys that parses back to the same values")
struct JSONValueTests {
    @Test("members sorted by key, whole numbers without a fraction, no spaces")
    func layout() {
        let text = JSONValue.encodeObject([
            "url": "https://prov.example.com/snom/<mac>.xml", "generation": 3, "latency_ms": .number(53.5),
            "applied": true,
            "reason": .null, "macs": .array(["000413000001", "000413000002"]), "nested": .object(["b": 1, "a": -2]),
        ])
        #expect(
            text
                == #"{"applied":true,"generation":3,"latency_ms":53.5,"macs":["000413000001","000413000002"],"nested":{"a":-2,"b":1},"reason":null,"url":"https://prov.example.com/snom/<mac>.xml"}"#
        )
    }

    @Test("strings a PBX may send come back as they were: quotes, backslashes, control characters, any script")
    func strings() throws {
        let strings = [
            "", "plain", #"say "hi""#, #"C:\phones\"#, "line\nbreak\r\ttab", "\u{0}\u{1}\u{1F}\u{7F}", "</script>",
            "Zürich ☎ 電話 📞", "\u{2028}\u{2029}", #"\u0041 is not an escape here"#,
        ]
        for string in strings {
            let text = JSONValue.encodeObject(["value": .string(string), string: .bool(true)])
            let parsed = try JSONDecoder().decode([String: JSONValue].self, from: Data(text.utf8))
            #expect(parsed == ["value": .string(string), string: .bool(true)], "\(text)")
            #expect(!text.unicodeScalars.contains { $0.value < 0x20 }, "control characters are escaped: \(text)")
        }
    }

    @Test("numbers: large, small, negative and fractional parse back")
    func numbers() throws {
        let numbers: [Double] = [
            0, -0.0, 1, -1, 0.1, 1e-7, 123_456_789_012_345, 1e15, 1e300, -2.5e-300, 3.141_592_653_589_793,
        ]
        for number in numbers {
            let text = JSONValue.encodeObject(["n": .number(number)])
            let parsed = try JSONDecoder().decode([String: JSONValue].self, from: Data(text.utf8))
            #expect(parsed == ["n": .number(number)], "\(text)")
        }
    }
}
