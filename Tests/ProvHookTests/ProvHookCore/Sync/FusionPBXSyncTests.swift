import FakePBXService
import Foundation
import Integrations
import NIOHTTP1
import PostgresNIO
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import Testing

/// A FusionPBX source: FusionPBX's devices read from a second, real PostgreSQL database laid out like FusionPBX's
/// (`v_devices`, `v_domains`), through a login that may only read them.
@Suite("FusionPBX sync")
struct FusionPBXSyncTests {
    /// Makes a FusionPBX-like database `fusion_<tag>_<random>` (`fusionDatabase`) with the login
    /// `fusion_reader_<tag>`, runs `body` with its read-only URL and its owner's, and drops it afterwards, whether
    /// `body` returns or throws.
    static func withFusionDatabase<T>(
        tag: String, legacy: Bool = false, _ body: (_ url: String, _ admin: DatabaseURL) async throws -> T
    ) async throws -> T {
        let name = "fusion_\(tag)_\(UInt32.random(in: 0...UInt32.max))"
        let url = try await Self.fusionDatabase(name: name, legacy: legacy, reader: "fusion_reader_\(tag)")
        var admin = try TestDatabase.adminURL()
        admin.database = name
        let result: Result<T, any Error>
        do { result = .success(try await body(url, admin)) } catch { result = .failure(error) }
        try await Self.dropDatabase(name)
        return try result.get()
    }

    /// `withFusionDatabase` with the source `fpbx` of tenant `acme` added to read it: `body` gets the source's
    /// webhook token and the database's owner URL.
    static func withFusionSource<T>(
        _ rig: SourceRig, tag: String, legacy: Bool = false,
        _ body: (_ token: String, _ admin: DatabaseURL) async throws -> T
    ) async throws -> T {
        try await Self.withFusionDatabase(tag: tag, legacy: legacy) { url, admin in
            let urlFile = try SourceRig.secretFile(url)
            defer { try? FileManager.default.removeItem(atPath: urlFile) }
            return try await body(try await rig.addSource(Self.fusionSource(urlFile)), admin)
        }
    }

    /// `source add`'s arguments for the source `fpbx` of tenant `acme`, domain `pbx.acme.example`, reading the
    /// database whose URL is in `urlFile`.
    static func fusionSource(_ urlFile: String) -> [String] {
        [
            "fpbx", "--kind", "fusionpbx", "--tenant", "acme", "--domain", "pbx.acme.example",
            "--pbx-database-url-file",
            urlFile,
        ]
    }

    /// Drops the database `name` that `fusionDatabase` made, connections and all.
    static func dropDatabase(_ name: String) async throws {
        _ = try await Database.withConnection(try TestDatabase.adminURL(), logger: TestDatabase.logger) { connection in
            try await connection.query("DROP DATABASE \(unescaped: name) WITH (FORCE)", logger: TestDatabase.logger)
        }
    }

