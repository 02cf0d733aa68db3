import Foundation
import HTTPTypes
import Integrations
import ProvHookCore
import ProvisioningModel
import Testing

/// Kazoo's object webhooks as Kazoo builds them (2600hz/kazoo `webhooks_util.erl`, `webhooks_object.erl`;
/// openkazoo/kazoo5-dev `format_v2_event`): recorded bodies, read by `KazooSource`.
@Suite("Kazoo source: recorded payloads")
struct KazooSourceTests {
    static let token = "phsrc_test-token-0123456789"
    static let credentials = SourceCredentials(kind: .kazoo, tenantID: "acme", token: token)
    static let deviceID = "4f8c1a2b3c4d5e6f7a8b9c0d1e2f3a4b"
    static let mac = MACAddress("000413610FF5")!

    /// v1, form-encoded (the default), doc_created, with `mac_address` from `include_fields` (Kazoo 5).
    static let v1FormCreated =
        "id=4f8c1a2b3c4d5e6f7a8b9c0d1e2f3a4b&account_id=a1b2c3d4e5f60718293a4b5c6d7e8f90&action=doc_created&type=device&mac_address=000413610ff5&auth_user_id=9c2e4a6b8d0f13572468ace0bdf13579&auth_account_id=a1b2c3d4e5f60718293a4b5c6d7e8f90&cluster_id=5e2f7c1d9a3b4e6f8a0b2c4d6e8f0a1b"
    /// v1, form-encoded, doc_created without `mac_address` (Kazoo 4, or no include_fields).
    static let v1FormCreatedWithoutMAC =
        "id=4f8c1a2b3c4d5e6f7a8b9c0d1e2f3a4b&account_id=a1b2c3d4e5f60718293a4b5c6d7e8f90&action=doc_created&type=device&cluster_id=5e2f7c1d9a3b4e6f8a0b2c4d6e8f0a1b"
    /// v1, form-encoded, doc_deleted without `mac_address`.
    static let v1FormDeleted =
        "id=4f8c1a2b3c4d5e6f7a8b9c0d1e2f3a4b&account_id=a1b2c3d4e5f60718293a4b5c6d7e8f90&action=doc_deleted&type=device&cluster_id=5e2f7c1d9a3b4e6f8a0b2c4d6e8f0a1b"
    /// v1, `format: json`, doc_edited (Kazoo 5: canonical JSON).
    static let v1JSONEdited =
        #"{"account_id":"a1b2c3d4e5f60718293a4b5c6d7e8f90","action":"doc_edited","auth_account_id":"a1b2c3d4e5f60718293a4b5c6d7e8f90","auth_user_id":"9c2e4a6b8d0f13572468ace0bdf13579","cluster_id":"5e2f7c1d9a3b4e6f8a0b2c4d6e8f0a1b","id":"4f8c1a2b3c4d5e6f7a8b9c0d1e2f3a4b","mac_address":"000413610ff5","type":"device"}"#
    /// v1, `format: json`, Kazoo 4 (jiffy pretty, no MAC).
    static let v1JSONKazoo4 = """
        {
          "id" : "4f8c1a2b3c4d5e6f7a8b9c0d1e2f3a4b",
          "account_id" : "a1b2c3d4e5f60718293a4b5c6d7e8f90",
          "action" : "doc_edited",
          "type" : "device",
          "cluster_id" : "5e2f7c1d9a3b4e6f8a0b2c4d6e8f0a1b"
        }
        """
    /// v2 (Kazoo 5), doc_created, with the document.
    static let v2Created =
        #"{"action":"event","data":{"account_id":"a1b2c3d4e5f60718293a4b5c6d7e8f90","database":"account%2Fa1%2Fb2%2Fc3d4e5f60718293a4b5c6d7e8f90","date_created":63904161600,"date_modified":63904161600,"doc":{"device_type":"sip_device","enabled":true,"id":"4f8c1a2b3c4d5e6f7a8b9c0d1e2f3a4b","mac_address":"000413610ff5","name":"Front Desk","provision":{"endpoint_brand":"snom","endpoint_family":"dxxx","endpoint_model":"d785"},"sip":{"method":"password","password":"p4ssw0rd","username":"user_frontdesk"}},"id":"4f8c1a2b3c4d5e6f7a8b9c0d1e2f3a4b","is_soft_deleted":false,"metadata":{"created":63904161600,"id":"4f8c1a2b3c4d5e6f7a8b9c0d1e2f3a4b","modified":63904161600},"rev":"1-8e7f0c2b5d3a4f6e9b1c0d2e3f4a5b6c","type":"device"},"hmac":"6hQq+002XQVfAI2PXH7fDiZzZErzx8OpNwnq5CeqQ7I=","name":"doc_created","timestamp":63904161600}"#
    /// v2, doc_created, as the published documentation shows it: `type`, `id`, `account_id` at the top level.
    static let v2CreatedAsDocumented =
        #"{"action":"event","name":"doc_created","type":"device","id":"4f8c1a2b3c4d5e6f7a8b9c0d1e2f3a4b","account_id":"a1b2c3d4e5f60718293a4b5c6d7e8f90","timestamp":"63904161600","data":{"doc":{"mac_address":"00:04:13:61:0F:F5"}}}"#
    /// v2, doc_deleted: no document.
    static let v2Deleted =
        #"{"action":"event","data":{"account_id":"a1b2c3d4e5f60718293a4b5c6d7e8f90","id":"4f8c1a2b3c4d5e6f7a8b9c0d1e2f3a4b","is_soft_deleted":true,"metadata":{"created":63904165200,"deleted":true,"id":"4f8c1a2b3c4d5e6f7a8b9c0d1e2f3a4b","modified":63904161600},"type":"device"},"hmac":"XbXd6TSfsKHHZBT9qfeCbJDsfXjLTy9Z5R6l9eqtrx8=","name":"doc_deleted","timestamp":63904165205}"#
    /// v2 in the default form-data format (nested keys, empty segments from empty objects).
    static let v2FormCreated =
        "action=event&name=doc_created&data[type]=device&data[id]=4f8c1a2b3c4d5e6f7a8b9c0d1e2f3a4b&data[metadata][id]=4f8c1a2b3c4d5e6f7a8b9c0d1e2f3a4b&&&&data[doc][device_type]=sip_device&&data[doc][enabled]=true&data[doc][mac_address]=000413610ff5&data[doc][media][audio][codecs][]=PCMU&data[doc][provision][endpoint_brand]=snom&data[doc][provision][endpoint_model]=d785&data[doc][id]=4f8c1a2b3c4d5e6f7a8b9c0d1e2f3a4b&timestamp=63904161600"
    /// A v1 event about a user, not a device.
    static let v1User =
        "id=c4c0ad092e57bc1d28e69bbd20dad932&account_id=a1b2c3d4e5f60718293a4b5c6d7e8f90&action=doc_created&type=user&cluster_id=5e2f7c1d9a3b4e6f8a0b2c4d6e8f0a1b"

