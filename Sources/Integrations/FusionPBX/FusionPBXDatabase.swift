import Foundation
import Logging
import PostgresNIO
import ProvHookCore
import ProvisioningModel

/// FusionPBX's devices, read from its own PostgreSQL database: FusionPBX sends no webhooks, so a `fusionpbx`
/// source is synced, periodically by default. Every read runs in a read-only transaction (give it a login that may
/// only SELECT `v_devices` and `v_domains` as well).
///
/// The columns follow fusionpbx/fusionpbx `app/devices/app_config.php` and `core/domains/app_config.php`:
/// `v_devices.device_address` (12 lowercase hex digits; `device_mac_address` before FusionPBX 5.1),
/// `device_enabled` (text `'true'`/`'false'` up to 5.4, boolean from 5.5), `device_vendor` (the brand, and with
/// `device_template` the model), `device_serial_number` (the serial number, free text, from FusionPBX 5.4.4; read
/// only when it is one, `DeviceSerial.lenient`), `domain_uuid`, joined to `v_domains` (`domain_name`,
/// `domain_enabled`). A device of a disabled domain counts as disabled.
///
/// Every statement is bounded on the FusionPBX server (`statement_timeout`, `lock_timeout`: the configuration's read
/// timeout), so that a locked or slow `v_devices` fails the read instead of holding it, and the connection, for ever;
/// and every row's size is bounded there (``maxFieldBytes``), so that a row with a huge field cannot fill provhook's
/// memory.
public actor FusionPBXDatabase: DeviceDirectory, DeviceListing {
    private let url: DatabaseURL
    private let domain: String
    private let connectTimeout: Duration
    /// The server's `statement_timeout` and `lock_timeout` for each read.
    private let statementTimeout: Duration
    private let logger: Logger
    /// The columns that depend on FusionPBX's version, read once: whether the MAC column is `device_address` (5.1
    /// and later) or `device_mac_address`, and whether `device_serial_number` exists (5.4.4 and later).
    private var columns: Columns?

    struct Columns: Sendable {
        var hasDeviceAddress: Bool
        var hasSerialNumber: Bool
    }

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
        self.connectTimeout = configuration.connectTimeout
        self.statementTimeout = configuration.readTimeout
        self.logger = logger
    }

    /// The longest text read from a field. A MAC longer than that is no MAC: the row counts as one without a MAC
    /// (and is logged); a longer vendor or template is cut, as the model is cut at 64 characters anyway; a longer
    /// serial number is none, as a serial number is at most 64; a device whose id is longer is not read (FusionPBX's
    /// ids are uuids).
    public static let maxFieldBytes = 256

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
        return DirectoryDevice(mac: device.mac, model: device.model, brand: device.brand, serial: device.serial)
    }

    /// One page in `device_uuid` order after `after`, or the device `uuid`.
    private func read(after: String, uuid: String?, limit: Int) async throws(DirectoryError) -> [ListedDevice] {
        let (url, domain, logger, known) = (self.url, self.domain, self.logger, self.columns)
        let maxBytes = Self.maxFieldBytes
        // As PostgreSQL reads a setting's text: whole milliseconds.
        let timeout =
            "\(max(1, self.statementTimeout.components.seconds * 1000 + self.statementTimeout.components.attoseconds / 1_000_000_000_000_000))ms"
        do {
            let (columns, rows, oversized) = try await Database.withConnection(
                url, timeout: self.connectTimeout, logger: logger
            ) { connection in
                try await connection.query("START TRANSACTION READ ONLY", logger: logger)
                // Set in the transaction (SET LOCAL, through set_config so that the value is bound), which works
                // through a transaction pooler too; a login's own default of no timeout is what let a locked
                // v_devices hold a sync for ever.
                try await connection.query(
                    """
                    SELECT set_config('statement_timeout', \(timeout), true), set_config('lock_timeout', \(timeout), true),
                        set_config('idle_in_transaction_session_timeout', \(timeout), true)
                    """, logger: logger)
                var columns = known
                if columns == nil {
                    let found = try await connection.query(
                        """
                        SELECT count(*) FILTER (WHERE column_name = 'device_address'),
                            count(*) FILTER (WHERE column_name = 'device_serial_number')
                        FROM information_schema.columns
                        WHERE table_name = 'v_devices' AND column_name IN ('device_address', 'device_serial_number')
                        """, logger: logger)
                    var read = Columns(hasDeviceAddress: false, hasSerialNumber: false)
                    for try await (address, serial) in found.decode((Int64, Int64).self) {
                        read = Columns(hasDeviceAddress: address > 0, hasSerialNumber: serial > 0)
                    }
                    columns = read
                }
                // The variable parts are column expressions, each chosen between two constants, never from input.
                let macColumn = columns?.hasDeviceAddress == true ? "d.device_address" : "d.device_mac_address"
                let serialColumn = columns?.hasSerialNumber == true ? "d.device_serial_number::text" : "NULL::text"
                // Each field's size is checked or cut on the server, so that no row larger than a few hundred bytes
                // ever reaches provhook.
                let result = try await connection.query(
                    """
                    SELECT d.device_uuid::text,
                        CASE WHEN octet_length(\(unescaped: macColumn)::text) <= \(maxBytes) THEN \(unescaped: macColumn)::text END,
                        octet_length(\(unescaped: macColumn)::text) > \(maxBytes),
                        (d.device_enabled::text IN ('true', 't')) AND coalesce(v.domain_enabled::text IN ('true', 't'), true),
                        left(d.device_vendor::text, \(maxBytes)::int), left(d.device_template::text, \(maxBytes)::int),
                        left(\(unescaped: serialColumn), \(maxBytes)::int)
                    FROM v_devices d JOIN v_domains v ON v.domain_uuid = d.domain_uuid
                    WHERE v.domain_name = \(domain) AND d.device_uuid::text > \(after)
                      AND octet_length(d.device_uuid::text) <= \(maxBytes)
                      AND (\(uuid)::text IS NULL OR d.device_uuid::text = \(uuid))
                    ORDER BY d.device_uuid::text LIMIT \(limit)
                    """, logger: logger)
                var rows: [ListedDevice] = []
                var oversized: [String] = []
                for try await (id, mac, tooLong, enabled, vendor, template, serial) in result.decode(
                    (String, String?, Bool?, Bool?, String?, String?, String?).self)
                {
                    if tooLong == true { oversized.append(id) }
                    rows.append(
                        ListedDevice(
                            id: id, mac: mac.flatMap { try? MACAddress(parsing: $0) }, enabled: enabled ?? false,
                            model: Self.model(vendor: vendor, template: template), brand: brandName(vendor),
                            serial: DeviceSerial.lenient(serial)))
                }
                try await connection.query("COMMIT", logger: logger)
                return (columns, rows, oversized)
            }
            self.columns = columns
            if !oversized.isEmpty {
                logger.warning(
                    "FusionPBX devices whose MAC field is too long to be a MAC: read as devices without a MAC",
                    metadata: ["devices": "\(oversized.prefix(10))", "count": "\(oversized.count)"])
            }
            return rows
        } catch {
            // DatabaseError gives the server's message (a statement or lock timeout says so), and the URL's
            // description hides its password.
            throw .unavailable(
                "\(String(DatabaseError("reading FusionPBX's devices from \(url)", error).description.prefix(400)))")
        }
    }

    /// "snom D785" from `device_vendor` `snom` and `device_template` `snom/d785`, at most 64 characters.
    static func model(vendor: String?, template: String?) -> String? {
        let model = template.map { $0.split(separator: "/").last.map(String.init) ?? $0 }?.uppercased()
        let text = [vendor, model].compactMap { $0?.isEmpty == false ? $0 : nil }.joined(separator: " ")
        return text.isEmpty ? nil : String(text.unicodeScalars.prefix(64))
    }
}
