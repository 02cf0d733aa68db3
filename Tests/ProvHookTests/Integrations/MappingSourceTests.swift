import AsyncHTTPClient
import Crypto
import FakePBXService
import Foundation
import HTTPTypes
import Integrations
import Logging
import NIOCore
import NIOHTTP1
import PostgresNIO
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import Testing

/// Mapping sources: another panel's webhooks read through a declarative mapping, with the token or an HMAC.
@Suite("Mapping sources")
struct MappingSourceTests {
    static let token = "phsrc_mapping-token-0123456789"
    static let mac = MACAddress("000413610FF5")!

    /// A custom admin panel: JSON, its own event names, the token in the URL; the model and brand where it keeps them.
    static let panel = #"""
        {"format": "json", "event": "/event", "events": {"phone.created": "device.added", "phone.deleted": "device.removed"},
         "mac": "/phone/mac", "device_id": "/phone/id", "extension": "/phone/line/0/number",
         "model": "/phone/model", "vendor": "/phone/maker/name"}
        """#
    /// Shaped like a Yeastar P-Series event: the details in `msg`, a JSON string; X-Signature is
    /// Base64(HMAC-SHA256(secret, body)).
    static let yeastar = #"""
        {"format": "json", "event": "/msg/action", "events": {"add": "device.added", "delete": "device.removed"},
         "mac": "/msg/mac", "device_id": "/msg/id", "decode_json": ["/msg"],
         "signature": {"header": "X-Signature", "algorithm": "sha256", "encoding": "base64", "replay_window": "none"}}
        """#
    /// A relay signing `<timestamp>.<body>` in hex, GitHub style, with a form body.
    static let relay = #"""
        {"format": "form", "event": "kind", "events": {"new": "device.added"}, "mac": "dev[mac]", "device_id": "dev[id]",
         "signature": {"header": "X-Hub-Signature-256", "algorithm": "sha256", "encoding": "hex", "prefix": "sha256=",
                       "timestamp_header": "X-Timestamp"}}
        """#

    static func credentials(_ mapping: String) -> SourceCredentials {
        SourceCredentials(kind: .mapping, tenantID: "acme", token: Self.token, mapping: Array(mapping.utf8))
    }

    static func request(_ body: String, query: String = "", headers: [(String, String)] = []) -> InboundRequest {
        var fields = HTTPFields()
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        return InboundRequest(headers: fields, body: Array(body.utf8), query: query)
    }

    static func hmac(_ message: String) -> [UInt8] {
        Array(
            HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(Self.token.utf8))))
    }

    @Test("a custom panel's JSON, with the token; an unmapped event is ignored; a bad MAC is malformed_mac")
    func panel() {
        let source = MappingSource()
        let body =
            #"{"event":"phone.created","phone":{"id":"p-17","mac":"00-04-13-61-0F-F5","line":[{"number":"1001"}]}}"#
        guard
            case .event(let event, _) = source.receive(
                Self.request(body, query: "token=\(Self.token)"), credentials: Self.credentials(Self.panel))
        else {
            Issue.record("the event must be read")
            return
        }
        #expect(event == .added(mac: Self.mac, deviceID: "p-17", extensionNumber: "1001", model: nil, brand: nil))
        // The model and the brand, where the mapping points.
        let branded =
            #"{"event":"phone.created","phone":{"id":"p-18","mac":"000413610FF5","model":"D785","maker":{"name":"Snom"}}}"#
        guard
            case .event(let brandedEvent, _) = source.receive(
                Self.request(branded, query: "token=\(Self.token)"), credentials: Self.credentials(Self.panel))
        else {
            Issue.record("the event with a brand must be read")
            return
        }
        #expect(
            brandedEvent
                == .added(mac: Self.mac, deviceID: "p-18", extensionNumber: nil, model: "D785", brand: "Snom"))
        // A brand the native contract refuses is refused here too, with the same message.
        let longBrand = branded.replacingOccurrences(of: "Snom", with: String(repeating: "s", count: 65))
        guard
            case .rejected(let tooLong, _, _) = source.receive(
                Self.request(longBrand, query: "token=\(Self.token)"), credentials: Self.credentials(Self.panel))
        else {
            Issue.record("a brand over 64 characters is a rejection")
            return
        }
        #expect(tooLong == EventRejection(code: .invalidField, message: #""vendor" must be at most 64 characters"#))
        guard case .unauthenticated = source.receive(Self.request(body), credentials: Self.credentials(Self.panel))
        else {
            Issue.record("no token, no event")
            return
        }
        #expect(
            source.receive(
                Self.request(#"{"event":"phone.moved"}"#, query: "token=\(Self.token)"),
                credentials: Self.credentials(Self.panel)) == .ignored(reason: #"event "phone.moved" is not mapped"#))
        let bad = body.replacingOccurrences(of: "00-04-13-61-0F-F5", with: "00-04-13")
        guard
            case .rejected(let rejection, _, _) = source.receive(
                Self.request(bad, query: "token=\(Self.token)"), credentials: Self.credentials(Self.panel))
        else {
            Issue.record("a bad MAC is a rejection")
            return
        }
        #expect(rejection.code.rawValue == "malformed_mac")
    }

    @Test("JSON inside a string and a Base64 HMAC over the body; the signature alone authenticates")
    func yeastarShaped() {
        let source = MappingSource()
        let body =
            #"{"type":30022,"sn":"3631A2123456","msg":"{\"action\":\"add\",\"mac\":\"00:04:13:61:0f:f5\",\"id\":12}"}"#
        let signature = Data(Self.hmac(body)).base64EncodedString()
        guard
            case .event(let event, _) = source.receive(
                Self.request(body, headers: [("X-Signature", signature)]), credentials: Self.credentials(Self.yeastar))
        else {
            Issue.record("the signed event must be read")
            return
        }
        #expect(event == .added(mac: Self.mac, deviceID: "12", extensionNumber: nil, model: nil))
        for headers in [[("X-Signature", "AAAA")], [], [("X-Signature", signature + "x")]] {
            guard
                case .unauthenticated = source.receive(
                    Self.request(body + " ", headers: headers), credentials: Self.credentials(Self.yeastar))
            else {
                Issue.record("a wrong signature must be refused")
                return
            }
        }
        // The token in the URL does not replace the signature.
        guard
            case .unauthenticated = source.receive(
                Self.request(body, query: "token=\(Self.token)"), credentials: Self.credentials(Self.yeastar))
        else {
            Issue.record("a signed mapping takes only its signature")
            return
        }
    }

    @Test("a signed timestamp header: <timestamp>.<body>, within 5 minutes; form bodies with bracket keys")
    func timestamped() {
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        let source = MappingSource(now: { now })
        let body = "kind=new&dev[mac]=000413610ff5&dev[id]=r1"
        func signed(_ stamp: Int) -> InboundRequest {
            let hex = Self.hmac("\(stamp).\(body)").map { String(format: "%02x", $0) }.joined()
            return Self.request(
                body, headers: [("X-Hub-Signature-256", "sha256=" + hex), ("X-Timestamp", String(stamp))])
        }
        guard
            case .event(let event, _) = source.receive(
                signed(1_790_000_000 - 60), credentials: Self.credentials(Self.relay))
        else {
            Issue.record("the signed event must be read")
            return
        }
        #expect(event == .added(mac: Self.mac, deviceID: "r1", extensionNumber: nil, model: nil))
        guard
            case .unauthenticated = source.receive(
                signed(1_790_000_000 - 600), credentials: Self.credentials(Self.relay))
        else {
            Issue.record("an old timestamp must be refused")
            return
        }
    }

    @Test("a mapping's serial pointer gives the phone's serial number, checked as the native contract checks it")
    func serialPointer() {
        let source = MappingSource()
        let mapping = #"""
            {"format": "json", "event": "/event", "events": {"phone.created": "device.added", "phone.changed": "device.updated"},
             "mac": "/phone/mac", "device_id": "/phone/id", "serial": "/phone/sn"}
            """#
        func read(_ body: String) -> SourceVerdict {
            source.receive(Self.request(body, query: "token=\(Self.token)"), credentials: Self.credentials(mapping))
        }
        guard
            case .event(let event, _) = read(
                #"{"event":"phone.created","phone":{"id":"p-1","mac":"000413610FF5","sn":" 8011918034501234 "}}"#)
        else {
            Issue.record("the event with a serial must be read")
            return
        }
        #expect(
            event
                == .added(mac: Self.mac, deviceID: "p-1", extensionNumber: nil, model: nil, serial: "8011918034501234"))
        // A panel that keeps it as a JSON number: its digits.
        guard
            case .event(let numbered, _) = read(
                #"{"event":"phone.changed","phone":{"id":"p-1","mac":"000413610FF5","sn":80119180345}}"#)
        else {
            Issue.record("a numeric serial must be read")
            return
        }
        #expect(numbered.serial == "80119180345")
        // None where the panel gives none.
        guard case .event(let bare, _) = read(#"{"event":"phone.created","phone":{"id":"p-1","mac":"000413610FF5"}}"#)
        else {
            Issue.record("the event without a serial must be read")
            return
        }
        #expect(bare.serial == nil)
        // One the native contract refuses is refused here too, with the same message.
        guard
            case .rejected(let rejection, let type, _) = read(
                #"{"event":"phone.created","phone":{"id":"p-1","mac":"000413610FF5","sn":"80 11"}}"#)
        else {
            Issue.record("a serial with a space is a rejection")
            return
        }
        #expect(type == .added)
        #expect(
            rejection
                == EventRejection(
                    code: .invalidField,
                    message: #""serial" may hold only ASCII letters, digits and - . _ : /, not a space"#))
        // A form panel too.
        let form =
            #"{"format":"form","event":"e","events":{"add":"device.added"},"mac":"dev[mac]","device_id":"id","serial":"dev[serial]"}"#
        guard
            case .event(let formEvent, _) = source.receive(
                Self.request("e=add&id=9&dev[mac]=000413610FF5&dev[serial]=SN-0042", query: "token=\(Self.token)"),
                credentials: Self.credentials(form))
        else {
            Issue.record("the form event with a serial must be read")
            return
        }
        #expect(formEvent.serial == "SN-0042")
    }

    @Test("a mapping file that cannot work is refused with the exact problem")
    func invalidMappings() {
        let cases: [(String, String)] = [
            (#"{"format":"json","event":"/e","events":{"a":"device.added"},"device_id":"/id"}"#, #""mac" is required"#),
            (
                #"{"format":"json","event":"/e","events":{"a":"device.added"},"mac":"data.mac","device_id":"/id"}"#,
                "is not a JSON Pointer"
            ),
            (#"{"format":"json","event":"/e","events":{"a":"device.moved"},"mac":"/m","device_id":"/id"}"#, "events"),
            (#"{"format":"xml","event":"/e","events":{"a":"device.added"},"mac":"/m","device_id":"/id"}"#, "format"),
            (
                #"{"format":"json","event":"/e","events":{"a":"device.added"},"mac":"/m","device_id":"/id","vendor":"brand"}"#,
                #""vendor": "brand" is not a JSON Pointer"#
            ),
            (
                #"{"format":"form","event":"e","events":{"a":"device.added"},"mac":"m","device_id":"id","vendor":"[x]"}"#,
                #""vendor": "[x]" is not a form field name"#
            ),
            (
                #"{"format":"json","event":"/e","events":{"a":"device.added"},"mac":"/m","device_id":"/id","vendor":7}"#,
                #""vendor" has the wrong type"#
            ),
            (
                #"{"format":"json","event":"/e","events":{"a":"device.added"},"mac":"/m","device_id":"/id","serial":"sn"}"#,
                #""serial": "sn" is not a JSON Pointer"#
            ),
            (
                #"{"format":"form","event":"e","events":{"a":"device.added"},"mac":"m","device_id":"id","serial":"[sn]"}"#,
                #""serial": "[sn]" is not a form field name"#
            ),
            (
                #"{"format":"json","event":"/e","events":{"a":"device.added"},"mac":"/m","device_id":"/id","serial":["/sn"]}"#,
                #""serial" has the wrong type"#
            ),
            (#"{"format":"json","event":"/e","events":{},"mac":"/m","device_id":"/id"}"#, "at least one event"),
            ("{", "not valid JSON"),
            (
                #"{"format":"json","event":"/e","events":{"a":"device.added"},"mac":"/m","device_id":"/id","signature":{"header":"X-S","algorithm":"sha256","encoding":"hex"}}"#,
                "could be replayed for ever"
            ),
            (
                #"{"format":"json","event":"/e","events":{"a":"device.added"},"mac":"/m","device_id":"/id","signature":{"header":"X-S","algorithm":"sha256","encoding":"hex","replay_window":"1h"}}"#,
                "the only value is"
            ),
        ]
        for good in [Self.panel, Self.yeastar, Self.relay] {
            #expect(throws: Never.self) { try SourceMapping(adding: Array(good.utf8)) }
        }
        for (json, problem) in cases {
            do {
                _ = try SourceMapping(adding: Array(json.utf8))
                Issue.record("\(json) must be refused")
            } catch {
                #expect(error.description.contains(problem), "\(error.description)")
            }
        }
    }

    @Test("source add refuses a mapping file that cannot work, with the exact problem, and takes a good one")
    func commandLine() async throws {
        try await TestDatabase.with { database in
            try await database.store.addTenant("acme", template: "https://p.example/<mac>")
            let cli = CommandLineRunner(environment: database.environment())
            let bad = try TemporaryFile.write(
                #"{"format":"json","event":"/e","events":{"a":"device.added"},"mac":"m","device_id":"/id"}"#)
            let good = try TemporaryFile.write(Self.yeastar)
            defer { for path in [bad, good] { try? FileManager.default.removeItem(atPath: path) } }
            var result = try await cli.run([
                "source", "add", "yeastar", "--kind", "mapping", "--tenant", "acme", "--mapping", bad,
            ])
            #expect(
                result.status == 2 && result.error.contains(#""mac": "m" is not a JSON Pointer"#), "\(result.error)")
            result = try await cli.run(["source", "add", "yeastar", "--kind", "mapping", "--tenant", "acme"])
            #expect(result.status == 2 && result.error.contains("--mapping"))
            result = try await cli.run([
                "source", "add", "yeastar", "--kind", "mapping", "--tenant", "acme", "--mapping", good, "--json",
            ])
            #expect(result.status == 0 && result.output.contains(#""kind" : "mapping""#), "\(result.output)")
        }
    }

    @Test("a mapped panel registers a phone end to end and deregisters it, answered 202")
    func endToEnd() async throws {
        try await EndToEnd.run { run in
            let (_, token) = try await run.store.addSource(
                name: "panel", kind: .mapping, tenantID: EndToEnd.tenant, mapping: Self.panel, actor: "cli:test")
            let url = "http://127.0.0.1:\(run.provhook.port)/v1/sources/panel/events?token=\(token)"
            // The panel's body may carry anything, a SIP password included: the event keeps only what provhook read.
            var answer = try await Self.post(
                url,
                #"{"event":"phone.created","phone":{"id":"p-1","mac":"000413610ff5","sip_password":"s3cr3t-sip"}}"#)
            #expect(answer == 202)
            try await eventually("registered") { await run.state.registration("000413610FF5") != nil }
            let payloads = try await run.database.withConnection { connection -> [String] in
                let rows = try await connection.query(
                    "SELECT payload::text FROM webhook_events", logger: Logger(label: "test"))
                var texts: [String] = []
                for try await text in rows.decode(String.self) { texts.append(text) }
                return texts
            }
            #expect(
                payloads.count == 1
                    && payloads.allSatisfy { !$0.contains("s3cr3t-sip") && !$0.contains("phone.created") })
            #expect(payloads.first?.contains("000413610FF5") == true, "\(payloads)")
            answer = try await Self.post(url, #"{"event":"phone.deleted","phone":{"id":"p-1"}}"#)
            #expect(answer == 202)
            try await eventually("deregistered") { await run.state.registration("000413610FF5") == nil }
            #expect(try await Self.post(url, #"{"event":"phone.created","phone":{"id":"p-2","mac":"bad"}}"#) == 400)
        }
    }

    @Test("with the real binary: a Yeastar-style signed mapping registers a phone and deregisters it")
    func signedEndToEnd() async throws {
        try await SourceRig.with(pbx: FakePBXState()) { rig in
            let file = try TemporaryFile.write(Self.yeastar, suffix: ".json")
            defer { try? FileManager.default.removeItem(atPath: file) }
            let token = try await rig.addSource(["yeastar", "--kind", "mapping", "--tenant", "acme", "--mapping", file])
            let serve = try await rig.serve()
            defer { serve.stop() }
            let url = "http://127.0.0.1:\(serve.ports.webhook)/v1/sources/yeastar/events"
            func send(_ msg: String, key: String = token) async throws -> (status: Int, body: String) {
                let body = #"{"type": 30022, "msg": "\#(msg.replacingOccurrences(of: "\"", with: "\\\""))"}"#
                let signature = Data(
                    HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: Data(key.utf8)))
                ).base64EncodedString()
                return try await SourceRig.send(url, body: body, headers: [("X-Signature", signature)])
            }
            var answer = try await send(#"{"action": "add", "id": "ext-3355", "mac": "00:04:13:61:0F:F5"}"#)
            #expect(answer.status == 202, "\(answer.body)")
            try await eventually("registered") { await rig.state.registration("000413610FF5") != nil }
            answer = try await send(#"{"action": "add", "id": "ext-3356", "mac": "000413610FF6"}"#, key: "wrong")
            #expect(answer.status == 401, "a signature made with another key")
            answer = try await SourceRig.send(url + "?token=\(token)", body: #"{"type": 30022, "msg": "{}"}"#)
            #expect(answer.status == 401, "a signed mapping takes its signature, not the token")
            answer = try await send(#"{"action": "delete", "id": "ext-3355"}"#)
            #expect(answer.status == 202, "\(answer.body)")
            try await eventually("deregistered") { await rig.state.registration("000413610FF5") == nil }
            #expect(await rig.state.registration("000413610FF6") == nil)
            #expect(!serve.log.contains(token))
        }
    }

    static func post(_ url: String, _ body: String) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        return Int(try await HTTPClient.shared.execute(request, timeout: .seconds(10)).status.code)
    }
}
