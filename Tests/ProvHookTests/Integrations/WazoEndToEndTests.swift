import FakePBXService
import Foundation
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import Testing

/// A Wazo webhookd subscription end to end, with the real binary: device events as webhookd sends them (only the
/// device id), the MAC looked up in the stand-in of wazo-confd with a token from the stand-in of wazo-auth.
@Suite("Wazo subscription end to end")
struct WazoEndToEndTests {
    static let tenantUUID = "2b5c5e8e-6d6e-4f43-9c2d-7e0a1b2c3d4e"
    static let password = "wazo-web-service-password-3f1e"
    static let deviceID = "8d1c4fb3b5b74e4a9c3f3c0e7a5b9d21"

    static func pbx() -> FakePBXState {
        FakePBXState(
            wazoUsers: ["provhook": (Self.password, Self.tenantUUID)],
            wazoDevices: [
                Self.deviceID: .init(
                    mac: "00:04:13:61:0f:f5", vendor: "Snom", model: "D785", tenantUUID: Self.tenantUUID),
                "other-tenant-device": .init(mac: "00:04:13:61:0f:99", tenantUUID: "another-tenant"),
            ])
    }

    /// Adds the source `wazo-acme` of tenant `acme` for the stand-in's confd, with our API login (and `apiTenant`,
    /// Wazo-Tenant, when given): its webhook token.
    static func addSource(_ rig: SourceRig, apiTenant: String? = Self.tenantUUID) async throws -> String {
        let passwordFile = try SourceRig.secretFile(Self.password)
        defer { try? FileManager.default.removeItem(atPath: passwordFile) }
        return try await rig.addSource(
            [
                "wazo-acme", "--kind", "wazo", "--tenant", "acme", "--api-url", rig.pbx.baseURL, "--api-user",
                "provhook", "--api-password-file", passwordFile,
            ] + (apiTenant.map { ["--api-tenant", $0] } ?? []))
    }

