import FakePBXService
import Foundation
import Logging
import PostgresNIO
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import Synchronization
import Testing
import XMLRPC

@testable import ProvHookCore

/// `provhook source sync` killed with SIGKILL in the middle of a page, then run again: the second run completes what
/// the first left, and no device's effect is lost or doubled, in the database or at the service.
@Suite("a sync killed mid-page")
struct SyncKilledTests {
    static let devices = 1200
    /// The largest a sync takes, so that the kill lands mid-page: a page is recorded many events to a commit, and a
    /// smaller one could be stored whole between the count that triggers the kill and the kill itself.
    static let pageSize = 500

    @Test("kill -9 in the middle of the first page; the next sync completes it; each phone registered once")
    func killedMidPage() async throws {
        try await SourceRig.with(pbx: SourceSyncTests.kazoo(devices: Self.devices)) { rig in
            try await rig.addKazooSource()
            let serve = try await rig.serve()
            defer { serve.stop() }

            let stored: () async throws -> Int = {
                try await rig.database.store.devices(DeviceFilter(tenantID: "acme", limit: 10_000)).count
            }
            let pid = Mutex<Int32?>(nil)
            let killedAt = Mutex<Int?>(nil)
            let arguments = ["source", "sync", "kazoo-acme", "--page-size", "\(Self.pageSize)", "--json"]
            async let first = rig.cli.run(arguments) { started in pid.withLock { $0 = started } }
            // Killed as soon as the first page starts to be stored, well before all of it is. The count is taken, and
            // the kill made, while a lock holds back every write to devices: without it, a loaded machine stored the
            // whole page between the count that triggered the kill and the kill. Only the calls the killed run had
            // already sent (one per stream) commit once the lock is let go.
            try await rig.database.withConnection(as: .superuser) { connection in
                let logger = Logger(label: "test")
                try await eventually("the first page partly stored", within: .seconds(60)) {
                    try await connection.query("BEGIN", logger: logger)
                    try await connection.query("LOCK TABLE devices IN SHARE MODE", logger: logger)
                    var count = 0
                    for try await value in try await connection.query(
                        "SELECT count(*) FROM devices WHERE tenant_id = 'acme'", logger: logger
                    ).decode(Int64.self) {
                        count = Int(value)
                    }
                    guard count >= 1, let process = pid.withLock({ $0 }) else {
                        try await connection.query("COMMIT", logger: logger)
                        return false
                    }
                    kill(process, SIGKILL)
                    killedAt.withLock { $0 = count }
                    try await connection.query("COMMIT", logger: logger)
                    return true
                }
            }
            let killed = try await first
            let atKill = try #require(killedAt.withLock { $0 })
            #expect(killed.status == SIGKILL, "ended by the signal: \(killed.status) \(killed.error)")
            // A call the killed process sent still commits on its backend: what it left is counted once none runs.
            try await eventually("the killed run's last calls ended", within: .seconds(30)) {
                let running = try await rig.database.store.rows(
                    "looking for the killed run's calls",
                    """
                    SELECT count(*) FROM pg_stat_activity
                    WHERE state <> 'idle' AND query LIKE 'CALL record_events%' AND pid <> pg_backend_pid()
                    """, as: Int64.self)
                return running.first == 0
            }
            let leftBehind = try await stored()
            #expect(atKill < Self.pageSize && leftBehind < Self.pageSize, "killed mid-page: \(atKill), \(leftBehind)")

            // The next run completes the page and the rest; what the first stored is unchanged.
            let second = try await rig.cli.run(arguments)
            let json = (try? JSONSerialization.jsonObject(with: Data(second.output.utf8)) as? [String: Any]) ?? [:]
            #expect(second.status == 0, "\(second.error)")
            #expect(
                json["registered"] as? Int == Self.devices - leftBehind && json["unchanged"] as? Int == leftBehind,
                "\(json) after \(leftBehind) stored by the killed run")
            #expect(try await stored() == Self.devices)

            try await eventually("every phone registered at the service", within: .seconds(180)) {
                await rig.state.registrationCount() == Self.devices
            }
            try await eventually("every outcome recorded", within: .seconds(60)) {
                try await rig.database.store.devices(DeviceFilter(status: .registered, limit: 10_000)).count
                    == Self.devices
            }
            // Each phone was registered exactly once, and its event journaled exactly once.
            var registrations: [String: Int] = [:]
            for call in await rig.state.calls where call.method?.hasPrefix("redirect.register") == true {
                for value in call.params.prefix(1) {
                    let macs = value.arrayValue?.compactMap(\.stringValue) ?? [value.stringValue].compactMap { $0 }
                    for mac in macs { registrations[mac.uppercased(), default: 0] += 1 }
                }
            }
            let doubled = registrations.filter { $0.value != 1 }
            #expect(
                registrations.count == Self.devices && doubled.isEmpty, "\(registrations.count), \(doubled.prefix(5))")
            var events: [String: Int] = [:]
            for entry in try await rig.database.store.journal(JournalFilter(limit: 10_000))
            where entry.actor == "sync:kazoo-acme" && entry.action.hasPrefix("event.") {
                events[entry.mac ?? "-", default: 0] += 1
            }
            #expect(events.count == Self.devices && events.values.allSatisfy { $0 == 1 }, "\(events.count)")
        }
    }
}
