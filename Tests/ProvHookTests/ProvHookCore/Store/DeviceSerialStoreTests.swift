import Foundation
import Logging
import PostgresNIO
import ProvHookCore
import ProvHookTestSupport
import ProvisioningModel
import Testing

/// `devices.serial` in the database (sql/0023): given, it replaces the device's; not given, the device keeps its own,
/// whoever writes, a serve from before the migration included; the database refuses anything that is not one.
@Suite("a device's serial number in the database")
struct DeviceSerialStoreTests {
    static let mac = MACAddress("000413000C01")!

    /// The device with serial `serial`, through the store's full path.
    static func seed(_ store: Store, serial: String?, tenant: String = "acme") async throws {
        _ = try await store.setDesired(
            DeviceChange(mac: Self.mac, desired: .registered, serial: serial), tenantID: tenant, actor: "cli:test")
    }

    @Test("an event recorded by a serve older than the serial numbers (its record_events call names none) keeps it")
    func eventFromAnOlderServe() async throws {
        try await TestDatabase.with { database in
            try await database.store.addTenant("acme")
            try await Self.seed(database.store, serial: "8011918034501234")
            // The arguments a serve from before sql/0023 sends: no "serial".
            let event = #"""
                {"tenant":"acme","event":"old-1","type":"device.added","payload":"{}","mac":"000413000C01",
                 "desired":"registered","device_id":null,"extension":"201","model":null,"brand_vendor":null,
                 "prefix_vendor":"snom","skipped":false,"source":null,"actor":"webhook:127.0.0.1",
                 "action":"event.device.added","detail":{}}
                """#
            let outcomes = try await database.withConnection { connection in
                try await connection.query(
                    "CALL record_events(\([event]), NULL)", logger: Logger(label: "test")
                ).collect().first?.decode([String].self)
            }
            #expect(outcomes == ["accepted"])
            let device = try #require(try await database.store.device(Self.mac))
            #expect(device.extensionNumber == "201" && device.generation == 2, "the event was applied")
            #expect(device.serial == "8011918034501234", "and the serial kept")
        }
    }

    @Test("device_set_desired called as a serve older than the serial numbers calls it, 11 arguments, keeps it")
    func fullPathOfAnOlderServe() async throws {
        try await TestDatabase.with { database in
            try await database.store.addTenant("acme")
            try await Self.seed(database.store, serial: "SN-1")
            let generation = try await database.withConnection { connection in
                try await connection.query(
                    """
                    SELECT generation FROM device_set_desired(
                        'acme', \(Self.mac.canonical), 'registered', NULL, '202', NULL, NULL, 'snom', false, NULL, NULL)
                    """, logger: Logger(label: "test")
                ).collect().first?.decode(Int64.self)
            }
            #expect(generation == 2)
            let device = try #require(try await database.store.device(Self.mac))
            #expect(device.extensionNumber == "202" && device.serial == "SN-1")
        }
    }

    @Test("given, a serial replaces the device's, whoever gives it; a change without one keeps it, across tenants too")
    func givenOrKept() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            try await store.addTenant("acme")
            try await store.addTenant("beta")
            try await Self.seed(store, serial: nil)
            #expect(try await store.device(Self.mac)?.serial == nil)
            try await Self.seed(store, serial: "SN-1")
            #expect(try await store.device(Self.mac)?.serial == "SN-1")
            try await Self.seed(store, serial: nil)
            #expect(try await store.device(Self.mac)?.serial == "SN-1")
            try await Self.seed(store, serial: "SN-2")
            #expect(try await store.device(Self.mac)?.serial == "SN-2")
            // The phone is deregistered and another tenant takes its MAC: the serial number is the phone's.
            _ = try await store.setDesired(
                DeviceChange(mac: Self.mac, desired: .deregistered), tenantID: "acme", actor: "cli:test")
            try await Self.seed(store, serial: nil, tenant: "beta")
            let device = try #require(try await store.device(Self.mac))
            #expect(device.tenantID == "beta" && device.serial == "SN-2")
        }
    }

    @Test("the database refuses a serial that is not one, naming its constraint, whoever writes it")
    func refusedByTheDatabase() async throws {
        try await TestDatabase.with { database in
            try await database.store.addTenant("acme")
            try await Self.seed(database.store, serial: "SN-1")
            for bad in ["SN 1", "", String(repeating: "9", count: 65), "SN\u{7}", "Série"] {
                do {
                    try await database.withConnection { connection in
                        _ = try await connection.query(
                            "UPDATE devices SET serial = \(bad) WHERE mac = \(Self.mac.canonical)",
                            logger: Logger(label: "test"))
                    }
                    Issue.record("\(bad.debugDescription) must be refused")
                } catch {
                    #expect(
                        DatabaseError("setting a serial", error).constraint == "device_serial_format",
                        "\(bad.debugDescription): \(String(reflecting: error))")
                }
            }
            #expect(try await database.store.device(Self.mac)?.serial == "SN-1")
        }
    }
}