    static func request(
        _ body: String, contentType: String? = "application/x-www-form-urlencoded", query: String = "token=\(token)",
        authorization: String? = nil
    ) -> InboundRequest {
        var headers = HTTPFields()
        if let contentType { headers[.contentType] = contentType }
        if let authorization { headers[.authorization] = authorization }
        headers[HTTPField.Name("X-Hook-ID")!] = "7d3f1e2c9b8a4d6e5f0a1b2c3d4e5f60"
        return InboundRequest(headers: headers, body: Array(body.utf8), query: query)
    }

    func event(_ verdict: SourceVerdict) -> DeviceEvent? {
        if case .event(let event, _) = verdict { return event }
        return nil
    }

    func rejection(_ verdict: SourceVerdict) -> String? {
        if case .rejected(let rejection, _, _) = verdict { return rejection.code.rawValue }
        return nil
    }

    @Test("v1 form, JSON and GET; v2 JSON, as documented, and form: each becomes its device event")
    func shapes() {
        let source = KazooSource()
        let added = DeviceEvent.added(mac: Self.mac, deviceID: Self.deviceID, extensionNumber: nil, model: nil)
        #expect(self.event(source.receive(Self.request(Self.v1FormCreated), credentials: Self.credentials)) == added)
        #expect(
            self.event(
                source.receive(
                    Self.request(Self.v1JSONEdited, contentType: "application/json"), credentials: Self.credentials))
                == .updated(mac: Self.mac, previousMAC: nil, deviceID: Self.deviceID, extensionNumber: nil, model: nil))
        #expect(
            self.event(source.receive(Self.request(Self.v1FormDeleted), credentials: Self.credentials))
                == .removed(mac: nil, deviceID: Self.deviceID))
        // http_verb: get puts the fields in the query string, token included.
        let get = Self.request("", contentType: nil, query: "token=\(Self.token)&" + Self.v1FormCreated)
        #expect(self.event(source.receive(get, credentials: Self.credentials)) == added)
        // The provision block's endpoint_brand is the brand, as Kazoo names it, and with endpoint_model the model.
        let withModel = DeviceEvent.added(
            mac: Self.mac, deviceID: Self.deviceID, extensionNumber: nil, model: "snom d785", brand: "snom")
        #expect(
            self.event(
                source.receive(
                    Self.request(Self.v2Created, contentType: "application/json"), credentials: Self.credentials))
                == withModel)
        #expect(
            self.event(
                source.receive(
                    Self.request(Self.v2CreatedAsDocumented, contentType: "application/json"),
                    credentials: Self.credentials))
                == added)
        #expect(
            self.event(source.receive(Self.request(Self.v2FormCreated), credentials: Self.credentials)) == withModel)
        // Another brand is passed on as written; a block without endpoint_brand gives none.
        let yealink = Self.v2Created.replacingOccurrences(
            of: #""endpoint_brand":"snom","endpoint_family":"dxxx","endpoint_model":"d785""#,
            with: #""endpoint_brand":"Yealink","endpoint_model":"T54W""#)
        #expect(
            self.event(
                source.receive(Self.request(yealink, contentType: "application/json"), credentials: Self.credentials))
                == .added(
                    mac: Self.mac, deviceID: Self.deviceID, extensionNumber: nil, model: "Yealink T54W",
                    brand: "Yealink"))
        let unbranded = Self.v2Created.replacingOccurrences(of: #""endpoint_brand":"snom","#, with: "")
        #expect(
            self.event(
                source.receive(Self.request(unbranded, contentType: "application/json"), credentials: Self.credentials))
                == .added(mac: Self.mac, deviceID: Self.deviceID, extensionNumber: nil, model: "d785", brand: nil))
        #expect(
            self.event(
                source.receive(
                    Self.request(Self.v2Deleted, contentType: "application/json"), credentials: Self.credentials))
                == .removed(mac: nil, deviceID: Self.deviceID))
    }

    @Test("a user event is ignored; a device event without a MAC is a journaled missing_mac; Kazoo 4 JSON too")
    func withoutDevice() {
        let source = KazooSource()
        #expect(
            source.receive(Self.request(Self.v1User), credentials: Self.credentials)
                == .ignored(reason: "kazoo user event"))
        #expect(
            self.rejection(source.receive(Self.request(Self.v1FormCreatedWithoutMAC), credentials: Self.credentials))
                == "missing_mac")
        #expect(
            self.rejection(
                source.receive(
                    Self.request(Self.v1JSONKazoo4, contentType: "application/json"), credentials: Self.credentials))
                == "missing_mac")
        #expect(
            self.rejection(
                source.receive(
                    Self.request(Self.v1FormCreated.replacingOccurrences(of: "000413610ff5", with: "0004136")),
                    credentials: Self.credentials)) == "malformed_mac")
        #expect(
            self.rejection(
                source.receive(Self.request("{", contentType: "application/json"), credentials: Self.credentials))
                == "invalid_json")
    }

    @Test("the token is taken from the query, a bearer header or the basic-auth password, and refused otherwise")
    func tokens() {
        let source = KazooSource()
        let basic = "Basic " + Data("kazoo:\(Self.token)".utf8).base64EncodedString()
        for request in [
            Self.request(Self.v1FormCreated),
            Self.request(Self.v1FormCreated, query: "", authorization: "Bearer \(Self.token)"),
            Self.request(Self.v1FormCreated, query: "", authorization: basic),
        ] {
            #expect(self.event(source.receive(request, credentials: Self.credentials)) != nil)
        }
        let wrongBasic = "Basic " + Data("kazoo:\(Self.token)x".utf8).base64EncodedString()
        for request in [
            Self.request(Self.v1FormCreated, query: ""),
            Self.request(Self.v1FormCreated, query: "token=\(Self.token.dropLast())"),
            Self.request(Self.v1FormCreated, query: "token=\(Self.token)x"),
            Self.request(Self.v1FormCreated, query: "", authorization: "Bearer wrong"),
            Self.request(Self.v1FormCreated, query: "", authorization: wrongBasic),
            Self.request(Self.v1FormCreated, query: "tok=\(Self.token)"),
        ] {
            guard case .unauthenticated = source.receive(request, credentials: Self.credentials) else {
                Issue.record("a wrong or missing token must be refused")
                continue
            }
        }
    }

    /// `v2Created` signed as Kazoo 5 signs it when the hook's `sha256_key` is the source's token: over the timestamp
    /// one second after the body's (Kazoo reads its clock again) and the bytes of `data`.
    static let v2CreatedSigned = v2Created.replacingOccurrences(
        of: "6hQq+002XQVfAI2PXH7fDiZzZErzx8OpNwnq5CeqQ7I=", with: "W9yGBFpsT/1He26spJKzuc5ozHoIUWS7+55Dk4UVhE8=")

    @Test("a v2 hook whose sha256_key is the token is authenticated by its hmac alone; an altered body is not")
    func hmac() {
        let source = KazooSource()
        let signed = Self.request(Self.v2CreatedSigned, contentType: "application/json", query: "")
        // provhook's clock when Kazoo sent it (its timestamp is Gregorian seconds).
        let sentAt = Date(timeIntervalSince1970: TimeInterval(63_904_161_600 - 62_167_219_200))
        #expect(self.event(source.read(signed, credentials: Self.credentials, now: sentAt).verdict) != nil)
        for altered in [
            Self.v2CreatedSigned.replacingOccurrences(of: "000413610ff5", with: "000413610ff6"),
            Self.v2CreatedSigned.replacingOccurrences(of: "63904161600}", with: "63904161700}"),
            Self.v2Created,
        ] {
            guard
                case .unauthenticated = source.receive(
                    Self.request(altered, contentType: "application/json", query: ""), credentials: Self.credentials)
            else {
                Issue.record("an hmac that does not match was accepted")
                continue
            }
        }
        // With the token, an hmac made with a key of the operator's own is not provhook's business.
        #expect(
            self.event(
                source.receive(
                    Self.request(Self.v2Created, contentType: "application/json"), credentials: Self.credentials))
                != nil)
    }

    @Test("the payload kept holds what provhook used: no SIP password from a v2 document, no token from a GET")
    func payload() {
        let v2 = String(
            decoding: KazooSource().read(
                Self.request(Self.v2Created, contentType: "application/json"), credentials: Self.credentials
            ).payload,
            as: UTF8.self)
        #expect(v2.contains("000413610ff5") && v2.contains("d785") && !v2.contains("p4ssw0rd") && !v2.contains("sip"))
        let get = String(
            decoding: KazooSource().read(
                Self.request("", contentType: nil, query: "token=\(Self.token)&" + Self.v1FormCreated),
                credentials: Self.credentials
            ).payload,
            as: UTF8.self)
        #expect(get.contains("doc_created") && !get.contains(Self.token))
    }

    @Test("a v2 redelivery has the same event id; two identical v1 bodies are two events")
    func eventIDs() {
        let v2 = Self.request(Self.v2Created, contentType: "application/json")
        #expect(KazooSource.eventID(v2) == KazooSource.eventID(v2))
        let v1 = Self.request(Self.v1FormCreated)
        #expect(KazooSource.eventID(v1) != KazooSource.eventID(v1))
    }
}

