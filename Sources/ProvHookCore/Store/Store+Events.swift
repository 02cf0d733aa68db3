import Foundation
import Logging
import PostgresNIO
import ProvisioningModel

/// How an event ended in the database.
public enum IngestResult: Sendable, Hashable {
    /// Committed: the event, the devices' new desired states and the journal rows. `queued` says whether a device
    /// now waits for a call (false when every MAC was outside the vendor filter).
    case accepted(queued: Bool)
    /// The same event id was accepted before; nothing changed.
    case duplicate
    /// Refused for its content by the planner (journaled); nothing else changed.
    case rejected(EventRejection)
}

extension Store {
    /// Records an authenticated event in one transaction: the idempotency key, what the planner makes of the event
    /// given what the database knows, each device's new desired state and a journal row per device, or the
    /// planner's rejection and its journal row. Nothing is acknowledged unless this commits.
    ///
    /// The tenant's MAC ranges are read in the same statement as the idempotency key, so that no source of events
    /// can leave them out.
    ///
    /// `source` names the inbound source the event came from (a webhook's or a sync's), kept with the devices it
    /// registers so that a sync of that source knows them.
    public func ingest(
        _ event: DeviceEvent, tenantID: String, eventID: String, payload: [UInt8], actor: String,
        planner: EventPlanner, source: String? = nil
    ) async throws(StoreError) -> IngestResult {
        let result = try await self.ingest(
            event, tenantID: tenantID, eventID: eventID, payload: payload, actor: actor, planner: planner,
            source: source, credentialsVersion: nil)
        // Nothing is compared without a version; this is never nil.
        guard let result else { throw .conflict("the credentials of tenant \(tenantID) changed") }
        return result
    }

    /// `ingest` for an event authenticated with tenant credentials the caller cached (`TenantCredentials.version`):
    /// it is recorded only if they are still the tenant's. Nil when they changed since (a rotated secret, a removed
    /// tenant), having written nothing: authenticate the request again with the credentials as they are now.
    public func ingest(
        _ event: DeviceEvent, tenantID: String, eventID: String, payload: [UInt8], actor: String,
        planner: EventPlanner, cachedCredentials version: Int64
    ) async throws(StoreError) -> IngestResult? {
        try await self.ingest(
            event, tenantID: tenantID, eventID: eventID, payload: payload, actor: actor, planner: planner,
            source: nil, credentialsVersion: version)
    }

    /// `ingest` for a source's event, authenticated with the source's credentials of `version`
    /// (`SourceCredentials.version`): it is recorded only if they are still the source's. Nil when they changed since
    /// (a rotated token, a removed source), having written nothing: authenticate the request again.
    public func ingest(
        _ event: DeviceEvent, tenantID: String, eventID: String, payload: [UInt8], actor: String,
        planner: EventPlanner, source: String, sourceCredentials version: Int64
    ) async throws(StoreError) -> IngestResult? {
        try await self.ingest(
            event, tenantID: tenantID, eventID: eventID, payload: payload, actor: actor, planner: planner,
            source: source, credentialsVersion: nil, sourceVersion: version)
    }

