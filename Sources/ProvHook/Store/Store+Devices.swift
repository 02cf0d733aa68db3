import Foundation
import Logging
import PostgresNIO
import SnomRedirect

/// A change of one device's desired state, from a webhook or an operator.
public struct DeviceChange: Sendable, Hashable {
    public var mac: MACAddress
    public var desired: DesiredState
    /// The URL to register; required when `desired` is `registered`.
    public var url: String?
    public var deviceID: String?
    public var extensionNumber: String?
    public var model: String?
    /// True when the MAC is outside the vendor-prefix filter: recorded as `skipped`, never sent.
    public var isSkipped: Bool

    public init(
        mac: MACAddress, desired: DesiredState, url: String? = nil, deviceID: String? = nil,
        extensionNumber: String? = nil, model: String? = nil, isSkipped: Bool = false
    ) {
        self.mac = mac
        self.desired = desired
        self.url = url
        self.deviceID = deviceID
        self.extensionNumber = extensionNumber
        self.model = model
        self.isSkipped = isSkipped
    }
}

/// Filters for listing devices.
public struct DeviceFilter: Sendable, Hashable {
    public var tenantID: String?
    public var status: DeviceStatus?
    public var mac: String?
    /// Devices whose MAC sorts after this one (for paging).
    public var afterMAC: String?
    public var limit: Int

    public init(tenantID: String? = nil, status: DeviceStatus? = nil, mac: String? = nil, afterMAC: String? = nil, limit: Int = 1000) {
        self.tenantID = tenantID
        self.status = status
        self.mac = mac
        self.afterMAC = afterMAC
        self.limit = limit
    }
}

typealias DeviceRow = (String, String, String?, String?, String?, String, String?, String, Int64, Int32, Date, String?, Date)

/// The columns read for a `Device`, in order (identifiers only, for `\(unescaped:)`).
let deviceColumns =
    "mac, tenant_id, device_id, extension, model, desired, url, status, generation, attempts, next_attempt_at, last_error, updated_at"

func makeDevice(_ row: DeviceRow) -> Device {
    Device(
        mac: row.0, tenantID: row.1, deviceID: row.2, extensionNumber: row.3, model: row.4,
        desired: DesiredState(rawValue: row.5) ?? .deregistered, url: row.6, status: DeviceStatus(rawValue: row.7) ?? .pending,
        generation: row.8, attempts: Int(row.9), nextAttemptAt: row.10, lastError: row.11, updatedAt: row.12)
}

extension Store {
    /// The PostgreSQL channel on which workers are woken when work is queued.
    static let wakeChannel = "provhook_work"

    /// Wakes every worker listening on any connection, when the caller's transaction commits.
    static func notifyWorkers(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT pg_notify(\(Self.wakeChannel), '')", logger: logger)
    }

