import Foundation
import HTTPTypes
import ProvHookCore
import ProvisioningModel
import WebhookSignature

/// provhook's own contract: a Standard Webhooks request (`webhook-id`, `webhook-timestamp`, `webhook-signature`
/// signed with the tenant's `whsec_` secret, or `Authorization: Bearer <secret>` where the tenant allows it) whose
/// JSON body is one of the three device events of `POST /v1/tenants/{tenant}/events`.
public struct NativeWebhookSource: Platform {
    public typealias Credentials = TenantCredentials

    public var kind: SourceKind? { nil }
    public var displayName: String { "provhook" }
    public var answers: AnswerPolicy { .native }

    let authenticator: WebhookAuthenticator

    public init(authenticator: WebhookAuthenticator = WebhookAuthenticator()) {
        self.authenticator = authenticator
    }

    /// The verdict; the payload kept is the body, as sent.
    public func reading(of request: InboundRequest, credentials: TenantCredentials) -> PlatformReading? {
        PlatformReading(self.receive(request, credentials: credentials), payload: request.body)
    }

    /// The 401's message; a stale timestamp says by how much the clocks differ, so that a PBX whose clock drifted is
    /// told apart from a replay.
    func message(_ failure: WebhookAuthenticationFailure, timestamp: String?, now: Date) -> String {
        guard failure == .staleTimestamp, let seconds = timestamp.flatMap({ Int64($0) }) else { return failure.message }
        let skew = Int64(now.timeIntervalSince1970.rounded(.down)) - seconds
        return
            "webhook-timestamp is \(skew.magnitude) s \(skew > 0 ? "behind" : "ahead of") provhook's clock; it must be within \(Int(self.authenticator.tolerance)) s of it: if the PBX sent it just now, set both clocks right (NTP), otherwise it is a replay"
    }

    public func receive(_ request: InboundRequest, credentials: TenantCredentials) -> SourceVerdict {
        var eventID = request.headers[.webhookID]
        let authorization = request.headers[.authorization]
        if credentials.allowBearer, let authorization, authorization.lowercased().hasPrefix("bearer ") {
            guard self.authenticator.verifyBearer(authorization, secret: credentials.secret) else {
                let failure = WebhookAuthenticationFailure.badBearer
                return .unauthenticated(code: failure.rawValue, message: failure.message)
            }
            // A panel that cannot sign may not send an id either; such events cannot be deduplicated.
            if eventID == nil { eventID = "bearer_" + UUID().uuidString.lowercased() }
        } else {
            let verdict = self.authenticator.verify(
                id: eventID, timestamp: request.headers[.webhookTimestamp],
                signatures: request.headers[.webhookSignature], body: request.body, secret: credentials.secret)
            if case .failure(let failure) = verdict {
                return .unauthenticated(
                    code: failure.rawValue,
                    message: self.message(failure, timestamp: request.headers[.webhookTimestamp], now: Date()))
            }
        }
        guard let eventID, (1...256).contains(eventID.utf8.count),
            eventID.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else {
            return .rejected(
                EventRejection(
                    code: .invalidWebhookID, message: "webhook-id must be 1 to 256 printable ASCII characters"),
                type: nil, eventID: nil)
        }
        do {
            return .event(try Self.parse(request.body), eventID: eventID)
        } catch {
            return .rejected(error, type: nil, eventID: eventID)
        }
    }

