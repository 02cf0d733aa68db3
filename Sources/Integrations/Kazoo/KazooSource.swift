import Crypto
import Foundation
import HTTPTypes
import ProvHookCore
import ProvisioningModel

/// 2600Hz Kazoo `object` webhooks (`hook: "object"`, `custom_data.type: "device"`), as Kazoo sends them: form-encoded
/// (the default; nested fields as `a[b]=v`), JSON (`format: json`) or in the query string (`http_verb: get`), in
/// the v1 shape (`action: doc_created|doc_edited|doc_deleted`, `type`, `id`, `account_id`, and `mac_address` where
/// the system config `webhooks.object.include_fields.device` copies it in) or the v2 shape of Kazoo 5
/// (`action: "event"`, the change in `name`, the document in `data.doc`; `id`, `type`, `account_id` inside `data`,
/// or at the top level as the published documentation shows them).
///
/// Open-source Kazoo sends no signature, so the source's token authenticates it (`SourceToken`); a Kazoo 5 v2 hook
/// whose `security_settings.sha256_key` is the token is authenticated by its body's `hmac` instead (`KazooHMAC`),
/// which binds only `timestamp` and `data`: such a body is read from `data` alone, must name no member twice, and
/// must have been signed within `signatureWindow` of provhook's clock. Kazoo keeps only a 200 as a
/// success and never retries an HTTP error, so the listener answers 200 for everything it recorded, rejections
/// included (journaled, with their code in the body).
public struct KazooSource: Platform {
    public typealias Credentials = SourceCredentials

    public var kind: SourceKind? { .kazoo }
    public var displayName: String { "Kazoo" }
    /// 200 for everything recorded, and no answer at all when nothing could be (Kazoo retries only transport
    /// errors).
    public var answers: AnswerPolicy {
        AnswerPolicy(accepted: .ok, duplicate: .ok, ignored: .ok, refused: .ok, closesConnectionWhenUnavailable: true)
    }

    /// How far, in seconds, the signed timestamp of a hook authenticated by its hmac may be from provhook's clock,
    /// either way: Kazoo sends an event at once and retries within about 10 s, so anything older is a replay.
    public static let signatureWindow: Int64 = 300

    public init() {}

    public func receive(_ request: InboundRequest, credentials: SourceCredentials) -> SourceVerdict {
        self.read(request, credentials: credentials).verdict
    }

    public func reading(of request: InboundRequest, credentials: SourceCredentials) -> PlatformReading? {
        self.read(request, credentials: credentials)
    }

    /// Kazoo's own header: a request that carries it is Kazoo's even before its source is read.
    public func claims(_ headers: HTTPFields) -> Bool {
        headers[HTTPField.Name("X-Hook-ID")!] != nil
    }

    public func makeDirectory(
        _ configuration: DirectoryConfiguration
    ) throws(DirectoryError) -> (any DeviceDirectory)? {
        try KazooCrossbar(configuration: configuration)
    }

