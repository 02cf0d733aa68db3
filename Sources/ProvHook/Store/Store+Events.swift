import Foundation
import Logging
import PostgresNIO
import SnomRedirect

/// How a webhook ended in the database.
public enum IngestResult: Sendable, Hashable {
    /// Committed: the event, the devices' new desired states and the journal rows. `queued` says whether a device
    /// now waits for a call (false when every MAC was outside the vendor filter).
    case accepted(queued: Bool)
    /// The same webhook-id was accepted before; nothing changed.
    case duplicate
    /// Refused for its content (journaled); nothing else changed.
    case rejected(WebhookEventError)
}

/// Which MACs provhook may send: Snom and Snom-based ranges by default.
public struct VendorFilter: Sendable, Hashable {
    /// Snom (000413, 00087B) and Gigaset IP PRO (589EC6, 00ACDC).
    public static let defaultPrefixes: Set<String> = ["000413", "00087B", "589EC6", "00ACDC"]

    public var prefixes: Set<String>

    public init(prefixes: Set<String> = Self.defaultPrefixes) {
        self.prefixes = Set(prefixes.map { $0.uppercased() })
    }

    /// Parses a comma-separated list of six-hex-digit prefixes.
    public init(parsing text: String) throws(ConfigurationError) {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() }
        guard !items.isEmpty, items.allSatisfy({ $0.count == 6 && $0.allSatisfy(\.isHexDigit) }) else {
            throw .invalid(variable: "PROVHOOK_VENDOR_PREFIXES", reason: "must be comma-separated 6-hex-digit prefixes like 000413,00087B")
        }
        self.prefixes = Set(items)
    }

    public func allows(_ mac: MACAddress) -> Bool { self.prefixes.contains(mac.oui) }
}

extension Store {
    /// Records an authenticated webhook in one transaction: the idempotency key, each device's new desired state
    /// and a journal row per device. Nothing is acknowledged unless this commits.
    public func ingest(
        _ event: WebhookEvent, tenantID: String, webhookID: String, payload: [UInt8], actor: String, vendors: VendorFilter
    ) async throws(StoreError) -> IngestResult {
        let logger = self.logger
        let payloadText = String(decoding: payload, as: UTF8.self)
        var attempt = 1
        while true {
            do {
                return try await self.recordEvent(event, tenantID: tenantID, webhookID: webhookID, payloadText: payloadText, actor: actor, vendors: vendors)
            } catch where attempt < Self.ingestAttempts && Self.isConcurrencyConflict(error) {
                attempt += 1
                logger.debug("webhook collided with a concurrent one; recording it again", metadata: ["attempt": "\(attempt)"])
            } catch {
                return try await self.rejectOrThrow(error, event: event, tenantID: tenantID, webhookID: webhookID, actor: actor)
            }
        }
    }

    /// How often one webhook's transaction is run when it collides with concurrent ones.
    static let ingestAttempts = 5

    /// Failures that come from concurrent webhooks, not from this one, and go away when it is run again: a deadlock
    /// (two `device.updated` events swapping MACs lock the two devices in opposite orders), a serialization failure,
    /// and a `device_id` collision should one slip past the per-id lock in `setDesired`.
    static func isConcurrencyConflict(_ error: any Error) -> Bool {
        let failure = DatabaseError("recording the webhook", error)
        switch failure.sqlState {
        case "40P01", "40001": return true
        case "23505": return failure.constraint == "device_id_unique_per_tenant"
        default: return false
        }
    }

    /// One attempt at the ingest transaction; the database's errors are thrown as they are.
    private func recordEvent(
        _ event: WebhookEvent, tenantID: String, webhookID: String, payloadText: String, actor: String, vendors: VendorFilter
    ) async throws -> IngestResult {
        let logger = self.logger
        // nil: a duplicate; else whether a device now waits for a call.
        let queued = try await self.rawTransaction("recording the webhook") { connection -> Bool? in
            let inserted = try await connection.rows(
                """
                INSERT INTO webhook_events (tenant_id, webhook_id, type, payload)
                VALUES (\(tenantID), \(webhookID), \(event.type), \(payloadText)::jsonb)
                ON CONFLICT (tenant_id, webhook_id) DO NOTHING
                RETURNING 1
                """, as: Int32.self, logger: logger)
            guard !inserted.isEmpty else { return nil }
            var entries: [JournalEntry] = []
            var queued = false
            for change in try await Self.changes(for: event, tenantID: tenantID, vendors: vendors, on: connection, logger: logger) {
                guard let (generation, url) = try await Self.setDesired(change, tenantID: tenantID, on: connection, logger: logger) else {
                    throw WebhookEventError(code: "mac_in_use", message: "MAC \(change.mac) belongs to another tenant")
                }
                queued = queued || !change.isSkipped
                var detail: [String: JSONValue] = [
                    "type": .string(event.type), "desired": .string(change.desired.rawValue),
                    "generation": .number(Double(generation)),
                ]
                if let url, change.desired == .registered { detail["url"] = .string(url) }
                if let deviceID = change.deviceID { detail["device_id"] = .string(deviceID) }
                if let number = change.extensionNumber { detail["extension"] = .string(number) }
                if let model = change.model { detail["model"] = .string(model) }
                if change.isSkipped { detail["reason"] = "MAC outside the vendor-prefix filter" }
                entries.append(JournalEntry(
                    tenantID: tenantID, mac: change.mac.canonical, actor: actor, action: "event.\(event.type)",
                    outcome: change.isSkipped ? "skipped" : "accepted", eventID: webhookID, detail: detail))
            }
            try await Self.appendJournal(entries, on: connection, logger: logger)
            return queued
        }
        return queued.map { .accepted(queued: $0) } ?? .duplicate
    }

