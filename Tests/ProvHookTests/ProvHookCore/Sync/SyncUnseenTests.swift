import Foundation
import Logging
import PostgresNIO
import ProvHookCore
import ProvHookTestSupport
import ProvisioningModel
import Testing

/// The devices a sync did not see are counted right after the sync wrote its devices and its marks, before
/// autovacuum has analysed them: the planner works from statistics that predate the sync.
@Suite("a sync's unseen devices, counted with statistics from before the sync")
struct SyncUnseenTests {
    static let logger = Logger(label: "test")

    // No time limit: the 2 s statement timeout bounds the queries under test, and a limit on the whole test also
    // counted the wait for its database, which at the start of a full run (every suite migrating its own on two
    // cores) once went past two minutes.
    @Test(
        "20,000 devices, all but 7 seen, with statistics an earlier sync left: counted and listed within a 2 s statement timeout"
    )
    func staleStatistics() async throws {
        try await TestDatabase.with { database in
            let template = try URLTemplate("https://prov.example.com/<mac>.xml")
            _ = try await database.store.addTenant(
                id: "acme", name: nil, urlTemplate: template, allowBearer: false, actor: "cli:test")
            _ = try await database.store.addSource(name: "src", kind: .kazoo, tenantID: "acme", actor: "cli:test")
            _ = try await database.store.addTenant(
                id: "beta", name: nil, urlTemplate: template, allowBearer: false, actor: "cli:test")
            _ = try await database.store.addSource(name: "old", kind: .kazoo, tenantID: "beta", actor: "cli:test")
            let (earlier, run) = (UUID(), UUID())
            try await database.withConnection { connection in
                func devices(_ tenant: String, _ source: String, from first: String) async throws {
                    try await connection.query(
                        """
                        INSERT INTO devices (mac, tenant_id, desired, status, source, url, account)
                        SELECT upper(lpad(to_hex(\(first)::bigint + i), 12, '0')), \(tenant), 'registered', 'pending',
                            \(source), 'https://prov.example.com/x.xml', 'default'
                        FROM generate_series(1, 20000) i
                        """, logger: Self.logger)
                }
                // The statistics an earlier sync left: another source's devices, and its run's marks (deleted when it
                // finished, as every run's are). Autovacuum analyses nothing after them.
                for table in ["devices", "source_sync_seen"] {
                    try await connection.query(
                        "ALTER TABLE \(unescaped: table) SET (autovacuum_enabled = false)", logger: Self.logger)
                }
                try await devices("beta", "old", from: "\(0x0004_1400_0000)")
                try await connection.query(
                    "INSERT INTO source_sync_seen (run, mac) SELECT \(earlier), mac FROM devices", logger: Self.logger)
                try await connection.query("ANALYZE devices", logger: Self.logger)
                try await connection.query("ANALYZE source_sync_seen", logger: Self.logger)
                try await connection.query("DELETE FROM source_sync_seen", logger: Self.logger)
                // This run: 20,000 devices of its source, all seen but seven: 000415000100, …0200, … …0700.
                try await devices("acme", "src", from: "\(0x0004_1500_0000)")
                try await connection.query(
                    """
                    INSERT INTO source_sync_seen (run, mac)
                    SELECT \(run), mac FROM devices
                    WHERE tenant_id = 'acme' AND NOT (mac LIKE '%00' AND mac < '000415000800')
                    """, logger: Self.logger)
            }
            let quick = try RunningStore(url: database.url(as: .app), statementTimeoutSeconds: 2)
            do {
                let (unseen, count, held) = try await quick.store.unseenDevices(
                    run: run, source: "src", tenantID: "acme", limit: 5)
                #expect(held == 20000)
                #expect(count == 7)
                #expect(
                    unseen.map(\.mac.canonical) == [
                        "000415000100", "000415000200", "000415000300", "000415000400", "000415000500",
                    ])
            } catch {
                await quick.stop()
                throw error
            }
            await quick.stop()
        }
    }
}
