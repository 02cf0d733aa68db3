import Foundation
import HTTPTypes
import ProvHookCore

/// Wazo Platform webhookd subscriptions (`service: http`) to `device_created`, `device_edited` and
/// `device_deleted`, as webhookd sends them: by default the event's data as JSON, which for device events is only
/// `{"id": "<device id>"}`, with neither the event's name nor the MAC. The name comes from the query parameter
/// `event` (the subscription's `url` template carries `?event={{ event_name }}`), or from a body field `event_name`
/// when the operator writes a body template (sent as `text/plain` unless the subscription says otherwise; the body
/// is read as JSON whatever its type).
///
/// Created and edited devices are looked up in wazo-confd for their MAC, model, brand and serial number (`sn`); a
/// deleted one is gone from confd, and its stored device id gives the MAC. webhookd sends no signature and no custom
/// header, so the token comes in the URL (`?token=…`) or as the basic-auth password (`https://provhook:<token>@…`).
public struct WazoSource: Platform {
    public typealias Credentials = SourceCredentials

    public init() {}

    public var kind: SourceKind? { .wazo }
    public var displayName: String { "Wazo" }
    /// webhookd retries every 4xx and 5xx up to 10 times, except 410: a recorded refusal, which no retry can change,
    /// is answered 410.
    public var answers: AnswerPolicy { AnswerPolicy(accepted: .accepted, duplicate: .ok, ignored: .ok, refused: .gone) }

    public func reading(of request: InboundRequest, credentials: SourceCredentials) -> PlatformReading? {
        PlatformReading(self.receive(request, credentials: credentials), payload: Self.recordedPayload(request))
    }

    public func makeDirectory(
        _ configuration: DirectoryConfiguration
    ) throws(DirectoryError) -> (any DeviceDirectory)? {
        try WazoConfd(configuration: configuration)
    }

    public func receive(_ request: InboundRequest, credentials: SourceCredentials) -> SourceVerdict {
        guard SourceToken.verify(request, token: credentials.token) else {
            return .unauthenticated(
                code: "bad_token",
                message:
                    "the source's token is required: ?token=… in the subscription's URL, or as its basic-auth password")
        }
        let eventID = "wazo_" + UUID().uuidString.lowercased()
        guard let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any] else {
            return .rejected(
                EventRejection(code: .invalidJSON, message: "the body is not a JSON object such as {\"id\": \"…\"}"),
                type: nil, eventID: eventID)
        }
        let query = FormBody.parse(request.query) ?? [:]
        let name = (query["event"] as? String) ?? (object["event_name"] as? String)
        let type: DeviceEventType
        switch name {
        case "device_created": type = .added
        case "device_edited": type = .updated
        case "device_deleted": type = .removed
        case nil:
            return .rejected(
                EventRejection(
                    code: .missingType,
                    message:
                        "no event name: put ?event={{ event_name }} in the subscription's url, or \"event_name\" in its body"
                ), type: nil, eventID: eventID)
        case let other?:
            return .ignored(reason: "wazo \(String(other.prefix(32))) event")
        }
        let id = object["id"].flatMap { value -> String? in
            if let text = value as? String { return text }
            if let number = value as? NSNumber { return number.stringValue }
            return nil
        }
        guard let id, (1...200).contains(id.unicodeScalars.count) else {
            return .rejected(
                EventRejection(code: .invalidField, message: "the Wazo event has no device \"id\""), type: type,
                eventID: eventID)
        }
        if type == .removed { return .event(.removed(mac: nil, deviceID: id), eventID: eventID) }
        guard credentials.hasAPI else {
            return .rejected(
                EventRejection(
                    code: .missingMAC,
                    message:
                        "Wazo events carry no MAC: give the source its Wazo API (provhook source update \(credentials.name) --api-url … --api-user … --api-password-file …)"
                ), type: type, eventID: eventID)
        }
        return .lookup(type, deviceID: id, account: nil, eventID: eventID)
    }

    /// What is kept of a request as the event's payload: the event name and the device id.
    public static func recordedPayload(_ request: InboundRequest) -> [UInt8] {
        let object = (try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any]) ?? [:]
        let query = FormBody.parse(request.query) ?? [:]
        var kept: [String: Any] = [:]
        if let name = (query["event"] as? String) ?? (object["event_name"] as? String) { kept["event_name"] = name }
        if let id = object["id"] { kept["id"] = id }
        let json = (try? JSONSerialization.data(withJSONObject: kept, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Array(json)
    }
}