    /// Authenticates `request`, reads its body once, and says what to do with it. `now` is provhook's clock, against
    /// which a signed timestamp is checked (a parameter so that tests can place the window's edges).
    public func read(_ request: InboundRequest, credentials: SourceCredentials, now: Date = Date()) -> PlatformReading {
        let body = Self.body(of: request)
        let scan = (try? body.get())?.scan
        // Without the token, a v2 hook whose security_settings.sha256_key is the source's token is authenticated by
        // its hmac alone. With the token, the token suffices, as it always has: it vouches for the whole request, and
        // an hmac the token did not make may be a key of the operator's own for another receiver.
        let hasToken = SourceToken.verify(request, token: credentials.token)
        var signature = KazooHMAC.Check.absent
        if !hasToken, let scan { signature = KazooHMAC.check(request.body, scan: scan, key: credentials.token) }
        guard hasToken || Self.isValid(signature) else {
            return PlatformReading(
                .unauthenticated(
                    code: "bad_token",
                    message:
                        "the source's token is required: ?token=…, Authorization: Bearer …, or as the basic-auth password; or, for a v2 hook, as its security_settings.sha256_key"
                ))
        }
        let eventID = Self.eventID(request)
        let parsed: Body
        switch body {
        case .success(let read): parsed = read
        case .failure(let rejection): return PlatformReading(.rejected(rejection, type: nil, eventID: eventID))
        }
        if let path = parsed.scan?.duplicate {
            return PlatformReading(
                .rejected(
                    EventRejection(
                        code: .duplicateMember,
                        message:
                            "the body names \(path.debugDescription) twice; a JSON parser keeps one of the two, so provhook cannot know which one the sender meant and refuses the body"
                    ), type: nil, eventID: eventID))
        }
        guard let fields = parsed.fields else {
            return PlatformReading(
                .rejected(
                    EventRejection(code: .invalidJSON, message: "the body is not a JSON object"), type: nil,
                    eventID: eventID))
        }
        // A JSON body that carries an hmac is read from what the hmac covers, whether or not it verified (with the
        // token, it need not): a body that presents itself as signed is read one way only, and its unsigned fields
        // never decide anything.
        let isSigned = parsed.scan?.members(named: "hmac").isEmpty == false
        let account =
            isSigned
            ? Self.validAccount((fields["data"] as? [String: Any])?["account_id"] as? String) : Self.account(fields)
        if case .valid(let signedAt, _) = signature {
            // Gregorian seconds to Unix seconds; the hmac binds the timestamp, so a replayed body keeps its age.
            let skew = Int64(now.timeIntervalSince1970.rounded(.down)) - (signedAt - KazooHMAC.gregorianOffset)
            guard abs(skew) <= Self.signatureWindow else {
                return PlatformReading(
                    .rejected(
                        EventRejection(
                            code: .staleTimestamp,
                            message:
                                "the hook's timestamp is \(abs(skew)) s \(skew > 0 ? "behind" : "ahead of") provhook's clock; a hook authenticated by its hmac must be within \(Self.signatureWindow) s of it: if Kazoo sent it just now, set both clocks right (NTP), otherwise it is a replay"
                        ), type: nil, eventID: eventID), account: account)
            }
        }
        var reading: PlatformReading =
            isSigned
            ? Self.signedReading(fields, account: account, credentials: credentials, eventID: eventID)
            : Self.plainReading(fields, account: account, credentials: credentials, eventID: eventID)
        // Every verdict, a refusal or an ignored event included, goes to the account's tenant.
        reading.account = account
        return reading
    }

    private static func isValid(_ check: KazooHMAC.Check) -> Bool {
        if case .valid = check { return true }
        return false
    }

    /// A body without hmac, authenticated by the token: v1 (form, JSON or GET) and v2 without a signature, each field
    /// where that shape has it.
    private static func plainReading(
        _ fields: [String: Any], account: String?, credentials: SourceCredentials, eventID: String
    ) -> PlatformReading {
        let isV2 = fields["action"] as? String == "event"
        let data = fields["data"] as? [String: Any] ?? [:]
        let change = (isV2 ? fields["name"] : fields["action"]) as? String
        let type = (isV2 ? (data["type"] ?? fields["type"]) : fields["type"]) as? String
        let id = (isV2 ? (data["id"] ?? fields["id"]) : fields["id"]) as? String
        let document = data["doc"] as? [String: Any]

        guard type == "device" else {
            return PlatformReading(.ignored(reason: "kazoo \(String((type ?? "unknown").prefix(32))) event"))
        }
        let eventType: DeviceEventType
        switch change {
        case "doc_created": eventType = .added
        case "doc_edited", "doc_updated": eventType = .updated
        case "doc_deleted": eventType = .removed
        default:
            return PlatformReading(
                .rejected(
                    EventRejection(
                        code: .unknownType,
                        message:
                            "unknown Kazoo action \(String((change ?? "none").prefix(32)).debugDescription); expected doc_created, doc_edited or doc_deleted"
                    ), type: nil, eventID: eventID))
        }
        var kept: [String: Any] = [:]
        for key in ["action", "name", "type", "id", "account_id", "mac_address", "timestamp"] {
            if let value = fields[key] ?? data[key] { kept[key] = value }
        }
        // A v1 body with include_fields has the document's fields at the top level.
        return Self.deviceReading(
            eventType, id: id, account: account, document: document ?? fields, kept: kept,
            credentials: credentials, eventID: eventID)
    }

