import Foundation

/// One row of the append-only journal.
public struct JournalEntry: Sendable, Hashable, Codable {
    /// Set by the database.
    public var id: Int64?
    /// Set by the database when nil.
    public var at: Date?
    public var tenantID: String?
    public var mac: String?
    /// Who caused it, a `JournalActor`'s text: `webhook:<address>`, `cli:<user>`, `worker:<instance>`, …
    public var actor: String
    /// What happened, as stored: a `JournalAction`'s text, such as `event.device.added` or `redirect.registerPhone`.
    public var action: String
    /// How it ended, as stored: a `JournalOutcome`'s text, such as `accepted`, `ok` or `retry`.
    public var outcome: String
    /// The webhook-id, for rows caused by a webhook.
    public var eventID: String?
    /// Structured detail, as a JSON object. Never a secret.
    public var detail: [String: JSONValue]

    /// A row to append. Its action and outcome come from the journal's vocabulary; the builders in
    /// `JournalEntry+Rows.swift` make each kind of row.
    public init(
        tenantID: String?, mac: String?, actor: String, action: JournalAction, outcome: JournalOutcome,
        eventID: String? = nil, detail: [String: JSONValue] = [:]
    ) {
        self.init(
            stored: nil, at: nil, tenantID: tenantID, mac: mac, actor: actor, action: action.rawValue,
            outcome: outcome.rawValue, eventID: eventID, detail: detail)
    }

    /// A row as read back from the table, whatever text it holds.
    init(
        stored id: Int64?, at: Date?, tenantID: String?, mac: String?, actor: String, action: String, outcome: String,
        eventID: String?, detail: [String: JSONValue]
    ) {
        self.id = id
        self.at = at
        self.tenantID = tenantID
        self.mac = mac
        self.actor = actor
        self.action = action
        self.outcome = outcome
        self.eventID = eventID
        self.detail = detail
    }

    /// Sets the outcome while a row is being built.
    public mutating func set(_ outcome: JournalOutcome) { self.outcome = outcome.rawValue }

    enum CodingKeys: String, CodingKey {
        case id, at, mac, actor, action, outcome, detail
        case tenantID = "tenant_id"
        case eventID = "event_id"
    }
}