    @Test("created and edited devices are looked up in confd and registered; a deleted one is deregistered")
    func subscription() async throws {
        try await SourceRig.with(pbx: Self.pbx()) { rig in
            let token = try await Self.addSource(rig)
            let serve = try await rig.serve()
            defer { serve.stop() }
            let base = "http://127.0.0.1:\(serve.ports.webhook)/v1/sources/wazo-acme/events"
            let created = #"{"id": "\#(Self.deviceID)"}"#

            // device_created, the default body, the event's name in the URL as docs/platforms.md's subscription puts it.
            var answer = try await SourceRig.send(
                base + "?event=device_created&token=\(token)", body: created,
                contentType: "application/json; charset=utf-8")
            #expect(answer.status == 202 && answer.body.contains("accepted"), "\(answer.body)")
            try await eventually("registered at the service") { await rig.state.registration("000413610FF5") != nil }
            #expect(await rig.state.registration("000413610FF5")?.url == "https://p.example/000413610FF5.xml")

            // device_edited with a new MAC in confd; the token as the basic-auth password of the URL.
            await rig.pbx.state.setWazoDevice(
                .init(mac: "00:04:13:61:0f:f6", vendor: "Snom", model: "D785", tenantUUID: Self.tenantUUID),
                id: Self.deviceID)
            answer = try await SourceRig.send(
                base + "?event=device_edited", body: created, authorization: SourceRig.basic("wazo", token))
            #expect(answer.status == 202, "\(answer.body)")
            try await eventually("the new MAC registered, the old one deregistered") {
                let (new, old) = (
                    await rig.state.registration("000413610FF6"), await rig.state.registration("000413610FF5")
                )
                return new != nil && old == nil
            }
            let tokenRequests = await rig.pbx.state.requests.filter { $0.path == "/api/auth/0.1/token" }
            #expect(tokenRequests.count == 1, "the wazo-auth token is cached: \(tokenRequests)")

            // A body template, sent as text/plain, with the event name in the body.
            answer = try await SourceRig.send(
                base + "?token=\(token)", body: #"{"event_name": "device_edited", "id": "\#(Self.deviceID)"}"#,
                contentType: "text/plain")
            #expect(answer.status == 202, "\(answer.body)")

            // Wrong tokens in each place; another kind of event; an event without a name; a device of another tenant.
            for (url, authorization) in [
                (base + "?event=device_created&token=wrong", nil),
                (base + "?event=device_created", SourceRig.basic("wazo", "wrong")),
                (base + "?event=device_created", "Bearer wrong"),
                (base + "?event=device_created", nil),
            ] {
                answer = try await SourceRig.send(url, body: created, authorization: authorization)
                #expect(answer.status == 401, "\(url) \(authorization ?? "")")
            }
            answer = try await SourceRig.send(base + "?event=user_created&token=\(token)", body: #"{"id": 42}"#)
            #expect(answer.status == 200 && answer.body.contains("ignored"))
            answer = try await SourceRig.send(base + "?token=\(token)", body: created)
            #expect(answer.status == 410 && answer.body.contains("missing_type"), "never retried: \(answer.body)")
            answer = try await SourceRig.send(
                base + "?event=device_created&token=\(token)", body: #"{"id": "other-tenant-device"}"#)
            #expect(answer.status == 202, "recorded; the lookup finds no such device in this tenant")

            // device_deleted: confd has forgotten the device; the stored device id gives the MAC.
            await rig.pbx.state.setWazoDevice(nil, id: Self.deviceID)
            answer = try await SourceRig.send(base + "?event=device_deleted&token=\(token)", body: created)
            #expect(answer.status == 202, "\(answer.body)")
            try await eventually("deregistered") { await rig.state.registration("000413610FF6") == nil }

            // An id-only deletion of a device provhook never saw: nothing to do, never retried.
            answer = try await SourceRig.send(
                base + "?event=device_deleted&token=\(token)", body: #"{"id": "never-seen"}"#)
            #expect(answer.status == 410 && answer.body.contains("unknown_device"), "\(answer.body)")

            let journal = try await rig.database.store.journal(JournalFilter(tenantID: "acme", limit: 1000))
            try await eventually("the other tenant's device rejected as not found") {
                try await rig.database.store.journal(JournalFilter(tenantID: "acme", limit: 1000)).contains {
                    $0.action == "event.rejected" && $0.detail["code"] == "device_not_found"
                }
            }
            #expect(journal.contains { $0.action == "event.device.added" && $0.outcome == "lookup_pending" })
            #expect(
                journal.contains {
                    $0.action == "event.device.added" && $0.outcome == "accepted" && $0.mac == "000413610FF5"
                        && $0.actor.hasPrefix("source:wazo-acme@") && $0.detail["model"] == "Snom D785"
                })
            let everything = "\(journal)" + serve.log
            #expect(!everything.contains(token) && !everything.contains(Self.password), "no secret is kept or logged")
            #expect(try await rig.database.store.lookupBacklog().count == 0, "every lookup resolved")
        }
    }

    @Test("confd's sn is the device's serial number: stored, kept when confd's is not one, replaced by a new one")
    func serialNumber() async throws {
        try await SourceRig.with(pbx: Self.pbx()) { rig in
            let token = try await Self.addSource(rig)
            let serve = try await rig.serve()
            defer { serve.stop() }
            let base = "http://127.0.0.1:\(serve.ports.webhook)/v1/sources/wazo-acme/events?token=\(token)&event="
            let body = #"{"id": "\#(Self.deviceID)"}"#
            let mac = MACAddress("000413610FF5")!
            func confd(sn: String?) async {
                await rig.pbx.state.setWazoDevice(
                    .init(
                        mac: "00:04:13:61:0f:f5", vendor: "Yealink", model: "T54W", tenantUUID: Self.tenantUUID,
                        sn: sn),
                    id: Self.deviceID)
            }
            func edited(_ generation: Int64) async throws {
                let answer = try await SourceRig.send(base + "device_edited", body: body)
                #expect(answer.status == 202, "\(answer.body)")
                try await eventually("recorded") {
                    try await rig.database.store.device(mac)?.generation ?? 0 >= generation
                }
            }

            await confd(sn: " 8011918034501234 ")
            let answer = try await SourceRig.send(base + "device_created", body: body)
            #expect(answer.status == 202, "\(answer.body)")
            try await eventually("stored with its serial") {
                try await rig.database.store.device(mac)?.serial == "8011918034501234"
            }
            let journal = try await rig.database.store.journal(JournalFilter(mac: mac.canonical, limit: 100))
            // (Skipped: no account serves Yealink's phones in this test; the serial is stored all the same.)
            #expect(
                journal.contains {
                    $0.action == "event.device.added" && $0.outcome == "skipped"
                        && $0.detail["serial"] == "8011918034501234"
                }, "the event's row names the serial it gave: \(journal)")

            // Free text in confd that is no serial number: read as none, so the device keeps its own.
            await confd(sn: "on the label")
            try await edited(2)
            #expect(try await rig.database.store.device(mac)?.serial == "8011918034501234")
            await confd(sn: nil)
            try await edited(3)
            #expect(try await rig.database.store.device(mac)?.serial == "8011918034501234")
            // A new one replaces it.
            await confd(sn: "8011918034509999")
            try await edited(4)
            #expect(try await rig.database.store.device(mac)?.serial == "8011918034509999")
        }
    }

    @Test("a lookup that times out is recorded, acknowledged, retried, and resolved once the PBX answers")
    func lookupTimeout() async throws {
        try await SourceRig.with(pbx: Self.pbx()) { rig in
            let token = try await Self.addSource(rig, apiTenant: nil)
            let serve = try await rig.serve([
                "PROVHOOK_LOOKUP_TIMEOUT_SECONDS": "1", "PROVHOOK_LOOKUP_RETRY_SECONDS": "1",
            ])
            defer { serve.stop() }
            await rig.pbx.state.setLatency(.seconds(4))
            let answer = try await SourceRig.send(
                "http://127.0.0.1:\(serve.ports.webhook)/v1/sources/wazo-acme/events?event=device_created&token=\(token)",
                body: #"{"id": "\#(Self.deviceID)"}"#)
            #expect(answer.status == 202, "acknowledged once recorded, before any lookup: \(answer.body)")
            try await eventually("a failed lookup journaled for retry") {
                try await rig.database.store.journal(JournalFilter(tenantID: "acme", limit: 100)).contains {
                    $0.action == "source.lookup" && $0.outcome == "retry" && $0.detail["code"] == "lookup_unavailable"
                }
            }
            #expect(await rig.state.registration("000413610FF5") == nil)
            #expect(try await rig.database.store.lookupBacklog().count == 1, "the event waits, never dropped")
            await rig.pbx.state.setLatency(.zero)
            try await eventually("registered once the PBX answers") {
                await rig.state.registration("000413610FF5") != nil
            }
            #expect(try await rig.database.store.lookupBacklog().count == 0)
        }
    }
}
