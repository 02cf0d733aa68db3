import Foundation
import SnomRedirect

/// A webhook's body, checked: the contract's three event types.
public enum WebhookEvent: Sendable, Hashable {
    /// A phone was added: register `mac` at the tenant's URL.
    case added(mac: MACAddress, deviceID: String?, extensionNumber: String?, model: String?)
    /// A phone changed; with `previousMAC` (or a `device_id` known under another MAC) the old MAC is deregistered.
    case updated(mac: MACAddress, previousMAC: MACAddress?, deviceID: String?, extensionNumber: String?, model: String?)
    /// A phone was removed, by MAC or by the PBX's `device_id`.
    case removed(mac: MACAddress?, deviceID: String?)

    /// `device.added`, `device.updated` or `device.removed`.
    public var type: String {
        switch self {
        case .added: "device.added"
        case .updated: "device.updated"
        case .removed: "device.removed"
        }
    }

    /// The largest body accepted: 64 KiB.
    public static let maxBodyBytes = 64 * 1024

    /// Parses and checks a body; every refusal has a code and a message for the 400 answer.
    public static func parse(_ body: [UInt8]) throws(WebhookEventError) -> WebhookEvent {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(body), options: [])
        } catch {
            throw WebhookEventError(code: "invalid_json", message: "the body is not valid JSON")
        }
        guard let fields = object as? [String: Any] else {
            throw WebhookEventError(code: "invalid_json", message: "the body must be a JSON object")
        }
        guard let type = fields["type"] else { throw WebhookEventError(code: "missing_type", message: "\"type\" is required") }
        guard let typeName = type as? String else {
            throw WebhookEventError(code: "invalid_field", message: "\"type\" must be a string")
        }
        let deviceID = try Self.optionalString(fields, "device_id", maxLength: 200)
        let extensionNumber = try Self.optionalString(fields, "extension", maxLength: 64)
        let model = try Self.optionalString(fields, "model", maxLength: 64)
        switch typeName {
        case "device.added":
            return .added(mac: try Self.mac(fields, "mac", required: true)!, deviceID: deviceID, extensionNumber: extensionNumber, model: model)
        case "device.updated":
            return .updated(
                mac: try Self.mac(fields, "mac", required: true)!, previousMAC: try Self.mac(fields, "previous_mac", required: false),
                deviceID: deviceID, extensionNumber: extensionNumber, model: model)
        case "device.removed":
            let mac = try Self.mac(fields, "mac", required: false)
            guard mac != nil || deviceID != nil else {
                throw WebhookEventError(code: "missing_mac", message: "device.removed needs \"mac\" or \"device_id\"")
            }
            return .removed(mac: mac, deviceID: deviceID)
        default:
            throw WebhookEventError(
                code: "unknown_type",
                message: "unknown type \(String(typeName.prefix(64)).debugDescription); expected device.added, device.updated or device.removed")
        }
    }

    private static func optionalString(_ fields: [String: Any], _ name: String, maxLength: Int) throws(WebhookEventError) -> String? {
        guard let value = fields[name], !(value is NSNull) else { return nil }
        guard let text = value as? String else {
            throw WebhookEventError(code: "invalid_field", message: "\"\(name)\" must be a string")
        }
        guard !text.isEmpty, text.count <= maxLength else {
            throw WebhookEventError(code: "invalid_field", message: "\"\(name)\" must be 1 to \(maxLength) characters")
        }
        return text
    }

    private static func mac(_ fields: [String: Any], _ name: String, required: Bool) throws(WebhookEventError) -> MACAddress? {
        guard let value = fields[name], !(value is NSNull) else {
            if required { throw WebhookEventError(code: "missing_mac", message: "\"\(name)\" is required") }
            return nil
        }
        guard let text = value as? String else {
            throw WebhookEventError(code: "malformed_mac", message: "\"\(name)\" must be a string")
        }
        do {
            return try MACAddress(parsing: text)
        } catch {
            throw WebhookEventError(code: "malformed_mac", message: "\"\(name)\": \(error)")
        }
    }
}

/// Why an authenticated webhook's body was refused (HTTP 400).
public struct WebhookEventError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable code: `invalid_json`, `missing_type`, `unknown_type`, `missing_mac`, `malformed_mac`, `invalid_field`,
    /// `unknown_device`, `mac_in_use`.
    public var code: String
    public var message: String

    public var description: String { "\(self.code): \(self.message)" }
}