    /// A v2 JSON body with an hmac. The hmac covers `timestamp` and `data` only (`KazooHMAC`), so everything that
    /// decides what happens comes from `data`: the device's `id`, `account_id` and `type`, its document in `doc`,
    /// and the change itself. A top-level `action`, `name`, `type`, `id` or `account_id` that disagrees is refused
    /// (`unsigned_field_mismatch`), never used.
    ///
    /// The change is decided as Kazoo decides the event's name (kazoo_data `kzs_publish:publish_doc/3`, and
    /// kazoo-webhooks `webhooks_object:format_v2_event/1`, which puts `metadata.deleted` in the data of a
    /// `doc_deleted`): a document soft-deleted (`is_soft_deleted`) or deleted (`metadata.deleted`) is a removal;
    /// otherwise a first revision (`rev` 1-…) is a creation, and any other an edit. So the one field an attacker
    /// could change, `name`, can never turn an edit into a deletion.
    private static func signedReading(
        _ fields: [String: Any], account validAccount: String?, credentials: SourceCredentials, eventID: String
    ) -> PlatformReading {
        func mismatch(_ key: String, _ message: String) -> PlatformReading {
            PlatformReading(
                .rejected(
                    EventRejection(
                        code: .unsignedFieldMismatch,
                        message:
                            "the top-level \(key.debugDescription) \(message); Kazoo's hmac covers only \"timestamp\" and \"data\", so the other fields must agree with \"data\""
                    ), type: nil, eventID: eventID))
        }
        /// Nil when the top-level `key` is absent or says `signed`; the refusal otherwise.
        func disagreement(_ key: String, signed: String?) -> PlatformReading? {
            guard let given = fields[key] else { return nil }
            if let signed, given as? String == signed { return nil }
            let shown = (given as? String).map { String($0.prefix(64)).debugDescription } ?? "(not a string)"
            return mismatch(
                key,
                signed == nil
                    ? "is \(shown), and the signed data has none" : "is \(shown), and the signed data's is different")
        }
        if let refusal = disagreement("action", signed: "event") { return refusal }
        guard let data = fields["data"] as? [String: Any] else {
            return PlatformReading(
                .rejected(
                    EventRejection(code: .invalidField, message: "the signed Kazoo event has no \"data\" object"),
                    type: nil, eventID: eventID))
        }
        let type = data["type"] as? String
        let id = data["id"] as? String
        let account = data["account_id"] as? String
        for (key, signed) in [("type", type), ("id", id), ("account_id", account)] {
            if let refusal = disagreement(key, signed: signed) { return refusal }
        }
        let metadata = data["metadata"] as? [String: Any]
        let deleted = metadata?["deleted"] as? Bool == true || data["is_soft_deleted"] as? Bool == true
        let revision = data["rev"] as? String
        let eventType: DeviceEventType =
            deleted ? .removed : revision?.hasPrefix("1-") == true ? .added : .updated
        let names: Set<String> =
            switch eventType {
            case .removed: ["doc_deleted"]
            case .added: ["doc_created"]
            // Without a revision, creation and edit are told apart by nothing signed: both read as an edit, which
            // registers the document's MAC (and deregisters the device's previous one, as the edit of a known
            // device must).
            case .updated:
                revision == nil ? ["doc_created", "doc_edited", "doc_updated"] : ["doc_edited", "doc_updated"]
            }
        let change = eventType == .removed ? "doc_deleted" : eventType == .added ? "doc_created" : "doc_edited"
        if let given = fields["name"] {
            guard let name = given as? String, names.contains(name) else {
                let shown = (given as? String).map { String($0.prefix(32)).debugDescription } ?? "(not a string)"
                return mismatch("name", "is \(shown), and the signed data is a \(change)")
            }
        }
        guard type == "device" else {
            return PlatformReading(.ignored(reason: "kazoo \(String((type ?? "unknown").prefix(32))) event"))
        }
        var kept: [String: Any] = ["action": "event", "name": change]
        for (key, value) in [("type", type), ("id", id), ("account_id", account)] {
            if let value { kept[key] = value }
        }
        kept["timestamp"] = fields["timestamp"]
        // Only the signed document: a MAC at the top level (a v1 body's include_fields) is not signed.
        return Self.deviceReading(
            eventType, id: id, account: validAccount, document: data["doc"] as? [String: Any] ?? [:],
            kept: kept, credentials: credentials, eventID: eventID)
    }

