import Foundation

/// Why a value could not be written as XML-RPC.
public enum XMLRPCEncodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// XML 1.0 cannot carry this character, not even escaped (for example NUL or other C0 controls).
    case unrepresentableCharacter(UInt32)
    /// XML-RPC has no spelling for NaN or infinity.
    case nonFiniteDouble
    /// A method name may hold only letters, digits, `_`, `.`, `:` and `/`.
    case invalidMethodName(String)

    public var description: String {
        switch self {
        case .unrepresentableCharacter(let scalar):
            "XML cannot carry the character U+\(String(scalar, radix: 16, uppercase: true))"
        case .nonFiniteDouble: "XML-RPC cannot carry a NaN or infinite double"
        case .invalidMethodName(let name):
            "method name \(name.debugDescription) is not made of letters, digits, '_', '.', ':' or '/'"
        }
    }
}

/// Writes XML-RPC documents. Text is escaped, so a URL holding `<mac>` or `&` reaches the peer intact.
public enum XMLRPCEncoder {
    /// Encodes a `<methodCall>`.
    public static func encodeCall(
        _ methodName: String, _ params: [XMLRPCValue]
    ) throws(XMLRPCEncodingError)
        -> String
    {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_.:/"))
        guard !methodName.isEmpty, methodName.unicodeScalars.allSatisfy({ $0.isASCII && allowed.contains($0) })
        else { throw .invalidMethodName(methodName) }
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodCall><methodName>"
        out += methodName
        out += "</methodName><params>"
        for param in params {
            out += "<param>"
            try self.write(param, into: &out)
            out += "</param>"
        }
        out += "</params></methodCall>\n"
        return out
    }

    /// Encodes a `<methodResponse>` carrying one value; with `untypedStrings`, strings are written as bare
    /// `<value>text</value>` (the spec's default type), as some services (Yealink's RPS) answer.
    public static func encodeResponse(
        _ value: XMLRPCValue, untypedStrings: Bool = false
    ) throws(XMLRPCEncodingError) -> String {
        var out = "<?xml version='1.0' encoding='utf-8'?>\n<methodResponse><params><param>"
        try self.write(value, into: &out, untypedStrings: untypedStrings)
        out += "</param></params></methodResponse>\n"
        return out
    }

    /// Encodes a `<methodResponse>` carrying a fault.
    public static func encodeFault(_ fault: XMLRPCFault) -> String {
        var out = "<?xml version='1.0' encoding='utf-8'?>\n<methodResponse><fault>"
        // A fault's message comes from our own code; characters XML cannot carry are replaced, not refused.
        let safeMessage = String(
            String.UnicodeScalarView(fault.message.unicodeScalars.map { isXMLChar($0) ? $0 : "\u{FFFD}" }))
        try! self.write(.struct(["faultCode": .int(fault.code), "faultString": .string(safeMessage)]), into: &out)
        out += "</fault></methodResponse>\n"
        return out
    }

    /// Appends one `<value>` element.
    static func write(
        _ value: XMLRPCValue, into out: inout String, untypedStrings: Bool = false
    ) throws(XMLRPCEncodingError) {
        out += "<value>"
        switch value {
        case .string(let text) where untypedStrings:
            try self.escape(text, into: &out)
        case .string(let text):
            out += "<string>"
            try self.escape(text, into: &out)
            out += "</string>"
        case .int(let number):
            let tag = Int(Int32.min)...Int(Int32.max) ~= number ? "int" : "i8"
            out += "<\(tag)>\(number)</\(tag)>"
        case .bool(let flag):
            out += flag ? "<boolean>1</boolean>" : "<boolean>0</boolean>"
        case .double(let number):
            guard number.isFinite else { throw .nonFiniteDouble }
            out += "<double>\(number)</double>"
        case .dateTime(let date):
            out += "<dateTime.iso8601>\(ISO8601Basic.format(date))</dateTime.iso8601>"
        case .base64(let bytes):
            out += "<base64>\(Data(bytes).base64EncodedString())</base64>"
        case .array(let elements):
            out += "<array><data>"
            for element in elements { try self.write(element, into: &out, untypedStrings: untypedStrings) }
            out += "</data></array>"
        case .struct(let members):
            out += "<struct>"
            // Sorted, so that the same struct always encodes to the same bytes.
            for name in members.keys.sorted() {
                out += "<member><name>"
                try self.escape(name, into: &out)
                out += "</name>"
                try self.write(members[name]!, into: &out, untypedStrings: untypedStrings)
                out += "</member>"
            }
            out += "</struct>"
        case .nil:
            out += "<nil/>"
        }
        out += "</value>"
    }

    /// Escapes text for element content. `\r` is escaped so that XML's line-end normalisation keeps it.
    static func escape(_ text: String, into out: inout String) throws(XMLRPCEncodingError) {
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\r": out += "&#13;"
            default:
                guard isXMLChar(scalar) else { throw .unrepresentableCharacter(scalar.value) }
                out.unicodeScalars.append(scalar)
            }
        }
    }

    /// XML 1.0's `Char` production.
    static func isXMLChar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: true
        default: false
        }
    }
}
