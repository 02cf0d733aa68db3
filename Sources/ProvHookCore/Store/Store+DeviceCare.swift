import Foundation
import Logging
import PostgresNIO
import ProvisioningModel

/// Everything `device show` says about one MAC.
public struct DeviceDetail: Sendable, Codable {
    public var device: Device
    /// The tenant's name, when the device has a tenant.
    public var tenantName: String?
    /// When the current generation started waiting.
    public var pendingSince: Date
    /// Set while a worker holds the device for a call.
    public var claimedUntil: Date?
    /// The last call the service answered `Ok` for this MAC: what provhook last applied there. Nil when nothing
    /// was ever applied.
    public var lastApplied: JournalEntry?
    /// What the status means and what the operator can do; nil when there is nothing to do.
    public var advice: String?
    /// The MAC's journal rows, newest first, at most the limit asked for.
    public var history: [JournalEntry]
    /// How many journal rows the MAC has in all.
    public var historyCount: Int
    /// The PIN the phone's provisioning service keeps for it (Yealink YMCS), for the operator to type into a phone
    /// that asks; nil when provhook keeps none, or cannot open the one it keeps (then `pinUnavailable` says why).
    public var pin: String?
    /// Why a PIN provhook keeps cannot be shown: no secret key was given, or it does not open.
    public var pinUnavailable: String?

    enum CodingKeys: String, CodingKey {
        case device, advice, history, pin
        case tenantName = "tenant_name"
        case pendingSince = "pending_since"
        case claimedUntil = "claimed_until"
        case lastApplied = "last_applied"
        case historyCount = "history_count"
        case pinUnavailable = "pin_unavailable"
    }
}

/// Which devices `device retry` queues again.
public enum RetrySelection: Sendable, Hashable {
    /// These MACs, whatever their status (except skipped).
    case macs([MACAddress])
    /// Every device of a tenant that has this status (`failed` or `conflict`).
    case tenant(String, status: DeviceStatus)
}

/// What `device retry` did, or would do with `--dry-run`.
public struct RetryResult: Sendable, Codable {
    /// A device queued again (or that would be).
    public struct Queued: Sendable, Codable {
        public var mac: String
        public var tenantID: String?
        public var previousStatus: DeviceStatus
        /// The new generation; nil in a dry run.
        public var generation: Int64?
        public var lastError: String?

        enum CodingKeys: String, CodingKey {
            case mac, generation
            case tenantID = "tenant_id"
            case previousStatus = "previous_status"
            case lastError = "last_error"
        }
    }

    /// A MAC that was asked for and not queued, with the reason.
    public struct Refused: Sendable, Codable {
        public var mac: String
        public var reason: String
    }

    public var queued: [Queued]
    public var refused: [Refused]
    public var dryRun: Bool

    enum CodingKeys: String, CodingKey {
        case queued, refused
        case dryRun = "dry_run"
    }
}

extension DeviceStatus {
    /// What a device in this status means for the operator, and what to do about it; nil when nothing is to be done.
    public func advice(for device: Device) -> String? {
        switch self {
        case .conflict:
            """
            Another Snom account holds this MAC: the service answered owned_by_other_user, and it says nothing about \
            that account (getPhoneRedirection names the company only for one's own MACs). Ask whoever registered \
            the phone (its previous provider or reseller) to deregister it from their account, or ask Snom support \
            to release it; then run: provhook device retry \(device.mac). If another of provhook's own redirection \
            accounts holds it, provhook device retry --move \(device.mac) moves it from there.
            """
        case .failed:
            "The service refused the call for good, or retries reached the give-up age: "
                + (device.lastError ?? "no error recorded")
                + ". Fix the cause (a malformed URL in the tenant's template, credentials, the service being down), "
                + "then run: provhook device retry \(device.mac)"
        case .waitingForSerial:
            """
            Its account's service registers phones only with their serial numbers, and the PBX gave none. Have the \
            PBX send it (the native contract's serial, Wazo's sn, FusionPBX's serial number, a mapping's serial \
            pointer) or import it (provhook device import, a serial column): the phone is registered then, without \
            anything else. If the vendor enables MAC-only registration for the account, run \
            provhook account update \(device.account ?? "ACCOUNT") --no-serial-required.
            """
        case .waitingForCode:
            """
            Its account's service (Gigaset's) registers a phone only with the 4-character code printed on it beside \
            its MAC, and the PBX gave none. Have the PBX send it (the native contract's gigaset_code, a mapping's \
            gigaset_code pointer) or import it (provhook device import, a gigaset_code column): the phone is \
            registered then, without anything else.
            """
        case .skipped:
            switch device.skippedBecause {
            case .noAccountForVendor:
                """
                No account serves \(device.vendor?.displayName ?? "its vendor")'s phones for this tenant: add one \
                (provhook account add NAME --kind KIND --default, or tenant update TENANT --account NAME) and the \
                device is delivered then, without another webhook.
                """
            case .unknownVendor:
                """
                Neither the PBX's brand nor the MAC's prefix names a vendor. Have the PBX send the brand, or assign \
                the prefix in PROVHOOK_VENDOR_PREFIXES (VENDOR:PREFIX), and send the event again.
                """
            case .vendorNotAllowed, nil:
                "The MAC is outside PROVHOOK_VENDOR_PREFIXES: provhook records it and never calls the service for it."
            }
        case .pending, .registered, .deregistered:
            nil
        }
    }
}

