import Foundation
import Integrations
import Logging
import PostgresNIO
import ProvHookTestSupport
import ProvisioningModel
import Testing
import WebhookSignature

@testable import ProvHookCore

@Suite("Store: tenants, devices, journal")
struct StoreTests {
    let template = try! URLTemplate("https://prov.example.com/snom/<mac>.xml?x={mac}")
    let mac = MACAddress("00:04:13:61:0F:F5")!

    @Test("tenant add prints a whsec_ secret once; duplicates are refused; list, update and remove")
    func tenants() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            let (tenant, secret) = try await store.addTenant(
                id: "acme", name: "ACME", urlTemplate: self.template, allowBearer: false, actor: "cli:test")
            #expect(tenant.id == "acme")
            #expect(secret.hasPrefix("whsec_"))
            #expect(WebhookSecret.keyBytes(secret)?.count == 32)
            let duplicate = await #expect(throws: StoreError.self) {
                try await store.addTenant("acme", urlTemplate: self.template)
            }
            #expect(duplicate?.description.contains("already exists") == true, "\(String(describing: duplicate))")
            #expect(try await store.tenants().map(\.id) == ["acme"])
            #expect(try await store.credentials(tenantID: "acme")?.secret == secret)

            let update = try await store.updateTenant(
                id: "acme", allowBearer: true, rotateSecret: true, actor: "cli:test")
            #expect(update.tenant.allowBearer)
            #expect(update.newSecret != nil && update.newSecret != secret)

            #expect(try await store.removeTenant(id: "acme", actor: "cli:test") == 0)
            #expect(try await store.tenants().isEmpty)
            #expect(try await store.tenants(includeRemoved: true).count == 1)
            #expect(try await store.credentials(tenantID: "acme") == nil)

            let journal = try await store.journal(JournalFilter(tenantID: "acme"))
            #expect(journal.map(\.action) == ["tenant.add", "tenant.update", "tenant.remove"])
            #expect(journal.allSatisfy { $0.actor == "cli:test" })
            let text = try journal.map { try JSONValueText.of($0.detail) }.joined()
            #expect(!text.contains(secret), "no secret in the journal")
            #expect(!text.contains(update.newSecret!), "no secret in the journal")
        }
    }

    @Test("a tenant id is validated")
    func tenantID() async throws {
        try await TestDatabase.with { database in
            let invalid = await #expect(throws: StoreError.self) {
                try await database.store.addTenant("no spaces", urlTemplate: self.template)
            }
            guard case .invalid(let message)? = invalid else {
                Issue.record("expected an invalid id, got \(String(describing: invalid))")
                return
            }
            #expect(message.contains("\"no spaces\" must be 1 to 63 letters"), "\(message)")
        }
    }

    @Test("desired state and generation: add → remove → add")
    func desiredState() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            try await store.addTenant("t1", urlTemplate: self.template)
            let url = self.template.expectedURL(for: self.mac)
            #expect(url == "https://prov.example.com/snom/000413610FF5.xml?x={mac}")

            #expect(
                try await store.setDesired(
                    DeviceChange(mac: self.mac, desired: .registered, url: url, deviceID: "pbx-42"), tenantID: "t1",
                    actor: "cli:test") == 1)
            var device = try #require(try await store.device(self.mac))
            #expect(
                device.desired == .registered && device.status == .pending && device.generation == 1
                    && device.deviceID == "pbx-42")

            #expect(
                try await store.setDesired(
                    DeviceChange(mac: self.mac, desired: .deregistered), tenantID: "t1", actor: "cli:test") == 2)
            device = try #require(try await store.device(self.mac))
            #expect(device.desired == .deregistered && device.generation == 2 && device.deviceID == "pbx-42")

            #expect(
                try await store.setDesired(
                    DeviceChange(mac: self.mac, desired: .registered, url: url), tenantID: "t1", actor: "cli:test") == 3
            )
            device = try #require(try await store.device(self.mac))
            #expect(device.desired == .registered && device.generation == 3 && device.url == url)
        }
    }

    /// Ingests every body at the same moment, each with a fresh webhook-id, as concurrent PBX requests would.
    func ingestAtOnce(_ store: Store, tenantID: String, _ bodies: [String]) async throws -> [IngestResult] {
        try await withThrowingTaskGroup(of: IngestResult.self) { group in
            for body in bodies {
                let payload = Array(body.utf8)
                let event = try NativeWebhookSource.parse(payload)
                group.addTask {
                    try await store.ingest(
                        event, tenantID: tenantID, eventID: "msg_" + UUID().uuidString, payload: payload,
                        actor: "webhook:test",
                        planner: EventPlanner())
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    @Test("webhooks giving one device_id to different MACs at the same moment are all accepted; the id ends on one MAC")
    func deviceIDRace() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            try await store.addTenant("t1", urlTemplate: self.template)
            // Without the per-id lock, concurrent transactions all pass the UPDATE that frees the id before any of
            // them commits, and all but one fail on device_id_unique_per_tenant: the PBX would be told 503.
            for round in 0..<10 {
                let results = try await self.ingestAtOnce(
                    store, tenantID: "t1",
                    (0..<8).map { index in
                        #"{"type":"device.added","mac":"\#(String(format: "000413%02X%04X", round, index))","device_id":"pbx-\#(round)"}"#
                    })
                #expect(results == Array(repeating: .accepted(queued: true), count: 8))
                let holders = try await store.devices(DeviceFilter(tenantID: "t1")).filter {
                    $0.deviceID == "pbx-\(round)"
                }
                #expect(holders.count == 1)
            }
        }
    }

    @Test("device.updated events swapping two MACs at the same moment are all accepted, deadlock or not")
    func swapRace() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            try await store.addTenant("t1", urlTemplate: self.template)
            // Each event deregisters its previous MAC and registers its new one, so the pair locks the two devices in
            // opposite orders; PostgreSQL breaks the deadlock by failing one transaction, which is run again.
            for round in 0..<5 {
                let (first, second) = (String(format: "000413%02X0001", round), String(format: "000413%02X0002", round))
                let results = try await self.ingestAtOnce(
                    store, tenantID: "t1",
                    [
                        #"{"type":"device.updated","mac":"\#(first)","previous_mac":"\#(second)"}"#,
                        #"{"type":"device.updated","mac":"\#(second)","previous_mac":"\#(first)"}"#,
                    ])
                #expect(results == [.accepted(queued: true), .accepted(queued: true)])
            }
        }
    }

    @Test("a MAC active in one tenant cannot be taken by another; once deregistered it can")
    func macOwnership() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            try await store.addTenant("a", urlTemplate: self.template)
            try await store.addTenant("b", urlTemplate: self.template)
            let change = DeviceChange(mac: self.mac, desired: .registered, url: "https://a.example/")
            _ = try await store.setDesired(change, tenantID: "a", actor: "cli:test")
            let taken = await #expect(throws: StoreError.self) {
                try await store.setDesired(change, tenantID: "b", actor: "cli:test")
            }
            guard case .conflict? = taken else {
                Issue.record("expected a conflict, got \(String(describing: taken))")
                return
            }
            _ = try await store.setDesired(
                DeviceChange(mac: self.mac, desired: .deregistered), tenantID: "a", actor: "cli:test")
            #expect(try await store.setDesired(change, tenantID: "b", actor: "cli:test") == 3)
            #expect(try await store.device(self.mac)?.tenantID == "b")
        }
    }

    @Test("a new URL template re-points every registered device; removal queues deregistration")
    func repointAndRemove() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            try await store.addTenant("t1", urlTemplate: self.template)
            let macs = (1...5).map { MACAddress(String(format: "0004136100%02X", $0))! }
            for mac in macs {
                _ = try await store.setDesired(
                    DeviceChange(mac: mac, desired: .registered, url: self.template.expectedURL(for: mac)),
                    tenantID: "t1", actor: "cli:test")
            }
            let newTemplate = try URLTemplate("tftp://new.example.com/<mac>.cfg")
            let update = try await store.updateTenant(id: "t1", urlTemplate: newTemplate, actor: "cli:test")
            #expect(update.repointedDevices == 5)
            for device in try await store.devices(DeviceFilter(tenantID: "t1")) {
                #expect(device.url == "tftp://new.example.com/\(device.mac).cfg")
                #expect(device.generation == 2 && device.status == .pending)
            }
            #expect(try await store.removeTenant(id: "t1", actor: "cli:test") == 5)
            #expect(
                try await store.devices(DeviceFilter(tenantID: "t1")).allSatisfy {
                    $0.desired == .deregistered && $0.generation == 3
                })
            let repoints = try await store.journal(JournalFilter(tenantID: "t1", action: "device.repoint"))
            #expect(repoints.count == 5)
        }
    }

    @Test("old webhook events' idempotency keys are pruned; recent ones and the journal stay")
    func eventRetention() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            try await store.addTenant("t1", urlTemplate: self.template)
            for id in ["msg_old", "msg_new"] {
                let body = Array(#"{"type":"device.added","mac":"000413610FF5"}"#.utf8)
                _ = try await store.ingest(
                    try NativeWebhookSource.parse(body), tenantID: "t1", eventID: id, payload: body,
                    actor: "webhook:test",
                    planner: EventPlanner())
            }
            _ = try await database.withConnection { connection in
                try await connection.query(
                    "UPDATE webhook_events SET received_at = now() - interval '40 days' WHERE webhook_id = 'msg_old'",
                    logger: TestDatabase.logger)
            }
            #expect(try await store.pruneEvents(receivedBefore: Date() - 30 * 86_400) == 1)
            let journalRows = try await store.journal(JournalFilter(action: "event.device.added")).count
            #expect(journalRows == 2, "the journal keeps the audit trail")
            let body = Array(#"{"type":"device.added","mac":"000413610FF5"}"#.utf8)
            let again = try await store.ingest(
                try NativeWebhookSource.parse(body), tenantID: "t1", eventID: "msg_new", payload: body,
                actor: "webhook:test", planner: EventPlanner())
            #expect(again == .duplicate, "a recent key is still recognised")
        }
    }

    @Test("no secret reaches the log even at trace, where PostgresNIO logs every row it receives as hex")
    func noSecretAtTrace() async throws {
        let log = CapturedLog()
        try await TestDatabase.with { database in
            let pool = try RunningStore(url: database.url, logger: log.logger(level: .trace), secrets: database.secrets)
            let (_, secret) = try await pool.store.addTenant("acme", urlTemplate: self.template)
            #expect(try await pool.store.credentials(tenantID: "acme")?.secret == secret)
            await pool.stop()
            let key = String(secret.dropFirst("whsec_".count).prefix(16))
            let hex = key.utf8.map { String(format: "%02x", $0) }
            let text = log.text.lowercased()
            #expect(!log.text.contains(key))
            #expect(!text.contains(hex.joined()) && !text.contains(hex.joined(separator: " ")), "the secret as hex")
        }
    }

    @Test("a value the database refuses is a rejection, journaled, never an outage")
    func constraintIsRejection() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            try await store.addTenant("t1", urlTemplate: self.template)
            // 201 code points: past device_id_length, which a source should have caught.
            let event = DeviceEvent.added(
                mac: self.mac, deviceID: String(repeating: "x", count: 201), extensionNumber: nil, model: nil)
            let result = try await store.ingest(
                event, tenantID: "t1", eventID: "msg_long", payload: Array("{}".utf8), actor: "webhook:test",
                planner: EventPlanner())
            guard case .rejected(let rejection) = result else {
                Issue.record("expected a rejection, got \(result)")
                return
            }
            #expect(rejection.code.rawValue == "invalid_field" && rejection.message.contains("device_id_length"))
            #expect(try await store.device(self.mac) == nil)
            #expect(try await store.journal(JournalFilter(action: "event.rejected")).count == 1)
        }
    }

    /// PostgreSQL commits a statement sent outside a transaction only at the protocol's Sync, after it has sent the
    /// statement's rows, and PostgresNIO hands those rows over as soon as they arrive. A deferred trigger that fails
    /// at commit makes that window visible: the event must come back as a failure, never as accepted.
    @Test("an event is acknowledged only after its COMMIT: a commit that fails is never reported as accepted")
    func acknowledgedOnlyAfterCommit() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            try await store.addTenant("t1", urlTemplate: self.template)
            try await database.withConnection { connection in
                try await connection.query(
                    """
                    CREATE FUNCTION fail_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN RAISE EXCEPTION 'commit refused by the test'; END $$
                    """, logger: TestDatabase.logger)
                try await connection.query(
                    """
                    CREATE CONSTRAINT TRIGGER fail_at_commit AFTER INSERT ON devices
                    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_at_commit()
                    """, logger: TestDatabase.logger)
            }
            let planner = EventPlanner()
            for (eventID, event) in [
                ("msg_one_call", DeviceEvent.added(mac: self.mac, deviceID: nil, extensionNumber: nil, model: nil)),
                // An update takes the full transaction.
                (
                    "msg_full",
                    DeviceEvent.updated(
                        mac: self.mac, previousMAC: nil, deviceID: "d1", extensionNumber: "100", model: nil)
                ),
            ] {
                await #expect(throws: StoreError.self, "\(eventID)") {
                    try await store.ingest(
                        event, tenantID: "t1", eventID: eventID, payload: Array("{}".utf8), actor: "webhook:test",
                        planner: planner)
                }
            }
            #expect(try await store.device(self.mac) == nil)
            #expect(try await store.journal(JournalFilter(action: "event.accepted")).isEmpty)
        }
    }

    @Test("journal queries by MAC, tenant and time")
    func journalQueries() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            let other = MACAddress("000413610FF6")!
            try await store.appendJournal([
                JournalEntry(tenantID: "a", mac: self.mac.canonical, actor: "x", action: .tenantAdd, outcome: .ok),
                JournalEntry(
                    tenantID: "b", mac: other.canonical, actor: "x", action: .tenantUpdate, outcome: .ok,
                    detail: ["n": 1]),
            ])
            let middle = Date()
            try await Task.sleep(for: .milliseconds(20))
            try await store.appendJournal([
                JournalEntry(
                    tenantID: "a", mac: other.canonical, actor: "x", action: .tenantRemove, outcome: .error,
                    eventID: "msg_1")
            ])
            #expect(try await store.journal(JournalFilter(mac: self.mac.canonical)).map(\.action) == ["tenant.add"])
            #expect(
                try await store.journal(JournalFilter(tenantID: "a")).map(\.action) == ["tenant.add", "tenant.remove"])
            #expect(try await store.journal(JournalFilter(since: middle)).map(\.action) == ["tenant.remove"])
            #expect(
                try await store.journal(JournalFilter(until: middle)).map(\.action) == ["tenant.add", "tenant.update"])
            #expect(
                try await store.journal(JournalFilter(limit: 2)).map(\.action) == ["tenant.update", "tenant.remove"],
                "the newest rows, oldest first")
            let all = try await store.journal(JournalFilter())
            #expect(all[1].detail["n"] == .number(1))
            #expect(all[2].eventID == "msg_1")
            #expect(
                try await store.journal(JournalFilter(afterID: all[0].id, limit: 1)).map(\.action) == ["tenant.update"])
        }
    }
}

/// Renders journal details as text, to look for secrets in them. An encoding failure throws: an empty text would
/// make every "no secret in it" check pass without looking.
enum JSONValueText {
    static func of(_ detail: [String: JSONValue]) throws -> String {
        String(decoding: try JSONEncoder().encode(detail), as: UTF8.self)
    }
}
