import ProvisioningModel

/// A checked event about one PBX device, whatever source it came from: the native webhook contract today, a PBX's
/// own format or a pull from its API tomorrow. What it *means* for the devices is the planner's business.
public enum DeviceEvent: Sendable, Hashable {
    /// A phone was added: register `mac` at the tenant's URL. `brand` is the vendor the PBX names, if it names one
    /// (`Vendor.resolve` decides the device's vendor from it, else from the MAC's prefix). `serial` is the phone's
    /// serial number, already checked (`DeviceSerial`); without one the device keeps the serial it has.
    /// `gigasetCode` is the code printed on a Gigaset phone (`GigasetCode`), kept the same way.
    case added(
        mac: MACAddress, deviceID: String?, extensionNumber: String?, model: String?, brand: String? = nil,
        serial: String? = nil, gigasetCode: String? = nil)
    /// A phone changed; with `previousMAC` (or a `device_id` known under another MAC) the old MAC is deregistered.
    case updated(
        mac: MACAddress, previousMAC: MACAddress?, deviceID: String?, extensionNumber: String?, model: String?,
        brand: String? = nil, serial: String? = nil, gigasetCode: String? = nil)
    /// A phone was removed, by MAC or by the PBX's `device_id`.
    case removed(mac: MACAddress?, deviceID: String?)

    /// The event's type, as the journal and the metrics name it.
    public var type: DeviceEventType {
        switch self {
        case .added: .added
        case .updated: .updated
        case .removed: .removed
        }
    }

    /// The MACs the event names itself (not those found through its `device_id`).
    public var namedMACs: [MACAddress] {
        switch self {
        case .added(let mac, _, _, _, _, _, _): [mac]
        case .updated(let mac, let previous, _, _, _, _, _, _): [mac] + (previous.map { [$0] } ?? [])
        case .removed(let mac, _): mac.map { [$0] } ?? []
        }
    }

    /// The MAC the event is about, for a journal row that refuses it.
    public var primaryMAC: MACAddress? { self.namedMACs.first }

    /// The brand the PBX gives the phone, if any.
    public var brand: String? {
        switch self {
        case .added(_, _, _, _, let brand, _, _), .updated(_, _, _, _, _, let brand, _, _): brand
        case .removed: nil
        }
    }

    /// The phone's serial number the PBX gives, if any.
    public var serial: String? {
        switch self {
        case .added(_, _, _, _, _, let serial, _), .updated(_, _, _, _, _, _, let serial, _): serial
        case .removed: nil
        }
    }

    /// The code printed on the phone the PBX gives (a Gigaset's), if any.
    public var gigasetCode: String? {
        switch self {
        case .added(_, _, _, _, _, _, let code), .updated(_, _, _, _, _, _, _, let code): code
        case .removed: nil
        }
    }

    /// The PBX's own id of the device, if the event carries one.
    public var deviceID: String? {
        switch self {
        case .added(_, let deviceID, _, _, _, _, _), .updated(_, _, let deviceID, _, _, _, _, _),
            .removed(_, let deviceID):
            deviceID
        }
    }
}

/// The three kinds of device event.
public enum DeviceEventType: String, Sendable, Hashable, CaseIterable, Codable {
    case added = "device.added"
    case updated = "device.updated"
    case removed = "device.removed"
}
