import Crypto
import Foundation
import HTTPTypes
import PBXDirectory
import ProvHookCore
import SnomRedirect

/// 2600Hz Kazoo `object` webhooks (`hook: "object"`, `custom_data.type: "device"`), as Kazoo sends them: form-encoded
/// (the default; nested fields as `a[b]=v`), JSON (`format: json`) or in the query string (`http_verb: get`), in
/// the v1 shape (`action: doc_created|doc_edited|doc_deleted`, `type`, `id`, `account_id`, and `mac_address` where
/// the system config `webhooks.object.include_fields.device` copies it in) or the v2 shape of Kazoo 5
/// (`action: "event"`, the change in `name`, the document in `data.doc`; `id`, `type`, `account_id` inside `data`,
/// or at the top level as the published documentation shows them).
///
/// Open-source Kazoo sends no signature, so the source's token authenticates it (`SourceToken`); a Kazoo 5 v2 hook
/// whose `security_settings.sha256_key` is the token is authenticated by its body's `hmac` instead (`KazooHMAC`). Kazoo keeps only a 200 as a
/// success and never retries an HTTP error, so the listener answers 200 for everything it recorded, rejections
/// included (journaled, with their code in the body).
public struct KazooSource: EventSource {
    public typealias Credentials = SourceCredentials

    public init() {}

    public func receive(_ request: InboundRequest, credentials: SourceCredentials) -> SourceVerdict {
        // Without the token, a v2 hook whose security_settings.sha256_key is the source's token is authenticated by
        // its hmac alone. (With the token, an hmac made with another key of the operator's is not provhook's.)
        guard
            SourceToken.verify(request, token: credentials.token)
                || KazooHMAC.verify(request.body, key: credentials.token) == true
        else {
            return .unauthenticated(
                code: "bad_token",
                message:
                    "the source's token is required: ?token=…, Authorization: Bearer …, or as the basic-auth password; or, for a v2 hook, as its security_settings.sha256_key"
            )
        }
        let fields: [String: Any]
        switch Self.fields(of: request) {
        case .success(let parsed): fields = parsed
        case .failure(let rejection): return .rejected(rejection, type: nil, eventID: Self.eventID(request))
        }
        let isV2 = fields["action"] as? String == "event"
        let data = fields["data"] as? [String: Any] ?? [:]
        let change = (isV2 ? fields["name"] : fields["action"]) as? String
        let type = (isV2 ? (data["type"] ?? fields["type"]) : fields["type"]) as? String
        let id = (isV2 ? (data["id"] ?? fields["id"]) : fields["id"]) as? String
        let document = data["doc"] as? [String: Any]
        let eventID = Self.eventID(request)

        guard type == "device" else {
            return .ignored(reason: "kazoo \(String((type ?? "unknown").prefix(32))) event")
        }
        let eventType: DeviceEventType
        switch change {
        case "doc_created": eventType = .added
        case "doc_edited", "doc_updated": eventType = .updated
        case "doc_deleted": eventType = .removed
        default:
            return .rejected(
                EventRejection(
                    code: "unknown_type",
                    message:
                        "unknown Kazoo action \(String((change ?? "none").prefix(32)).debugDescription); expected doc_created, doc_edited or doc_deleted"
                ), type: nil, eventID: eventID)
        }
        guard let id, (1...200).contains(id.unicodeScalars.count) else {
            return .rejected(
                EventRejection(code: "invalid_field", message: "the Kazoo event has no device \"id\""), type: eventType,
                eventID: eventID)
        }
        let account = Self.account(fields)
        let device: DirectoryDevice
        do {
            // A v1 body with include_fields has the document's fields at the top level.
            device = try KazooDeviceDocument.device(document ?? fields)
        } catch {
            return .rejected(
                EventRejection(code: "malformed_mac", message: "\"mac_address\": \(error)"), type: eventType,
                eventID: eventID)
        }
        let (mac, model) = (device.mac, device.model)
        switch eventType {
        case .added, .updated:
            guard let mac else {
                if credentials.hasAPI {
                    return .lookup(eventType, deviceID: id, account: account, eventID: eventID)
                }
                return .rejected(
                    EventRejection(
                        code: "missing_mac",
                        message:
                            "Kazoo sent no mac_address for device \(String(id.prefix(64))); give the source its crossbar API (--api-url, --api-key-file), or on Kazoo 5 set system_config webhooks.object include_fields.device to [\"mac_address\"], or use a v2 hook"
                    ), type: eventType, eventID: eventID)
            }
            return .event(
                eventType == .added
                    ? .added(mac: mac, deviceID: id, extensionNumber: nil, model: model)
                    : .updated(mac: mac, previousMAC: nil, deviceID: id, extensionNumber: nil, model: model),
                eventID: eventID)
        case .removed:
            return .event(.removed(mac: mac, deviceID: id), eventID: eventID)
        }
    }