    /// The device event, once its change, id and document are known.
    private static func deviceReading(
        _ eventType: DeviceEventType, id: String?, account: String?, document: [String: Any], kept: [String: Any],
        credentials: SourceCredentials, eventID: String
    ) -> PlatformReading {
        guard let id, (1...200).contains(id.unicodeScalars.count) else {
            return PlatformReading(
                .rejected(
                    EventRejection(code: .invalidField, message: "the Kazoo event has no device \"id\""),
                    type: eventType, eventID: eventID))
        }
        let device: DirectoryDevice
        do {
            device = try KazooDeviceDocument.device(document)
        } catch {
            return PlatformReading(
                .rejected(
                    EventRejection(code: .malformedMAC, message: "\"mac_address\": \(error)"), type: eventType,
                    eventID: eventID))
        }
        var kept = kept
        if let mac = document["mac_address"] { kept["mac_address"] = mac }
        if let provision = document["provision"] as? [String: Any] {
            kept["provision"] = provision.filter {
                ["endpoint_brand", "endpoint_family", "endpoint_model"].contains($0.key)
            }
        }
        let payload = Array(
            (try? JSONSerialization.data(withJSONObject: kept, options: [.sortedKeys])) ?? Data("{}".utf8))
        let (mac, model, brand) = (device.mac, device.model, device.brand)
        switch eventType {
        case .added, .updated:
            guard let mac else {
                if credentials.hasAPI {
                    return PlatformReading(
                        .lookup(eventType, deviceID: id, account: account, eventID: eventID), payload: payload)
                }
                return PlatformReading(
                    .rejected(
                        EventRejection(
                            code: .missingMAC,
                            message:
                                "Kazoo sent no mac_address for device \(String(id.prefix(64))); give the source its crossbar API (--api-url, --api-key-file), or on Kazoo 5 set system_config webhooks.object include_fields.device to [\"mac_address\"], or use a v2 hook"
                        ), type: eventType, eventID: eventID))
            }
            return PlatformReading(
                .event(
                    eventType == .added
                        ? .added(mac: mac, deviceID: id, extensionNumber: nil, model: model, brand: brand)
                        : .updated(
                            mac: mac, previousMAC: nil, deviceID: id, extensionNumber: nil, model: model,
                            brand: brand),
                    eventID: eventID), payload: payload)
        case .removed:
            return PlatformReading(.event(.removed(mac: mac, deviceID: id), eventID: eventID), payload: payload)
        }
    }

    /// A body as read once: the fields, and for a JSON body its strict scan.
    struct Body {
        /// Nil when a JSON body names a member twice: which one `JSONSerialization` kept is not the sender's say.
        var fields: [String: Any]?
        /// The scan of a JSON body (`StrictJSON`); nil for a form body or a query string.
        var scan: StrictJSON.Scan?
    }

    /// The body, read once: form or JSON by Content-Type, or, for a GET, the query string. A JSON body is scanned
    /// strictly first (`StrictJSON`), and parsed only when it names no member twice.
    static func body(of request: InboundRequest) -> Result<Body, EventRejection> {
        let contentType = request.headers[.contentType]?.split(separator: ";").first?
            .trimmingCharacters(in: .whitespaces).lowercased()
        if request.body.isEmpty {
            guard let fields = FormBody.parse(request.query) else {
                return .failure(EventRejection(code: .invalidForm, message: "the query string is not valid"))
            }
            return .success(Body(fields: fields))
        }
        if contentType == "application/json" {
            let scan: StrictJSON.Scan
            switch StrictJSON.scan(request.body) {
            case .success(let scanned): scan = scanned
            case .failure(.tooDeep):
                return .failure(
                    EventRejection(
                        code: .invalidJSON,
                        message: "the body nests objects or arrays deeper than \(StrictJSON.maxDepth) levels"))
            case .failure(.invalid(let reason)):
                return .failure(
                    EventRejection(code: .invalidJSON, message: "the body is not a JSON object: \(reason)"))
            }
            guard scan.duplicate == nil else { return .success(Body(fields: nil, scan: scan)) }
            guard let object = try? JSONSerialization.jsonObject(with: Data(request.body)),
                let fields = object as? [String: Any]
            else { return .failure(EventRejection(code: .invalidJSON, message: "the body is not a JSON object")) }
            return .success(Body(fields: fields, scan: scan))
        }
        guard let text = String(validating: request.body, as: UTF8.self), let fields = FormBody.parse(text) else {
            return .failure(EventRejection(code: .invalidForm, message: "the body is not valid form encoding"))
        }
        return .success(Body(fields: fields))
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
        return Self.validAccount((data["account_id"] ?? fields["account_id"]) as? String)
    }

    /// `account` if it looks like a Kazoo account id.
    static func validAccount(_ account: String?) -> String? {
        guard let account, (1...64).contains(account.count),
            account.unicodeScalars.allSatisfy({
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_.-".unicodeScalars.contains($0))
            })
        else { return nil }
        return account
    }
}
