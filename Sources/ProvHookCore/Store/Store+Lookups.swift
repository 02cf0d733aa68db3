import Foundation
import Logging
import PostgresNIO

private let lookupColumns =
    "id, source, tenant_id, event_id, type, device_id, account_id, actor, attempts, received_at"
private typealias LookupRow = (Int64, String, String, String, String, String, String?, String, Int32, Date)

private func makeLookup(_ row: LookupRow) -> PendingLookup {
    PendingLookup(
        id: row.0, source: row.1, tenantID: row.2, eventID: row.3, type: DeviceEventType(rawValue: row.4) ?? .added,
        deviceID: row.5, accountID: row.6, actor: row.7, attempts: Int(row.8), receivedAt: row.9)
}

extension Store {
    /// Records an event that must be looked up before it can be planned, and journals it as `lookup_pending`, in
    /// one transaction. `.duplicate` when its event id was recorded before (as an event or a lookup).
    public func queueLookup(
        _ lookup: PendingLookup, sourceCredentials version: Int64? = nil
    ) async throws(StoreError) -> IngestResult? {
        let logger = self.logger
        return try await self.transaction("recording an event for lookup") { connection -> IngestResult? in
            // Queued only while the source's credentials that authenticated it are still current (nil: not).
            if let version,
                try await !Self.sourceCredentialsAreCurrent(
                    lookup.source, version: version, on: connection, logger: logger)
            {
                return nil
            }
            let rows = try await connection.rows(
                """
                INSERT INTO source_lookups (source, tenant_id, event_id, type, device_id, account_id, actor)
                SELECT \(lookup.source), \(lookup.tenantID), \(lookup.eventID), \(lookup.type.rawValue),
                       \(lookup.deviceID), \(lookup.accountID), \(lookup.actor)
                WHERE NOT EXISTS (
                    SELECT 1 FROM webhook_events WHERE tenant_id = \(lookup.tenantID) AND webhook_id = \(lookup.eventID))
                ON CONFLICT ON CONSTRAINT source_lookup_once DO NOTHING
                RETURNING id
                """, as: Int64.self, logger: logger)
            guard !rows.isEmpty else { return .duplicate }
            try await Self.appendJournal([.lookupPending(lookup)], on: connection, logger: logger)
            return .accepted(queued: true)
        }
    }

    /// Takes up to `limit` due lookups for `lease`, counting the attempt; another process skips them until the lease
    /// ends, so a lookup whose process died is taken again.
    public func claimLookups(limit: Int, lease: Duration) async throws(StoreError) -> [PendingLookup] {
        let leaseSeconds = Double(lease.components.seconds)
        return try await self.rows(
            "claiming lookups",
            """
            UPDATE source_lookups SET attempts = attempts + 1,
                leased_until = now() + make_interval(secs => \(leaseSeconds))
            WHERE id IN (
                SELECT id FROM source_lookups
                WHERE next_attempt_at <= now() AND (leased_until IS NULL OR leased_until < now())
                ORDER BY id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING \(unescaped: lookupColumns)
            """, as: LookupRow.self
        ).map(makeLookup).sorted { $0.id < $1.id }
    }

    /// The lookup was recorded as an event (or found a duplicate): done.
    public func completeLookup(_ lookup: PendingLookup) async throws(StoreError) {
        _ = try await self.rows(
            "completing a lookup", "DELETE FROM source_lookups WHERE id = \(lookup.id) RETURNING id", as: Int64.self)
    }

    /// The lookup failed for a reason that can pass: tried again after `delay`, journaled as `retry`.
    public func retryLookup(
        _ lookup: PendingLookup, after delay: Duration, code: String, message: String, actor: String
    ) async throws(StoreError) {
        let logger = self.logger
        let seconds = Double(delay.components.seconds)
        try await self.transaction("postponing a lookup") { connection in
            try await connection.query(
                """
                UPDATE source_lookups SET leased_until = NULL, last_error = \(String(message.prefix(500))),
                    next_attempt_at = now() + make_interval(secs => \(seconds))
                WHERE id = \(lookup.id)
                """, logger: logger)
            try await Self.appendJournal(
                [.lookupOutcome(lookup, outcome: .retry, error: (code, message), actor: actor)], on: connection,
                logger: logger)
        }
    }

    /// The PBX answered for good (no such device, or no MAC for it): the event is rejected, journaled, and dropped.
    public func rejectLookup(
        _ lookup: PendingLookup, _ rejection: EventRejection
    ) async throws(StoreError) {
        let logger = self.logger
        try await self.transaction("rejecting a lookup") { connection in
            let deleted = try await connection.rows(
                "DELETE FROM source_lookups WHERE id = \(lookup.id) RETURNING id", as: Int64.self, logger: logger)
            guard !deleted.isEmpty else { return }
            try await Self.appendJournal(
                [
                    .eventRejected(
                        rejection, type: lookup.type, mac: nil, tenantID: lookup.tenantID, actor: lookup.actor,
                        eventID: lookup.eventID)
                ], on: connection, logger: logger)
        }
    }

    /// Drops the pending lookups of a device that an event just deleted, journaling each as `superseded`: looking
    /// it up now would find it gone, or worse, find it before the PBX forgot it and register it again.
    @discardableResult
    public func supersedeLookups(tenantID: String, deviceID: String, actor: String) async throws(StoreError) -> Int {
        let logger = self.logger
        return try await self.transaction("dropping the lookups of a deleted device") { connection in
            let dropped = try await connection.rows(
                """
                DELETE FROM source_lookups WHERE tenant_id = \(tenantID) AND device_id = \(deviceID)
                RETURNING \(unescaped: lookupColumns)
                """, as: LookupRow.self, logger: logger
            ).map(makeLookup)
            try await Self.appendJournal(
                dropped.map { .lookupOutcome($0, outcome: .superseded, error: nil, actor: actor) }, on: connection,
                logger: logger)
            return dropped.count
        }
    }

    /// How many lookups wait, and the age of the oldest, for the metrics and the health check.
    public func lookupBacklog() async throws(StoreError) -> (count: Int, oldest: Date?) {
        let rows = try await self.rows(
            "counting lookups", "SELECT count(*)::bigint, min(received_at) FROM source_lookups",
            as: (Int64, Date?).self)
        return (Int(rows.first?.0 ?? 0), rows.first?.1)
    }
}