extension Store {
    /// A device, its tenant, what was last applied at the service, and its journal history, newest first.
    public func deviceDetail(_ mac: MACAddress, historyLimit: Int) async throws(StoreError) -> DeviceDetail? {
        let canonical = mac.canonical
        guard
            let (pendingSince, claimedUntil, tenantName, historyCount) = try await self.rows(
                "reading device \(mac)",
                """
                SELECT d.pending_since, CASE WHEN d.claimed_until > now() THEN d.claimed_until END, t.name,
                       (SELECT count(*) FROM journal j WHERE j.mac = d.mac)
                FROM devices d LEFT JOIN tenants t ON t.id = d.tenant_id WHERE d.mac = \(canonical)
                """, as: (Date, Date?, String?, Int64).self
            ).first,
            let device = try await self.device(mac)
        else { return nil }
        let history = try await self.journal(JournalFilter(mac: canonical, limit: historyLimit))
        var detail = DeviceDetail(
            device: device, tenantName: tenantName, pendingSince: pendingSince, claimedUntil: claimedUntil,
            lastApplied: try await self.lastApplied(canonical), advice: device.status.advice(for: device),
            history: history.reversed(), historyCount: Int(historyCount))
        do throws(StoreError) {
            detail.pin = try await self.devicePIN(mac)
        } catch {
            guard case .secretKey(let reason) = error else { throw error }
            detail.pinUnavailable = reason
        }
        return detail
    }

    /// The calls that change what the service holds for a MAC.
    static let applyingMethods: [RedirectMethod] = [
        .registerPhone, .registerPhoneList, .deregisterPhone, .deregisterPhoneList,
    ]

    /// The newest journal row of a call that the service answered `Ok` for `mac` and that applied a generation
    /// (not one superseded by a newer desired state, nor one whose claim was lost).
    func lastApplied(_ mac: String) async throws(StoreError) -> JournalEntry? {
        let logger = self.logger
        do {
            return try await self.withLease("reading what was applied for \(mac)") { connection in
                try await Self.lastApplied(mac, on: connection, logger: logger)
            }
        } catch {
            throw StoreError.from("reading what was applied for \(mac)", error)
        }
    }

