import Foundation
import Logging
import PostgresNIO
import ProvisioningModel

/// What provhook holds for the MACs and device ids of one page of a PBX's listing.
public struct SyncState: Sendable {
    public struct Held: Sendable, Hashable {
        public var tenantID: String?
        public var desired: DesiredState
        public var deviceID: String?
        /// Whether another tenant than the one synced holds the MAC and still wants it registered: the database's
        /// `mac_held_by_another()` (sql/0020), the rule the planner refuses such a MAC by (`mac_in_use`).
        public var isHeldByAnother: Bool
        /// The serial number provhook holds for the phone.
        public var serial: String?
    }
    /// By MAC, whatever the tenant.
    public var byMAC: [MACAddress: Held] = [:]
    /// In the tenant synced: the MAC that carries each device id.
    public var macOfDeviceID: [String: MACAddress] = [:]
}

extension Store {
    /// What provhook holds for `macs`, and which MACs carry `deviceIDs` in `tenantID`: one statement per page.
    public func syncState(
        tenantID: String, macs: [MACAddress], deviceIDs: [String]
    ) async throws(StoreError) -> SyncState {
        let rows = try await self.rows(
            "reading devices for a sync",
            """
            SELECT 'mac'::text, mac, tenant_id, desired, device_id, mac_held_by_another(tenant_id, desired, \(tenantID)),
                serial
            FROM devices WHERE mac = ANY(\(macs.map(\.canonical)))
            UNION ALL
            SELECT 'id', mac, tenant_id, desired, device_id, false, NULL FROM devices
            WHERE tenant_id = \(tenantID) AND device_id = ANY(\(deviceIDs))
            """, as: (String, String, String?, String, String?, Bool, String?).self)
        var state = SyncState()
        for (kind, text, tenant, desired, deviceID, heldByAnother, serial) in rows {
            guard let mac = MACAddress(text), let desired = DesiredState(rawValue: desired) else { continue }
            if kind == "mac" {
                state.byMAC[mac] = .init(
                    tenantID: tenant, desired: desired, deviceID: deviceID, isHeldByAnother: heldByAnother,
                    serial: serial)
            }
            if kind == "id", let deviceID { state.macOfDeviceID[deviceID] = mac }
        }
        return state
    }

    /// Notes that the PBX listed `macs` in sync run `run`.
    public func markSeen(run: UUID, macs: [MACAddress]) async throws(StoreError) {
        guard !macs.isEmpty else { return }
        _ = try await self.rows(
            "noting the devices a sync saw",
            """
            INSERT INTO source_sync_seen (run, mac) SELECT \(run), m FROM unnest(\(macs.map(\.canonical))::text[]) AS m
            ON CONFLICT DO NOTHING RETURNING 1
            """, as: Int32.self)
    }

    /// How many devices `source` holds registered in `tenantID`, and (up to `limit`) those that run `run` did not
    /// see, counted and listed in the database so that a large fleet is never read whole.
    public func unseenDevices(
        run: UUID, source: String, tenantID: String, limit: Int
    ) async throws(StoreError) -> (unseen: [(mac: MACAddress, deviceID: String?)], unseenCount: Int, held: Int) {
        // Whether each device was seen is asked of the primary key (run, mac), one look-up per device, in the select
        // list, where the planner keeps it a look-up. As a join it was planned from statistics taken before the sync
        // (autovacuum had not analysed the rows the sync just wrote), as a nested loop that read all of the run's seen
        // rows for every device: a first sync of 100,000 devices ran into statement_timeout here.
        let counts = try await self.rows(
            "counting the devices a sync did not see",
            """
            SELECT count(*)::bigint,
                count(*) FILTER (WHERE NOT EXISTS (
                    SELECT FROM source_sync_seen s WHERE s.run = \(run) AND s.mac = d.mac))::bigint
            FROM devices d
            WHERE d.source = \(source) AND d.tenant_id = \(tenantID) AND d.desired = 'registered'
            """, as: (Int64, Int64).self)
        let (held, unseenCount) = (Int(counts.first?.0 ?? 0), Int(counts.first?.1 ?? 0))
        guard unseenCount > 0, limit > 0 else { return ([], unseenCount, held) }
        let rows = try await self.rows(
            "finding the devices a sync did not see",
            """
            WITH held AS MATERIALIZED (
                SELECT d.mac, d.device_id,
                    EXISTS (SELECT FROM source_sync_seen s WHERE s.run = \(run) AND s.mac = d.mac) AS seen
                FROM devices d
                WHERE d.source = \(source) AND d.tenant_id = \(tenantID) AND d.desired = 'registered'
            )
            SELECT mac, device_id FROM held WHERE NOT seen ORDER BY mac LIMIT \(limit)
            """, as: (String, String?).self)
        return (rows.compactMap { row in MACAddress(row.0).map { (mac: $0, deviceID: row.1) } }, unseenCount, held)
    }

    /// Ends a sync run: forgets what it saw, keeps its outcome with the source, and journals its one row.
    public func finishSync(
        run: UUID, source: String, tenantIDs: [String], summary: [String: JSONValue], error: String?, actor: String
    ) async throws(StoreError) {
        let logger = self.logger
        let summaryText = String(decoding: (try? JSONEncoder().encode(summary)) ?? Data("{}".utf8), as: UTF8.self)
        try await self.transaction("recording a sync") { connection in
            try await connection.query("DELETE FROM source_sync_seen WHERE run = \(run)", logger: logger)
            try await connection.query(
                """
                UPDATE sources SET last_sync_at = now(), last_sync_summary = \(summaryText)::jsonb,
                    last_sync_error = \(error), sync_leased_until = NULL
                WHERE name = \(source)
                """, logger: logger)
            var detail = summary
            detail["source"] = .string(source)
            detail["run"] = .string(run.uuidString.lowercased())
            if let error { detail["error"] = .string(String(error.prefix(500))) }
            try await Self.appendJournal(
                [
                    JournalEntry(
                        tenantID: tenantIDs.count == 1 ? tenantIDs[0] : nil, mac: nil, actor: actor,
                        action: .sourceSync,
                        outcome: error == nil ? .ok : .error, detail: detail)
                ], on: connection, logger: logger)
        }
    }
}

extension Store {
    /// Takes the next source whose periodic sync is due, for `lease`: another process skips it until the lease
    /// ends (or the run finishes), so one process at a time syncs a source.
    public func claimDueSync(lease: Duration) async throws(StoreError) -> String? {
        try await self.rows(
            "claiming a due sync",
            """
            UPDATE sources SET sync_leased_until = now() + make_interval(secs => \(Double(lease.components.seconds)))
            WHERE name = (
                SELECT name FROM sources
                WHERE removed_at IS NULL AND sync_interval_seconds IS NOT NULL AND api_url IS NOT NULL
                  AND (last_sync_at IS NULL OR last_sync_at + make_interval(secs => sync_interval_seconds) <= now())
                  AND (sync_leased_until IS NULL OR sync_leased_until < now())
                ORDER BY last_sync_at NULLS FIRST, name LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING name
            """, as: String.self
        ).first
    }
}
