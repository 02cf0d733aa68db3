import ProvisioningModel

/// Decides what an event means for the devices: which MACs change to which desired state, or why the event is
/// refused. It reads nothing itself: the store gives it what the database knows (`KnownDevices`) inside the event's
/// transaction, and applies the plan in that same transaction.
public struct EventPlanner: Sendable {
    /// Which vendor a MAC's prefix names, when the PBX gives no brand, and which MACs may be sent at all.
    public var prefixes: VendorPrefixes

    public init(prefixes: VendorPrefixes = .defaults) {
        self.prefixes = prefixes
    }

    /// The device changes `event` asks of `tenantID`, in the order they are applied, or the rejection.
    ///
    /// - `device.added` registers its MAC.
    /// - `device.updated` registers its MAC and deregisters the old one: `previous_mac`, or else the MAC that carried
    ///   the event's `device_id` until now.
    /// - `device.removed` deregisters its MAC, or the MAC that carries its `device_id` (`unknown_device` if none).
    /// - A MAC that another tenant holds and still wants registered is refused (`mac_in_use`), whatever the change
    ///   (`known.heldByAnother`: the database's `mac_held_by_another()` decides who holds a MAC).
    /// - A MAC to register outside the tenant's `ranges`, when it has some, is refused (`mac_not_allowed`);
    ///   deregistering is never restricted.
    func plan(
        _ event: DeviceEvent, tenantID: String, known: KnownDevices, ranges: MACRanges? = nil
    ) -> Result<[DeviceChange], EventRejection> {
        var changes: [DeviceChange] = []
        switch event {
        case .added(let mac, let deviceID, let extensionNumber, let model, let brand, let serial, let code):
            changes.append(
                self.change(
                    mac, .registered, deviceID: deviceID, extensionNumber: extensionNumber, model: model, brand: brand,
                    serial: serial, gigasetCode: code))
        case .updated(
            let mac, let previousMAC, let deviceID, let extensionNumber, let model, let brand, let serial, let code):
            if let old = previousMAC ?? known.macOfDeviceID, old != mac {
                changes.append(self.change(old, .deregistered))
            }
            changes.append(
                self.change(
                    mac, .registered, deviceID: deviceID, extensionNumber: extensionNumber, model: model, brand: brand,
                    serial: serial, gigasetCode: code))
        case .removed(let mac, let deviceID):
            guard let target = mac ?? known.macOfDeviceID else {
                guard let deviceID else {
                    return .failure(
                        EventRejection(code: .missingMAC, message: "device.removed needs \"mac\" or \"device_id\""))
                }
                return .failure(
                    EventRejection(
                        code: .unknownDevice,
                        message: "no device with device_id \(String(deviceID.prefix(64)).debugDescription)"))
            }
            changes.append(self.change(target, .deregistered))
        }
        for change in changes {
            if let ranges, change.desired == .registered, !ranges.contains(change.mac) {
                return .failure(
                    EventRejection(
                        code: .macNotAllowed,
                        message:
                            "MAC \(change.mac) is outside this tenant's MAC ranges (\(ranges.prefixes.joined(separator: ", ")))"
                    ))
            }
            if known.heldByAnother.contains(change.mac) {
                return .failure(
                    EventRejection(code: .macInUse, message: "MAC \(change.mac) belongs to another tenant"))
            }
        }
        return .success(changes)
    }

    /// The one change of an event that names one MAC to register or deregister and nothing else (`device.added`, or
    /// `device.removed` with its MAC), before the checks that need the database; nil for any other event.
    /// The store records such an event in one round trip, and falls back on `plan` when the database says a check
    /// applies (`ingest_event` in sql/).
    func singleChange(_ event: DeviceEvent) -> DeviceChange? {
        switch event {
        case .added(let mac, let deviceID, let extensionNumber, let model, let brand, let serial, let code):
            self.change(
                mac, .registered, deviceID: deviceID, extensionNumber: extensionNumber, model: model, brand: brand,
                serial: serial, gigasetCode: code)
        case .removed(let mac?, _):
            self.change(mac, .deregistered)
        case .removed, .updated:
            nil
        }
    }

    /// A change with what decides the device's vendor: the brand wins, else the vendor it has, else its prefix's
    /// (`device_set_desired` in sql/ applies that order, since only the database knows the vendor it has). A brand
    /// that is empty or malformed says nothing. The serial, like the brand, is given or kept (the database keeps the
    /// one the device has when the event gives none), and so is a Gigaset's code.
    private func change(
        _ mac: MACAddress, _ desired: DesiredState, deviceID: String? = nil, extensionNumber: String? = nil,
        model: String? = nil, brand: String? = nil, serial: String? = nil, gigasetCode: String? = nil
    ) -> DeviceChange {
        DeviceChange(
            mac: mac, desired: desired, deviceID: deviceID, extensionNumber: extensionNumber, model: model,
            brandVendor: brand.flatMap(Vendor.init(brand:)), serial: serial, gigasetCode: gigasetCode,
            prefixVendor: self.prefixes.vendor(of: mac),
            isSkipped: !self.prefixes.allowsSending(mac))
    }
}
