import Foundation
import Logging
import PostgresNIO
import ProvHookTestSupport
import ProvisioningModel
import Testing

@testable import ProvHookCore

@Suite("Store: claims and their outcomes")
struct StoreClaimTests {
    let template = try! URLTemplate("https://prov.example.com/snom/<mac>.xml?x={mac}")
    let mac = MACAddress("00:04:13:61:0F:F5")!

    @Test("claims are fair between tenants: one tenant's bulk work does not hold back another's new phone")
    func fairClaims() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            for id in ["bulk", "quiet"] {
                _ = try await store.addTenant(id, urlTemplate: self.template)
            }
            for index in 0..<120 {
                _ = try await store.setDesired(
                    DeviceChange(mac: MACAddress(String(format: "000413%06X", index))!, desired: .registered),
                    tenantID: "bulk", actor: "cli:test")
            }
            let quiet = MACAddress("00041399FFFF")!
            _ = try await store.setDesired(
                DeviceChange(mac: quiet, desired: .registered), tenantID: "quiet", actor: "cli:test")
            // The quiet tenant's device is the youngest of 121; a claim of 10 oldest-first would not reach it.
            let claimed = try await store.claimDue(limit: 10, lease: .seconds(30))
            #expect(claimed.count == 10)
            #expect(claimed.contains { $0.mac == quiet }, "the quiet tenant's device is among the first claimed")
            #expect(Set(claimed.map(\.tenantID)) == ["bulk", "quiet"])
            let rest = try await store.claimDue(limit: 500, lease: .seconds(30))
            #expect(rest.count == 111 && !rest.contains { $0.mac == quiet }, "each device is claimed once")
        }
    }

    @Test(
        "a claim fills a list for each device the fair claim took: a shared URL's backlog goes out in as many full lists as calls were wanted"
    )
    func claimFillsAListPerCall() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            // `bulk`'s devices share one URL (`{mac}` is the phone's own placeholder); `quiet`'s each have their own.
            _ = try await store.addTenant("bulk", urlTemplate: try URLTemplate("https://prov.example.com/{mac}.xml"))
            _ = try await store.addTenant("quiet", urlTemplate: self.template)
            for index in 0..<120 {
                _ = try await store.setDesired(
                    DeviceChange(mac: MACAddress(String(format: "000413%06X", index))!, desired: .registered),
                    tenantID: "bulk", actor: "cli:test")
            }
            for index in 0..<3 {
                _ = try await store.setDesired(
                    DeviceChange(mac: MACAddress(String(format: "00041399FF%02X", index))!, desired: .registered),
                    tenantID: "quiet", actor: "cli:test")
            }
            // Four calls wanted: the fair claim takes two devices of each tenant.
            let claimed = try await store.claimDue(limit: 4, lease: .seconds(30))
            #expect(claimed.filter { $0.tenantID == "bulk" }.count == 2, "\(claimed.map(\.mac))")
            let alongside = try await store.claimAlongside(claimed, listSize: 10, lease: .seconds(30))
            #expect(alongside.count == 18 && alongside.allSatisfy { $0.tenantID == "bulk" }, "\(alongside.count)")
            let calls = DeliveryCall.plan(claimed + alongside, maxListSize: 10)
            #expect(calls.map(\.devices.count).sorted() == [1, 1, 10, 10], "\(calls.map(\.devices.count))")
            let left = try await store.claimDue(limit: 500, lease: .seconds(30))
            #expect(left.count == 101 && left.filter { $0.tenantID == "quiet" }.count == 1, "each device claimed once")
        }
    }

    @Test("an answer that comes after the claim passed to another worker is not counted, nor its claim released")
    func fencedOutcomes() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            try await store.addTenant("t1", urlTemplate: self.template)
            _ = try await store.setDesired(
                DeviceChange(mac: self.mac, desired: .registered), tenantID: "t1", actor: "cli:test")
            let first = try #require(try await store.claimDue(limit: 1, lease: .milliseconds(200)).first)
            try await Task.sleep(for: .milliseconds(400))
            let second = try #require(
                try await store.claimDue(limit: 1, lease: .seconds(60)).first, "the lease expired")
            #expect(second.generation == first.generation && second.claimToken != first.claimToken)
            let late = DeliveryOutcome(
                device: first, status: .registered, error: nil, retryAfter: .zero,
                journal: JournalEntry(
                    tenantID: "t1", mac: self.mac.canonical, actor: "worker:late", action: .call(.registerPhone),
                    outcome: .ok))
            #expect(try await store.recordOutcomes([late]).isEmpty, "the late answer is not written")
            try await store.releaseClaims([first])
            #expect(try await store.claimDue(limit: 1, lease: .seconds(60)).isEmpty, "the second claim still holds")
            #expect(try await store.device(self.mac)?.status == .pending)
            let row = try #require(try await store.journal(JournalFilter(action: "redirect.registerPhone")).first)
            #expect(row.detail["claim_lost"] == .bool(true))
            var onTime = late
            onTime.device = second
            // Written together, as the outcomes of calls answered at the same time are: only the second is applied,
            // and each journal row says what became of its own answer.
            #expect(try await store.recordOutcomes([late, onTime]) == [1])
            #expect(try await store.device(self.mac)?.status == .registered)
            let rows = try await store.journal(JournalFilter(action: "redirect.registerPhone"))
            #expect(rows.count == 3 && rows.filter { $0.detail["claim_lost"] == .bool(true) }.count == 2, "\(rows)")
        }
    }
}
