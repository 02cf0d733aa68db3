import Foundation
import Logging
import PostgresNIO
import ProvisioningModel

/// Filters for listing devices.
public struct DeviceFilter: Sendable, Hashable {
    public var tenantID: String?
    public var status: DeviceStatus?
    public var mac: String?
    /// Devices whose MAC sorts after this one (for paging).
    public var afterMAC: String?
    public var limit: Int
    /// Devices whose next call is made with this redirection account.
    public var account: String?

    public init(
        tenantID: String? = nil, status: DeviceStatus? = nil, mac: String? = nil, afterMAC: String? = nil,
        limit: Int = 1000, account: String? = nil
    ) {
        self.account = account
        self.tenantID = tenantID
        self.status = status
        self.mac = mac
        self.afterMAC = afterMAC
        self.limit = limit
    }
}

typealias DeviceRow = (
    String, String?, String?, String?, String?, String, String?, String, Int64, Int32, Date, String?, Date, String,
    String?
)

/// The columns read for a `Device`, in order (identifiers only, for `\(unescaped:)`).
let deviceColumns =
    "mac, tenant_id, device_id, extension, model, desired, url, status, generation, attempts, next_attempt_at, last_error, updated_at, account, move_to"

func makeDevice(_ row: DeviceRow) -> Device {
    Device(
        mac: row.0, tenantID: row.1, deviceID: row.2, extensionNumber: row.3, model: row.4,
        desired: DesiredState(rawValue: row.5) ?? .deregistered, url: row.6,
        status: DeviceStatus(rawValue: row.7) ?? .pending,
        generation: row.8, attempts: Int(row.9), nextAttemptAt: row.10, lastError: row.11, updatedAt: row.12,
        account: row.13, moveTo: row.14)
}

extension Store {
    /// The PostgreSQL channel on which workers are woken: the one that `devices_wake_workers` in
    /// `sql/0003_device_rules.sql` notifies when a device starts waiting.
    static let wakeChannel = "provhook_work"

    /// Sets a device's desired state at a new generation, in the caller's transaction. What a new generation means
    /// (pending, due now, no attempts, no error) and waking the workers are the database's rules
    /// (`sql/0003_device_rules.sql`).
    ///
    /// For a registration without an explicit URL, the URL is rendered from the tenant's template in the same
    /// statement, so that it is never older than a concurrent template change (which locks `devices`).
    /// Returns the new generation and URL, or nil when the MAC is held by another tenant and still wanted there.
    static func setDesired(
        _ change: DeviceChange, tenantID: String, source: String? = nil, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> (generation: Int64, url: String?)? {
        let rows = try await connection.rows(
            """
            SELECT generation, url FROM device_set_desired(
                \(tenantID), \(change.mac.canonical), \(change.desired.rawValue), \(change.deviceID),
                \(change.extensionNumber), \(change.model), \(change.isSkipped), \(source), \(change.url))
            """, as: (Int64, String?).self, logger: logger)
        return rows.first.map { ($0.0, $0.1) }
    }

    /// Puts changes to one `device_id` of a tenant in line, until the caller's transaction ends.
    ///
    /// Events moving one id at the same moment would all pass `setDesired`'s UPDATE that frees the id before any
    /// commits, and all but one would then violate device_id_unique_per_tenant. The lock is taken in a statement of
    /// its own, so that the statements after it see what the previous holder committed.
    static func lockDeviceID(
        _ deviceID: String, tenantID: String, on connection: PostgresConnection, logger: Logger
    ) async throws {
        try await connection.query(
            "SELECT pg_advisory_xact_lock(\(AdvisoryLock.deviceIDClass), hashtext(\(tenantID) || '/' || \(deviceID)))",
            logger: logger)
    }

    /// Sets a device's desired state in its own transaction, with a journal row; used by operators and tests.
    public func setDesired(_ change: DeviceChange, tenantID: String, actor: String) async throws(StoreError) -> Int64 {
        let logger = self.logger
        return try await self.transaction("changing device \(change.mac)") { connection in
            if let deviceID = change.deviceID {
                try await Self.lockDeviceID(deviceID, tenantID: tenantID, on: connection, logger: logger)
            }
            guard
                let (generation, url) = try await Self.setDesired(
                    change, tenantID: tenantID, on: connection, logger: logger)
            else {
                throw StoreError.conflict("MAC \(change.mac) belongs to another tenant")
            }
            try await Self.appendJournal(
                [.deviceChanged(change, generation: generation, url: url, tenantID: tenantID, actor: actor)],
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
              AND (\(filter.account)::text IS NULL OR account = \(filter.account))
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
