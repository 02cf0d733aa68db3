import Foundation
import Integrations
import Logging
import PostgresNIO
import ProvHookTestSupport
import ProvisioningModel
import Testing

@testable import ProvHookCore

/// The code printed on a Gigaset phone (`gigaset_code`): checked where it arrives (the native contract, a mapping's
/// pointer, the CSV import), kept with the device as a serial number is (sql/0027), and a waiting phone made due when
/// it arrives.
@Suite("a Gigaset phone's code")
struct GigasetCodeTests {
    static let mac = MACAddress("7C2F80000C01")!

    @Test(
        "the native contract carries gigaset_code, trimmed and uppercased; anything but 4 letters or digits is refused")
    func native() throws {
        let added = try NativeContractTests.parse(
            #"{"type":"device.added","mac":"7C2F80000C01","gigaset_code":" x4k9 "}"#
        ).get()
        #expect(added.gigasetCode == "X4K9")
        #expect(added == .added(mac: Self.mac, deviceID: nil, extensionNumber: nil, model: nil, gigasetCode: "X4K9"))
        let updated = try NativeContractTests.parse(
            #"{"type":"device.updated","mac":"7C2F80000C01","gigaset_code":"AB12"}"#
        ).get()
        #expect(updated.gigasetCode == "AB12")
        for none in ["", #","gigaset_code":null"#, #","gigaset_code":"  ""#] {
            let event = try NativeContractTests.parse(#"{"type":"device.added","mac":"7C2F80000C01"\#(none)}"#).get()
            #expect(event.gigasetCode == nil, "\(none)")
        }
        for bad in ["1", #""X4K""#, #""X4K99""#, #""X4-9""#, #""ÄBCD""#] {
            guard
                case .failure(let rejection) = NativeContractTests.parse(
                    #"{"type":"device.added","mac":"7C2F80000C01","gigaset_code":\#(bad)}"#)
            else {
                Issue.record("\(bad) was taken")
                continue
            }
            #expect(rejection.code == .invalidField && rejection.message.contains("gigaset_code"), "\(bad)")
        }
    }

    @Test("a mapping's gigaset_code pointer gives the code, checked as the native contract checks it")
    func mapping() {
        let source = MappingSource()
        let mapping = #"""
            {"format": "json", "event": "/event", "events": {"phone.created": "device.added"},
             "mac": "/phone/mac", "device_id": "/phone/id", "gigaset_code": "/phone/code"}
            """#
        let verdict = source.receive(
            MappingSourceTests.request(
                #"{"event":"phone.created","phone":{"id":"p-1","mac":"7C2F80000C01","code":"x4k9"}}"#,
                query: "token=\(MappingSourceTests.token)"),
            credentials: MappingSourceTests.credentials(mapping))
        guard case .event(let event, _) = verdict else {
            Issue.record("the event with a code must be read: \(verdict)")
            return
        }
        #expect(event == .added(mac: Self.mac, deviceID: "p-1", extensionNumber: nil, model: nil, gigasetCode: "X4K9"))
    }

    @Test("the CSV import's gigaset_code column is each row's code, checked")
    func csv() throws {
        let csv = """
            mac,device_id,extension,model,gigaset_code
            7C2F80000C01,d1,101,N870,x4k9
            7C2F80000C02,d2,102,N870,
            7C2F80000C03,d3,103,N870,TOOLONG

            """
        let file = try DeviceImportFile(bytes: Array(csv.utf8), tenant: "acme")
        #expect(file.rows.map(\.gigasetCode) == ["X4K9", nil])
        #expect(file.refused.map(\.line) == [4] && file.refused.first?.reason.contains("gigaset_code") == true)
        #expect(file.rows.first?.event.gigasetCode == "X4K9")
    }

    @Test("given, the code replaces the device's; not given, it is kept, on both paths; the database refuses others")
    func store() async throws {
        do {
            try await self.storeChecks()
        } catch {
            Issue.record("\(String(reflecting: error))")
        }
    }

    private func storeChecks() async throws {
        try await TestDatabase.with { database in
            try await database.store.addTenant("acme")
            _ = try await database.store.setDesired(
                DeviceChange(mac: Self.mac, desired: .registered, gigasetCode: "X4K9"), tenantID: "acme",
                actor: "cli:test")
            #expect(try await database.store.device(Self.mac)?.gigasetCode == "X4K9")
            _ = try await database.store.setDesired(
                DeviceChange(mac: Self.mac, desired: .registered, extensionNumber: "201"), tenantID: "acme",
                actor: "cli:test")
            #expect(try await database.store.device(Self.mac)?.gigasetCode == "X4K9", "kept")

            func record(_ extra: String, id: String) async throws -> [String]? {
                let event = #"""
                    {"tenant":"acme","event":"\#(id)","type":"device.added","payload":"{}","mac":"7C2F80000C01",
                     "desired":"registered","device_id":null,"extension":"202","model":null,"brand_vendor":null,
                     "prefix_vendor":"gigaset","skipped":false,"source":null,"actor":"webhook:127.0.0.1",
                     "action":"event.device.added","detail":{}\#(extra)}
                    """#
                return try await database.withConnection { connection in
                    try await connection.query("CALL record_events(\([event]), NULL)", logger: Logger(label: "test"))
                        .collect().first?.decode([String].self)
                }
            }
            #expect(try await record("", id: "e1") == ["accepted"])
            #expect(try await database.store.device(Self.mac)?.gigasetCode == "X4K9", "an event without one keeps it")
            #expect(try await record(#","gigaset_code":"AB12""#, id: "e2") == ["accepted"])
            #expect(try await database.store.device(Self.mac)?.gigasetCode == "AB12", "an event with one replaces it")
            #expect(try await record(#","gigaset_code":"ab12""#, id: "e3") == ["refused"], "the CHECK")

            // A phone waiting for its code is due as soon as one arrives.
            try await database.withConnection { connection in
                try await connection.query(
                    """
                    UPDATE devices SET status = 'waiting_for_code', gigaset_code = NULL, account = 'default',
                        skipped_because = NULL,
                        next_attempt_at = now() + interval '1 day' WHERE mac = \(Self.mac.canonical)
                    """, logger: Logger(label: "test"))
                try await connection.query(
                    "UPDATE devices SET gigaset_code = 'ZZ99' WHERE mac = \(Self.mac.canonical)",
                    logger: Logger(label: "test"))
            }
            let device = try #require(try await database.store.device(Self.mac))
            #expect(device.status == .pending && device.nextAttemptAt <= Date() && device.gigasetCode == "ZZ99")
        }
    }
}
