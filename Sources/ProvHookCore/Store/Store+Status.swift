import Foundation
import PostgresNIO
import ProvisioningModel

/// What `provhook status` and the metrics read from the database in one go.
public struct FleetStatus: Sendable, Codable {
    /// Devices by status; every status is present, 0 when none has it.
    public var devicesByStatus: [String: Int]
    /// The device that has waited longest for a call, and since when.
    public var oldestWaiting: OldestWaiting?
    /// The journal's newest row and its newest sealed row.
    public var journal: JournalState
    /// Per source: the last event it gave and the last sync.
    public var sources: [SourceState]

    public struct OldestWaiting: Sendable, Codable {
        public var mac: String
        public var tenantID: String?
        public var since: Date

        enum CodingKeys: String, CodingKey {
            case mac, since
            case tenantID = "tenant_id"
        }
    }

    public struct JournalState: Sendable, Codable {
        /// The newest row's id; nil for an empty journal.
        public var lastID: Int64?
        /// The newest sealed row's id and when it was sealed; nil before the first seal.
        public var lastSealedID: Int64?
        public var lastSealedAt: Date?

        /// Rows not sealed yet.
        public var unsealed: Int64 { (self.lastID ?? 0) - (self.lastSealedID ?? 0) }

        enum CodingKeys: String, CodingKey {
            case lastID = "last_id"
            case lastSealedID = "last_sealed_id"
            case lastSealedAt = "last_sealed_at"
        }
    }

    public struct SourceState: Sendable, Codable {
        public var name: String
        public var kind: String
        /// When the newest journal row of one of its events was written (actor `source:<name>@<sender>`).
        public var lastEventAt: Date?
        public var lastSyncAt: Date?
        public var lastSyncError: String?

        enum CodingKeys: String, CodingKey {
            case name, kind
            case lastEventAt = "last_event_at"
            case lastSyncAt = "last_sync_at"
            case lastSyncError = "last_sync_error"
        }
    }

    enum CodingKeys: String, CodingKey {
        case journal, sources
        case devicesByStatus = "devices_by_status"
        case oldestWaiting = "oldest_waiting"
    }
}

extension Store {
    /// Devices by status, the oldest waiting device, the journal's seal and each source's last event and sync.
    public func fleetStatus() async throws(StoreError) -> FleetStatus {
        var byStatus = Dictionary(uniqueKeysWithValues: DeviceStatus.allCases.map { ($0.rawValue, 0) })
        for (status, count) in try await self.rows(
            "counting devices by status", "SELECT status, count(*)::bigint FROM devices GROUP BY status",
            as: (String, Int64).self)
        {
            byStatus[status] = Int(count)
        }
        let oldest = try await self.rows(
            "finding the oldest waiting device",
            """
            SELECT mac, tenant_id, pending_since FROM devices WHERE status = 'pending'
            ORDER BY pending_since, mac LIMIT 1
            """, as: (String, String?, Date).self
        ).first.map { FleetStatus.OldestWaiting(mac: $0.0, tenantID: $0.1, since: $0.2) }
        let journal = try await self.rows(
            "reading the journal's seal",
            """
            SELECT (SELECT max(id) FROM journal), s.journal_id, s.sealed_at
            FROM (SELECT 1) one LEFT JOIN LATERAL (
                SELECT journal_id, sealed_at FROM journal_seals ORDER BY journal_id DESC LIMIT 1) s ON true
            """, as: (Int64?, Int64?, Date?).self
        ).first.map { FleetStatus.JournalState(lastID: $0.0, lastSealedID: $0.1, lastSealedAt: $0.2) }
        // A source's events are journaled with the actor `source:<name>@<sender>` (`JournalActor.source`); the newest
        // is found by walking the journal back from its end, which stops at once for a source that is sending.
        let (before, after) = JournalActor.sourceAffixes
        let sources = try await self.rows(
            "reading the sources' last events and syncs",
            """
            SELECT s.name, s.kind,
                   (SELECT j.at FROM journal j
                    WHERE left(j.actor, length(\(before)) + length(s.name) + length(\(after))) = \(before) || s.name || \(after)
                    ORDER BY j.id DESC LIMIT 1),
                   s.last_sync_at, s.last_sync_error
            FROM sources s WHERE s.removed_at IS NULL ORDER BY s.name
            """, as: (String, String, Date?, Date?, String?).self
        ).map {
            FleetStatus.SourceState(name: $0.0, kind: $0.1, lastEventAt: $0.2, lastSyncAt: $0.3, lastSyncError: $0.4)
        }
        return FleetStatus(
            devicesByStatus: byStatus, oldestWaiting: oldest,
            journal: journal ?? FleetStatus.JournalState(lastID: nil, lastSealedID: nil, lastSealedAt: nil),
            sources: sources)
    }
}

