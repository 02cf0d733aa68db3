import Foundation
import ProvHookCore
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import StandInSupport
import Testing
import WebhookSignature
import XMLRPC

@Suite("End to end: webhook → PostgreSQL → worker → stand-in")
struct EndToEndTests {
    @Test("device.added → registered at the service with the tenant's URL, journaled")
    func added() async throws {
        try await EndToEnd.run { run in
            let answer = try await run.send(
                #"{"type":"device.added","mac":"00:04:13:61:0F:F5","device_id":"pbx-42","extension":"201","model":"snomD785","unknown":1}"#,
                id: "msg_add_1")
            #expect(answer.status == 202)
            #expect(answer.json["status"] as? String == "accepted" && answer.json["event"] as? String == "msg_add_1")
            let expectedURL = "https://pbx.example.com/prov/000413610FF5.xml?brand=snom&v={mac}"
            try await eventually("registered") { try await run.device("000413610FF5")?.status == .registered }
            #expect(
                await run.state.registration("000413610FF5") == .init(owner: StandInAccounts.user, url: expectedURL))
            let journal = try await run.store.journal(JournalFilter(mac: "000413610FF5"))
            let trace = try journal.map { "\($0.action) \($0.outcome) \(try JSONValueText.of($0.detail))" }.joined(
                separator: "\n")
            #expect(journal.first?.action == "event.device.added", "\(trace)")
            #expect(journal.first?.eventID == "msg_add_1" && journal.first?.actor == "webhook:127.0.0.1")
            // On a loaded machine a call can time out and be retried: every try before the last is a journaled retry.
            let tries = Array(journal.dropFirst())
            #expect(!tries.isEmpty && tries.allSatisfy { $0.action == "redirect.registerPhone" }, "\(trace)")
            #expect(tries.dropLast().allSatisfy { $0.outcome == "retry" }, "\(trace)")
            let last = try #require(tries.last)
            #expect(last.outcome == "ok" && last.detail["url"] == .string(expectedURL), "\(trace)")
            #expect(
                last.detail["latency_ms"] != nil && last.detail["attempt"] == .number(Double(tries.count)), "\(trace)")
            let text = try journal.map { try JSONValueText.of($0.detail) }.joined()
            #expect(!text.contains(StandInAccounts.password) && !text.contains(run.secret), "no secret in the journal")
        }
    }

    @Test("device.removed by MAC and by device_id → deregistered")
    func removed() async throws {
        try await EndToEnd.run { run in
            #expect(try await run.send(#"{"type":"device.added","mac":"000413610FF5"}"#).status == 202)
            #expect(
                try await run.send(#"{"type":"device.added","mac":"000413610FF6","device_id":"pbx-6"}"#).status == 202)
            try await eventually("both registered") { await run.state.registrations.count == 2 }
            #expect(try await run.send(#"{"type":"device.removed","mac":"00-04-13-61-0F-F5"}"#).status == 202)
            #expect(try await run.send(#"{"type":"device.removed","device_id":"pbx-6"}"#).status == 202)
            try await eventually("both deregistered") { await run.state.registrations.isEmpty }
            try await eventually("status") {
                try await run.store.devices().allSatisfy { $0.status == .deregistered && $0.desired == .deregistered }
            }
            let unknown = try await run.send(#"{"type":"device.removed","device_id":"pbx-unknown"}"#)
            #expect(unknown.status == 400 && unknown.errorCode == "unknown_device")
        }
    }

    @Test("a MAC change deregisters the old MAC and registers the new one, with or without previous_mac")
    func macChange() async throws {
        try await EndToEnd.run { run in
            #expect(
                try await run.send(#"{"type":"device.added","mac":"000413610FF5","device_id":"pbx-42"}"#).status == 202)
            try await eventually("first registered") { await run.state.registration("000413610FF5") != nil }
            #expect(
                try await run.send(
                    #"{"type":"device.updated","mac":"00:04:13:61:0F:F6","previous_mac":"00:04:13:61:0F:F5","device_id":"pbx-42"}"#
                ).status == 202)
            try await eventually("moved to F6") {
                let (old, new) = (
                    await run.state.registration("000413610FF5"), await run.state.registration("000413610FF6")
                )
                return old == nil && new != nil
            }
            // Only the device_id: the PBX did not say which MAC it had before.
            #expect(
                try await run.send(#"{"type":"device.updated","mac":"000413610FF7","device_id":"pbx-42"}"#).status
                    == 202)
            try await eventually("moved to F7") {
                let (old, new) = (
                    await run.state.registration("000413610FF6"), await run.state.registration("000413610FF7")
                )
                return old == nil && new != nil
            }
            #expect(try await run.device("000413610FF7")?.deviceID == "pbx-42")
            #expect(try await run.device("000413610FF6")?.deviceID == nil)
        }
    }

    @Test("add → remove → add, sent fast, ends registered")
    func addRemoveAdd() async throws {
        try await EndToEnd.run { run in
            await run.state.setLatency(.milliseconds(30))
            for body in [
                #"{"type":"device.added","mac":"000413610FF5"}"#, #"{"type":"device.removed","mac":"000413610FF5"}"#,
                #"{"type":"device.added","mac":"000413610FF5"}"#,
            ] {
                #expect(try await run.send(body).status == 202)
            }
            try await eventually("final state applied") {
                let device = try await run.device("000413610FF5")
                return device?.status == .registered && device?.generation == 3
            }
            #expect(await run.state.registration("000413610FF5") != nil)
            let rows = try await run.store.journal(JournalFilter(mac: "000413610FF5"))
            #expect(rows.filter { $0.action.hasPrefix("event.") }.count == 3)
        }
    }

    /// Without the generation check on outcomes, the add's late `Ok` would mark the removed device registered and
    /// no deregistration would ever be sent.
    @Test("a removal that arrives during the add's call wins: the add's answer is journaled superseded, not applied")
    func removalDuringCall() async throws {
        // The add's call is held at the stand-in until the removal is committed (a fixed latency lost that race on a
        // loaded CI machine); the long read timeout keeps the held call from being retried.
        try await EndToEnd.run(readTimeout: .seconds(60)) { run in
            let mac = "000413610FF5"
            await run.state.hold.start()
            #expect(try await run.send(#"{"type":"device.added","mac":"\#(mac)"}"#).status == 202)
            try await eventually("the add's call under way") { await run.state.hold.received == 1 }
            #expect(try await run.send(#"{"type":"device.removed","mac":"\#(mac)"}"#).status == 202)
            await run.state.hold.release()
            try await eventually("deregistered") {
                let device = try await run.device(mac)
                return device?.status == .deregistered && device?.generation == 2
            }
            #expect(await run.state.registration(mac) == nil, "the deregistration was sent after the add")
            let adds = try await run.store.journal(JournalFilter(mac: mac, action: "redirect.registerPhone"))
            #expect(adds.count == 1 && adds.first?.detail["superseded"] == .bool(true), "\(adds)")
            let removes = try await run.store.journal(JournalFilter(mac: mac, action: "redirect.deregisterPhone"))
            #expect(removes.map(\.outcome) == ["ok"] && removes.first?.detail["superseded"] == nil)
        }
    }

    /// The worker sleeps for two minutes between looks for work here: only the database's NOTIFY, sent when another
    /// process (the CLI) queues a device, can wake it in time.
    @Test("a device queued by another process wakes the worker through NOTIFY, not its periodic look")
    func wakeFromAnotherProcess() async throws {
        try await EndToEnd.run(idleWake: .seconds(120)) { run in
            let mac = "000413610FF6"
            await run.state.setRegistration(mac, .init(owner: StandInAccounts.otherUser, url: "https://o.example/"))
            #expect(try await run.send(#"{"type":"device.added","mac":"\#(mac)"}"#).status == 202)
            try await eventually("conflict") { try await run.device(mac)?.status == .conflict }
            await run.state.setRegistration(mac, nil)
            let cli = CommandLineRunner(environment: ["PROVHOOK_DATABASE_URL": run.database.urlString])
            let retry = try await cli.run(["device", "retry", mac])
            #expect(retry.status == 0, "\(retry.error)")
            try await eventually("registered well before the periodic look", within: .seconds(20)) {
                try await run.device(mac)?.status == .registered
            }
        }
    }

    @Test("a redelivered webhook-id answers duplicate and makes one call")
    func duplicate() async throws {
        try await EndToEnd.run { run in
            let body = #"{"type":"device.added","mac":"000413610FF5"}"#
            #expect(try await run.send(body, id: "msg_dup").status == 202)
            let again = try await run.send(body, id: "msg_dup")
            #expect(
                again.status == 200 && again.json["status"] as? String == "duplicate"
                    && again.json["event"] as? String == "msg_dup")
            try await eventually("registered") { try await run.device("000413610FF5")?.status == .registered }
            try await Task.sleep(for: .milliseconds(300))
            // One generation, applied once: any further call would be a transport retry of that one.
            let calls = try await run.store.journal(
                JournalFilter(mac: "000413610FF5", action: "redirect.registerPhone"))
            #expect(calls.allSatisfy { $0.detail["generation"] == .number(1) })
            #expect(
                calls.filter { $0.outcome == "ok" }.count == 1 && calls.dropLast().allSatisfy { $0.outcome == "retry" })
            #expect(await run.calls(for: "000413610FF5").count == calls.count)
            #expect(try await run.device("000413610FF5")?.generation == 1)
            #expect(try await run.store.journal(JournalFilter(action: "event.device.added")).count == 1)
        }
    }

    @Test("cached credentials never record an event: a rotated secret and a removed tenant take effect at once")
    func cachedCredentials() async throws {
        try await EndToEnd.run { run in
            // The first event leaves the tenant's credentials in the listener's cache.
            #expect(try await run.send(#"{"type":"device.added","mac":"000413000401"}"#).status == 202)
            // Changed by another process, as the CLI does: the listener hears nothing of it.
            let update = try await run.store.updateTenant(id: EndToEnd.tenant, rotateSecret: true, actor: "cli:test")
            // Never through #require, which would print the secret it was given.
            guard let newSecret = update.newSecret else {
                Issue.record("no new secret")
                return
            }
            let old = try await run.send(#"{"type":"device.added","mac":"000413000402"}"#)
            #expect(old.status == 401 && old.errorCode == "bad_signature", "the old secret, still cached")
            let new = try await run.provhook.send(
                tenant: EndToEnd.tenant, body: #"{"type":"device.added","mac":"000413000403"}"#, secret: newSecret)
            #expect(new.status == 202)
            _ = try await run.store.removeTenant(id: EndToEnd.tenant, actor: "cli:test")
            let gone = try await run.provhook.send(
                tenant: EndToEnd.tenant, body: #"{"type":"device.added","mac":"000413000404"}"#, secret: newSecret)
            #expect(gone.status == 404 && gone.errorCode == "unknown_tenant")
            #expect(try await run.device("000413000402") == nil)
            #expect(try await run.device("000413000404") == nil)
            let accepted = try await run.store.journal(JournalFilter(action: "event.device.added"))
            #expect(accepted.compactMap(\.mac) == ["000413000401", "000413000403"])
        }
    }

    @Test(
        "after a rotation by another process, a request refused for its content is journaled only on current credentials, and the new secret first is accepted"
    )
    func staleCredentialsJournalNothing() async throws {
        try await EndToEnd.run { run in
            #expect(try await run.send(#"{"type":"device.added","mac":"000413000501"}"#).status == 202)
            let update = try await run.store.updateTenant(id: EndToEnd.tenant, rotateSecret: true, actor: "cli:test")
            guard let newSecret = update.newSecret else {
                Issue.record("no new secret")
                return
            }
            // The new secret first, while the cache still holds the old one: authenticated again with fresh ones.
            let new = try await run.provhook.send(
                tenant: EndToEnd.tenant, body: #"{"type":"device.added","mac":"000413000502"}"#, secret: newSecret)
            #expect(new.status == 202, "the new secret is accepted at once")
            let again = try await run.store.updateTenant(id: EndToEnd.tenant, rotateSecret: true, actor: "cli:test")
            #expect(again.newSecret != nil)
            // Signed with the secret of a moment ago, still cached, and refused for its content: not journaled.
            let stale = try await run.provhook.send(
                tenant: EndToEnd.tenant, body: #"{"type":"device.exploded","mac":"000413000503"}"#, secret: newSecret)
            #expect(stale.status == 401 && stale.errorCode == "bad_signature", "\(stale.status)")
            let rejected = try await run.store.journal(JournalFilter(action: "event.rejected"))
            #expect(rejected.isEmpty, "nothing is journaled on credentials that are no longer the tenant's")
        }
    }

    @Test(
        "a PBX clock a little under 5 minutes off is accepted; over 5 minutes off is refused, and the answer says by how much"
    )
    func clockSkew() async throws {
        try await EndToEnd.run { run in
            let late = try await run.provhook.send(
                tenant: EndToEnd.tenant, body: #"{"type":"device.added","mac":"000413610FF1"}"#, secret: run.secret,
                timestamp: Date() - 290)
            #expect(late.status == 202, "\(late.status) \(late.json)")
            // 10 s from the limit each way, so that a slow machine cannot move the answer (WebhookSignatureTests
            // checks the exact boundary, 299 and 301 s, with a fixed clock).
            for (offset, words) in [(-310.0, "behind"), (310.0, "ahead of")] {
                let answer = try await run.provhook.send(
                    tenant: EndToEnd.tenant, body: #"{"type":"device.added","mac":"000413610FF2"}"#,
                    secret: run.secret, timestamp: Date() + offset)
                let message = (answer.json["error"] as? [String: Any])?["message"] as? String ?? ""
                #expect(
                    answer.status == 401 && answer.errorCode == "stale_timestamp"
                        && (307...313).contains {
                            message.hasPrefix("webhook-timestamp is \($0) s \(words) provhook's clock")
                        },
                    "\(message)")
            }
            #expect(try await run.store.devices().map(\.mac) == ["000413610FF1"])
        }
    }

    @Test(
        "documented refusals over HTTP: missing_type, invalid_webhook_id, malformed_timestamp, mac_in_use, a removed tenant"
    )
    func documentedRefusals() async throws {
        try await EndToEnd.run { run in
            let provhook = run.provhook
            let good = #"{"type":"device.added","mac":"000413610FF5"}"#
            var answer = try await run.send(#"{"mac":"000413610FF5"}"#)
            #expect(answer.status == 400 && answer.errorCode == "missing_type")
            for id in ["has space", String(repeating: "x", count: 257), "caf\u{E9}"] {
                answer = try await provhook.send(tenant: EndToEnd.tenant, body: good, secret: run.secret, id: id)
                #expect(answer.status == 400 && answer.errorCode == "invalid_webhook_id", "\(id.prefix(20))")
            }
            answer = try await provhook.send(
                tenant: EndToEnd.tenant, body: good, secret: run.secret, extraHeaders: [("webhook-timestamp", "soon")])
            #expect(answer.status == 401 && answer.errorCode == "malformed_timestamp")
            #expect(try await run.store.devices().isEmpty, "nothing was recorded")

            // A MAC that another tenant holds: 400, journaled, and the other tenant's device untouched.
            try await run.store.addTenant("other", urlTemplate: run.template)
            _ = try await run.store.setDesired(
                DeviceChange(mac: MACAddress("000413610FF7")!, desired: .registered), tenantID: "other",
                actor: "cli:test")
            answer = try await run.send(#"{"type":"device.added","mac":"000413610FF7"}"#)
            #expect(answer.status == 400 && answer.errorCode == "mac_in_use", "\(answer.body)")
            let rejected = try await run.store.journal(JournalFilter(mac: "000413610FF7", action: "event.rejected"))
            #expect(rejected.count == 1 && rejected.first?.tenantID == EndToEnd.tenant)
            #expect(try await run.device("000413610FF7")?.tenantID == "other")

            // A removed tenant's webhooks are 404, like a tenant that never was.
            _ = try await run.store.removeTenant(id: EndToEnd.tenant, actor: "cli:test")
            answer = try await run.send(good)
            #expect(answer.status == 404 && answer.errorCode == "unknown_tenant")
        }
    }

    @Test("with bearer allowed, an event without webhook-id is accepted each time: it cannot be deduplicated")
    func bearerWithoutID() async throws {
        try await EndToEnd.run(allowBearer: true) { run in
            let body = #"{"type":"device.added","mac":"000413610FF5"}"#
            for _ in 0..<2 {
                let answer = try await run.provhook.send(
                    tenant: EndToEnd.tenant, body: body, secret: nil,
                    extraHeaders: [("Authorization", "Bearer \(run.secret)")])
                #expect(answer.status == 202, "\(answer.body)")
            }
            let events = try await run.store.journal(JournalFilter(action: "event.device.added"))
            #expect(events.count == 2 && events.allSatisfy { $0.eventID?.hasPrefix("bearer_") == true })
            #expect(Set(events.compactMap(\.eventID)).count == 2)
        }
    }

    @Test("a bearer token works only where the tenant allows it")
    func bearer() async throws {
        try await EndToEnd.run(allowBearer: true) { run in
            let body = #"{"type":"device.added","mac":"000413610FF5"}"#
            var answer = try await run.provhook.send(
                tenant: EndToEnd.tenant, body: body, secret: nil,
                extraHeaders: [("Authorization", "Bearer \(run.secret)"), ("webhook-id", "msg_b1")])
            #expect(answer.status == 202)
            answer = try await run.provhook.send(
                tenant: EndToEnd.tenant, body: body, secret: nil,
                extraHeaders: [("Authorization", "Bearer whsec_wrong")])
            #expect(answer.status == 401 && answer.errorCode == "bad_bearer")
        }
    }
}
