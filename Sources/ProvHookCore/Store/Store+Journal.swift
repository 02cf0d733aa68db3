import Foundation
import Logging
import PostgresNIO

/// Filters for reading the journal; nil means "any".
public struct JournalFilter: Sendable, Hashable {
    public var tenantID: String?
    public var mac: String?
    public var since: Date?
    public var until: Date?
    public var action: String?
    /// Rows after this id (for paging forward).
    public var afterID: Int64?
    public var limit: Int

    public init(
        tenantID: String? = nil, mac: String? = nil, since: Date? = nil, until: Date? = nil, action: String? = nil,
        afterID: Int64? = nil, limit: Int = 100
    ) {
        self.tenantID = tenantID
        self.mac = mac
        self.since = since
        self.until = until
        self.action = action
        self.afterID = afterID
        self.limit = limit
    }
}

extension Store {
    /// Appends journal rows on `connection`, in the caller's transaction, in one statement.
    static func appendJournal(_ entries: [JournalEntry], on connection: PostgresConnection, logger: Logger) async throws
    {
        guard !entries.isEmpty else { return }
        // PostgresNIO binds no arrays of optionals: nil travels as '' and NULLIF restores it (no column takes '').
        let tenants = entries.map { $0.tenantID ?? "" }
        let macs = entries.map { $0.mac ?? "" }
        let actors = entries.map(\.actor)
        let actions = entries.map(\.action)
        let outcomes = entries.map(\.outcome)
        let events = entries.map { $0.eventID ?? "" }
        let details = entries.map { JSONValue.encodeObject($0.detail) }
        try await connection.query(
            """
            INSERT INTO journal (tenant_id, mac, actor, action, outcome, event_id, detail)
            SELECT NULLIF(t, ''), NULLIF(m, ''), a, ac, o, NULLIF(e, ''), d::jsonb
            FROM unnest(\(tenants)::text[], \(macs)::text[], \(actors)::text[], \(actions)::text[],
                        \(outcomes)::text[], \(events)::text[], \(details)::text[]) AS j(t, m, a, ac, o, e, d)
            """, logger: logger)
    }

    /// Appends journal rows in their own transaction.
    public func appendJournal(_ entries: [JournalEntry]) async throws(StoreError) {
        let logger = self.logger
        try await self.transaction("writing the journal") { connection in
            try await Self.appendJournal(entries, on: connection, logger: logger)
        }
    }

    /// Reads journal rows matching `filter`: the newest `limit` rows, oldest first
    /// (or, with `afterID`, the `limit` rows that follow it).
    public func journal(_ filter: JournalFilter) async throws(StoreError) -> [JournalEntry] {
        let limit = max(1, min(filter.limit, 10_000))
        let forward = filter.afterID != nil
        let rows = try await self.rows(
            "reading the journal",
            """
            SELECT id, at, tenant_id, mac, actor, action, outcome, event_id, detail::text
            FROM journal
            WHERE (\(filter.tenantID)::text IS NULL OR tenant_id = \(filter.tenantID))
              AND (\(filter.mac)::text IS NULL OR mac = \(filter.mac))
              AND (\(filter.since)::timestamptz IS NULL OR at >= \(filter.since))
              AND (\(filter.until)::timestamptz IS NULL OR at < \(filter.until))
              AND (\(filter.action)::text IS NULL OR action = \(filter.action))
              AND (\(filter.afterID)::bigint IS NULL OR id > \(filter.afterID))
            ORDER BY CASE WHEN \(forward) THEN id END ASC, id DESC
            LIMIT \(limit)
            """,
            as: JournalRow.self)
        let entries = rows.map(makeJournalEntry)
        return forward ? entries : entries.reversed()
    }
}

/// A journal row as read back: `id, at, tenant_id, mac, actor, action, outcome, event_id, detail::text`.
typealias JournalRow = (Int64, Date, String?, String?, String, String, String, String?, String)

func makeJournalEntry(_ row: JournalRow) -> JournalEntry {
    JournalEntry(
        stored: row.0, at: row.1, tenantID: row.2, mac: row.3, actor: row.4, action: row.5, outcome: row.6,
        eventID: row.7, detail: (try? JSONDecoder().decode([String: JSONValue].self, from: Data(row.8.utf8))) ?? [:])
}