/// What `/metrics` reads from the database at each scrape.
public struct ScrapeStats: Sendable, Hashable {
    /// Devices by status; every status is present.
    public var devicesByStatus: [String: Int]
    /// Devices by vendor and status: a known vendor's slug, `other` for any other brand (so that what PBXs send
    /// cannot multiply the series), `unknown` for none. Every pair is present.
    public var devicesByVendor: [VendorStatus: Int] = [:]
    /// Devices waiting, and the age of the oldest in seconds.
    public var waiting: Int
    public var oldestWaitingAge: TimeInterval
    /// When the journal was last sealed (nil before the first seal), and the rows not sealed yet.
    public var lastSealAt: Date?
    public var unsealedRows: Int64

    /// A vendor label and a status, for `provhook_vendor_devices`.
    public struct VendorStatus: Sendable, Hashable {
        public var vendor: String
        public var status: String
    }
}

extension Store {
    /// The counts `/metrics` shows, in one statement.
    public func scrapeStats() async throws(StoreError) -> ScrapeStats {
        var byStatus = Dictionary(uniqueKeysWithValues: DeviceStatus.allCases.map { ($0.rawValue, 0) })
        var stats = ScrapeStats(devicesByStatus: [:], waiting: 0, oldestWaitingAge: 0, lastSealAt: nil, unsealedRows: 0)
        // Every pair, so that a gauge falls back to 0 when its devices are gone.
        var byVendor: [ScrapeStats.VendorStatus: Int] = [:]
        for vendor in Vendor.known.map(\.rawValue) + ["other", "unknown"] {
            for status in DeviceStatus.allCases {
                byVendor[ScrapeStats.VendorStatus(vendor: vendor, status: status.rawValue)] = 0
            }
        }
        let rows = try await self.rows(
            "counting devices for the metrics",
            """
            WITH seal AS (SELECT journal_id, sealed_at FROM journal_seals ORDER BY journal_id DESC LIMIT 1)
            SELECT d.status, d.vendor, d.count, d.oldest, (SELECT sealed_at FROM seal),
                   coalesce((SELECT max(id) FROM journal), 0) - coalesce((SELECT journal_id FROM seal), 0)
            FROM (SELECT status, vendor, count(*)::bigint AS count,
                         coalesce(extract(epoch FROM now() - min(pending_since)), 0)::float8 AS oldest
                  FROM devices GROUP BY status, vendor
                  UNION ALL SELECT 'pending', NULL, 0, 0) d
            """, as: (String, String?, Int64, Double, Date?, Int64).self)
        for (status, vendor, count, oldest, sealedAt, unsealed) in rows {
            byStatus[status, default: 0] += Int(count)
            if count > 0 {
                let label = vendor.map { Vendor(rawValue: $0)?.isKnown == true ? $0 : "other" } ?? "unknown"
                byVendor[ScrapeStats.VendorStatus(vendor: label, status: status), default: 0] += Int(count)
            }
            if status == DeviceStatus.pending.rawValue { stats.oldestWaitingAge = max(stats.oldestWaitingAge, oldest) }
            stats.lastSealAt = sealedAt
            stats.unsealedRows = unsealed
        }
        stats.devicesByStatus = byStatus
        stats.devicesByVendor = byVendor
        stats.waiting = byStatus[DeviceStatus.pending.rawValue] ?? 0
        return stats
    }
}

extension Store {
    /// The newest migration applied to the database, and the newest this build has.
    public func schemaVersion() async throws(StoreError) -> (applied: Int, expected: Int) {
        let applied: Int64? = try await self.rows(
            "reading the schema version", "SELECT coalesce(max(version), -1)::bigint FROM schema_migrations",
            as: Int64.self
        ).first
        return (Int(applied ?? -1), Migration.embedded.last?.version ?? 0)
    }
}

extension Store {
    /// One tenant's devices by status; every status is present.
    public func deviceCounts(tenantID: String) async throws(StoreError) -> [DeviceStatus: Int] {
        var counts = Dictionary(uniqueKeysWithValues: DeviceStatus.allCases.map { ($0, 0) })
        for (status, count) in try await self.rows(
            "counting the devices of \(tenantID)",
            "SELECT status, count(*)::bigint FROM devices WHERE tenant_id = \(tenantID) GROUP BY status",
            as: (String, Int64).self)
        {
            if let status = DeviceStatus(rawValue: status) { counts[status] = Int(count) }
        }
        return counts
    }
}
