import ProvisioningModel
import Testing

@testable import ProvHookCore

@Suite("Event planner: what an event means for the devices")
struct EventPlannerTests {
    let planner = EventPlanner()
    let mac = MACAddress("000413000001")!
    let other = MACAddress("000413000002")!

    func plan(_ event: DeviceEvent, _ known: KnownDevices = KnownDevices()) -> Result<[DeviceChange], EventRejection> {
        self.planner.plan(event, tenantID: "acme", known: known)
    }

    @Test("device.added registers its MAC, with the PBX's fields")
    func added() throws {
        let changes = try self.plan(.added(mac: self.mac, deviceID: "pbx-1", extensionNumber: "201", model: "snomD785"))
            .get()
        #expect(
            changes == [
                DeviceChange(
                    mac: self.mac, desired: .registered, deviceID: "pbx-1", extensionNumber: "201", model: "snomD785")
            ])
    }

    @Test("device.updated deregisters previous_mac, or else the MAC that carried the device_id")
    func updated() throws {
        let explicit = try self.plan(
            .updated(mac: self.mac, previousMAC: self.other, deviceID: nil, extensionNumber: nil, model: nil)
        ).get()
        #expect(
            explicit.map(\.mac) == [self.other, self.mac] && explicit.map(\.desired) == [.deregistered, .registered])

        let byID = try self.plan(
            .updated(mac: self.mac, previousMAC: nil, deviceID: "pbx-1", extensionNumber: nil, model: nil),
            KnownDevices(macOfDeviceID: self.other)
        ).get()
        #expect(byID.map(\.mac) == [self.other, self.mac])

        let same = try self.plan(
            .updated(mac: self.mac, previousMAC: nil, deviceID: "pbx-1", extensionNumber: nil, model: nil),
            KnownDevices(macOfDeviceID: self.mac)
        ).get()
        #expect(same.map(\.mac) == [self.mac], "an id still on the same MAC deregisters nothing")
    }

    @Test("device.removed by device_id uses the stored MAC, and an unknown id is refused")
    func removedByID() throws {
        let known = try self.plan(.removed(mac: nil, deviceID: "pbx-1"), KnownDevices(macOfDeviceID: self.mac)).get()
        #expect(known == [DeviceChange(mac: self.mac, desired: .deregistered)])
        #expect(self.plan(.removed(mac: nil, deviceID: "pbx-9")).failure?.code.rawValue == "unknown_device")
        #expect(self.plan(.removed(mac: nil, deviceID: nil)).failure?.code.rawValue == "missing_mac")
    }

    /// Who holds a MAC is the database's answer (`mac_held_by_another()`, tested in `MACHolderRuleTests`): a MAC
    /// another tenant gave up, or the tenant's own, is not in `heldByAnother`.
    @Test("a MAC another tenant still wants registered is refused; one it gave up may be taken")
    func macInUse() throws {
        let held = KnownDevices(heldByAnother: [self.mac])
        let added = DeviceEvent.added(mac: self.mac, deviceID: nil, extensionNumber: nil, model: nil)
        #expect(self.plan(added, held).failure?.code.rawValue == "mac_in_use")
        #expect(self.plan(.removed(mac: self.mac, deviceID: nil), held).failure?.code.rawValue == "mac_in_use")
        let released = KnownDevices(heldByAnother: [])
        #expect((try? self.plan(added, released).get())?.count == 1)
        let otherMACHeld = KnownDevices(heldByAnother: [self.other])
        #expect((try? self.plan(added, otherMACHeld).get())?.count == 1)
    }

    @Test("a MAC outside the vendor filter is planned as skipped")
    func vendorFilter() throws {
        let foreign = MACAddress("AABBCC000001")!
        let changes = try self.plan(
            .updated(mac: foreign, previousMAC: self.mac, deviceID: nil, extensionNumber: nil, model: nil)
        ).get()
        #expect(changes.map(\.isSkipped) == [false, true])
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
