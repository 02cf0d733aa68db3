import Crypto
import Foundation
import ProvHookCore
import ProvisioningModel
import Testing

@testable import Integrations

/// Kazoo v2 bodies signed as Kazoo 5 signs them (kazoo-webhooks `webhooks_util:add_hmac/2`: HMAC-SHA256 of the
/// timestamp's decimal text followed by the JSON of `data`), for a hook whose `sha256_key` is the source's token.
enum SignedKazoo {
    static let deviceID = KazooSourceTests.deviceID
    static let account = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    /// provhook's clock in the unit tests.
    static let now = Date(timeIntervalSince1970: 1_765_000_000)

    /// Kazoo's timestamp (Gregorian seconds) for `date`.
    static func gregorian(_ date: Date) -> Int64 {
        Int64(date.timeIntervalSince1970.rounded(.down)) + KazooHMAC.gregorianOffset
    }

    /// The `data` of an object event about the device, as Kazoo encodes it: `rev` 1-… for a creation, another for
    /// an edit; a deletion has no document and `metadata.deleted`.
    static func data(
        rev: String = "2-5c1e0a9b8d7f6e4c3b2a1908f7e6d5c4", mac: String = "000413610ff5", deleted: Bool = false,
        doc: String? = nil
    ) -> String {
        let document =
            doc
            ?? #"{"device_type":"sip_device","enabled":true,"id":"\#(deviceID)","mac_address":"\#(mac)","name":"Front Desk","provision":{"endpoint_brand":"snom","endpoint_family":"dxxx","endpoint_model":"d785"},"sip":{"method":"password","password":"p4ssw0rd","username":"user_frontdesk"}}"#
        if deleted {
            return
                #"{"account_id":"\#(account)","id":"\#(deviceID)","is_soft_deleted":false,"metadata":{"deleted":true,"id":"\#(deviceID)"},"rev":"\#(rev)","type":"device"}"#
        }
        return
            #"{"account_id":"\#(account)","database":"account%2Fa1%2Fb2%2Fc3d4e5f60718293a4b5c6d7e8f90","doc":\#(document),"id":"\#(deviceID)","is_soft_deleted":false,"metadata":{"id":"\#(deviceID)"},"rev":"\#(rev)","type":"device"}"#
    }

    /// A body: `data` signed with `key` at `timestamp`, `name` and any `extra` top-level members (each followed by a
    /// comma) unsigned, as Kazoo leaves them.
    static func body(
        data: String, timestamp: Int64, name: String = "doc_edited", extra: String = "",
        key: String = KazooSourceTests.token
    ) -> String {
        let code = HMAC<SHA256>.authenticationCode(
            for: Array(String(timestamp).utf8) + Array(data.utf8), using: SymmetricKey(data: Data(key.utf8)))
        return
            #"{"action":"event",\#(extra)"data":\#(data),"hmac":"\#(Data(code).base64EncodedString())","name":"\#(name)","timestamp":\#(timestamp)}"#
    }

    /// The request as Kazoo sends a v2 hook with `sha256_key` and no token in its `uri`.
    static func request(_ body: String, query: String = "") -> InboundRequest {
        KazooSourceTests.request(body, contentType: "application/json", query: query)
    }

    static func read(_ body: String, query: String = "", now: Date = Self.now) -> PlatformReading {
        KazooSource().read(Self.request(body, query: query), credentials: KazooSourceTests.credentials, now: now)
    }
}

@Suite("Kazoo v2 signed bodies: the hmac binds what decides the event")
struct KazooSignedBodyTests {
    static let mac = KazooSourceTests.mac
    static let edited = DeviceEvent.updated(
        mac: mac, previousMAC: nil, deviceID: SignedKazoo.deviceID, extensionNumber: nil, model: "snom d785",
        brand: "snom")

    func rejection(_ reading: PlatformReading) -> EventRejection? {
        if case .rejected(let rejection, _, _) = reading.verdict { return rejection }
        return nil
    }

    func event(_ reading: PlatformReading) -> DeviceEvent? {
        if case .event(let event, _) = reading.verdict { return event }
        return nil
    }

