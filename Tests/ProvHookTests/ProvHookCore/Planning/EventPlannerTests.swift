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

    @Test("a MAC outside a plain-list PROVHOOK_VENDOR_PREFIXES is planned as skipped; the VENDOR: form restricts none")
    func vendorFilter() throws {
        let foreign = MACAddress("AABBCC000001")!
        let event = DeviceEvent.updated(
            mac: foreign, previousMAC: self.mac, deviceID: nil, extensionNumber: nil, model: nil)
        let restricted = EventPlanner(prefixes: try VendorPrefixes(parsing: self.mac.oui))
        let changes = try restricted.plan(event, tenantID: "t", known: KnownDevices()).get()
        #expect(changes.map(\.isSkipped) == [false, true])
        #expect(try self.plan(event).get().map(\.isSkipped) == [false, false], "the defaults restrict nothing")
        let assigned = EventPlanner(prefixes: try VendorPrefixes(parsing: "yealink:AABBCC"))
        #expect(
            try assigned.plan(event, tenantID: "t", known: KnownDevices()).get().map(\.isSkipped) == [false, false])
    }

    @Test("the brand the PBX gives names the vendor; the MAC's prefix is there for a device without one")
    func vendorOfChange() throws {
        let yealinkBranded = DeviceEvent.added(
            mac: self.mac, deviceID: nil, extensionNumber: nil, model: nil, brand: " Yealink ")
        let change = try #require(try self.plan(yealinkBranded).get().first)
        #expect(change.brandVendor == .yealink && change.prefixVendor == .snom)
        let polycom = DeviceEvent.added(
            mac: self.mac, deviceID: nil, extensionNumber: nil, model: nil, brand: "Polycom")
        #expect(try self.plan(polycom).get().first?.brandVendor == .poly)
        for noBrand in [nil, "", "   ", "not a brand!"] {
            let event = DeviceEvent.added(
                mac: self.mac, deviceID: nil, extensionNumber: nil, model: nil, brand: noBrand)
            let planned = try #require(try self.plan(event).get().first)
            #expect(planned.brandVendor == nil && planned.prefixVendor == .snom, "\(String(describing: noBrand))")
        }
        let unknown = DeviceEvent.added(
            mac: MACAddress("AABBCC000001")!, deviceID: nil, extensionNumber: nil, model: nil)
        #expect(try self.plan(unknown).get().first?.prefixVendor == nil)
        let operatorsPrefix = EventPlanner(prefixes: try VendorPrefixes(parsing: "fanvil:AABBCC"))
        #expect(
            try operatorsPrefix.plan(unknown, tenantID: "t", known: KnownDevices()).get().first?.prefixVendor == .fanvil
        )
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
