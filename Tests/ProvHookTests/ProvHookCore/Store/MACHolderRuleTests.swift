import Foundation
import Integrations
import PostgresNIO
import ProvHookTestSupport
import ProvisioningModel
import Testing

@testable import ProvHookCore

/// The MAC-holder rule is written once, as `mac_held_by_another()` (sql/0020); the planner, the one-call ingest,
/// `device_set_desired()` and a PBX sync all ask it.
@Suite("MAC-holder rule: a MAC another tenant holds registered is not another tenant's")
struct MACHolderRuleTests {
    let template = try! URLTemplate("https://prov.example.com/snom/<mac>.xml")

    @Test("mac_held_by_another(): held only while another tenant (or none) wants it registered")
    func rule() async throws {
        try await TestDatabase.with { database in
            let cases: [(holder: String?, desired: String, tenant: String, held: Bool)] = [
                ("other", "registered", "acme", true),
                ("other", "deregistered", "acme", false),
                ("acme", "registered", "acme", false),
                ("acme", "deregistered", "acme", false),
                (nil, "deregistered", "acme", false),
            ]
            for rule in cases {
                let rows = try await database.store.rows(
                    "asking the MAC-holder rule",
                    "SELECT mac_held_by_another(\(rule.holder), \(rule.desired), \(rule.tenant))", as: Bool.self)
                #expect(rows == [rule.held], "\(rule)")
            }
        }
    }

    @Test("the one-call and the full ingest refuse a held MAC alike, and take one given up")
    func ingest() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            for id in ["acme", "other"] {
                _ = try await store.addTenant(
                    id: id, name: nil, urlTemplate: self.template, allowBearer: false, actor: "cli:test")
            }
            func send(_ tenant: String, _ body: String) async throws -> IngestResult {
                let payload = Array(body.utf8)
                return try await store.ingest(
                    try NativeWebhookSource.parse(payload), tenantID: tenant, eventID: "msg_" + UUID().uuidString,
                    payload: payload, actor: "webhook:test", planner: EventPlanner())
            }
            let added = #"{"type":"device.added","mac":"000413000001"}"#
            #expect(try await send("other", added) == .accepted(queued: true))
            // One MAC: the one-call path (ingest_event) hands it to the planner, which refuses it.
            #expect(Self.refusal(try await send("acme", added)) == "mac_in_use")
            // Two MACs: the full path alone.
            let moved = #"{"type":"device.updated","mac":"000413000001","previous_mac":"000413000002"}"#
            #expect(Self.refusal(try await send("acme", moved)) == "mac_in_use")
            // An operator's change goes through device_set_desired() alone.
            await #expect(throws: StoreError.self) {
                try await store.setDesired(
                    DeviceChange(mac: MACAddress("000413000001")!, desired: .registered), tenantID: "acme",
                    actor: "cli:test")
            }
            let removed = #"{"type":"device.removed","mac":"000413000001"}"#
            #expect(try await send("other", removed) == .accepted(queued: true))
            #expect(try await send("acme", added) == .accepted(queued: true))
            #expect(try await store.device(MACAddress("000413000001")!)?.tenantID == "acme")
        }
    }

    /// The rejection's code, as journaled and answered; nil for anything but a rejection.
    static func refusal(_ result: IngestResult) -> String? {
        guard case .rejected(let rejection) = result else { return nil }
        return rejection.code.rawValue
    }
}