    @Test("a signed edit, creation and deletion are accepted by their hmac alone, each read from the signed data")
    func accepted() {
        let now = SignedKazoo.gregorian(SignedKazoo.now)
        let edit = SignedKazoo.read(SignedKazoo.body(data: SignedKazoo.data(), timestamp: now))
        #expect(self.event(edit) == Self.edited)
        #expect(edit.account == SignedKazoo.account)
        let payload = String(decoding: edit.payload, as: UTF8.self)
        #expect(payload.contains("doc_edited") && payload.contains("d785") && !payload.contains("p4ssw0rd"))

        let creation = SignedKazoo.read(
            SignedKazoo.body(
                data: SignedKazoo.data(rev: "1-8e7f0c2b5d3a4f6e9b1c0d2e3f4a5b6c"), timestamp: now, name: "doc_created"))
        #expect(
            self.event(creation)
                == .added(
                    mac: Self.mac, deviceID: SignedKazoo.deviceID, extensionNumber: nil, model: "snom d785",
                    brand: "snom"))
        let deletion = SignedKazoo.read(
            SignedKazoo.body(
                data: SignedKazoo.data(rev: "3-1f", deleted: true), timestamp: now, name: "doc_deleted"))
        #expect(self.event(deletion) == .removed(mac: nil, deviceID: SignedKazoo.deviceID))
        // The top-level fields of the published documentation are accepted when they agree with the signed ones.
        let documented = SignedKazoo.read(
            SignedKazoo.body(
                data: SignedKazoo.data(), timestamp: now,
                extra: #""type":"device","id":"\#(SignedKazoo.deviceID)","account_id":"\#(SignedKazoo.account)","#))
        #expect(self.event(documented) == Self.edited)
    }

    @Test("a second data member is refused as duplicate_member, before or after the signed one, token or not")
    func duplicateData() {
        let now = SignedKazoo.gregorian(SignedKazoo.now)
        let attacker = SignedKazoo.data(mac: "0004136100aa")
        let signed = SignedKazoo.body(data: SignedKazoo.data(), timestamp: now)
        let after = signed.replacingOccurrences(of: #","hmac":"#, with: #","data":\#(attacker),"hmac":"#)
        let before = signed.replacingOccurrences(of: #""data":"#, with: #""data":\#(attacker),"data":"#)
        #expect(after != signed && before != signed)
        for body in [after, before] {
            for query in ["", "token=\(KazooSourceTests.token)"] {
                let reading = SignedKazoo.read(body, query: query)
                #expect(self.rejection(reading)?.code.rawValue == "duplicate_member", "\(reading.verdict)")
                #expect(self.rejection(reading)?.message.contains(#""data""#) == true)
            }
        }
        // Spelled with an escape, the name is the same member.
        let escaped = signed.replacingOccurrences(of: #","hmac":"#, with: #","d\u0061ta":\#(attacker),"hmac":"#)
        #expect(self.rejection(SignedKazoo.read(escaped))?.code.rawValue == "duplicate_member")
        // Without a verifying hmac or a token, it is not authenticated at all.
        let unsigned = after.replacingOccurrences(of: "4f8c1a2b", with: "4f8c1a2c")
        guard case .unauthenticated = SignedKazoo.read(unsigned).verdict else {
            Issue.record("an altered body without a token was not refused as unauthenticated")
            return
        }
    }

    @Test("a duplicate member deep inside data.doc is refused, though the hmac covers it")
    func duplicateDeep() {
        let now = SignedKazoo.gregorian(SignedKazoo.now)
        let doc =
            #"{"id":"\#(SignedKazoo.deviceID)","mac_address":"000413610ff5","provision":{"endpoint_brand":"snom","endpoint_model":"d785","endpoint_brand":"yealink"},"mac_address":"0004136100aa"}"#
        let reading = SignedKazoo.read(SignedKazoo.body(data: SignedKazoo.data(doc: doc), timestamp: now))
        #expect(self.rejection(reading)?.code.rawValue == "duplicate_member", "\(reading.verdict)")
        #expect(self.rejection(reading)?.message.contains("data.doc.provision.endpoint_brand") == true)
    }

    @Test("an unsigned top-level name, action, id, account_id or type that disagrees with the signed data is refused")
    func unsignedFields() {
        let now = SignedKazoo.gregorian(SignedKazoo.now)
        let edit = SignedKazoo.data()
        for (body, field) in [
            // The reported attack: a signed edit renamed into a deletion.
            (SignedKazoo.body(data: edit, timestamp: now, name: "doc_deleted"), "name"),
            (SignedKazoo.body(data: edit, timestamp: now, name: "doc_created"), "name"),
            (
                SignedKazoo.body(data: SignedKazoo.data(deleted: true), timestamp: now, name: "doc_edited"),
                "name"
            ),
            (
                SignedKazoo.body(data: edit, timestamp: now).replacingOccurrences(
                    of: #""action":"event""#, with: #""action":"doc_deleted""#), "action"
            ),
            (SignedKazoo.body(data: edit, timestamp: now, extra: #""id":"0123456789abcdef","#), "id"),
            (SignedKazoo.body(data: edit, timestamp: now, extra: #""account_id":"beef0000beef0000","#), "account_id"),
            (SignedKazoo.body(data: edit, timestamp: now, extra: #""type":"user","#), "type"),
        ] {
            let reading = SignedKazoo.read(body)
            let rejection = self.rejection(reading)
            #expect(rejection?.code.rawValue == "unsigned_field_mismatch", "\(field): \(reading.verdict)")
            #expect(rejection?.message.contains("top-level \"\(field)\"") == true, "\(rejection?.message ?? "")")
        }
        // The signed account decides the tenant of the refusal's journal entry, not the unsigned one.
        let reading = SignedKazoo.read(
            SignedKazoo.body(data: edit, timestamp: now, extra: #""account_id":"beef0000beef0000","#))
        #expect(reading.account == SignedKazoo.account)
    }

    @Test("a signed timestamp 30 days old is refused with the clock's skew in the message")
    func thirtyDaysOld() {
        let old = SignedKazoo.gregorian(SignedKazoo.now) - 30 * 86_400
        let reading = SignedKazoo.read(SignedKazoo.body(data: SignedKazoo.data(), timestamp: old))
        #expect(self.rejection(reading)?.code.rawValue == "stale_timestamp", "\(reading.verdict)")
        #expect(
            self.rejection(reading)?.message.hasPrefix("the hook's timestamp is 2592000 s behind provhook's clock")
                == true, "\(self.rejection(reading)?.message ?? "")")
    }

    @Test("the window is 5 minutes either way: 299 s accepted, 301 s refused, behind and ahead")
    func window() {
        let now = SignedKazoo.gregorian(SignedKazoo.now)
        for offset: Int64 in [-299, 299, -300, 300] {
            let reading = SignedKazoo.read(SignedKazoo.body(data: SignedKazoo.data(), timestamp: now + offset))
            #expect(self.event(reading) == Self.edited, "\(offset) s: \(reading.verdict)")
        }
        for (offset, words) in [(-301 as Int64, "301 s behind"), (301, "301 s ahead of")] {
            let reading = SignedKazoo.read(SignedKazoo.body(data: SignedKazoo.data(), timestamp: now + offset))
            #expect(self.rejection(reading)?.code.rawValue == "stale_timestamp", "\(offset) s: \(reading.verdict)")
            #expect(
                self.rejection(reading)?.message.hasPrefix("the hook's timestamp is \(words) provhook's clock") == true)
        }
    }

    @Test("with the token, an old or foreign hmac is not needed, but the body is still read from its data")
    func tokenAndHMAC() {
        let token = "token=\(KazooSourceTests.token)"
        let old = SignedKazoo.gregorian(SignedKazoo.now) - 30 * 86_400
        // Token suffices: the window binds a hook that its hmac alone authenticates.
        #expect(
            self.event(SignedKazoo.read(SignedKazoo.body(data: SignedKazoo.data(), timestamp: old), query: token))
                == Self.edited)
        let foreign = SignedKazoo.body(data: SignedKazoo.data(), timestamp: old, key: "another key of the operator's")
        #expect(self.event(SignedKazoo.read(foreign, query: token)) == Self.edited)
        guard case .unauthenticated = SignedKazoo.read(foreign).verdict else {
            Issue.record("an hmac made with another key authenticated the hook")
            return
        }
        // A body that carries an hmac, verified or not, is never read from its unsigned fields.
        let renamed = SignedKazoo.body(data: SignedKazoo.data(), timestamp: old, name: "doc_deleted", key: "other")
        #expect(self.rejection(SignedKazoo.read(renamed, query: token))?.code.rawValue == "unsigned_field_mismatch")
    }
}

/// The strict scan of `StrictJSON`, on good and hostile texts.
@Suite("Strict JSON scan")
struct StrictJSONTests {
    func scan(_ text: String) -> Result<StrictJSON.Scan, StrictJSON.Failure> {
        StrictJSON.scan(Array(text.utf8))
    }

    func duplicate(_ text: String) -> String? {
        (try? self.scan(text).get())?.duplicate
    }

    @Test("duplicates are found at any depth, after escapes and by canonical equivalence; their path is given")
    func duplicates() throws {
        #expect(self.duplicate(#"{"a":1,"b":{"a":2}}"#) == nil)
        #expect(self.duplicate(#"{"a":1,"a":2}"#) == "a")
        #expect(self.duplicate(#"{"x":[{"a":1},{"a":1,"b":[],"a":2}]}"#) == "x[1].a")
        #expect(self.duplicate(#"{"x":{"y":{"z":1,"\u007a":2}}}"#) == "x.y.z")
        #expect(self.duplicate("{\"\u{e9}\":1,\"e\u{301}\":2}") != nil, "é and e + combining acute are one key")
        let scan = try self.scan(
            #" { "data" : {"k": [1, 2.5e-3, -0, true, false, null, "\"\\\/\b\f\n\r\t\ud83d\ude00"]}, "n": 7 } "#
        )
        .get()
        #expect(scan.members.map(\.name) == ["data", "n"])
        let body = Array(
            #" { "data" : {"k": [1, 2.5e-3, -0, true, false, null, "\"\\\/\b\f\n\r\t\ud83d\ude00"]}, "n": 7 } "#.utf8)
        #expect(String(decoding: body[scan.members[1].value], as: UTF8.self) == "7")
        #expect(String(decoding: body[scan.members[0].value], as: UTF8.self).hasPrefix(#"{"k""#))
    }

    @Test("what is not JSON, or not an object, is refused with where; nesting is capped at 64")
    func refusals() {
        for text in [
            "", "[]", "1", #""a""#, "{", #"{"a"}"#, #"{"a":}"#, #"{"a":1,}"#, #"{"a":01}"#, #"{"a":-}"#, #"{"a":1e}"#,
            #"{"a":1.}"#, #"{"a":tru}"#, #"{"a":"\x"}"#, #"{"a":"\u12"}"#, #"{"a":"\ud800"}"#, #"{"a":"\udc00x"}"#,
            "{\"a\":\"\u{1}\"}", #"{"a":1} x"#, #"{a:1}"#, #"{"a":[1,]}"#, #"{"a":"unterminated}"#,
        ] {
            guard case .failure(.invalid) = self.scan(text) else {
                Issue.record("accepted \(text.debugDescription)")
                continue
            }
        }
        guard case .failure(.invalid) = StrictJSON.scan([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D]) else {
            Issue.record("a name that is not UTF-8 was accepted")
            return
        }
        let nested = { (depth: Int) in
            "{\"a\":" + String(repeating: "[", count: depth - 1) + String(repeating: "]", count: depth - 1) + "}"
        }
        guard case .success = self.scan(nested(64)) else {
            Issue.record("64 levels are allowed")
            return
        }
        #expect(self.scan(nested(65)) == .failure(.tooDeep))
        // Far deeper than the cap, and unterminated: refused, never a crash or a stack overflow.
        #expect(self.scan("{\"a\":" + String(repeating: "[{\"b\":", count: 40_000)) == .failure(.tooDeep))
    }

    @Test("every prefix of a body, and every byte changed, is scanned without trapping")
    func hostile() {
        let body = Array(SignedKazoo.body(data: SignedKazoo.data(), timestamp: 63_904_161_600).utf8)
        for end in 0..<body.count { _ = StrictJSON.scan(Array(body[..<end])) }
        for (index, replacement) in zip(
            body.indices, [0x22, 0x5C, 0x7B, 0x5B, 0x7D, 0x00, 0xFF, 0x2C].cycled(body.count))
        {
            var altered = body
            altered[index] = UInt8(replacement)
            _ = StrictJSON.scan(altered)
        }
        #expect(StrictJSON.integer(Array("63904161600".utf8)[...]) == 63_904_161_600)
        #expect(StrictJSON.integer(Array("1.5".utf8)[...]) == nil)
        #expect(StrictJSON.integer(Array("99999999999999999999".utf8)[...]) == nil)
        #expect(StrictJSON.string(Array(#""a\u0062c""#.utf8)[...]) == "abc")
        #expect(StrictJSON.string(Array(#""abc"x"#.utf8)[...]) == nil)
    }
}

extension Array {
    /// The elements repeated until there are `count`.
    fileprivate func cycled(_ count: Int) -> [Element] {
        (0..<count).map { self[$0 % self.count] }
    }
}
