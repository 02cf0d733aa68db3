import Foundation
import ProvHookCore

/// How to read another panel's webhooks: where the event name, the MAC and the device id are in the body, which
/// of the panel's event names mean what, and how the panel signs, if it does. Written by an operator as a JSON file
/// (README, "Mapping sources"), checked when the source is added, stored with it.
public struct SourceMapping: Sendable, Hashable, Codable {
    public enum Format: String, Sendable, Hashable, Codable { case json, form }

    /// An HMAC over the body (or over `<timestamp>.<body>` with `timestampHeader`), keyed with the source's token.
    public struct Signature: Sendable, Hashable, Codable {
        public enum Algorithm: String, Sendable, Hashable, Codable { case sha256, sha1 }
        public enum Encoding: String, Sendable, Hashable, Codable { case hex, base64 }
        public var header: String
        public var algorithm: Algorithm
        public var encoding: Encoding
        public var prefix: String?
        public var timestampHeader: String?
        /// `"none"`: the operator accepts that, without `timestampHeader`, a captured request can be replayed (the
        /// panel signs no time, and its events carry no id). Nothing else is accepted.
        public var replayWindow: String?

        enum CodingKeys: String, CodingKey {
            case header, algorithm, encoding, prefix
            case timestampHeader = "timestamp_header"
            case replayWindow = "replay_window"
        }
    }

    public var format: Format
    public var event: String
    public var events: [String: DeviceEventType]
    public var mac: String
    public var deviceID: String
    public var previousMAC: String?
    public var extensionNumber: String?
    public var model: String?
    /// Where the phone's brand is (`vendor` in the file), read as the native contract's `vendor`.
    public var vendor: String?
    /// Where the phone's serial number is (`serial` in the file), read as the native contract's `serial`.
    public var serial: String?
    /// Where the code printed on a Gigaset phone is (`gigaset_code` in the file), read as the native contract's
    /// `gigaset_code`.
    public var gigasetCode: String?
    public var decodeJSON: [String]?
    public var signature: Signature?

    enum CodingKeys: String, CodingKey {
        case format, event, events, mac, model, vendor, serial, signature
        case deviceID = "device_id"
        case previousMAC = "previous_mac"
        case extensionNumber = "extension"
        case decodeJSON = "decode_json"
        case gigasetCode = "gigaset_code"
    }

    /// Reads and checks a mapping; the error says exactly what is wrong.
    public init(json: [UInt8]) throws(MappingError) {
        let decoded: SourceMapping
        do {
            decoded = try JSONDecoder().decode(SourceMapping.self, from: Data(json))
        } catch let DecodingError.keyNotFound(key, context) {
            throw MappingError(
                "\"\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))\" is required")
        } catch let DecodingError.dataCorrupted(context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw MappingError(path.isEmpty ? "not valid JSON" : "\"\(path)\": \(context.debugDescription)")
        } catch let DecodingError.typeMismatch(_, context) {
            throw MappingError("\"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type")
        } catch {
            throw MappingError("cannot be read: \(error)")
        }
        self = decoded
        try self.check()
    }

    /// Reads a mapping for a new or changed source: besides `init(json:)`'s checks, a signature without a
    /// `timestamp_header` is refused unless the operator wrote `"replay_window": "none"`, since such a signed request,
    /// captured once, would be accepted again for ever (mapped events get a new id each time).
    public init(adding json: [UInt8]) throws(MappingError) {
        try self.init(json: json)
        if let signature = self.signature, signature.timestampHeader == nil, signature.replayWindow != "none" {
            throw MappingError(
                "\"signature\" has no \"timestamp_header\", so a captured request could be replayed for ever; name the panel's timestamp header, or accept replays with \"replay_window\": \"none\" in \"signature\""
            )
        }
    }