    /// `fastPath: false` goes straight to the full transaction: for an event the one call already sent there.
    func ingest(
        _ event: DeviceEvent, tenantID: String, eventID: String, payload: [UInt8], actor: String,
        planner: EventPlanner, source: String?, credentialsVersion: Int64?, sourceVersion: Int64? = nil,
        fastPath: Bool = true
    ) async throws(StoreError) -> IngestResult? {
        let payloadText = String(decoding: payload, as: UTF8.self)
        var attempt = 1
        while true {
            do {
                if fastPath, let change = planner.singleChange(event),
                    let result = try await self.ingestInOneCall(
                        change, type: event.type, tenantID: tenantID, eventID: eventID, payloadText: payloadText,
                        actor: actor, source: source, credentialsVersion: credentialsVersion,
                        sourceVersion: sourceVersion)
                {
                    return result
                }
                return try await self.rawTransaction("recording the event") { connection -> IngestResult? in
                    if let credentialsVersion,
                        try await connection.rows(
                            """
                            SELECT 1 FROM tenants
                            WHERE id = \(tenantID) AND removed_at IS NULL AND credentials_version = \(credentialsVersion)
                            """, as: Int32.self, logger: self.logger
                        ).isEmpty
                    {
                        return nil
                    }
                    if let source, let sourceVersion,
                        try await !Self.sourceCredentialsAreCurrent(
                            source, version: sourceVersion, on: connection, logger: self.logger)
                    {
                        return nil
                    }
                    return try await Self.record(
                        event, tenantID: tenantID, eventID: eventID, payloadText: payloadText, actor: actor,
                        planner: planner, source: source, on: connection, logger: self.logger)
                }
            } catch  where attempt < Self.ingestAttempts && Self.isConcurrencyConflict(error) {
                attempt += 1
                self.logger.debug(
                    "event collided with a concurrent one; recording it again", metadata: ["attempt": "\(attempt)"])
            } catch {
                // A value the database refuses is the event's fault, and the sender must not retry it forever.
                guard let rejection = Self.rejection(for: DatabaseError("recording the event", error)) else {
                    throw StoreError.from("recording the event", error)
                }
                try await self.appendJournal([
                    .eventRejected(
                        rejection, type: event.type, mac: event.primaryMAC, tenantID: tenantID, actor: actor,
                        eventID: eventID)
                ])
                return .rejected(rejection)
            }
        }
    }

    /// Records an event of one change with the events that arrive together with it, in one round trip and one
    /// COMMIT (`GroupCommit`, `record_events` in sql/). Nil when the event must be recorded by the full transaction,
    /// having written nothing: the database answers that it needs it, or the event collided with a concurrent one,
    /// or the database refused it (the full transaction then explains the refusal). `.some(nil)` when the cached
    /// credentials of `credentialsVersion` are no longer the tenant's, having written nothing.
    ///
    /// The procedure commits before it answers. A plain `SELECT ingest_event(…)` would not do: PostgreSQL commits
    /// a statement sent outside a transaction only at the protocol's Sync, after the rows have gone out, and
    /// PostgresNIO returns the rows as they arrive, so an event could be acknowledged and then lost to a server that
    /// stops in between (the faults' db-restart scenario caught this).
    private func ingestInOneCall(
        _ change: DeviceChange, type: DeviceEventType, tenantID: String, eventID: String, payloadText: String,
        actor: String, source: String?, credentialsVersion: Int64?, sourceVersion: Int64?
    ) async throws -> IngestResult?? {
        let arguments = Self.oneCallArguments(
            change, type: type, tenantID: tenantID, eventID: eventID, payloadText: payloadText, actor: actor,
            source: source, credentialsVersion: credentialsVersion, sourceVersion: sourceVersion)
        let outcome = try await self.groupCommit.record(arguments, store: self)
        if let recorded = outcome.recorded(change) { return recorded }
        return outcome == .stale ? .some(nil) : nil
    }

    /// The JSON text of `ingest_event`'s arguments for one change, named as `record_events` reads them.
    static func oneCallArguments(
        _ change: DeviceChange, type: DeviceEventType, tenantID: String, eventID: String, payloadText: String,
        actor: String, source: String?, credentialsVersion: Int64? = nil, sourceVersion: Int64? = nil
    ) -> String {
        // The journal row as the full path writes it; the statement adds what the database decides (the generation,
        // URL, vendor, account, and whether the device is skipped).
        let entry = JournalEntry.eventAccepted(
            change, type: type, written: nil, tenantID: tenantID, actor: actor, eventID: eventID)
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        var arguments: [String: JSONValue] = [
            "tenant": .string(tenantID), "event": .string(eventID), "type": .string(type.rawValue),
            "payload": .string(payloadText), "mac": .string(change.mac.canonical),
            "desired": .string(change.desired.rawValue), "device_id": text(change.deviceID),
            "extension": text(change.extensionNumber), "model": text(change.model),
            "brand_vendor": text(change.brandVendor?.rawValue), "prefix_vendor": text(change.prefixVendor?.rawValue),
            "serial": text(change.serial),
            "skipped": .bool(change.isSkipped), "source": text(source), "actor": .string(actor),
            "action": .string(entry.action), "detail": .object(entry.detail),
        ]
        // Only when given, as record_events writes a code it finds (sql/0027_gigaset_codes.sql).
        if let code = change.gigasetCode { arguments["gigaset_code"] = .string(code) }
        // So that a device no account serves wakes no delivery worker (sql/0029_skipped_answer.sql).
        arguments["answer_skipped"] = .bool(true)
        if let credentialsVersion { arguments["credentials"] = .string(String(credentialsVersion)) }
        if let sourceVersion { arguments["source_credentials"] = .string(String(sourceVersion)) }
        return JSONValue.encodeObject(arguments)
    }