    /// `lastApplied(_:)` on `connection`, in the caller's transaction.
    static func lastApplied(
        _ mac: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> JournalEntry? {
        let actions = Self.applyingMethods.map(\.rawValue)
        return try await connection.rows(
            """
            SELECT id, at, tenant_id, mac, actor, action, outcome, event_id, detail::text FROM journal
            WHERE mac = \(mac) AND action = ANY(\(actions)) AND outcome = 'ok'
              AND NOT detail ? 'superseded' AND NOT detail ? 'claim_lost'
            ORDER BY id DESC LIMIT 1
            """, as: JournalRow.self, logger: logger
        ).first.map(makeJournalEntry)
    }

    /// Queues devices again at a new generation with their current desired state, one `device.retry` journal row
    /// each, in one transaction; with `dryRun`, says what it would queue and writes nothing. A skipped device or an
    /// unknown MAC is refused with the reason.
    public func retry(
        _ selection: RetrySelection, actor: String, dryRun: Bool
    ) async throws(StoreError) -> RetryResult {
        let logger = self.logger
        return try await self.transaction("queueing devices again") { connection in
            let selected: [Device]
            var refused: [RetryResult.Refused] = []
            switch selection {
            case .macs(let macs):
                let canonical = macs.map(\.canonical)
                let rows = try await connection.rows(
                    """
                    SELECT \(unescaped: deviceColumns) FROM devices WHERE mac = ANY(\(canonical)) ORDER BY mac
                    FOR UPDATE
                    """, as: DeviceRow.self, logger: logger
                ).map(makeDevice)
                let known = Set(rows.map(\.mac))
                refused = canonical.filter { !known.contains($0) }.map {
                    .init(mac: $0, reason: "provhook does not know this MAC")
                }
                refused += rows.filter { $0.status == .skipped }.map {
                    .init(mac: $0.mac, reason: "outside PROVHOOK_VENDOR_PREFIXES: nothing is ever sent for it")
                }
                selected = rows.filter { $0.status != .skipped }
            case .tenant(let tenantID, let status):
                selected = try await connection.rows(
                    """
                    SELECT \(unescaped: deviceColumns) FROM devices
                    WHERE tenant_id = \(tenantID) AND status = \(status.rawValue) ORDER BY mac FOR UPDATE
                    """, as: DeviceRow.self, logger: logger
                ).map(makeDevice)
            }
            var queued = selected.map {
                RetryResult.Queued(
                    mac: $0.mac, tenantID: $0.tenantID, previousStatus: $0.status, generation: nil,
                    lastError: $0.lastError)
            }
            guard !dryRun, !queued.isEmpty else {
                return RetryResult(queued: queued, refused: refused, dryRun: dryRun)
            }
            // The new generation is what makes the device wait again (sql/0003_device_rules.sql).
            let generations = try await connection.rows(
                """
                UPDATE devices SET generation = generation + 1 WHERE mac = ANY(\(queued.map(\.mac)))
                RETURNING mac, generation
                """, as: (String, Int64).self, logger: logger)
            let byMAC = Dictionary(generations, uniquingKeysWith: { $1 })
            for index in queued.indices { queued[index].generation = byMAC[queued[index].mac] }
            try await Self.appendJournal(
                queued.map {
                    .deviceQueued(
                        .deviceRetry, mac: $0.mac, tenantID: $0.tenantID, generation: $0.generation ?? 0,
                        actor: actor,
                        detail: [
                            "previous_status": .string($0.previousStatus.rawValue),
                            "last_error": $0.lastError.map(JSONValue.string) ?? .null,
                        ])
                }, on: connection, logger: logger)
            return RetryResult(queued: queued, refused: refused, dryRun: false)
        }
    }

    /// Deletes a device that holds nothing at the service: one that is deregistered, or that was never applied
    /// there (no call for it was ever answered `Ok`). Refused, with the reason, for any other device or while a
    /// call for it is in flight. The journal keeps its history, and a `device.forget` row.
    public func forget(_ mac: MACAddress, actor: String) async throws(StoreError) -> Device {
        let logger = self.logger
        let canonical = mac.canonical
        return try await self.transaction("forgetting \(mac)") { connection in
            let rows = try await connection.rows(
                """
                SELECT \(unescaped: deviceColumns) FROM devices WHERE mac = \(canonical) FOR UPDATE
                """, as: DeviceRow.self, logger: logger)
            guard let row = rows.first else {
                throw StoreError.notFound("provhook does not know \(canonical)")
            }
            let device = makeDevice(row)
            let inFlight = try await connection.rows(
                "SELECT claimed_until > now() FROM devices WHERE mac = \(canonical)", as: Bool?.self, logger: logger)
            if inFlight.first == true {
                throw StoreError.conflict(
                    "a call for \(canonical) is in flight; try again once it is answered (device show \(canonical))")
            }
            // Read under the row's lock: no outcome can be recorded for the device until this commits.
            let lastApplied = try await Self.lastApplied(canonical, on: connection, logger: logger)
            let deregistered = device.status == .deregistered && device.desired == .deregistered
            // A device applied and then deregistered (or never applied) holds nothing at the service.
            let neverApplied = lastApplied == nil || lastApplied?.action.hasPrefix("redirect.deregister") == true
            guard deregistered || neverApplied else {
                throw StoreError.conflict(
                    """
                    \(canonical) may be registered at the service (\(lastApplied?.action ?? "a call") answered Ok \
                    at \(lastApplied?.at?.formatted(.iso8601) ?? "?")); forget it once it is deregistered: remove it on the PBX \
                    (device.removed), then wait for device show to say deregistered
                    """)
            }
            try await connection.query("DELETE FROM devices WHERE mac = \(canonical)", logger: logger)
            try await Self.appendJournal(
                [
                    JournalEntry(
                        tenantID: device.tenantID, mac: canonical, actor: actor, action: .deviceForget, outcome: .ok,
                        detail: [
                            "status": .string(device.status.rawValue), "desired": .string(device.desired.rawValue),
                            "generation": .int(device.generation),
                        ])
                ], on: connection, logger: logger)
            return device
        }
    }
}
