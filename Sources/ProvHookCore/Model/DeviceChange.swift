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
    /// True when the MAC is outside the vendor-prefix filter: recorded as `skipped`, never sent.
    public var isSkipped: Bool

    public init(
        mac: MACAddress, desired: DesiredState, url: String? = nil, deviceID: String? = nil,
        extensionNumber: String? = nil, model: String? = nil, isSkipped: Bool = false
    ) {
        self.mac = mac
        self.desired = desired
        self.url = url
        self.deviceID = deviceID
        self.extensionNumber = extensionNumber
        self.model = model
        self.isSkipped = isSkipped
    }
}
