import Foundation
import NIOHTTP1
import ProvisioningModel

/// One answer of the service that is not a transport failure: its status, headers and body.
struct PolyZTPAnswer: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]

    /// The body as text, for matching the service's error texts.
    var text: String { String(decoding: self.body, as: UTF8.self) }

    /// 2xx: fspbx takes any of them as success.
    var isSuccess: Bool { (200...299).contains(self.status) }

    /// Whether the answer says another organisation holds the device: the service's own words (fspbx#554: "in those
    /// exact words from the Polycom API, no matter which organization owns the phone"), matched without case and
    /// whatever the status, since the status it comes with is not recorded.
    var saysClaimedByAnother: Bool {
        self.status >= 400 && self.text.lowercased().contains(PolyZTPAnswers.claimedMarker)
    }
}

/// One profile as `GET /profiles` lists it: what provhook reads of it.
struct PolyZTPProfile: Sendable, Hashable {
    var id: String
    var name: String?
    /// `template.provisioning.server.address`.
    var address: String?
}

/// One device as `GET /devices` lists it.
struct PolyZTPDevice: Sendable, Hashable {
    var mac: MACAddress
    /// The id of the profile it is assigned to, when it has one.
    var profile: String?
}

/// Reads the service's JSON strictly where provhook depends on it (`results`, `id`, `profile`, `next`), and
/// leniently elsewhere: profiles carry many fields provhook neither reads nor sends.
enum PolyZTPAnswers {
    /// The refusal of a device another organisation holds, lowercased.
    static let claimedMarker = "claimed by another organization"

    /// `POST /devices`'s body: `{"id": "<mac>", "profile": "<profile id>"}`, the MAC as fspbx sends it.
    static func deviceBody(mac: MACAddress, profile: String) throws(RedirectError) -> [UInt8] {
        try Self.encode(["id": PolyZTPClient.pathMAC(mac), "profile": profile])
    }

    /// A profile's body: its name, enabled, and the provisioning server's address; nothing else, so that a `PUT`
    /// of provhook's own profile sets only what provhook decides (no credentials: provhook has none to give).
    static func profileBody(name: String, address: String) throws(RedirectError) -> [UInt8] {
        let body = ProfileBody(
            name: name, enabled: true,
            template: .init(provisioning: .init(server: .init(address: address))))
        return try Self.encode(body)
    }

    private static func encode(_ value: some Encodable) throws(RedirectError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw .invalidRequest("cannot encode the request body: \(error)")
        }
    }

    /// A refusal as an outcome code: the status and the service's `error` or `message` (fspbx's order), kept short.
    static func refusal(_ answer: PolyZTPAnswer) -> RedirectErrorCode {
        .unknown("HTTP \(answer.status): \(Self.message(answer))")
    }

    /// The service's `error` or `message`, else the body's start, on one line of at most 200 characters.
    static func message(_ answer: PolyZTPAnswer) -> String {
        var text = answer.text
        if let object = try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any] {
            for key in ["error", "message"] {
                if let value = object[key] as? String {
                    text = value
                    break
                }
            }
        }
        let line = text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) }
        return String(String(line).prefix(200))
    }

    /// The error for an answer a lookup cannot use.
    static func unexpected(_ answer: PolyZTPAnswer, what: String) -> RedirectError {
        switch answer.status {
        case 200...299: .invalidResponse("\(what) answered HTTP \(answer.status) without a usable body")
        default: .invalidResponse("\(what) answered HTTP \(answer.status): \(Self.message(answer))")
        }
    }

    /// One page of a listing: its `results` (objects) and its `next` cursor, nil or empty on the last page.
    static func page(_ answer: PolyZTPAnswer) throws(RedirectError) -> (results: [[String: Any]], next: String?) {
        let object = try Self.object(answer)
        guard let results = object["results"] as? [Any] else { throw .invalidResponse("the page has no results") }
        let items = try results.map { (item: Any) throws(RedirectError) -> [String: Any] in
            guard let item = item as? [String: Any] else { throw .invalidResponse("results holds a non-object") }
            return item
        }
        let next = (object["next"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        return (items, next)
    }

    /// A device record: its `id` (the MAC) and `profile`, which is read as an id, or as an object's `id` (the shape
    /// of `GET /devices/{id}` is not recorded).
    static func device(_ item: [String: Any]) throws(RedirectError) -> PolyZTPDevice {
        guard let text = Self.identifier(item["id"]), let mac = MACAddress(text) else {
            throw .invalidResponse("a device has no valid id")
        }
        var profile = Self.identifier(item["profile"])
        if profile == nil, let nested = item["profile"] as? [String: Any] { profile = Self.identifier(nested["id"]) }
        return PolyZTPDevice(mac: mac, profile: profile)
    }

    /// A profile record: its `id`, `name` and `template.provisioning.server.address`.
    static func profile(_ item: [String: Any]) throws(RedirectError) -> PolyZTPProfile {
        guard let id = Self.identifier(item["id"]) else { throw .invalidResponse("a profile has no id") }
        let template = item["template"] as? [String: Any]
        let provisioning = template?["provisioning"] as? [String: Any]
        let server = provisioning?["server"] as? [String: Any]
        return PolyZTPProfile(id: id, name: item["name"] as? String, address: server?["address"] as? String)
    }

    /// A JSON object answer.
    static func object(_ answer: PolyZTPAnswer) throws(RedirectError) -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any] else {
            throw .invalidResponse("expected a JSON object")
        }
        return object
    }

    /// An id written as a string or a number.
    private static func identifier(_ value: Any?) -> String? {
        switch value {
        case let text as String where !text.isEmpty: text
        case let number as Int: String(number)
        default: nil
        }
    }
}

/// The profile a `POST` or `PUT /profiles` sends.
private struct ProfileBody: Encodable {
    struct Template: Encodable { var provisioning: Provisioning }
    struct Provisioning: Encodable { var server: Server }
    struct Server: Encodable { var address: String }

    var name: String
    var enabled: Bool
    var template: Template
}