    /// The rejection for a database refusal that the event's own content caused: data PostgreSQL cannot store (such
    /// as \u0000 in JSON), or a constraint the planner does not check. A constraint is named, its row never shown.
    static func rejection(for failure: DatabaseError) -> EventRejection? {
        switch failure.sqlState?.prefix(2) {
        case "22":
            return EventRejection(
                code: .invalidJSON, message: "the body holds a value that cannot be stored: \(failure.reason)")
        case "23":
            return EventRejection(
                code: .invalidField,
                message: "a value was refused by the database (constraint \(failure.constraint ?? "unknown"))")
        default:
            return nil
        }
    }

    /// How often one event's transaction is run when it collides with concurrent ones.
    static let ingestAttempts = 5

    /// Failures that come from concurrent events, not from this one, and go away when it is run again: a deadlock
    /// (two `device.updated` events swapping MACs lock the two devices in opposite orders), a serialization failure
    /// (which `record` also raises when a concurrent event claimed a MAC first), and a `device_id` collision should
    /// one slip past the per-id lock.
    static func isConcurrencyConflict(_ error: any Error) -> Bool {
        let failure = DatabaseError("recording the event", error)
        switch failure.sqlState {
        case "40P01", "40001": return true
        case "23505": return failure.constraint == "device_id_unique_per_tenant"
        default: return false
        }
    }

    /// One attempt at the ingest transaction, on `connection`.
    private static func record(
        _ event: DeviceEvent, tenantID: String, eventID: String, payloadText: String, actor: String,
        planner: EventPlanner, source: String?, on connection: PostgresConnection, logger: Logger
    ) async throws -> IngestResult {
        if let deviceID = event.deviceID {
            try await Self.lockDeviceID(deviceID, tenantID: tenantID, on: connection, logger: logger)
        }
        guard
            let (known, macRanges) = try await Self.insertEvent(
                event, tenantID: tenantID, eventID: eventID, payloadText: payloadText, on: connection, logger: logger)
        else { return .duplicate }

        let changes: [DeviceChange]
        switch planner.plan(event, tenantID: tenantID, known: known, ranges: macRanges) {
        case .success(let planned):
            changes = planned
        case .failure(let rejection):
            // The event row was written in this transaction only to learn whether it is a duplicate; a refused event
            // is not an accepted one, and its sender may send it again once it is fixed.
            try await connection.query(
                "DELETE FROM webhook_events WHERE tenant_id = \(tenantID) AND webhook_id = \(eventID)", logger: logger)
            try await Self.appendJournal(
                [
                    .eventRejected(
                        rejection, type: event.type, mac: event.primaryMAC, tenantID: tenantID, actor: actor,
                        eventID: eventID)
                ], on: connection, logger: logger)
            return .rejected(rejection)
        }

        var entries: [JournalEntry] = []
        var queued = false
        for change in changes {
            guard
                let written = try await Self.setDesired(
                    change, tenantID: tenantID, source: source, on: connection, logger: logger)
            else {
                // A concurrent event gave the MAC to another tenant after it was read: run again, and the planner
                // sees who holds it now.
                throw DatabaseError(
                    context: "recording the event", reason: "MAC \(change.mac) was claimed by a concurrent event",
                    sqlState: "40001")
            }
            entries.append(
                .eventAccepted(
                    change, type: event.type, written: written, tenantID: tenantID, actor: actor, eventID: eventID))
            queued = queued || written.status != .skipped
        }
        try await Self.appendJournal(entries, on: connection, logger: logger)
        return .accepted(queued: queued)
    }

