import Foundation
import ProvisioningModel
import Testing

@testable import ProvHookCore

/// What a lookup or a sync makes of the device a PBX's API gives: the event carries its model and its brand, as the
/// PBX wrote them (the vendor is decided later, by the planner).
@Suite("Looked-up and synced devices: model and brand in the event")
struct LookedUpEventTests {
    static let mac = MACAddress("000413610FF5")!

    static func lookup(_ type: DeviceEventType) -> PendingLookup {
        PendingLookup(
            source: "kazoo-acme", tenantID: "acme", eventID: "kazoo_1", type: type, deviceID: "dev1", accountID: nil,
            actor: "source:kazoo-acme@127.0.0.1")
    }

    @Test("a lookup's device.added and device.updated carry the model and brand the PBX gave")
    func lookupEvent() {
        #expect(
            Self.lookup(.added).event(mac: Self.mac, model: "snom D785", brand: "snom")
                == .added(mac: Self.mac, deviceID: "dev1", extensionNumber: nil, model: "snom D785", brand: "snom"))
        #expect(
            Self.lookup(.updated).event(mac: Self.mac, model: "Yealink T54W", brand: "Yealink")
                == .updated(
                    mac: Self.mac, previousMAC: nil, deviceID: "dev1", extensionNumber: nil, model: "Yealink T54W",
                    brand: "Yealink"))
        #expect(Self.lookup(.added).event(mac: Self.mac, model: nil, brand: nil).brand == nil)
    }

    @Test("a synced device carries the listing's model and brand, else those of the device read whole")
    func syncEvent() {
        let listed = ListedDevice(id: "w1", mac: Self.mac, enabled: true, model: "Snom D785", brand: "Snom")
        #expect(
            SourceSync.event(listed, mac: Self.mac, found: nil, moved: false)
                == .added(mac: Self.mac, deviceID: "w1", extensionNumber: nil, model: "Snom D785", brand: "Snom"))
        #expect(
            SourceSync.event(listed, mac: Self.mac, found: nil, moved: true)
                == .updated(
                    mac: Self.mac, previousMAC: nil, deviceID: "w1", extensionNumber: nil, model: "Snom D785",
                    brand: "Snom"))
        // Kazoo's listing has neither: both come from the device document.
        let bare = ListedDevice(id: "dev1", mac: Self.mac, enabled: true, model: nil, brand: nil)
        let found = DirectoryDevice(mac: Self.mac, model: "snom D785", brand: "snom")
        #expect(
            SourceSync.event(bare, mac: Self.mac, found: found, moved: false)
                == .added(mac: Self.mac, deviceID: "dev1", extensionNumber: nil, model: "snom D785", brand: "snom"))
        // A PBX that did not answer in time: the device is recorded without them.
        #expect(
            SourceSync.event(bare, mac: Self.mac, found: nil, moved: false)
                == .added(mac: Self.mac, deviceID: "dev1", extensionNumber: nil, model: nil, brand: nil))
    }

    @Test("a lookup's and a synced device's event carry the serial number the PBX gave, the listing's first")
    func serial() {
        #expect(
            Self.lookup(.added).event(mac: Self.mac, model: "T54W", brand: "Yealink", serial: "8011918034501234")
                == .added(
                    mac: Self.mac, deviceID: "dev1", extensionNumber: nil, model: "T54W", brand: "Yealink",
                    serial: "8011918034501234"))
        #expect(Self.lookup(.updated).event(mac: Self.mac, model: nil, brand: nil, serial: "SN1").serial == "SN1")
        #expect(Self.lookup(.updated).event(mac: Self.mac, model: nil, brand: nil).serial == nil)
        let listed = ListedDevice(id: "w1", mac: Self.mac, enabled: true, model: "T54W", brand: nil, serial: "SN1")
        #expect(SourceSync.event(listed, mac: Self.mac, found: nil, moved: true).serial == "SN1")
        let bare = ListedDevice(id: "w1", mac: Self.mac, enabled: true, model: nil, brand: nil)
        let found = DirectoryDevice(mac: Self.mac, model: "T54W", brand: nil, serial: "SN2")
        #expect(SourceSync.event(bare, mac: Self.mac, found: found, moved: false).serial == "SN2")
        #expect(SourceSync.event(listed, mac: Self.mac, found: found, moved: false).serial == "SN1")
    }
}