    /// Creates a FusionPBX-like database: FusionPBX 5.5 (`device_address`, boolean `device_enabled`,
    /// `device_serial_number`), or before 5.1 (`device_mac_address`, text `device_enabled`, no serial number).
    /// Returns its read-only URL, of the login `reader` (roles are the cluster's: tests that run at once need logins of
    /// their own).
    static func fusionDatabase(
        name: String, legacy: Bool, reader: String
    ) async throws -> String {
        let admin = try TestDatabase.adminURL()
        try await Database.withConnection(admin, logger: TestDatabase.logger) { connection in
            try await connection.query("DROP DATABASE IF EXISTS \(unescaped: name)", logger: TestDatabase.logger)
            try await connection.query("CREATE DATABASE \(unescaped: name)", logger: TestDatabase.logger)
        }
        var url = admin
        url.database = name
        let macColumn = legacy ? "device_mac_address" : "device_address"
        let enabledType = legacy ? "text" : "boolean"
        let serialColumn = legacy ? "" : ", device_serial_number text"
        try await Database.withConnection(url, logger: TestDatabase.logger) { connection in
            for statement in [
                """
                CREATE TABLE v_domains (domain_uuid uuid PRIMARY KEY, domain_name text NOT NULL,
                    domain_enabled boolean NOT NULL DEFAULT true)
                """,
                """
                CREATE TABLE v_devices (device_uuid uuid PRIMARY KEY, domain_uuid uuid REFERENCES v_domains,
                    \(macColumn) text, device_label text, device_vendor text, device_template text,
                    device_enabled \(enabledType)\(serialColumn))
                """,
                """
                INSERT INTO v_domains VALUES ('11111111-1111-1111-1111-111111111111', 'pbx.acme.example', true),
                    ('22222222-2222-2222-2222-222222222222', 'other.example', true)
                """,
                """
                INSERT INTO v_devices (device_uuid, domain_uuid, \(macColumn), device_vendor, device_template, device_enabled)
                SELECT ('00000000-0000-0000-0000-' || lpad(to_hex(i), 12, '0'))::uuid,
                    '11111111-1111-1111-1111-111111111111', lower(lpad(to_hex(x'000413000000'::bigint + i), 12, '0')),
                    'snom', 'snom/d785', 'true'
                FROM generate_series(1, 40) AS i
                """,
                "UPDATE v_devices SET device_enabled = 'false' WHERE device_uuid = '00000000-0000-0000-0000-000000000028'",
                """
                INSERT INTO v_devices (device_uuid, domain_uuid, \(macColumn), device_vendor, device_template, device_enabled)
                VALUES ('99999999-9999-9999-9999-999999999999', '22222222-2222-2222-2222-222222222222', '000413999999',
                    'snom', 'snom/d785', 'true')
                """,
                "DROP ROLE IF EXISTS \(reader)",
                "CREATE ROLE \(reader) LOGIN",
                "GRANT SELECT ON v_devices, v_domains TO \(reader)",
            ] {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: TestDatabase.logger)
            }
        }
        return "postgres://\(reader)@\(url.host):\(url.port)/\(name)?sslmode=disable"
    }

    @Test("FusionPBX 5.5 and before 5.1: one domain's enabled devices registered, a deleted one deregistered")
    func sync() async throws {
        for legacy in [false, true] {
            try await SourceRig.with(pbx: FakePBXState()) { rig in
                try await Self.withFusionSource(rig, tag: legacy ? "legacy" : "current", legacy: legacy) {
                    token, admin in
                    let listed = try await rig.cli.run(["source", "list"])
                    #expect(listed.output.contains("every 300 s"), "synced by default: \(listed.output)")

                    var result = try await rig.cli.run(["source", "sync", "fpbx", "--page-size", "15", "--json"])
                    #expect(result.status == 0, "\(result.error)")
                    var json = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any] ?? [:]
                    #expect(json["listed"] as? Int == 40 && json["registered"] as? Int == 39, "\(json)")
                    #expect(json["disabled"] as? Int == 1)
                    let devices = try await rig.database.store.devices(DeviceFilter(tenantID: "acme", limit: 100))
                    #expect(devices.count == 39 && devices.allSatisfy { $0.model == "snom D785" })
                    #expect(
                        !devices.contains { $0.mac == "000413999999" }, "another domain's device is not this tenant's")
                    #expect(!devices.contains { $0.mac == "000413000028" }, "a disabled device is not registered")

                    // A device deleted in FusionPBX is deregistered by the next sync.
                    _ = try await Database.withConnection(admin, logger: TestDatabase.logger) { connection in
                        try await connection.query(
                            "DELETE FROM v_devices WHERE device_uuid = '00000000-0000-0000-0000-000000000001'",
                            logger: TestDatabase.logger)
                    }
                    result = try await rig.cli.run(["source", "sync", "fpbx", "--json"])
                    json = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any] ?? [:]
                    #expect(result.status == 0 && json["deregistered"] as? Int == 1, "\(json) \(result.error)")

                    // FusionPBX sends no webhooks; the journal and the listing never hold the database password.
                    let serve = try await rig.serve()
                    defer { serve.stop() }
                    let answer = try await SourceRig.send(
                        "http://127.0.0.1:\(serve.ports.webhook)/v1/sources/fpbx/events?token=\(token)", body: "{}")
                    #expect(answer.status == 404 && answer.body.contains("no_webhooks"))
                }
            }
        }
    }

    @Test("the client reads device_vendor as the brand, as written, beside the model; none where it is empty or NULL")
    func brand() async throws {
        try await TestDatabase.with { database in
            try await Self.withFusionDatabase(tag: "brand") { url, admin in
                try await Database.withConnection(admin, logger: TestDatabase.logger) { connection in
                    for statement in [
                        """
                        UPDATE v_devices SET device_vendor = 'Yealink', device_template = 'yealink/t54w'
                        WHERE device_uuid = '00000000-0000-0000-0000-000000000002'
                        """,
                        "UPDATE v_devices SET device_vendor = '' WHERE device_uuid = '00000000-0000-0000-0000-000000000003'",
                        "UPDATE v_devices SET device_vendor = NULL WHERE device_uuid = '00000000-0000-0000-0000-000000000004'",
                    ] {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: TestDatabase.logger)
                    }
                }
                let client = try FusionPBXDatabase(
                    configuration: DirectoryConfiguration(baseURL: "", secret: url, tenant: "pbx.acme.example"))
                let page = try await client.devices(account: nil, after: nil, pageSize: 4).devices
                #expect(page.map(\.brand) == ["snom", "Yealink", nil, nil], "\(page)")
                #expect(page.map(\.model) == ["snom D785", "Yealink T54W", "D785", "D785"], "\(page)")
                let one = try await client.device(id: "00000000-0000-0000-0000-000000000002", account: nil)
                #expect(
                    one == DirectoryDevice(mac: MACAddress("000413000002"), model: "Yealink T54W", brand: "Yealink"))
                await client.shutdown()
            }
        }
    }

    @Test("the client reads device_serial_number where FusionPBX has it: a serial number, or none; bounded")
    func serialNumber() async throws {
        try await TestDatabase.with { database in
            for legacy in [false, true] {
                try await Self.withFusionDatabase(tag: "serial_\(legacy)", legacy: legacy) { url, admin in
                    if !legacy {
                        try await Database.withConnection(admin, logger: TestDatabase.logger) { connection in
                            for statement in [
                                """
                                UPDATE v_devices SET device_serial_number = ' 8011918034501234 '
                                WHERE device_uuid = '00000000-0000-0000-0000-000000000002'
                                """,
                                """
                                UPDATE v_devices SET device_serial_number = 'see the label'
                                WHERE device_uuid = '00000000-0000-0000-0000-000000000003'
                                """,
                                """
                                UPDATE v_devices SET device_serial_number = repeat('9', 1000000)
                                WHERE device_uuid = '00000000-0000-0000-0000-000000000004'
                                """,
                            ] {
                                try await connection.query(
                                    PostgresQuery(unsafeSQL: statement), logger: TestDatabase.logger)
                            }
                        }
                    }
                    let client = try FusionPBXDatabase(
                        configuration: DirectoryConfiguration(baseURL: "", secret: url, tenant: "pbx.acme.example"))
                    let page = try await client.devices(account: nil, after: nil, pageSize: 5).devices
                    // Free text that is no serial number, or a megabyte of digits, is none.
                    #expect(
                        page.map(\.serial)
                            == (legacy ? [nil, nil, nil, nil, nil] : [nil, "8011918034501234", nil, nil, nil]),
                        "\(page)")
                    let one = try await client.device(id: "00000000-0000-0000-0000-000000000002", account: nil)
                    #expect(one.serial == (legacy ? nil : "8011918034501234"), "\(one)")
                    await client.shutdown()
                }
            }
        }
    }

    @Test("a serial number entered in FusionPBX after the phone was synced is picked up by the next sync, and kept")
    func serialPickedUp() async throws {
        try await SourceRig.with(pbx: FakePBXState()) { rig in
            try await Self.withFusionSource(rig, tag: "serial_sync") { _, admin in
                func set(_ serial: String?) async throws {
                    _ = try await Database.withConnection(admin, logger: TestDatabase.logger) { connection in
                        try await connection.query(
                            """
                            UPDATE v_devices SET device_serial_number = \(serial)
                            WHERE device_uuid = '00000000-0000-0000-0000-000000000005'
                            """, logger: TestDatabase.logger)
                    }
                }
                func sync() async throws -> [String: Any] {
                    let result = try await rig.cli.run(["source", "sync", "fpbx", "--json"])
                    #expect(result.status == 0, "\(result.error)")
                    return try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any] ?? [:]
                }
                let mac = MACAddress("000413000005")!
                var json = try await sync()
                #expect(json["registered"] as? Int == 39, "\(json)")
                #expect(try await rig.database.store.device(mac)?.serial == nil)

                try await set("8011918034501234")
                json = try await sync()
                #expect(json["registered"] as? Int == 1 && json["unchanged"] as? Int == 38, "\(json)")
                #expect(try await rig.database.store.device(mac)?.serial == "8011918034501234")
                let shown = try await rig.cli.run(["device", "show", mac.canonical])
                #expect(shown.output.contains("8011918034501234"), "\(shown.output)")

                // The same serial again is no change; a serial removed in FusionPBX is no change either: kept.
                json = try await sync()
                #expect(json["registered"] as? Int == 0 && json["unchanged"] as? Int == 39, "\(json)")
                try await set(nil)
                json = try await sync()
                #expect(json["registered"] as? Int == 0 && json["unchanged"] as? Int == 39, "\(json)")
                #expect(try await rig.database.store.device(mac)?.serial == "8011918034501234")
                try await set("8011918034509999")
                json = try await sync()
                #expect(json["registered"] as? Int == 1, "\(json)")
                #expect(try await rig.database.store.device(mac)?.serial == "8011918034509999")
            }
        }
    }

    @Test("a locked v_devices fails the sync by its statement timeout; a row with a huge field is read bounded")
    func lockedTable() async throws {
        try await SourceRig.with(pbx: FakePBXState()) { rig in
            try await Self.withFusionSource(rig, tag: "locked") { _, admin in
                // A device whose MAC and vendor fields hold a megabyte each: no MAC, and never read whole.
                _ = try await Database.withConnection(admin, logger: TestDatabase.logger) { connection in
                    try await connection.query(
                        """
                        INSERT INTO v_devices (device_uuid, domain_uuid, device_address, device_vendor, device_template,
                            device_enabled)
                        VALUES ('00000000-0000-0000-0000-0000000000ff', '11111111-1111-1111-1111-111111111111',
                            repeat('0', 1000000), repeat('v', 1000000), 'snom/d785', true)
                        """, logger: TestDatabase.logger)
                }
                var cli = rig.cli
                // Without a statement timeout the sync waits for the lock for ever: ended here, the test fails.
                cli.timeout = .seconds(120)
                var result = try await cli.run(["source", "sync", "fpbx", "--json"])
                var json = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any] ?? [:]
                #expect(result.status == 0, "\(result.error)")
                #expect(json["listed"] as? Int == 41 && json["registered"] as? Int == 39, "\(json)")
                #expect(json["without_mac"] as? Int == 1, "the megabyte MAC is no MAC: \(json)")

                // Another session holds v_devices locked: the sync fails by its statement timeout, well before the
                // stall timeout, and deregisters nothing.
                let started = ContinuousClock.now
                result = try await Database.withConnection(admin, logger: TestDatabase.logger) { connection in
                    try await connection.query("BEGIN", logger: TestDatabase.logger)
                    try await connection.query(
                        "LOCK TABLE v_devices IN ACCESS EXCLUSIVE MODE", logger: TestDatabase.logger)
                    let result = try await cli.run([
                        "source", "sync", "fpbx", "--json", "--read-timeout-seconds", "2", "--stall-seconds", "60",
                    ])
                    try await connection.query("ROLLBACK", logger: TestDatabase.logger)
                    return result
                }
                let elapsed = ContinuousClock.now - started
                json = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any] ?? [:]
                #expect(result.status == 1, "\(result.error)")
                #expect(elapsed < .seconds(45), "\(elapsed)")
                #expect(
                    result.error.contains("canceling statement due to lock timeout")
                        || result.error.contains("canceling statement due to statement timeout"), "\(result.error)")
                #expect(json["deregistered"] as? Int == 0 && json["listed"] as? Int == 0, "\(json)")
                let runs = try await rig.database.store.journal(JournalFilter(action: "source.sync"))
                #expect(runs.last?.actor == "sync:fpbx" && runs.last?.outcome == "error", "\(runs.suffix(1))")
                let devices = try await rig.database.store.devices(DeviceFilter(tenantID: "acme", limit: 100))
                #expect(devices.filter { $0.desired == .registered }.count == 39)
                let source = try await rig.database.store.sources().first { $0.name == "fpbx" }
                #expect(source?.lastSync?.error?.contains("timeout") == true, "\(String(describing: source?.lastSync))")

            }
        }
    }
}
