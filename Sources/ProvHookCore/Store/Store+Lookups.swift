import Foundation
import Logging
import PostgresNIO

private let lookupColumns =
    "id, source, tenant_id, event_id, type, device_id, account_id, actor, attempts, received_at, merged_event_ids"
/// The same columns, of `source_lookups l` (a claim joins the table to itself).
private let claimedLookupColumns =
    "l.id, l.source, l.tenant_id, l.event_id, l.type, l.device_id, l.account_id, l.actor, l.attempts, l.received_at, "
    + "l.merged_event_ids"
private typealias LookupRow = (Int64, String, String, String, String, String, String?, String, Int32, Date, [String])

private func makeLookup(_ row: LookupRow) -> PendingLookup {
    PendingLookup(
        id: row.0, source: row.1, tenantID: row.2, eventID: row.3, type: DeviceEventType(rawValue: row.4) ?? .added,
        deviceID: row.5, accountID: row.6, actor: row.7, attempts: Int(row.8), receivedAt: row.9,
        mergedEventIDs: row.10)
}

extension Store {
    /// Records an event that must be looked up before it can be planned, in one transaction with its journal row.
    ///
    /// When the same device of the same source already has a lookup waiting (not in flight), the event is merged
    /// into it and journaled as `merged`: it makes no call of its own, since the waiting lookup reads the device as
    /// the PBX has it then, which is what this event would have read (Wazo gives each resend a new random id, so
    /// resends used to queue a call each). A lookup in flight may have read the device before the change this event
    /// reports, so an event for such a device queues a lookup of its own, into which later ones merge.
    /// Otherwise the event is queued and journaled as `lookup_pending`.
    ///
    /// - Returns: `.accepted(queued: true)` when queued, `.accepted(queued: false)` when merged, `.duplicate` when
    ///   its event id was recorded before (as an event, a lookup, or an event merged into one); nil, having written
    ///   nothing, when `version` (the source's credentials version that authenticated the event) is no longer the
    ///   source's.
    public func queueLookup(
        _ lookup: PendingLookup, sourceCredentials version: Int64? = nil
    ) async throws(StoreError) -> IngestResult? {
        let logger = self.logger
        return try await self.transaction("recording an event for lookup") { connection -> IngestResult? in
            if let version,
                try await !Self.sourceCredentialsAreCurrent(
                    lookup.source, version: version, on: connection, logger: logger)
            {
                return nil
            }
            // In a statement of its own, so that the statements after it see what the previous holder committed.
            try await connection.query(
                """
                SELECT pg_advisory_xact_lock(\(AdvisoryLock.lookupDeviceClass),
                    hashtext(\(lookup.source) || '/' || \(lookup.tenantID) || '/' || \(lookup.deviceID)))
                """, logger: logger)
            let seen = try await connection.rows(
                """
                SELECT EXISTS (
                    SELECT 1 FROM webhook_events WHERE tenant_id = \(lookup.tenantID) AND webhook_id = \(lookup.eventID)
                ) OR EXISTS (
                    SELECT 1 FROM source_lookups
                    WHERE tenant_id = \(lookup.tenantID)
                      AND (event_id = \(lookup.eventID)
                           OR (device_id = \(lookup.deviceID) AND \(lookup.eventID) = ANY (merged_event_ids))))
                """, as: Bool.self, logger: logger)
            guard seen.first != true else { return .duplicate }
            // The newest waiting lookup of the device. The lease is checked again on the row itself, after any claim
            // that held it committed: a lookup claimed meanwhile is in flight, and takes no more events.
            let merged = try await connection.rows(
                """
                UPDATE source_lookups SET
                    merged_event_ids = CASE WHEN cardinality(merged_event_ids) < 1000
                                            THEN array_append(merged_event_ids, \(lookup.eventID)::text)
                                            ELSE merged_event_ids END,
                    account_id = coalesce(account_id, \(lookup.accountID))
                WHERE id = (
                    SELECT id FROM source_lookups
                    WHERE source = \(lookup.source) AND tenant_id = \(lookup.tenantID) AND device_id = \(lookup.deviceID)
                      AND (leased_until IS NULL OR leased_until < now())
                    ORDER BY id DESC LIMIT 1)
                  AND (leased_until IS NULL OR leased_until < now())
                RETURNING event_id
                """, as: String.self, logger: logger)
            if let pendingEventID = merged.first {
                try await Self.appendJournal(
                    [.lookupMerged(lookup, into: pendingEventID)], on: connection, logger: logger)
                return .accepted(queued: false)
            }
            let rows = try await connection.rows(
                """
                INSERT INTO source_lookups (source, tenant_id, event_id, type, device_id, account_id, actor)
                VALUES (\(lookup.source), \(lookup.tenantID), \(lookup.eventID), \(lookup.type.rawValue),
                        \(lookup.deviceID), \(lookup.accountID), \(lookup.actor))
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
    ///
    /// Fair between sources: each source's due lookups are ranked by age, and the claim takes the oldest of every
    /// source, then the second, and so on; a source never has more than `perSource` lookups in flight, counted from
    /// the leases of all processes, so that one slow PBX holds only its own share of the workers. Claims are put in
    /// line by an advisory lock, so that each sees the leases of the one before. Only a device's oldest lookup can
    /// be taken: a device's lookups are made one after the other.
    public func claimLookups(limit: Int, perSource: Int, lease: Duration) async throws(StoreError) -> [PendingLookup] {
        let leaseSeconds = Double(lease.components.seconds)
        let logger = self.logger
        return try await self.transaction("claiming lookups") { connection in
            try await connection.query(
                "SELECT pg_advisory_xact_lock(\(AdvisoryLock.lookupClaims))", logger: logger)
            return try await connection.rows(
                """
                WITH RECURSIVE waiting(source) AS (
                    (SELECT source FROM source_lookups ORDER BY source LIMIT 1)
                    UNION ALL
                    SELECT (SELECT l.source FROM source_lookups l WHERE l.source > w.source ORDER BY l.source LIMIT 1)
                    FROM waiting w WHERE w.source IS NOT NULL
                ), candidates AS MATERIALIZED (
                    SELECT c.id, c.rank
                    FROM waiting w CROSS JOIN LATERAL (
                        SELECT l.id, row_number() OVER (ORDER BY l.id) AS rank
                        FROM source_lookups l
                        WHERE l.source = w.source AND l.next_attempt_at <= now()
                          AND (l.leased_until IS NULL OR l.leased_until < now())
                          AND NOT EXISTS (
                              SELECT 1 FROM source_lookups o
                              WHERE o.tenant_id = l.tenant_id AND o.device_id = l.device_id AND o.source = l.source
                                AND o.id < l.id)
                        ORDER BY l.id
                        LIMIT greatest(0, \(perSource) - (
                            SELECT count(*) FROM source_lookups f
                            WHERE f.source = w.source AND f.leased_until IS NOT NULL AND f.leased_until >= now()))
                    ) c
                    WHERE w.source IS NOT NULL
                ), due AS (
                    SELECT l.id FROM candidates c JOIN source_lookups l ON l.id = c.id
                    WHERE l.next_attempt_at <= now() AND (l.leased_until IS NULL OR l.leased_until < now())
                    ORDER BY c.rank, c.id
                    LIMIT \(limit)
                    FOR UPDATE OF l SKIP LOCKED
                )
                UPDATE source_lookups l SET attempts = l.attempts + 1,
                    leased_until = now() + make_interval(secs => \(leaseSeconds))
                FROM due WHERE l.id = due.id
                RETURNING \(unescaped: claimedLookupColumns)
                """, as: LookupRow.self, logger: logger
            ).map(makeLookup)
        }
    }

    /// The lookup was recorded as an event (or found a duplicate): done. With `keepingMerged`, the ids of the events
    /// merged into it are recorded as seen, beside the lookup's own, so that any of them sent again is a duplicate;
    /// without (the looked-up event was rejected, and its id forgotten so that a fixed one may be sent again), they
    /// are forgotten too.
    public func completeLookup(_ lookup: PendingLookup, keepingMerged: Bool = true) async throws(StoreError) {
        _ = try await self.rows(
            "completing a lookup",
            """
            WITH done AS (
                DELETE FROM source_lookups WHERE id = \(lookup.id) RETURNING tenant_id, event_id, type, merged_event_ids
            )
            INSERT INTO webhook_events (tenant_id, webhook_id, type, payload)
            SELECT d.tenant_id, m.id, d.type, jsonb_build_object('merged_into', d.event_id)
            FROM done d CROSS JOIN LATERAL unnest(d.merged_event_ids) AS m(id)
            WHERE \(keepingMerged)
            ON CONFLICT (tenant_id, webhook_id) DO NOTHING
            RETURNING 1
            """, as: Int32.self)
    }

    /// The lookup failed for a reason that can pass. Younger than `giveUpAfter` (counted from its first event): tried
    /// again after `delay`, but no later than that age, and journaled as `retry`. As old or older: dropped, and
    /// journaled as `gave_up` with the error, so that a PBX that never answers costs a bounded number of calls.
    ///
    /// - Returns: whether the lookup was given up.
    @discardableResult
    public func retryLookup(
        _ lookup: PendingLookup, after delay: Duration, giveUpAfter: Duration, code: String, message: String,
        actor: String
    ) async throws(StoreError) -> Bool {
        let logger = self.logger
        let seconds = Double(delay.components.seconds)
        let giveUpSeconds = Double(giveUpAfter.components.seconds)
        return try await self.transaction("postponing a lookup") { connection in
            // The database's clock decides, as it set received_at.
            let dropped = try await connection.rows(
                """
                DELETE FROM source_lookups
                WHERE id = \(lookup.id) AND received_at + make_interval(secs => \(giveUpSeconds)) <= now()
                RETURNING \(unescaped: lookupColumns)
                """, as: LookupRow.self, logger: logger
            ).map(makeLookup)
            if let given = dropped.first {
                try await Self.appendJournal(
                    [.lookupOutcome(given, outcome: .gaveUp, error: (code, message), actor: actor)],
                    on: connection, logger: logger)
                return true
            }
            try await connection.query(
                """
                UPDATE source_lookups SET leased_until = NULL, last_error = \(String(message.prefix(500))),
                    next_attempt_at = least(now() + make_interval(secs => \(seconds)),
                                            received_at + make_interval(secs => \(giveUpSeconds)))
                WHERE id = \(lookup.id)
                """, logger: logger)
            try await Self.appendJournal(
                [.lookupOutcome(lookup, outcome: .retry, error: (code, message), actor: actor)], on: connection,
                logger: logger)
            return false
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

    /// How many lookups wait (in flight included), and the age of the oldest, for the metrics and the health check;
    /// those of one source with `source`.
    public func lookupBacklog(source: String? = nil) async throws(StoreError) -> (count: Int, oldest: Date?) {
        let rows = try await self.rows(
            "counting lookups",
            """
            SELECT count(*)::bigint, min(received_at) FROM source_lookups
            WHERE \(source)::text IS NULL OR source = \(source)
            """,
            as: (Int64, Date?).self)
        return (Int(rows.first?.0 ?? 0), rows.first?.1)
    }
}
