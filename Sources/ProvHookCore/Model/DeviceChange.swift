import ProvisioningModel

/// A change of one device's desired state, planned from an event or asked for by an operator.
public struct DeviceChange: Sendable, Hashable {
    public var mac: MACAddress
    public var desired: DesiredState
    /// The URL to register; nil renders it from the tenant's template (in the statement that stores it).
    public var url: String?
    public var deviceID: String?
    public var extensionNumber: String?
    public var model: String?
    /// The vendor the PBX's brand names, which wins over any other.
    public var brandVendor: Vendor?
    /// The phone's serial number, when the event gives one; nil keeps the one the device has.
    public var serial: String?
    /// The code printed on a Gigaset phone (`GigasetCode`), when the event gives one; nil keeps the one it has.
    public var gigasetCode: String?
    /// The vendor of the MAC's prefix, for a device that has no vendor yet and no brand; nil at `init` takes the
    /// registry's (`VendorPrefixes.defaults`).
    public var prefixVendor: Vendor?
    /// True when the MAC is outside the prefixes a plain-list `PROVHOOK_VENDOR_PREFIXES` allows: recorded as
    /// `skipped` (`vendor_not_allowed`), never sent.
    public var isSkipped: Bool

    public init(
        mac: MACAddress, desired: DesiredState, url: String? = nil, deviceID: String? = nil,
        extensionNumber: String? = nil, model: String? = nil, brandVendor: Vendor? = nil, serial: String? = nil,
        gigasetCode: String? = nil, prefixVendor: Vendor? = nil, isSkipped: Bool = false
    ) {
        self.gigasetCode = gigasetCode
        self.brandVendor = brandVendor
        self.serial = serial
        self.prefixVendor = prefixVendor ?? VendorPrefixes.defaults.vendor(of: mac)
        self.mac = mac
        self.desired = desired
        self.url = url
        self.deviceID = deviceID
        self.extensionNumber = extensionNumber
        self.model = model
        self.isSkipped = isSkipped
    }
}