    /// Sets a device's desired state and bumps its generation, in the caller's transaction.
    ///
    /// For a registration without an explicit URL, the URL is rendered from the tenant's template in the same
    /// statement, so that it is never older than a concurrent template change (which locks `devices`).
    /// Returns the new generation and URL, or nil when the MAC is held by another tenant and still wanted there.
    static func setDesired(
        _ change: DeviceChange, tenantID: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> (generation: Int64, url: String?)? {
        let mac = change.mac.canonical
        if let deviceID = change.deviceID {
            // device_id is unique per tenant: the id moves to this MAC. Webhooks moving one id at the same moment
            // would all pass this UPDATE before any commits, and all but one would then violate
            // device_id_unique_per_tenant. A transaction-scoped lock on (tenant, id) puts them in line; it is taken in a
            // statement of its own, so that the UPDATE's snapshot sees what the previous holder committed.
            try await connection.query(
                "SELECT pg_advisory_xact_lock(\(Self.deviceIDLockClass), hashtext(\(tenantID) || '/' || \(deviceID)))",
                logger: logger)
            try await connection.query(
                "UPDATE devices SET device_id = NULL WHERE tenant_id = \(tenantID) AND device_id = \(deviceID) AND mac <> \(mac)",
                logger: logger)
        }
        let status = change.isSkipped ? DeviceStatus.skipped.rawValue : DeviceStatus.pending.rawValue
        let rows = try await connection.rows(
            """
            WITH upserted AS (
                INSERT INTO devices AS d (mac, tenant_id, device_id, extension, model, desired, url, status)
                VALUES (\(mac), \(tenantID), \(change.deviceID), \(change.extensionNumber), \(change.model),
                        \(change.desired.rawValue),
                        CASE WHEN \(change.desired.rawValue) = 'registered' THEN COALESCE(\(change.url),
                            (SELECT replace(url_template, '<mac>', \(mac)) FROM tenants WHERE id = \(tenantID))) END,
                        \(status))
                ON CONFLICT (mac) DO UPDATE SET
                    tenant_id = EXCLUDED.tenant_id,
                    device_id = COALESCE(EXCLUDED.device_id, CASE WHEN d.tenant_id = EXCLUDED.tenant_id THEN d.device_id END),
                    extension = COALESCE(EXCLUDED.extension, CASE WHEN d.tenant_id = EXCLUDED.tenant_id THEN d.extension END),
                    model = COALESCE(EXCLUDED.model, d.model),
                    desired = EXCLUDED.desired,
                    url = COALESCE(EXCLUDED.url, d.url),
                    status = EXCLUDED.status,
                    generation = d.generation + 1,
                    attempts = 0, next_attempt_at = now(), pending_since = now(), last_error = NULL, updated_at = now()
                WHERE d.tenant_id = EXCLUDED.tenant_id OR d.desired = 'deregistered'
                RETURNING generation, url
            )
            SELECT generation, url, CASE WHEN \(status) = 'pending' THEN pg_notify(\(Self.wakeChannel), '')::text END FROM upserted
            """, as: (Int64, String?, String?).self, logger: logger)
        return rows.first.map { ($0.0, $0.1) }
    }

    /// The first key of the two-key advisory locks that serialise changes to one `device_id` (the second is a hash
    /// of the tenant and the id). Two-key locks never collide with the one-key locks of the migrator and the sealer.
    static let deviceIDLockClass: Int32 = 0x5048_4B31  // "PHK1"

    /// The MAC of a tenant's device by its PBX id.
    static func mac(deviceID: String, tenantID: String, on connection: PostgresConnection, logger: Logger) async throws
        -> String?
    {
        try await connection.rows(
            "SELECT mac FROM devices WHERE tenant_id = \(tenantID) AND device_id = \(deviceID)", as: String.self,
            logger: logger
        ).first
    }

    /// Sets a device's desired state in its own transaction, with a journal row; used by operators and tests.
    public func setDesired(_ change: DeviceChange, tenantID: String, actor: String) async throws(StoreError) -> Int64 {
        let logger = self.logger
        return try await self.transaction("changing device \(change.mac)") { connection in
            guard let (generation, url) = try await Self.setDesired(change, tenantID: tenantID, on: connection, logger: logger) else {
                throw StoreError.conflict("MAC \(change.mac) belongs to another tenant")
            }
            try await Self.appendJournal(
                [JournalEntry(
                    tenantID: tenantID, mac: change.mac.canonical, actor: actor, action: "device.\(change.desired == .registered ? "register" : "deregister")",
                    outcome: change.isSkipped ? "skipped" : "queued",
                    detail: ["url": url.map(JSONValue.string) ?? .null, "generation": .number(Double(generation))])],
                on: connection, logger: logger)
            return generation
        }
    }

    /// Devices matching `filter`, by MAC.
    public func devices(_ filter: DeviceFilter = DeviceFilter()) async throws(StoreError) -> [Device] {
        let limit = max(1, min(filter.limit, 100_000))
        return try await self.rows(
            "listing devices",
            """
            SELECT \(unescaped: deviceColumns) FROM devices
            WHERE (\(filter.tenantID)::text IS NULL OR tenant_id = \(filter.tenantID))
              AND (\(filter.status?.rawValue)::text IS NULL OR status = \(filter.status?.rawValue))
              AND (\(filter.mac)::text IS NULL OR mac = \(filter.mac))
              AND (\(filter.afterMAC)::text IS NULL OR mac > \(filter.afterMAC))
            ORDER BY mac
            LIMIT \(limit)
            """,
            as: DeviceRow.self
        ).map(makeDevice)
    }

    /// One device by MAC.
    public func device(_ mac: MACAddress) async throws(StoreError) -> Device? {
        try await self.devices(DeviceFilter(mac: mac.canonical, limit: 1)).first
    }
}
