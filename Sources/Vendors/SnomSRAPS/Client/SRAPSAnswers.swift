import Foundation
import NIOHTTP1
import ProvisioningModel
import VendorHTTP

/// One answer of the service that is not a transport failure: its status, headers and body.
typealias SRAPSAnswer = HTTPAnswer

/// One entry of `settings/`.
struct SRAPSSetting: Sendable, Hashable {
    var uuid: String
    var paramName: String
    var section: String?
}

/// Reads the service's JSON answers strictly where provhook depends on them, and leniently elsewhere: SRAPS's
/// records carry many fields provhook neither reads nor sends.
enum SRAPSAnswers {
    /// The texts SRAPS answers when another account holds the MAC, lowercased (falconieri b7bee26 maps both,
    /// whatever their case).
    static let ownedByOtherMarkers = ["taken_mac_or_forbidden", "user lacks permission to endpoint"]

    /// The PUT body: `{"autoprovisioning_enabled": true, "mac": …, "settings_manager": {uuid: {"attrs": {"perm":
    /// "RW"}, "value": url}}}`, keys sorted, no `null` (a null resets the server's default: falconieri 21de451).
    static func endpointBody(mac: String, setting: String, url: String) throws(RedirectError) -> [UInt8] {
        let body = EndpointBody(
            mac: mac, autoprovisioningEnabled: true,
            settingsManager: [setting: .init(value: url, attrs: ["perm": "RW"])])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(body))
        } catch {
            throw .invalidRequest("cannot encode the endpoint: \(error)")
        }
    }

    /// `.error(.ownedByOtherUser)` when the answer says another account holds the MAC, whatever its status.
    static func ownedByOther(_ answer: SRAPSAnswer) -> RedirectOutcome? {
        guard answer.status >= 400 else { return nil }
        let text = answer.text.lowercased()
        return Self.ownedByOtherMarkers.contains { text.contains($0) } ? .error(.ownedByOtherUser) : nil
    }

    /// A refusal as an outcome code: the status and the service's `message`, `error` or `detail`, kept short.
    static func refusal(_ answer: SRAPSAnswer) -> RedirectErrorCode {
        .unknown("HTTP \(answer.status): \(Self.message(answer))")
    }

    /// The error for an answer a lookup cannot use; 404 stays `unexpectedStatus(404)` so that callers can tell it.
    static func unexpected(_ answer: SRAPSAnswer, what: String) -> RedirectError {
        switch answer.status {
        case 200: .invalidResponse("\(what) answered HTTP 200 without a usable body")
        case 300...399, 404: .unexpectedStatus(answer.status)
        default: .invalidResponse("\(what) answered HTTP \(answer.status): \(Self.message(answer))")
        }
    }

    /// The service's `message`, `error` or `detail` (falconieri's order), else the body's start, on one line.
    static func message(_ answer: SRAPSAnswer) -> String {
        var text = answer.text
        if let object = try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any] {
            for key in ["message", "error", "detail"] {
                if let value = object[key] as? String {
                    text = value
                    break
                }
            }
        }
        let line = text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) }
        return String(String(line).prefix(200))
    }

    /// `links.{name}` of a JSON object answer.
    static func link(_ name: String, in answer: SRAPSAnswer) throws(RedirectError) -> String {
        let object = try Self.object(answer)
        guard let links = object["links"] as? [String: Any], let link = links[name] as? String, !link.isEmpty else {
            throw .invalidResponse("the answer has no links.\(name)")
        }
        return link
    }

    /// A top-level string field of a JSON object answer, if there is one.
    static func string(_ name: String, in answer: SRAPSAnswer) -> String? {
        (try? Self.object(answer))?[name] as? String
    }

    /// One page of `settings/`: a JSON array of objects with `uuid` and `param_name`.
    static func settingsPage(_ answer: SRAPSAnswer) throws(RedirectError) -> [SRAPSSetting] {
        try Self.array(answer).map { (item: [String: Any]) throws(RedirectError) in
            guard let uuid = item["uuid"] as? String, let name = item["param_name"] as? String else {
                throw .invalidResponse("a setting has no uuid or param_name")
            }
            return SRAPSSetting(uuid: uuid, paramName: name, section: item["section"] as? String)
        }
    }

    /// One page of `endpoints/`: each record's MAC and URL.
    static func endpointPage(_ answer: SRAPSAnswer, setting: String) throws(RedirectError) -> [AccountRegistration] {
        try Self.array(answer).map { (item: [String: Any]) throws(RedirectError) in
            try Self.registration(item, setting: setting)
        }
    }

    /// One record, from `GET {endpoints}{mac}`.
    static func endpointRecord(_ answer: SRAPSAnswer, setting: String) throws(RedirectError) -> AccountRegistration {
        try Self.registration(try Self.object(answer), setting: setting)
    }

    /// A record's MAC, and the value of the URL setting in its `settings_manager` when it has one.
    private static func registration(
        _ item: [String: Any], setting: String
    ) throws(RedirectError) -> AccountRegistration {
        guard let text = item["mac"] as? String, let mac = MACAddress(text) else {
            throw .invalidResponse("an endpoint has no valid mac")
        }
        let settings = item["settings_manager"] as? [String: Any]
        let url = (settings?[setting] as? [String: Any])?["value"] as? String
        return AccountRegistration(mac: mac, url: url)
    }

    private static func object(_ answer: SRAPSAnswer) throws(RedirectError) -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any] else {
            throw .invalidResponse("expected a JSON object")
        }
        return object
    }

    private static func array(_ answer: SRAPSAnswer) throws(RedirectError) -> [[String: Any]] {
        guard let array = try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [Any] else {
            throw .invalidResponse("expected a JSON array")
        }
        return try array.map { (item: Any) throws(RedirectError) in
            guard let object = item as? [String: Any] else { throw .invalidResponse("expected an array of objects") }
            return object
        }
    }
}

/// The record a PUT sends; optional fields are left out rather than sent as `null`.
private struct EndpointBody: Encodable {
    struct Setting: Encodable {
        var value: String
        var attrs: [String: String]
    }

    var mac: String
    var autoprovisioningEnabled: Bool
    var settingsManager: [String: Setting]

    enum CodingKeys: String, CodingKey {
        case mac
        case autoprovisioningEnabled = "autoprovisioning_enabled"
        case settingsManager = "settings_manager"
    }
}

/// RFC 8288 `Link` headers, as far as pagination needs them.
public enum SRAPSLinkHeader {
    /// The target of the link whose `rel` holds `next`, or nil when there is none.
    public static func next(_ header: String?) -> String? {
        guard let header else { return nil }
        var rest = Substring(header)
        while let open = rest.firstIndex(of: "<") {
            guard let close = rest[open...].firstIndex(of: ">") else { return nil }
            let target = rest[rest.index(after: open)..<close]
            // The parameters run to the next link; a quoted value may hold a comma, so stop at "<" instead.
            let afterTarget = rest[rest.index(after: close)...]
            let parameters = afterTarget.prefix { $0 != "<" }
            for parameter in parameters.split(separator: ";") {
                let pair = parameter.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "rel" else {
                    continue
                }
                let value = pair[1].trimmingCharacters(in: CharacterSet.whitespaces.union(["\"", ","]))
                if value.lowercased().split(separator: " ").contains("next") { return String(target) }
            }
            rest = afterTarget.dropFirst(parameters.count)
        }
        return nil
    }
}
