import Foundation
import NIOHTTP1
import ProvHookCore
import ProvHookTestSupport
import ProvisioningModel
import Testing

/// An operator may keep a tenant to its own MAC ranges: a webhook that would register a MAC outside them is refused
/// and journaled, while deregistering what the tenant holds stays allowed.
@Suite("Tenant MAC ranges")
struct MACRangesTests {
    @Test("ranges parse hex prefixes with separators, and refuse anything else")
    func parsing() throws {
        #expect(try MACRanges(["0004:13", "00087b", "000413"])?.prefixes == ["000413", "00087B"])
        #expect(try MACRanges([]) == nil)
        for bad in ["", "zz", "0004131234567", "00 04"] {
            #expect(throws: StoreError.self, "\(bad)") { try MACRanges([bad]) }
        }
        #expect(throws: StoreError.self) { try MACRanges(Array(repeating: "000413", count: 101)) }
        let ranges = try #require(try MACRanges(["00041361"]))
        #expect(ranges.contains(MACAddress("000413610FF5")!) && !ranges.contains(MACAddress("000413620FF5")!))
    }

    @Test("a webhook outside the tenant's ranges is refused and journaled; removal and lifting work")
    func webhooks() async throws {
        try await EndToEnd.run(adminToken: AdminAPITests.token) { run in
            var answer = try await run.provhook.call(
                .PATCH, "/v1/tenants/acme", token: AdminAPITests.token, json: #"{"mac_prefixes":["0004.1361"]}"#)
            #expect(answer.status == 200)
            #expect((answer.json["tenant"] as? [String: Any])?["mac_prefixes"] as? [String] == ["00041361"])

            #expect(try await run.send(#"{"type":"device.added","mac":"000413610001","device_id":"d1"}"#).status == 202)
            answer = try await run.send(#"{"type":"device.added","mac":"000413620001"}"#)
            #expect(answer.status == 400 && answer.errorCode == "mac_not_allowed")
            // Moving d1 to a MAC outside the ranges is refused too, and d1 keeps its MAC.
            answer = try await run.send(#"{"type":"device.updated","mac":"000413620002","device_id":"d1"}"#)
            #expect(answer.errorCode == "mac_not_allowed")
            #expect(try await run.device("000413620001") == nil)
            #expect(try await run.device("000413620002") == nil)
            let rejected = try await run.store.journal(JournalFilter(action: "event.rejected"))
            #expect(rejected.count == 2 && rejected.allSatisfy { $0.detail["code"] == "mac_not_allowed" })

            // Lifted: any MAC again.
            answer = try await run.provhook.call(
                .PATCH, "/v1/tenants/acme", token: AdminAPITests.token, json: #"{"mac_prefixes":[]}"#)
            #expect(answer.status == 200 && (answer.json["tenant"] as? [String: Any])?["mac_prefixes"] == nil)
            #expect(try await run.send(#"{"type":"device.added","mac":"000413620001"}"#).status == 202)

            // Restricted again to a range d1 is outside of: removing d1 is still allowed.
            _ = try await run.store.updateTenant(id: "acme", macRanges: try MACRanges(["00087B"]), actor: "cli:test")
            #expect(try await run.send(#"{"type":"device.removed","device_id":"d1"}"#).status == 202)
            let journal = try await run.store.journal(JournalFilter(action: "tenant.update"))
            #expect(journal.contains { $0.detail["mac_prefixes"] == .array(["00087B"]) })
        }
    }

    @Test("the CLI sets and lifts ranges, and refuses a malformed one")
    func commandLine() async throws {
        try await TestDatabase.with { database in
            let cli = CommandLineRunner(environment: database.environment())
            var result = try await cli.run([
                "tenant", "add", "acme", "--url-template", "https://p.example/<mac>", "--mac-prefixes",
                "000413, 00087B",
            ])
            #expect(result.status == 0, "\(result.error)")
            #expect(try await database.store.tenant("acme")?.macPrefixes == ["000413", "00087B"])
            result = try await cli.run(["tenant", "update", "acme", "--mac-prefixes", "xyz"])
            #expect(result.status == 2 && result.error.contains("MAC range"))
            result = try await cli.run(["tenant", "update", "acme", "--mac-prefixes", "any"])
            #expect(result.status == 0)
            #expect(try await database.store.tenant("acme")?.macPrefixes == nil)
            result = try await cli.run(["tenant", "list"])
            #expect(result.output.contains("MAC RANGES") && result.output.contains("any"))
        }
    }
}