    /// The fields from the body (form or JSON, by Content-Type) or, for a GET, the query string.
    static func fields(of request: InboundRequest) -> Result<[String: Any], EventRejection> {
        let contentType = request.headers[.contentType]?.split(separator: ";").first?
            .trimmingCharacters(in: .whitespaces).lowercased()
        if request.body.isEmpty {
            guard let fields = FormBody.parse(request.query) else {
                return .failure(EventRejection(code: "invalid_form", message: "the query string is not valid"))
            }
            return .success(fields)
        }
        if contentType == "application/json" {
            guard let object = try? JSONSerialization.jsonObject(with: Data(request.body)),
                let fields = object as? [String: Any]
            else { return .failure(EventRejection(code: "invalid_json", message: "the body is not a JSON object")) }
            return .success(fields)
        }
        guard let text = String(validating: request.body, as: UTF8.self), let fields = FormBody.parse(text) else {
            return .failure(EventRejection(code: "invalid_form", message: "the body is not valid form encoding"))
        }
        return .success(fields)
    }

    /// What is kept of a request as the event's payload (`webhook_events.payload`, which the auditor reads): the
    /// fields provhook used, as JSON, and nothing else. A v2 document carries the device's SIP password, and a GET
    /// carries the token, so neither is kept whole.
    public static func recordedPayload(_ request: InboundRequest) -> [UInt8] {
        guard case .success(let fields) = Self.fields(of: request) else { return Array("{}".utf8) }
        let data = fields["data"] as? [String: Any] ?? [:]
        let document = data["doc"] as? [String: Any]
        var kept: [String: Any] = [:]
        for key in ["action", "name", "type", "id", "account_id", "mac_address", "timestamp"] {
            if let value = fields[key] ?? data[key] { kept[key] = value }
        }
        if let mac = document?["mac_address"] { kept["mac_address"] = mac }
        if let provision = document?["provision"] as? [String: Any] {
            kept["provision"] = provision.filter {
                ["endpoint_brand", "endpoint_family", "endpoint_model"].contains($0.key)
            }
        }
        let json = (try? JSONSerialization.data(withJSONObject: kept, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Array(json)
    }

    /// Kazoo sends no event id. A v2 event carries its timestamp, so the same bytes again are a redelivery (a
    /// transport retry); a v1 event does not, and two identical v1 bodies may be two real edits, so each is new.
    public static func eventID(_ request: InboundRequest) -> String {
        let bytes = request.body.isEmpty ? Array(request.query.utf8) : request.body
        if String(decoding: bytes, as: UTF8.self).contains("timestamp") {
            return "kazoo_" + SHA256.hash(data: bytes).prefix(16).map { String(format: "%02x", $0) }.joined()
        }
        return "kazoo_" + UUID().uuidString.lowercased()
    }

    /// The Kazoo account the event is about: `account_id`, at the top level (v1, and v2 as documented) or in
    /// `data` (v2 as sent); nil when absent or not a Kazoo id.
    static func account(_ fields: [String: Any]) -> String? {
        let data = fields["data"] as? [String: Any] ?? [:]
        guard let account = (data["account_id"] ?? fields["account_id"]) as? String, (1...64).contains(account.count),
            account.unicodeScalars.allSatisfy({
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_.-".unicodeScalars.contains($0))
            })
        else { return nil }
        return account
    }

    /// The Kazoo account of a request, for a source that maps accounts to tenants.
    public static func account(of request: InboundRequest) -> String? {
        guard case .success(let fields) = Self.fields(of: request) else { return nil }
        return Self.account(fields)
    }
}