    /// Parses and checks a body of the contract; every refusal has a code and a message for the 400 answer.
    public static func parse(_ body: [UInt8]) throws(EventRejection) -> DeviceEvent {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(body), options: [])
        } catch {
            throw EventRejection(code: .invalidJSON, message: "the body is not valid JSON")
        }
        guard let fields = object as? [String: Any] else {
            throw EventRejection(code: .invalidJSON, message: "the body must be a JSON object")
        }
        guard let type = fields["type"] else {
            throw EventRejection(code: .missingType, message: "\"type\" is required")
        }
        guard let typeName = type as? String else {
            throw EventRejection(code: .invalidField, message: "\"type\" must be a string")
        }
        let deviceID = try Self.optionalString(fields, "device_id", maxLength: 200)
        let extensionNumber = try Self.optionalString(fields, "extension", maxLength: 64)
        let model = try Self.optionalString(fields, "model", maxLength: 64)
        // The phone's brand as the PBX names it; a PBX that knows none may send "", which says nothing.
        let brand = try Self.optionalString(fields, "vendor", maxLength: 64, emptyIsAbsent: true)
        let serial = try Self.serial(fields, "serial")
        let code = try Self.gigasetCode(fields, "gigaset_code")
        switch DeviceEventType(rawValue: typeName) {
        case .added:
            return .added(
                mac: try Self.requiredMAC(fields, "mac"), deviceID: deviceID, extensionNumber: extensionNumber,
                model: model, brand: brand, serial: serial, gigasetCode: code)
        case .updated:
            return .updated(
                mac: try Self.requiredMAC(fields, "mac"), previousMAC: try Self.mac(fields, "previous_mac"),
                deviceID: deviceID, extensionNumber: extensionNumber, model: model, brand: brand, serial: serial,
                gigasetCode: code)
        case .removed:
            let mac = try Self.mac(fields, "mac")
            guard mac != nil || deviceID != nil else {
                throw EventRejection(code: .missingMAC, message: "device.removed needs \"mac\" or \"device_id\"")
            }
            return .removed(mac: mac, deviceID: deviceID)
        case nil:
            throw EventRejection(
                code: .unknownType,
                message:
                    "unknown type \(String(typeName.prefix(64)).debugDescription); expected device.added, device.updated or device.removed"
            )
        }
    }

    /// The field `name`: absent or null is nil, anything but a string of 1 to `maxLength` characters is refused
    /// (an empty string is nil instead where `emptyIsAbsent`).
    private static func optionalString(
        _ fields: [String: Any], _ name: String, maxLength: Int, emptyIsAbsent: Bool = false
    ) throws(EventRejection) -> String? {
        guard let value = fields[name], !(value is NSNull) else { return nil }
        guard let text = value as? String else {
            throw EventRejection(code: .invalidField, message: "\"\(name)\" must be a string")
        }
        if emptyIsAbsent, text.isEmpty { return nil }
        // Counted in code points, as PostgreSQL's length() counts them: "é" written as e + U+0301 is two.
        guard !text.isEmpty, text.unicodeScalars.count <= maxLength else {
            throw EventRejection(
                code: .invalidField,
                message: emptyIsAbsent
                    ? "\"\(name)\" must be at most \(maxLength) characters"
                    : "\"\(name)\" must be 1 to \(maxLength) characters")
        }
        return text
    }

    /// The phone's serial number in the field `name`: absent, null, or nothing but spaces is none; the spaces around
    /// it are dropped; anything but a string that is a serial number (`DeviceSerial`) is refused, saying why, rather
    /// than stored.
    private static func serial(_ fields: [String: Any], _ name: String) throws(EventRejection) -> String? {
        guard let value = fields[name], !(value is NSNull) else { return nil }
        guard let text = value as? String else {
            throw EventRejection(code: .invalidField, message: "\"\(name)\" must be a string")
        }
        do {
            return try DeviceSerial.normalized(text)
        } catch {
            throw EventRejection(code: .invalidField, message: "\"\(name)\" \(error.reason)")
        }
    }

    /// The code printed on a Gigaset phone in the field `name`: absent, null, or nothing but spaces is none; the
    /// spaces around it are dropped and it is uppercased; anything but a string that is a code (`GigasetCode`) is
    /// refused, saying why, rather than stored.
    private static func gigasetCode(_ fields: [String: Any], _ name: String) throws(EventRejection) -> String? {
        guard let value = fields[name], !(value is NSNull) else { return nil }
        guard let text = value as? String else {
            throw EventRejection(code: .invalidField, message: "\"\(name)\" must be a string")
        }
        do {
            return try GigasetCode.normalized(text)
        } catch {
            throw EventRejection(code: .invalidField, message: "\"\(name)\" \(error.reason)")
        }
    }

    private static func requiredMAC(_ fields: [String: Any], _ name: String) throws(EventRejection) -> MACAddress {
        guard let mac = try Self.mac(fields, name) else {
            throw EventRejection(code: .missingMAC, message: "\"\(name)\" is required")
        }
        return mac
    }

    private static func mac(_ fields: [String: Any], _ name: String) throws(EventRejection) -> MACAddress? {
        guard let value = fields[name], !(value is NSNull) else { return nil }
        guard let text = value as? String else {
            throw EventRejection(code: .malformedMAC, message: "\"\(name)\" must be a string")
        }
        do {
            return try MACAddress(parsing: text)
        } catch {
            throw EventRejection(code: .malformedMAC, message: "\"\(name)\": \(error)")
        }
    }
}

extension HTTPField.Name {
    /// Standard Webhooks' headers.
    static let webhookID = Self("webhook-id")!
    static let webhookTimestamp = Self("webhook-timestamp")!
    static let webhookSignature = Self("webhook-signature")!
}
