import Foundation
import Logging
import PBXDirectory
import PostgresNIO
import SnomRedirect

/// FusionPBX's devices, read from its own PostgreSQL database: FusionPBX sends no webhooks, so a `fusionpbx`
/// source is synced, periodically by default. Every read runs in a read-only transaction (give it a login that may
/// only SELECT `v_devices` and `v_domains` as well).
///
/// The columns follow fusionpbx/fusionpbx `app/devices/app_config.php` and `core/domains/app_config.php`:
/// `v_devices.device_address` (12 lowercase hex digits; `device_mac_address` before FusionPBX 5.1),
/// `device_enabled` (text `'true'`/`'false'` up to 5.4, boolean from 5.5), `device_vendor`, `device_template`,
/// `domain_uuid`, joined to `v_domains` (`domain_name`, `domain_enabled`). A device of a disabled domain counts as
/// disabled.
public actor FusionPBXDatabase: DeviceDirectory, DeviceListing {
    private let url: DatabaseURL
    private let domain: String
    private let logger: Logger
    /// Whether the MAC column is `device_address` (5.1 and later) or `device_mac_address`; read once.
    private var hasDeviceAddress: Bool?

    public init(
        configuration: DirectoryConfiguration, logger: Logger = Logger(label: "provhook.fusionpbx")
    )
        throws(DirectoryError)
    {
        guard let domain = configuration.tenant else { throw .unauthorized("a FusionPBX source needs its domain") }
        do {
            self.url = try DatabaseURL(configuration.secret)
        } catch {
            throw .unauthorized("the FusionPBX database URL is not valid: \(error)")
        }
        self.domain = domain
        self.logger = logger
    }

    public func shutdown() async {}

    public func devices(
        account: String?, after cursor: String?, pageSize: Int
    ) async throws(DirectoryError) -> (devices: [ListedDevice], next: String?) {
        let rows = try await self.read(after: cursor ?? "", uuid: nil, limit: pageSize)
        return (rows, rows.count < pageSize ? nil : rows.last?.id)
    }

    public func device(id: String, account: String?) async throws(DirectoryError) -> DirectoryDevice {
        guard let device = try await self.read(after: "", uuid: id, limit: 1).first else {
            throw .notFound("FusionPBX has no device \(id.prefix(64)) in domain \(self.domain)")
        }
        return DirectoryDevice(mac: device.mac, model: device.model)
    }

    /// One page in `device_uuid` order after `after`, or the device `uuid`.
    private func read(after: String, uuid: String?, limit: Int) async throws(DirectoryError) -> [ListedDevice] {
        let (url, domain, logger, known) = (self.url, self.domain, self.logger, self.hasDeviceAddress)
        do {
            let (hasDeviceAddress, rows) = try await Database.withConnection(url, timeout: .seconds(10), logger: logger)
            {
                connection in
                try await connection.query("START TRANSACTION READ ONLY", logger: logger)
                var hasDeviceAddress = known
                if hasDeviceAddress == nil {
                    let columns = try await connection.query(
                        """
                        SELECT count(*) FROM information_schema.columns
                        WHERE table_name = 'v_devices' AND column_name = 'device_address'
                        """, logger: logger)
                    var found = false
                    for try await count in columns.decode(Int64.self) { found = count > 0 }
                    hasDeviceAddress = found
                }
                // The one variable part is a column name, chosen between two constants, never from input.
                let macColumn = hasDeviceAddress == true ? "d.device_address" : "d.device_mac_address"
                let result = try await connection.query(
                    """
                    SELECT d.device_uuid::text, \(unescaped: macColumn)::text,
                        (d.device_enabled::text IN ('true', 't')) AND coalesce(v.domain_enabled::text IN ('true', 't'), true),
                        d.device_vendor::text, d.device_template::text
                    FROM v_devices d JOIN v_domains v ON v.domain_uuid = d.domain_uuid
                    WHERE v.domain_name = \(domain) AND d.device_uuid::text > \(after)
                      AND (\(uuid)::text IS NULL OR d.device_uuid::text = \(uuid))
                    ORDER BY d.device_uuid::text LIMIT \(limit)
                    """, logger: logger)
                var rows: [ListedDevice] = []
                for try await (id, mac, enabled, vendor, template) in result.decode(
                    (String, String?, Bool?, String?, String?).self)
                {
                    rows.append(
                        ListedDevice(
                            id: id, mac: mac.flatMap { try? MACAddress(parsing: $0) }, enabled: enabled ?? false,
                            model: Self.model(vendor: vendor, template: template)))
                }
                try await connection.query("COMMIT", logger: logger)
                return (hasDeviceAddress, rows)
            }
            self.hasDeviceAddress = hasDeviceAddress
            return rows
        } catch {
            throw .unavailable("reading FusionPBX's devices from \(url): \(String(describing: error).prefix(300))")
        }
    }

    /// "snom D785" from `device_vendor` `snom` and `device_template` `snom/d785`, at most 64 characters.
    static func model(vendor: String?, template: String?) -> String? {
        let model = template.map { $0.split(separator: "/").last.map(String.init) ?? $0 }?.uppercased()
        let text = [vendor, model].compactMap { $0?.isEmpty == false ? $0 : nil }.joined(separator: " ")
        return text.isEmpty ? nil : String(text.unicodeScalars.prefix(64))
    }
}
