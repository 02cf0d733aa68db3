import Foundation
import Integrations
import PostgresNIO
import ProvHookTestSupport
import ProvisioningModel
import Testing

@testable import ProvHookCore

@Suite("Group commit: events recorded together, each refused or committed on its own")
struct GroupCommitTests {
    let template = try! URLTemplate("https://prov.example.com/<mac>.xml")

    /// `ingest_event`'s arguments for a device.added of `mac`, as `Store.ingestInOneCall` writes them.
    func arguments(_ mac: String, event: String, deviceID: String? = nil) -> String {
        var payload: [String: JSONValue] = ["type": "device.added", "mac": .string(mac)]
        payload["device_id"] = deviceID.map(JSONValue.string)
        return JSONValue.encodeObject([
            "tenant": "t1", "event": .string(event), "type": "device.added",
            "payload": .string(JSONValue.encodeObject(payload)), "mac": .string(mac), "desired": "registered",
            "device_id": deviceID.map(JSONValue.string) ?? .null, "extension": .null, "model": .null,
            "skipped": false, "source": .null, "actor": "webhook:test", "action": "event.device.added",
            "outcome": "accepted", "detail": .object(["desired": "registered"]),
        ])
    }

    @Test("record_events commits the good events of a call and none of a refused one, and answers for each in order")
    func oneCall() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            try await store.addTenant("t1", urlTemplate: self.template)
            let events = [
                self.arguments("000413000001", event: "e1"),
                // PostgreSQL cannot store U+0000 in jsonb: refused, and recorded alone it gets its precise rejection.
                self.arguments("000413000002", event: "e2", deviceID: "a\u{0}b"),
                self.arguments("000413000003", event: "e3"),
                self.arguments("000413000001", event: "e1"),
                "not JSON",
            ]
            let outcomes = try await store.client.withConnection { connection in
                try await connection.query("CALL record_events(\(events), NULL)", logger: TestDatabase.logger)
                    .collect().first?.decode([String].self)
            }
            #expect(outcomes == ["accepted", "refused", "accepted", "duplicate", "refused"])
            #expect(try await store.devices().map(\.mac).sorted() == ["000413000001", "000413000003"])
            let accepted = try await store.journal(JournalFilter(action: "event.device.added"))
            #expect(accepted.map(\.eventID) == ["e1", "e3"])
            #expect(accepted.allSatisfy { $0.detail["generation"] == 1 && $0.detail["url"] != nil })
            let keys = try await store.client.withConnection { connection in
                try await connection.query(
                    "SELECT webhook_id FROM webhook_events ORDER BY 1", logger: TestDatabase.logger
                )
                .collect().map { try $0.decode(String.self) }
            }
            #expect(keys == ["e1", "e3"])
        }
    }

    @Test("concurrent webhooks share calls; a refused one among them gets its rejection and harms none of the others")
    func concurrentEvents() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            try await store.addTenant("t1", urlTemplate: self.template)
            let bodies = (0..<64).map { index in
                index % 16 == 5
                    ? #"{"type":"device.added","mac":"\#(String(format: "0004130100%02X", index))","device_id":"a\u0000b"}"#
                    : #"{"type":"device.added","mac":"\#(String(format: "0004130100%02X", index))"}"#
            }
            let results = try await withThrowingTaskGroup(of: (Int, IngestResult).self) { group in
                for (index, body) in bodies.enumerated() {
                    let payload = Array(body.utf8)
                    let event = try NativeWebhookSource.parse(payload)
                    group.addTask {
                        let result = try await store.ingest(
                            event, tenantID: "t1", eventID: "msg_\(index)", payload: payload, actor: "webhook:test",
                            planner: EventPlanner())
                        return (index, result)
                    }
                }
                return try await group.reduce(into: [Int: IngestResult]()) { $0[$1.0] = $1.1 }
            }
            #expect(store.groupCommit.largestBatch > 1, "the events were recorded together")
            let refused = Set(results.filter { if case .rejected = $0.value { true } else { false } }.keys)
            #expect(refused == [5, 21, 37, 53])
            #expect(
                results.values.allSatisfy { result in
                    switch result {
                    case .accepted(queued: true): true
                    case .rejected(let rejection): rejection.code.rawValue == "invalid_json"
                    default: false
                    }
                })
            #expect(try await store.devices().count == 60)
            #expect(try await store.journal(JournalFilter(action: "event.device.added")).count == 60)
            #expect(try await store.journal(JournalFilter(action: "event.rejected")).count == 4)
        }
    }

    @Test(
        "an accepted device that no account serves is answered as queuing no call, on the one-call, batch and full paths; a serve that does not ask is answered as before"
    )
    func skippedDevicesQueueNothing() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            try await store.addTenant("t1", urlTemplate: self.template)
            // 0A0B0C is no vendor's prefix: the planner lets it through, and the database finds no account for it.
            func added(_ mac: String) throws -> (DeviceEvent, [UInt8]) {
                let payload = Array(#"{"type":"device.added","mac":"\#(mac)"}"#.utf8)
                return (try NativeWebhookSource.parse(payload), payload)
            }
            func ingest(_ mac: String, fastPath: Bool) async throws -> IngestResult? {
                let (event, payload) = try added(mac)
                return try await store.ingest(
                    event, tenantID: "t1", eventID: "e-\(mac)", payload: payload, actor: "webhook:test",
                    planner: EventPlanner(), source: nil, credentialsVersion: nil, fastPath: fastPath)
            }
            #expect(try await ingest("0A0B0C000001", fastPath: true) == .accepted(queued: false))
            #expect(try await ingest("000413000001", fastPath: true) == .accepted(queued: true))
            #expect(try await ingest("0A0B0C000002", fastPath: false) == .accepted(queued: false))
            #expect(try await ingest("000413000002", fastPath: false) == .accepted(queued: true))
            let batch = try ["0A0B0C000003", "000413000003"].map { mac in
                let (event, payload) = try added(mac)
                return BatchEvent(
                    event, eventID: "b-\(mac)", tenantID: "t1", payload: payload, actor: "sync:test", source: nil)
            }
            let results = await store.ingestAll(batch, planner: EventPlanner()).map { try? $0.get() }
            #expect(results == [.accepted(queued: false), .accepted(queued: true)])
            // Without "answer_skipped", as a serve from before sql/0029 sends it: "accepted", never an answer it does
            // not know. (Its "prefix_vendor" is null, or the device would be taken for Snom's, as before sql/0022.)
            let old = "{\"prefix_vendor\":null," + self.arguments("0A0B0C000004", event: "old").dropFirst()
            let outcomes = try await store.client.withConnection { connection in
                try await connection.query(
                    "CALL record_events(\([old]), NULL)",
                    logger: TestDatabase.logger
                ).collect().first?.decode([String].self)
            }
            #expect(outcomes == ["accepted"])
            let skipped = try await store.devices().filter { $0.status == .skipped }.map(\.mac).sorted()
            #expect(skipped == ["0A0B0C000001", "0A0B0C000002", "0A0B0C000003", "0A0B0C000004"])
        }
    }
}