    /// A webhook whose transaction failed: journaled and answered as rejected when its content is at fault,
    /// otherwise the failure is thrown (the listener answers 503 and the PBX retries).
    private func rejectOrThrow(
        _ error: any Error, event: WebhookEvent, tenantID: String, webhookID: String, actor: String
    ) async throws(StoreError) -> IngestResult {
        var rejection = ((error as? PostgresTransactionError)?.closureError ?? error) as? WebhookEventError
        let failure = DatabaseError("recording the webhook", error)
        if rejection == nil, failure.sqlState?.hasPrefix("22") == true {
            // Valid JSON that PostgreSQL cannot store, such as \u0000: the PBX must not retry it forever.
            rejection = WebhookEventError(code: "invalid_json", message: "the body holds a value that cannot be stored: \(failure.reason)")
        }
        guard let rejection else { throw StoreError.from("recording the webhook", error) }
        try await self.journalRejection(rejection, type: event.type, mac: Self.primaryMAC(event), tenantID: tenantID, webhookID: webhookID, actor: actor)
        return .rejected(rejection)
    }

    /// Journals an authenticated webhook refused for its content.
    public func journalRejection(
        _ rejection: WebhookEventError, type: String?, mac: MACAddress?, tenantID: String, webhookID: String?, actor: String
    ) async throws(StoreError) {
        var detail: [String: JSONValue] = ["code": .string(rejection.code), "message": .string(rejection.message)]
        if let type { detail["type"] = .string(type) }
        try await self.appendJournal([
            JournalEntry(
                tenantID: tenantID, mac: mac?.canonical, actor: actor, action: "event.rejected", outcome: "rejected",
                eventID: webhookID, detail: detail)
        ])
    }

    private static func primaryMAC(_ event: WebhookEvent) -> MACAddress? {
        switch event {
        case .added(let mac, _, _, _), .updated(let mac, _, _, _, _): mac
        case .removed(let mac, _): mac
        }
    }

    /// The device changes an event asks for.
    private static func changes(
        for event: WebhookEvent, tenantID: String, vendors: VendorFilter, on connection: PostgresConnection, logger: Logger
    ) async throws -> [DeviceChange] {
        switch event {
        case .added(let mac, let deviceID, let extensionNumber, let model):
            return [DeviceChange(
                mac: mac, desired: .registered, deviceID: deviceID, extensionNumber: extensionNumber, model: model,
                isSkipped: !vendors.allows(mac))]
        case .updated(let mac, let previousMAC, let deviceID, let extensionNumber, let model):
            var old = previousMAC
            if old == nil, let deviceID, let known = try await Self.mac(deviceID: deviceID, tenantID: tenantID, on: connection, logger: logger) {
                old = MACAddress(known)
            }
            var changes: [DeviceChange] = []
            if let old, old != mac {
                changes.append(DeviceChange(mac: old, desired: .deregistered, isSkipped: !vendors.allows(old)))
            }
            changes.append(DeviceChange(
                mac: mac, desired: .registered, deviceID: deviceID, extensionNumber: extensionNumber, model: model,
                isSkipped: !vendors.allows(mac)))
            return changes
        case .removed(let mac, let deviceID):
            var target = mac
            if target == nil, let deviceID {
                guard let known = try await Self.mac(deviceID: deviceID, tenantID: tenantID, on: connection, logger: logger) else {
                    throw WebhookEventError(code: "unknown_device", message: "no device with device_id \(String(deviceID.prefix(64)).debugDescription)")
                }
                target = MACAddress(known)
            }
            guard let target else { throw WebhookEventError(code: "missing_mac", message: "device.removed needs \"mac\" or \"device_id\"") }
            return [DeviceChange(mac: target, desired: .deregistered, isSkipped: !vendors.allows(target))]
        }
    }
}
