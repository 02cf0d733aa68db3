import Crypto
import Foundation
import WebhookSignature

/// The signature of a Kazoo 5 v2 hook with `security_settings.sha256_key`: the body's `hmac` is
/// Base64(HMAC-SHA256(key, the `timestamp` as decimal text followed by the JSON of `data`)). Kazoo reads its clock
/// again for the signature, so the signed timestamp may be the body's ± 1 s.
///
/// The JSON of `data` is taken as sent, byte for byte, from the body: Kazoo encodes the body with the same encoder
/// as it signs `data` with, and re-encoding a parsed object could not give the same bytes.
enum KazooHMAC {
    /// Whether the body carries an `hmac` that `key` made. Nil when the body carries no `hmac` at all.
    static func verify(_ body: [UInt8], key: String) -> Bool? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let given = object["hmac"] as? String
        else { return nil }
        guard let timestamp = (object["timestamp"] as? NSNumber)?.int64Value,
            let data = Self.rawMember("data", of: body), let expected = Data(base64Encoded: given)
        else { return false }
        let symmetricKey = SymmetricKey(data: Data(key.utf8))
        var matched = false
        for signed in [timestamp, timestamp - 1, timestamp + 1] {
            var message = Array(String(signed).utf8)
            message.append(contentsOf: data)
            let code = Array(HMAC<SHA256>.authenticationCode(for: message, using: symmetricKey))
            if constantTimeEquals(code, Array(expected)) { matched = true }
        }
        return matched
    }

    /// The bytes of the value of `key` in the top-level JSON object `body`, as sent; nil if absent or not parsable.
    static func rawMember(_ key: String, of body: [UInt8]) -> ArraySlice<UInt8>? {
        var index = body.startIndex
        func skipSpace() {
            while index < body.endIndex, [0x20, 0x09, 0x0A, 0x0D].contains(body[index]) { index += 1 }
        }
        /// Moves past one string; returns its raw bytes between the quotes.
        func string() -> ArraySlice<UInt8>? {
            guard index < body.endIndex, body[index] == UInt8(ascii: "\"") else { return nil }
            let start = index + 1
            index += 1
            while index < body.endIndex {
                switch body[index] {
                case UInt8(ascii: "\\"): index += 2
                case UInt8(ascii: "\""):
                    index += 1
                    return body[start..<(index - 1)]
                default: index += 1
                }
            }
            return nil
        }
        /// Moves past one value of any kind.
        func value() -> Bool {
            skipSpace()
            guard index < body.endIndex else { return false }
            if body[index] == UInt8(ascii: "\"") { return string() != nil }
            var depth = 0
            while index < body.endIndex {
                switch body[index] {
                case UInt8(ascii: "\""): if string() == nil { return false } else { continue }
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if depth == 0 { return true }
                    depth -= 1
                    if depth == 0 {
                        index += 1
                        return true
                    }
                case UInt8(ascii: ","): if depth == 0 { return true }
                default: break
                }
                index += 1
            }
            return depth == 0
        }
        skipSpace()
        guard index < body.endIndex, body[index] == UInt8(ascii: "{") else { return nil }
        index += 1
        while true {
            skipSpace()
            guard let name = string() else { return nil }
            skipSpace()
            guard index < body.endIndex, body[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            skipSpace()
            let start = index
            guard value() else { return nil }
            if name.elementsEqual(key.utf8) { return body[start..<index] }
            skipSpace()
            guard index < body.endIndex, body[index] == UInt8(ascii: ",") else { return nil }
            index += 1
        }
    }
}
