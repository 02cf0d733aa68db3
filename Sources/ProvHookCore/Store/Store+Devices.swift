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
    /// Devices of this vendor.
    public var vendor: Vendor?

    public init(
        tenantID: String? = nil, status: DeviceStatus? = nil, mac: String? = nil, afterMAC: String? = nil,
        limit: Int = 1000, account: String? = nil, vendor: Vendor? = nil
    ) {
        self.account = account
        self.vendor = vendor
        self.tenantID = tenantID
        self.status = status
        self.mac = mac
        self.afterMAC = afterMAC
        self.limit = limit
    }
}

typealias DeviceRow = (
    String, String?, String?, String?, String?, String, String?, String, Int64, Int32, Date, String?, Date, String?,
    String?, String?, String?, String?, String?
)

/// The columns read for a `Device`, in order (identifiers only, for `\(unescaped:)`).
let deviceColumns =
    "mac, tenant_id, device_id, extension, model, desired, url, status, generation, attempts, next_attempt_at, last_error, updated_at, account, move_to, vendor, skipped_because, serial, gigaset_code"

func makeDevice(_ row: DeviceRow) -> Device {
    Device(
        mac: row.0, tenantID: row.1, deviceID: row.2, extensionNumber: row.3, model: row.4,
        desired: DesiredState(rawValue: row.5) ?? .deregistered, url: row.6,
        status: DeviceStatus(rawValue: row.7) ?? .pending,
        generation: row.8, attempts: Int(row.9), nextAttemptAt: row.10, lastError: row.11, updatedAt: row.12,
        account: row.13, moveTo: row.14, vendor: row.15.flatMap(Vendor.init(rawValue:)),
        skippedBecause: row.16.flatMap(SkipReason.init(rawValue:)), serial: row.17,
        gigasetCode: row.18)
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
    ) async throws -> WrittenDevice? {
        let rows = try await connection.rows(
            """
            SELECT generation, url, vendor, account, status, skipped_because FROM device_set_desired(
                \(tenantID), \(change.mac.canonical), \(change.desired.rawValue), \(change.deviceID),
                \(change.extensionNumber), \(change.model), \(change.brandVendor?.rawValue),
                \(change.prefixVendor?.rawValue), \(change.isSkipped), \(source), \(change.url), \(change.serial))
            """, as: (Int64, String?, String?, String?, String, String?).self, logger: logger)
        // A Gigaset's code, when the change gives one, replaces the one the device has (sql/0027_gigaset_codes.sql).
        if let code = change.gigasetCode, !rows.isEmpty {
            try await connection.query(
                "UPDATE devices SET gigaset_code = \(code) WHERE mac = \(change.mac.canonical)", logger: logger)
        }
        return rows.first.map { generation, url, vendor, account, status, reason in
            WrittenDevice(
                generation: generation, url: url, vendor: vendor.flatMap(Vendor.init(rawValue:)), account: account,
                status: DeviceStatus(rawValue: status) ?? .pending, skippedBecause: reason.flatMap(SkipReason.init))
        }
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
            guard let written = try await Self.setDesired(change, tenantID: tenantID, on: connection, logger: logger)
            else {
                throw StoreError.conflict("MAC \(change.mac) belongs to another tenant")
            }
            try await Self.appendJournal(
                [.deviceChanged(change, written: written, tenantID: tenantID, actor: actor)], on: connection,
                logger: logger)
            return written.generation
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
              AND (\(filter.vendor?.rawValue)::text IS NULL OR vendor = \(filter.vendor?.rawValue))
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

/// What the database made of a device change (`device_set_desired` in sql/): the generation and URL, and the vendor
/// and account it settled on, which decide whether the device is skipped.
public struct WrittenDevice: Sendable, Hashable {
    public var generation: Int64
    public var url: String?
    public var vendor: Vendor?
    public var account: String?
    public var status: DeviceStatus
    public var skippedBecause: SkipReason?

    /// The fields a journal row of the change carries, as `ingest_event` in sql/ adds them.
    func journalDetail(desired: DesiredState) -> [String: JSONValue] {
        var detail: [String: JSONValue] = ["generation": .int(self.generation)]
        if let url = self.url, desired == .registered { detail["url"] = .string(url) }
        if let vendor = self.vendor { detail["vendor"] = .string(vendor.rawValue) }
        if let account = self.account { detail["account"] = .string(account) }
        if let reason = self.skippedBecause { detail["reason"] = .string(reason.rawValue) }
        return detail
    }
}