    private func check() throws(MappingError) {
        guard !self.events.isEmpty else { throw MappingError("\"events\" must name at least one event") }
        let pointers: [(String, String?)] = [
            ("event", self.event), ("mac", self.mac), ("device_id", self.deviceID), ("previous_mac", self.previousMAC),
            ("extension", self.extensionNumber), ("model", self.model), ("vendor", self.vendor),
            ("serial", self.serial), ("gigaset_code", self.gigasetCode),
        ]
        for (name, pointer) in pointers {
            guard let pointer else { continue }
            guard FieldPath(pointer, format: self.format) != nil else {
                throw MappingError(
                    self.format == .json
                        ? "\"\(name)\": \(pointer.debugDescription) is not a JSON Pointer (RFC 6901), such as /data/mac"
                        : "\"\(name)\": \(pointer.debugDescription) is not a form field name, such as mac or data[mac]")
            }
        }
        for pointer in self.decodeJSON ?? [] where FieldPath(pointer, format: self.format) == nil {
            throw MappingError("\"decode_json\": \(pointer.debugDescription) is not a pointer")
        }
        if let signature = self.signature {
            guard HTTPFieldName(signature.header) else {
                throw MappingError("\"signature.header\": \(signature.header.debugDescription) is not a header name")
            }
            if let header = signature.timestampHeader, !HTTPFieldName(header) {
                throw MappingError("\"signature.timestamp_header\": \(header.debugDescription) is not a header name")
            }
            if let window = signature.replayWindow, window != "none" {
                throw MappingError(
                    "\"signature.replay_window\": \(window.debugDescription) is not understood; the only value is \"none\""
                )
            }
        }
    }
}

/// Why a mapping file is refused.
public struct MappingError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = "the mapping " + description }
}

/// Whether `name` is a valid HTTP field name (RFC 9110 token).
private func HTTPFieldName(_ name: String) -> Bool {
    !name.isEmpty
        && name.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "!#$%&'*+-.^_`|~".unicodeScalars.contains($0))
        }
}

/// A place in a parsed body: an RFC 6901 JSON Pointer (`/data/mac`, `~1` for `/`, `~0` for `~`) or a form field
/// name with bracket keys (`data[mac]`).
struct FieldPath: Sendable, Hashable {
    let tokens: [String]

    init?(_ text: String, format: SourceMapping.Format) {
        switch format {
        case .json:
            guard text.hasPrefix("/") else { return nil }
            var tokens: [String] = []
            for part in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
                var token = ""
                var index = part.startIndex
                while index < part.endIndex {
                    let character = part[index]
                    if character == "~" {
                        let next = part.index(after: index)
                        guard next < part.endIndex, part[next] == "0" || part[next] == "1" else { return nil }
                        token.append(part[next] == "0" ? "~" : "/")
                        index = part.index(after: next)
                    } else {
                        token.append(character)
                        index = part.index(after: index)
                    }
                }
                tokens.append(token)
            }
            self.tokens = tokens
        case .form:
            guard let tokens = FormBody.path(text), !tokens[0].isEmpty else { return nil }
            self.tokens = tokens
        }
    }

    /// The value here, if there is one.
    func value(in root: Any) -> Any? {
        var current: Any = root
        for token in self.tokens {
            if let object = current as? [String: Any], let next = object[token] {
                current = next
            } else if let array = current as? [Any], let index = Int(token), array.indices.contains(index) {
                current = array[index]
            } else {
                return nil
            }
        }
        return current
    }

    /// `root` with the value here replaced by `value`.
    func replacing(in root: Any, with value: Any) -> Any {
        guard let token = self.tokens.first else { return value }
        let rest = FieldPath(tokens: Array(self.tokens.dropFirst()))
        if var object = root as? [String: Any], let child = object[token] {
            object[token] = rest.replacing(in: child, with: value)
            return object
        }
        if var array = root as? [Any], let index = Int(token), array.indices.contains(index) {
            array[index] = rest.replacing(in: array[index], with: value)
            return array
        }
        return root
    }

    private init(tokens: [String]) { self.tokens = tokens }
}