/// Wazo webhookd's requests, as webhookd sends them, read by `WazoSource`.
@Suite("Wazo source")
struct WazoSourceTests {
    static let credentials = SourceCredentials(
        name: "wazo-acme", kind: .wazo, tenantID: "acme", token: KazooSourceTests.token, hasAPI: true)

    func receive(
        _ body: String, query: String, credentials: SourceCredentials = Self.credentials,
        contentType: String = "application/json; charset=utf-8"
    ) -> SourceVerdict {
        WazoSource().receive(
            KazooSourceTests.request(body, contentType: contentType, query: query), credentials: credentials)
    }

    @Test("device_created and device_edited ask for a lookup; device_deleted needs none")
    func events() {
        let token = "token=\(KazooSourceTests.token)"
        guard
            case .lookup(.added, "d1", nil, _) = self.receive(#"{"id": "d1"}"#, query: "event=device_created&\(token)")
        else {
            Issue.record("device_created")
            return
        }
        guard
            case .lookup(.updated, "d1", nil, _) = self.receive(
                #"{"event_name": "device_edited", "id": "d1"}"#, query: token, contentType: "text/plain")
        else {
            Issue.record("device_edited from a body template")
            return
        }
        guard
            case .event(.removed(nil, "d1"), _) = self.receive(#"{"id": "d1"}"#, query: "event=device_deleted&\(token)")
        else {
            Issue.record("device_deleted")
            return
        }
        guard case .ignored = self.receive(#"{"uuid": "u"}"#, query: "event=user_created&\(token)") else {
            Issue.record("another event")
            return
        }
        guard case .rejected(let noName, _, _) = self.receive(#"{"id": "d1"}"#, query: token),
            noName.code.rawValue == "missing_type"
        else {
            Issue.record("no event name")
            return
        }
        guard case .rejected(let notJSON, _, _) = self.receive("id=d1", query: "event=device_created&\(token)"),
            notJSON.code.rawValue == "invalid_json"
        else {
            Issue.record("not JSON")
            return
        }
        var noAPI = Self.credentials
        noAPI.hasAPI = false
        guard
            case .rejected(let needsAPI, .added, _) = self.receive(
                #"{"id": "d1"}"#, query: "event=device_created&\(token)", credentials: noAPI),
            needsAPI.code.rawValue == "missing_mac"
        else {
            Issue.record("a lookup without an API")
            return
        }
    }

    @Test("a wrong token is refused in every place it may be")
    func tokens() {
        for (query, authorization) in [
            ("event=device_created&token=wrong", nil as String?),
            ("event=device_created", "Basic " + Data("wazo:wrong".utf8).base64EncodedString()),
            ("event=device_created", "Bearer wrong"),
            ("event=device_created", nil),
        ] {
            let verdict = WazoSource().receive(
                KazooSourceTests.request(
                    #"{"id": "d1"}"#, contentType: "application/json", query: query,
                    authorization: authorization), credentials: Self.credentials)
            guard case .unauthenticated = verdict else {
                Issue.record("accepted \(query) \(authorization ?? "")")
                continue
            }
        }
        let basic = "Basic " + Data("wazo:\(KazooSourceTests.token)".utf8).base64EncodedString()
        let verdict = WazoSource().receive(
            KazooSourceTests.request(#"{"id": "d1"}"#, query: "event=device_created", authorization: basic),
            credentials: Self.credentials)
        guard case .lookup = verdict else {
            Issue.record("the right token as basic auth: \(verdict)")
            return
        }
    }
}