    /// Inserts the event's idempotency key and reads, in the same statement, what the planner needs to know: the
    /// devices the event names and the tenant's MAC ranges. Returns nil when the event id was recorded before.
    private static func insertEvent(
        _ event: DeviceEvent, tenantID: String, eventID: String, payloadText: String, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> (KnownDevices, MACRanges?)? {
        let macs = event.namedMACs.map(\.canonical)
        let rows = try await connection.rows(
            """
            WITH inserted AS (
                INSERT INTO webhook_events (tenant_id, webhook_id, type, payload)
                VALUES (\(tenantID), \(eventID), \(event.type.rawValue), \(payloadText)::jsonb)
                ON CONFLICT (tenant_id, webhook_id) DO NOTHING
                RETURNING 1
            )
            SELECT 'inserted'::text, NULL::text FROM inserted
            UNION ALL
            SELECT 'held', mac FROM devices
            WHERE mac = ANY(\(macs)::text[]) AND mac_held_by_another(tenant_id, desired, \(tenantID))
            UNION ALL
            SELECT 'device_id', mac FROM devices
            WHERE tenant_id = \(tenantID) AND device_id = \(event.deviceID)
            UNION ALL
            SELECT 'ranges', array_to_string(mac_prefixes, ',') FROM tenants
            WHERE id = \(tenantID) AND mac_prefixes IS NOT NULL
            """, as: (String, String?).self, logger: logger)
        guard rows.contains(where: { $0.0 == "inserted" }) else { return nil }
        var known = KnownDevices()
        var ranges: MACRanges?
        for (kind, value) in rows {
            if kind == "ranges", let prefixes = value {
                ranges = try? MACRanges(prefixes.split(separator: ",").map(String.init))
                continue
            }
            guard let mac = value.flatMap(MACAddress.init) else { continue }
            if kind == "held" { known.heldByAnother.insert(mac) }
            if kind == "device_id" { known.macOfDeviceID = mac }
        }
        return (known, ranges)
    }

    /// Journals an authenticated event refused for its content before it could be planned (it did not parse).
    /// With `cachedCredentials` (the version of the cached credentials that authenticated it), or `source` (a
    /// source's name and credentials version), nothing is journaled and false is returned once they are no longer
    /// current: the request must be authenticated again.
    @discardableResult
    public func journalRejection(
        _ rejection: EventRejection, type: DeviceEventType?, mac: MACAddress?, tenantID: String?, eventID: String?,
        actor: String, cachedCredentials: Int64? = nil, source: (name: String, version: Int64)? = nil
    ) async throws(StoreError) -> Bool {
        let entry = JournalEntry.eventRejected(
            rejection, type: type, mac: mac, tenantID: tenantID, actor: actor, eventID: eventID)
        let logger = self.logger
        if let source {
            return try await self.transaction("journaling a rejected event") { connection in
                guard
                    try await Self.sourceCredentialsAreCurrent(
                        source.name, version: source.version, on: connection, logger: logger)
                else { return false }
                try await Self.appendJournal([entry], on: connection, logger: logger)
                return true
            }
        }
        guard let version = cachedCredentials, let tenantID else {
            try await self.appendJournal([entry])
            return true
        }
        // A request authenticated with cached credentials is journaled only while they are still the tenant's, as its
        // event would be recorded; the row is locked so that a rotation commits after this, not between.
        return try await self.transaction("journaling a rejected event") { connection in
            let current = try await connection.rows(
                """
                SELECT 1 FROM tenants
                WHERE id = \(tenantID) AND credentials_version = \(version) AND removed_at IS NULL FOR SHARE
                """, as: Int.self, logger: logger)
            guard !current.isEmpty else { return false }
            try await Self.appendJournal([entry], on: connection, logger: logger)
            return true
        }
    }
}

extension Store {
    /// Deletes the idempotency keys of events received before `cutoff`; returns how many. A PBX's redelivery older
    /// than the retention is no longer recognised as a duplicate. The journal keeps the audit trail.
    @discardableResult
    public func pruneEvents(receivedBefore cutoff: Date) async throws(StoreError) -> Int {
        try await self.rows(
            "pruning old webhook events",
            """
            WITH pruned AS (DELETE FROM webhook_events WHERE received_at < \(cutoff) RETURNING 1)
            SELECT count(*)::bigint FROM pruned
            """, as: Int64.self
        ).first.map(Int.init) ?? 0
    }
}
