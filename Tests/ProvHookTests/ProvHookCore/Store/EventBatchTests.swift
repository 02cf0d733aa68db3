import Foundation
import PostgresNIO
import ProvHookTestSupport
import ProvisioningModel
import Testing

@testable import ProvHookCore

/// `Store.ingestAll`, which sync and import record through: many events to a commit, with the answers, refusals,
/// idempotency and order that recording them one by one gives.
@Suite("recording a batch of events: as one by one, in fewer commits")
struct EventBatchTests {
    let template = try! URLTemplate("https://prov.example.com/snom/<mac>.xml")

    static func mac(_ n: Int) -> MACAddress { MACAddress(String(format: "0004130%05X", n))! }

    static func added(
        _ n: Int, id: String? = nil, tenant: String = "acme", eventID: String? = nil, mac: MACAddress? = nil
    ) -> BatchEvent {
        let event = DeviceEvent.added(
            mac: mac ?? Self.mac(n), deviceID: id, extensionNumber: nil, model: "D785", brand: nil, serial: nil)
        return BatchEvent(
            event, eventID: eventID ?? "batch-\(n)-\(UUID().uuidString)", tenantID: tenant,
            payload: Array(#"{"n":\#(n)}"#.utf8), actor: "sync:test", source: nil)
    }

    @Test(
        "136 events, more than two calls' worth: each answered as alone, a held MAC refused and journaled, a repeated event a duplicate, a move after its add applied in order"
    )
    func batch() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            for id in ["acme", "other"] {
                _ = try await store.addTenant(
                    id: id, name: nil, urlTemplate: self.template, allowBearer: false, actor: "cli:test")
            }
            let held = try await store.ingest(
                Self.added(9_999, tenant: "other").event, tenantID: "other", eventID: "held", payload: Array("{}".utf8),
                actor: "webhook:test", planner: EventPlanner())
            #expect(held == .accepted(queued: true))

            var events = (1...130).map { Self.added($0) }
            // Another tenant's registered MAC, among the others: refused with its reason.
            events.insert(Self.added(9_999), at: 40)
            // The same event again: a duplicate, not a second journal row.
            events.append(Self.added(7, eventID: events[6].eventID))
            // A device added, then moved to another MAC by the next event (the full path, after the add).
            events.append(Self.added(500, id: "phone-500"))
            events.append(
                BatchEvent(
                    .updated(
                        mac: Self.mac(501), previousMAC: nil, deviceID: "phone-500", extensionNumber: nil, model: nil,
                        brand: nil, serial: nil), eventID: "move-500", tenantID: "acme", payload: Array("{}".utf8),
                    actor: "sync:test", source: nil))
            // Then removed again, and one more added: 136 events.
            events.append(
                BatchEvent(
                    .removed(mac: Self.mac(3), deviceID: nil), eventID: "remove-3", tenantID: "acme",
                    payload: Array("{}".utf8), actor: "sync:test", source: nil))
            events.append(Self.added(131))

            let results = await store.ingestAll(events, planner: EventPlanner())
            #expect(results.count == events.count)
            var answers: [String: Int] = [:]
            for result in results {
                switch result {
                case .success(.accepted): answers["accepted", default: 0] += 1
                case .success(.duplicate): answers["duplicate", default: 0] += 1
                case .success(.rejected(let rejection)): answers[rejection.code.rawValue, default: 0] += 1
                case .failure(let error): Issue.record("\(error)")
                }
            }
            #expect(answers == ["accepted": 134, "duplicate": 1, "mac_in_use": 1])
            #expect(MACHolderRuleTests.refusal(try results[40].get()) == "mac_in_use")
            #expect(try results[131].get() == .duplicate)

            #expect(try await store.device(Self.mac(9_999))?.tenantID == "other")
            #expect(try await store.device(Self.mac(3))?.desired == .deregistered)
            let moved = try #require(try await store.device(Self.mac(501)))
            #expect(moved.deviceID == "phone-500" && moved.desired == .registered)
            #expect(try await store.device(Self.mac(500))?.desired == .deregistered)

            // One journal row per change, and the refusal's: as one by one.
            let rows = try await store.rows(
                "counting the batch's journal rows",
                """
                SELECT action, count(*)::int FROM journal
                WHERE actor = 'sync:test' GROUP BY action ORDER BY action
                """, as: (String, Int).self)
            #expect(
                rows.map { "\($0.0)=\($0.1)" } == [
                    "event.device.added=132", "event.device.removed=1", "event.device.updated=2", "event.rejected=1",
                ])
        }
    }

    @Test("a tenant with MAC ranges sends every registration to the full transaction; all are recorded")
    func ranges() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            _ = try await store.addTenant(
                id: "acme", name: nil, urlTemplate: self.template, allowBearer: false, actor: "cli:test")
            _ = try await store.rows(
                "giving the tenant MAC ranges", "UPDATE tenants SET mac_prefixes = '{000413}' WHERE id = 'acme'",
                as: Int32.self)
            let events = (1...70).map { Self.added($0) } + [Self.added(71, mac: MACAddress("000415000001")!)]
            let results = await store.ingestAll(events, planner: EventPlanner())
            let accepted = results.filter { if case .success(.accepted) = $0 { true } else { false } }.count
            #expect(accepted == 70)
            #expect(MACHolderRuleTests.refusal(try results[70].get()) != nil)
            #expect(try await store.devices().count == 70)
        }
    }

    @Test(
        "a batch in two streams: events linked by a MAC or a device id share one, in order; each device ends where the later event put it"
    )
    func streams() async throws {
        // Device i is added on MAC i, and its id moves to MAC 1000 + i a hundred events later; MAC 2000 + i alone.
        var events: [BatchEvent] = []
        for i in 0..<100 { events.append(Self.added(i, id: "phone-\(i)")) }
        for i in 0..<100 {
            events.append(Self.added(1_000 + i, id: "phone-\(i)"))
            events.append(Self.added(2_000 + i))
        }
        let split = Store.streams(of: events, planner: EventPlanner(), count: 2)
        #expect(split.count == 2 && split.allSatisfy { $0.count == 150 })
        for stream in split {
            #expect(stream == stream.sorted())
            for index in stream where index < 100 {
                #expect(stream.contains(100 + 2 * index), "event \(index) and the one that moves its id")
            }
        }
        // One event of more than one change: one stream.
        let move = BatchEvent(
            .updated(
                mac: Self.mac(3_000), previousMAC: Self.mac(0), deviceID: nil, extensionNumber: nil, model: nil,
                brand: nil, serial: nil), eventID: "move", tenantID: "acme", payload: Array("{}".utf8),
            actor: "sync:test", source: nil)
        #expect(Store.streams(of: events + [move], planner: EventPlanner(), count: 2).count == 1)

        try await TestDatabase.with { database in
            let store = database.store
            _ = try await store.addTenant(
                id: "acme", name: nil, urlTemplate: self.template, allowBearer: false, actor: "cli:test")
            let results = await store.ingestAll(events, planner: EventPlanner())
            #expect(results.allSatisfy { if case .success(.accepted) = $0 { true } else { false } })
            for i in 0..<100 {
                let moved = try await store.device(Self.mac(1_000 + i))
                #expect(moved?.deviceID == "phone-\(i)" && moved?.desired == .registered, "phone-\(i)")
                #expect(try await store.device(Self.mac(i))?.deviceID == nil, "MAC \(i) gave its id up")
            }
        }
    }
}
