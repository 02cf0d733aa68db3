import FakePBXService
import Foundation
import ProvHookCore
import ProvHookTestSupport
import ProvisioningModel
import Testing

extension SourceSyncTests {
    @Test("the mass-removal guard holds back a listing that lost more than 10 % of the devices, and lets 10 % through")
    func guardAtItsThreshold() async throws {
        try await SourceRig.with(pbx: Self.kazoo(devices: 120)) { rig in
            try await rig.addKazooSource()
            var run = try await self.sync(rig)
            #expect(run.status == 0 && run.json["registered"] as? Int == 120, "\(run.error)")

            // 13 of 120 gone (10.8 %): more than the share, so nothing is deregistered.
            for index in 1...13 {
                await rig.pbx.state.setKazooDevice(nil, id: String(format: "dev%05d", index), account: Self.account)
            }
            run = try await self.sync(rig)
            #expect(run.status == 1 && run.json["removals_held_back"] as? Int == 13, "\(run.json)")
            #expect(run.json["deregistered"] as? Int == 0, "\(run.json)")
            var wanted = try await rig.database.store.devices(DeviceFilter(tenantID: "acme", limit: 1000))
            #expect(wanted.filter { $0.desired == .registered }.count == 120)

            // One comes back: 12 of 120 (10 %) is within the share, and those 12 are deregistered.
            await rig.pbx.state.setKazooDevice(
                .init(macAddress: Self.mac(13).lowercased(), brand: "snom", model: "D785"), id: "dev00013",
                account: Self.account)
            run = try await self.sync(rig)
            #expect(run.status == 0 && run.json["deregistered"] as? Int == 12, "\(run.json)")
            wanted = try await rig.database.store.devices(DeviceFilter(tenantID: "acme", limit: 1000))
            #expect(wanted.filter { $0.desired == .registered }.count == 108)
        }
    }
}
