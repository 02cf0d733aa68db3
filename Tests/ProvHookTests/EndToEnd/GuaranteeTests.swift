import Foundation
import ProvHookCore
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import Testing

/// The documented guarantees on the paths a single one-MAC `device.added` does not take: the full ingest transaction
/// (`device.updated` with `previous_mac`, removal by `device_id`), bearer authentication, URL templates, and an old
/// generation's answer. Each test names the one-line bug it would catch.
@Suite("Guarantees off the fast path: bearer, idempotency, credentials, templates, generations")
struct GuaranteeTests {
    /// Bug caught: the tenant's `allow_bearer` ignored, so its secret alone (no signature) is accepted.
    @Test("a tenant that does not allow bearer tokens refuses Authorization: Bearer with its own secret")
    func bearerRefusedWhenNotAllowed() async throws {
        try await EndToEnd.run(allowBearer: false) { run in
            let answer = try await run.provhook.send(
                tenant: EndToEnd.tenant, body: #"{"type":"device.added","mac":"000413000F01"}"#, secret: nil,
                extraHeaders: [("Authorization", "Bearer \(run.secret)")])
            #expect(answer.status == 401, "\(answer.status)")
            #expect(try await run.device("000413000F01") == nil)
        }
    }

    /// Bug caught: the full transaction records an event whose webhook-id it has seen, applying it again.
    @Test("a repeated webhook-id on the full ingest path (a MAC change, a removal by device id) is a duplicate")
    func duplicateOnTheFullPath() async throws {
        try await EndToEnd.run { run in
            #expect(
                try await run.send(#"{"type":"device.added","mac":"000413000F02","device_id":"d-2"}"#).status == 202)
            let change =
                #"{"type":"device.updated","mac":"000413000F03","previous_mac":"000413000F02","device_id":"d-2"}"#
            #expect(try await run.send(change, id: "msg_change").status == 202)
            // The worker's calls add rows meanwhile; the events' rows must not change.
            func events() async throws -> Int {
                try await run.store.journal(JournalFilter(limit: 1000)).filter { $0.action.hasPrefix("event.") }.count
            }
            let journaled = try await events()
            let again = try await run.send(change, id: "msg_change")
            #expect(again.status == 200 && again.json["status"] as? String == "duplicate", "\(again.json)")
            #expect(try await events() == journaled, "nothing applied again")

            let removal = #"{"type":"device.removed","device_id":"d-2"}"#
            #expect(try await run.send(removal, id: "msg_removal").status == 202)
            // The device is added again under another id: a replayed removal must not remove it.
            #expect(
                try await run.send(#"{"type":"device.added","mac":"000413000F03","device_id":"d-2"}"#).status == 202)
            let beforeReplay = try await events()
            let replayed = try await run.send(removal, id: "msg_removal")
            #expect(try await events() == beforeReplay)
            #expect(replayed.status == 200 && replayed.json["status"] as? String == "duplicate", "\(replayed.json)")
            #expect(try await run.device("000413000F03")?.desired == .registered)
        }
    }

    /// Bug caught: the full transaction skips the check that cached credentials are still the tenant's.
    @Test("a MAC change signed with a secret rotated a moment ago by another process is refused")
    func rotatedSecretOnTheFullPath() async throws {
        try await EndToEnd.run { run in
            // Leaves the credentials in the listener's cache.
            #expect(
                try await run.send(#"{"type":"device.added","mac":"000413000F04","device_id":"d-4"}"#).status == 202)
            let update = try await run.store.updateTenant(id: EndToEnd.tenant, rotateSecret: true, actor: "cli:test")
            #expect(update.newSecret != nil)
            let change =
                #"{"type":"device.updated","mac":"000413000F05","previous_mac":"000413000F04","device_id":"d-4"}"#
            let old = try await run.send(change)
            #expect(old.status == 401 && old.errorCode == "bad_signature", "\(old.status)")
            #expect(try await run.device("000413000F05") == nil, "nothing recorded on the old secret")
            #expect(try await run.store.journal(JournalFilter(action: "event.device.updated")).isEmpty)
        }
    }

    /// Bug caught: `render_url` (or the planner's rendering) replaces only the first `<mac>`.
    @Test("a template with <mac> twice gets the MAC in both places, on the one-call path and the full one")
    func templateWithTwoMACs() async throws {
        try await EndToEnd.run { run in
            _ = try await run.store.updateTenant(
                id: EndToEnd.tenant, urlTemplate: try URLTemplate("https://p.example/<mac>/cfg-<mac>.xml"),
                actor: "cli:test")
            #expect(
                try await run.send(#"{"type":"device.added","mac":"000413000FA6","device_id":"d-6"}"#).status == 202)
            #expect(try await run.device("000413000FA6")?.url == "https://p.example/000413000FA6/cfg-000413000FA6.xml")
            let change =
                #"{"type":"device.updated","mac":"000413000FB7","previous_mac":"000413000FA6","device_id":"d-6"}"#
            #expect(try await run.send(change).status == 202)
            #expect(try await run.device("000413000FB7")?.url == "https://p.example/000413000FB7/cfg-000413000FB7.xml")
        }
    }

    /// Bug caught: the outcome of a call for an older generation still sets `next_attempt_at`, so the newer removal
    /// waits for the old call's backoff (here an hour, from a 429's Retry-After).
    @Test("a removal during a call answered 429 with Retry-After: 3600 goes out at once, not in an hour")
    func oldGenerationsBackoffIsIgnored() async throws {
        try await EndToEnd.run(retryMaximum: .seconds(3600), giveUpAfter: .seconds(86_400)) { run in
            let mac = "000413000FC8"
            await run.state.failNext(1, with: .slowStatus(.seconds(2), 429, retryAfter: "3600"))
            #expect(try await run.send(#"{"type":"device.added","mac":"\#(mac)"}"#).status == 202)
            try await eventually("the add's call under way") {
                try await run.store.deviceDetail(MACAddress(mac)!, historyLimit: 1)?.claimedUntil != nil
            }
            #expect(try await run.send(#"{"type":"device.removed","mac":"\#(mac)"}"#).status == 202)
            try await eventually("deregistered without waiting for the add's backoff") {
                let device = try await run.device(mac)
                return device?.status == .deregistered && device?.generation == 2
            }
            let adds = try await run.store.journal(JournalFilter(mac: mac, action: "redirect.registerPhone"))
            #expect(adds.count == 1 && adds.first?.detail["superseded"] == .bool(true), "\(adds)")
        }
    }
}
