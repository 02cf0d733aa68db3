import Crypto
import Foundation
import HTTPTypes
import ProvHookCore
import ProvisioningModel
import WebhookSignature

/// Any other panel's webhooks, read through the source's `SourceMapping`: a custom admin panel, a relay such as n8n,
/// or a PBX with its own event format (Yeastar P-Series, whose `msg` field is JSON inside a string and whose
/// `X-Signature` is Base64(HMAC-SHA256(secret, body))).
///
/// With a `signature` in the mapping, the signature alone authenticates, keyed with the source's token; otherwise
/// the token does, as for Kazoo. Events whose name the mapping does not list are answered as ignored.
public struct MappingSource: Platform {
    public typealias Credentials = SourceCredentials

    public var kind: SourceKind? { .mapping }
    public var displayName: String { "mapping" }
    /// The native contract's answers: a panel written against it expects them.
    public var answers: AnswerPolicy { .native }

    /// How far a signed timestamp may be from now.
    static let tolerance: TimeInterval = 300

    let now: @Sendable () -> Date

    public init(now: @escaping @Sendable () -> Date = Date.init) {
        self.now = now
    }

    public func reading(of request: InboundRequest, credentials: SourceCredentials) -> PlatformReading? {
        let verdict = self.receive(request, credentials: credentials)
        guard case .event(let event, _) = verdict else { return PlatformReading(verdict) }
        return PlatformReading(verdict, payload: Self.payload(event))
    }

    /// What is kept of a mapped event: the event as provhook read it, in the native contract's shape (the panel's
    /// body may hold anything, secrets included).
    static func payload(_ event: DeviceEvent) -> [UInt8] {
        var fields: [String: String] = ["type": event.type.rawValue]
        if let mac = event.primaryMAC { fields["mac"] = mac.canonical }
        if let deviceID = event.deviceID { fields["device_id"] = deviceID }
        let json = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Array(json)
    }

    public func receive(_ request: InboundRequest, credentials: SourceCredentials) -> SourceVerdict {
        guard let json = credentials.mapping, let mapping = try? SourceMapping(json: json) else {
            return .unauthenticated(code: "bad_mapping", message: "the source has no usable mapping")
        }
        if let signature = mapping.signature {
            if let failure = Self.verify(signature, request, key: credentials.token, now: self.now()) {
                return .unauthenticated(code: "bad_signature", message: failure)
            }
        } else if !SourceToken.verify(request, token: credentials.token) {
            return .unauthenticated(
                code: "bad_token",
                message:
                    "the source's token is required: ?token=…, Authorization: Bearer …, or as the basic-auth password")
        }
        let eventID = "mapped_" + UUID().uuidString.lowercased()
        var root: Any
        switch mapping.format {
        case .json:
            guard let parsed = try? JSONSerialization.jsonObject(with: Data(request.body), options: [.fragmentsAllowed])
            else {
                return .rejected(
                    EventRejection(code: .invalidJSON, message: "the body is not valid JSON"), type: nil,
                    eventID: eventID)
            }
            root = parsed
        case .form:
            guard let text = String(validating: request.body, as: UTF8.self), let fields = FormBody.parse(text) else {
                return .rejected(
                    EventRejection(code: .invalidForm, message: "the body is not valid form encoding"), type: nil,
                    eventID: eventID)
            }
            root = fields
        }
        for pointer in mapping.decodeJSON ?? [] {
            guard let path = FieldPath(pointer, format: mapping.format), let text = path.value(in: root) as? String
            else { continue }
            guard let inner = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
            else {
                return .rejected(
                    EventRejection(code: .invalidJSON, message: "\(pointer) does not hold JSON"), type: nil,
                    eventID: eventID)
            }
            root = path.replacing(in: root, with: inner)
        }
        func text(_ pointer: String?) -> String? {
            guard let pointer, let value = FieldPath(pointer, format: mapping.format)?.value(in: root) else {
                return nil
            }
            if let text = value as? String { return text.isEmpty ? nil : text }
            if let number = value as? NSNumber, !(value is Bool) { return number.stringValue }
            return nil
        }
        guard let name = text(mapping.event) else {
            return .rejected(
                EventRejection(code: .missingType, message: "no event name at \(mapping.event)"), type: nil,
                eventID: eventID)
        }
        guard let type = mapping.events[name] else {
            return .ignored(reason: "event \(String(name.prefix(64)).debugDescription) is not mapped")
        }
        // The same checks as the native contract, on the fields the mapping points at.
        var fields: [String: Any] = ["type": type.rawValue]
        let pairs: [(String, String?)] = [
            ("mac", mapping.mac), ("device_id", mapping.deviceID), ("previous_mac", mapping.previousMAC),
            ("extension", mapping.extensionNumber), ("model", mapping.model), ("vendor", mapping.vendor),
            ("serial", mapping.serial), ("gigaset_code", mapping.gigasetCode),
        ]
        for (field, pointer) in pairs {
            if let value = text(pointer) { fields[field] = value }
        }
        guard let body = try? JSONSerialization.data(withJSONObject: fields) else {
            return .rejected(
                EventRejection(code: .invalidField, message: "unusable fields"), type: type, eventID: eventID)
        }
        do {
            return .event(try NativeWebhookSource.parse(Array(body)), eventID: eventID)
        } catch {
            return .rejected(error, type: type, eventID: eventID)
        }
    }

    /// Nil when the signature is right; else why not.
    static func verify(
        _ signature: SourceMapping.Signature, _ request: InboundRequest, key: String, now: Date
    ) -> String? {
        guard let headerName = HTTPField.Name(signature.header), var presented = request.headers[headerName] else {
            return "the \(signature.header) header is required"
        }
        if let prefix = signature.prefix {
            guard presented.hasPrefix(prefix) else { return "\(signature.header) must start with \(prefix)" }
            presented.removeFirst(prefix.count)
        }
        var message = request.body
        if let timestampHeader = signature.timestampHeader {
            guard let name = HTTPField.Name(timestampHeader), let stamp = request.headers[name],
                let seconds = TimeInterval(stamp), abs(now.timeIntervalSince1970 - seconds) <= Self.tolerance
            else { return "\(timestampHeader) must be a Unix time within 5 minutes" }
            message = Array("\(stamp).".utf8) + request.body
        }
        let keyBytes = SymmetricKey(data: Data(key.utf8))
        let mac: [UInt8] =
            switch signature.algorithm {
            case .sha256: Array(HMAC<SHA256>.authenticationCode(for: message, using: keyBytes))
            case .sha1: Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: keyBytes))
            }
        let expected: String =
            switch signature.encoding {
            case .hex: mac.map { String(format: "%02x", $0) }.joined()
            case .base64: Data(mac).base64EncodedString()
            }
        let given = signature.encoding == .hex ? presented.lowercased() : presented
        return constantTimeEquals(Array(given.utf8), Array(expected.utf8)) ? nil : "the signature does not match"
    }
}
