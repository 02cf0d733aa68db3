import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import StandInSupport
import Testing

/// A Kazoo hook end to end, with the real binary: `provhook source add`, `provhook serve`, Kazoo's requests as it
/// sends them, and the stand-in of the Snom service.
@Suite("Kazoo hook end to end")
struct KazooEndToEndTests {
    static let mac = "000413610FF5"

    @Test("a Kazoo device is registered on doc_created and deregistered on an id-only doc_deleted")
    func hook() async throws {
        try await TestDatabase.with { database in
            try await database.store.addTenant("acme")
            let cli = CommandLineRunner(environment: database.environment())
            let json = try await cli.addSource(["kazoo-acme", "--kind", "kazoo", "--tenant", "acme"])
            let token = try #require(json["token"] as? String)
            #expect(json["path"] as? String == "/v1/sources/kazoo-acme/events" && json["kind"] as? String == "kazoo")
            let list = try await cli.run(["source", "list"])
            #expect(list.output.contains("kazoo-acme") && !list.output.contains(token))

            let state = StandInAccounts.makeState()
            try await RunningFakeRedirect.withTLS(state: state) { _, settings in
                let serve = try await ServeProcess.start(environment: database.environment().merging(settings) { $1 })
                let base = "http://127.0.0.1:\(serve.ports.webhook)/v1/sources/kazoo-acme/events"
                do {
                    // doc_created, form-encoded as Kazoo sends it by default.
                    var answer = try await Self.post(base + "?token=\(token)", KazooSourceTests.v1FormCreated)
                    #expect(answer.status == 200 && answer.body.contains("\"accepted\""), "\(answer.body)")
                    try await eventually("registered at the service") { await state.registration(Self.mac) != nil }
                    #expect(await state.registration(Self.mac)?.url == "https://p.example/\(Self.mac).xml")

                    // A user event, a device without MAC, a wrong token, an unknown source.
                    answer = try await Self.post(base + "?token=\(token)", KazooSourceTests.v1User)
                    #expect(answer.status == 200 && answer.body.contains("\"ignored\""))
                    answer = try await Self.post(base + "?token=\(token)", KazooSourceTests.v1FormCreatedWithoutMAC)
                    #expect(
                        answer.status == 200 && answer.body.contains("missing_mac"), "answered 200: Kazoo drops others")
                    answer = try await Self.post(base + "?token=wrong", KazooSourceTests.v1FormDeleted)
                    #expect(answer.status == 401)
                    answer = try await Self.post(
                        "http://127.0.0.1:\(serve.ports.webhook)/v1/sources/nope/events?token=\(token)",
                        KazooSourceTests.v1FormDeleted)
                    #expect(answer.status == 404)
                    #expect(await state.registration(Self.mac) != nil, "nothing above changed the phone")

                    // doc_deleted carries only the device id: the stored device_id gives the MAC. Sent as a GET.
                    var request = HTTPClientRequest(url: base + "?token=\(token)&" + KazooSourceTests.v1FormDeleted)
                    request.method = .GET
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                    #expect(response.status == .ok)
                    try await eventually("deregistered at the service") { await state.registration(Self.mac) == nil }

                    // Metrics by source: by name once the source is known, "unknown" for a made-up one.
                    let metrics = try await HTTPClient.shared.execute(
                        HTTPClientRequest(url: "http://127.0.0.1:\(serve.ports.admin)/metrics"), timeout: .seconds(10))
                    let exposition = String(buffer: try await metrics.body.collect(upTo: 1 << 22))
                    #expect(
                        exposition.contains(
                            #"provhook_webhook_events_total{type="device.added",outcome="accepted",source="kazoo-acme"} 1"#
                        ),
                        "\(exposition)")
                    #expect(
                        exposition.contains(
                            #"provhook_webhook_rejections_total{reason="unknown_source",source="unknown"} 1"#))
                    #expect(
                        exposition.contains(
                            #"provhook_webhook_rejections_total{reason="bad_token",source="kazoo-acme"} 1"#)
                    )

                    let journal = try await database.store.journal(JournalFilter(tenantID: "acme", limit: 1000))
                    #expect(
                        journal.contains {
                            $0.action == "event.device.added" && $0.actor.hasPrefix("source:kazoo-acme@")
                        })
                    #expect(journal.contains { $0.action == "event.rejected" && $0.detail["code"] == "missing_mac" })
                    #expect(journal.contains { $0.action == "source.add" })
                    #expect(
                        !"\(journal)".contains(token) && !serve.log.contains(token),
                        "the token is never journaled or logged")
                } catch {
                    serve.stop()
                    throw error
                }
                serve.stop()
            }
        }
    }

    @Test(
        "a signed v2 hook with its unsigned name turned into doc_deleted, or a second data, is refused and journaled; the phone stays"
    )
    func signedForgeries() async throws {
        try await TestDatabase.with { database in
            try await database.store.addTenant("acme")
            let cli = CommandLineRunner(environment: database.environment())
            let json = try await cli.addSource(["kazoo-acme", "--kind", "kazoo", "--tenant", "acme"])
            // The hook's security_settings.sha256_key; its uri carries no token.
            let key = try #require(json["token"] as? String)

            let state = StandInAccounts.makeState()
            try await RunningFakeRedirect.withTLS(state: state) { _, settings in
                let serve = try await ServeProcess.start(environment: database.environment().merging(settings) { $1 })
                let url = "http://127.0.0.1:\(serve.ports.webhook)/v1/sources/kazoo-acme/events"
                func send(_ body: String) async throws -> (status: Int, body: String) {
                    try await SourceRig.send(
                        url, body: body, headers: [("X-Hook-ID", "7d3f1e2c9b8a4d6e5f0a1b2c3d4e5f60")])
                }
                // serve's clock is the machine's: each body is signed now, as Kazoo signs it when it sends.
                func now() -> Int64 { SignedKazoo.gregorian(Date()) }
                do {
                    // A genuine signed creation registers the phone.
                    var answer = try await send(
                        SignedKazoo.body(
                            data: SignedKazoo.data(rev: "1-8e7f0c2b5d3a4f6e9b1c0d2e3f4a5b6c"), timestamp: now(),
                            name: "doc_created", key: key))
                    #expect(answer.status == 200 && answer.body.contains("\"accepted\""), "\(answer.body)")
                    try await eventually("registered at the service") { await state.registration(Self.mac) != nil }

                    // The reported attack: a genuine signed edit, its unsigned name changed to doc_deleted.
                    answer = try await send(
                        SignedKazoo.body(data: SignedKazoo.data(), timestamp: now(), name: "doc_deleted", key: key))
                    #expect(
                        answer.status == 200 && answer.body.contains("unsigned_field_mismatch"), "\(answer.body)")
                    // And a genuine signed edit with a second data carrying another MAC.
                    let signed = SignedKazoo.body(data: SignedKazoo.data(), timestamp: now(), key: key)
                    answer = try await send(
                        signed.replacingOccurrences(
                            of: #","hmac":"#, with: #","data":\#(SignedKazoo.data(mac: "0004136100aa")),"hmac":"#))
                    #expect(answer.status == 200 && answer.body.contains("duplicate_member"), "\(answer.body)")

                    // Each refusal is journaled, and recorded nothing: the phone is still wanted registered, and
                    // the other MAC was never claimed. (Both answers come after their transaction, so this reads
                    // what they did.)
                    let journal = try await database.store.journal(JournalFilter(tenantID: "acme", limit: 1000))
                    for code in ["unsigned_field_mismatch", "duplicate_member"] {
                        #expect(
                            journal.contains {
                                $0.action == "event.rejected" && $0.detail["code"] == .string(code)
                                    && $0.actor.hasPrefix("source:kazoo-acme@")
                            }, "\(code) journaled")
                    }
                    #expect(!journal.contains { $0.action == "event.device.removed" })
                    let device = try await database.store.device(MACAddress(Self.mac)!)
                    #expect(device?.desired == .registered, "the forged deletion deregistered nothing")
                    #expect(try await database.store.device(MACAddress("0004136100AA")!) == nil)
                    #expect(await state.registration(Self.mac) != nil)
                    #expect(!serve.log.contains(key), "the key is never logged")
                } catch {
                    serve.stop()
                    throw error
                }
                serve.stop()
            }
        }
    }

    static func post(_ url: String, _ body: String) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "X-Hook-ID", value: "7d3f1e2c9b8a4d6e5f0a1b2c3d4e5f60")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: bytes))
    }
}
