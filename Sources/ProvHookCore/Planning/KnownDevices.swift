import SnomRedirect

/// What the database knows that an event's meaning depends on, read in the event's own transaction.
public struct KnownDevices: Sendable, Hashable {
    /// Who holds a MAC now, and what it wants for it.
    public struct Holder: Sendable, Hashable {
        public var tenantID: String
        public var desired: DesiredState

        public init(tenantID: String, desired: DesiredState) {
            self.tenantID = tenantID
            self.desired = desired
        }
    }

    /// The holder of each MAC the event names; a MAC absent here is unknown.
    public var holders: [MACAddress: Holder]
    /// The MAC that carries the event's `device_id` in the event's tenant, if any.
    public var macOfDeviceID: MACAddress?

    public init(holders: [MACAddress: Holder] = [:], macOfDeviceID: MACAddress? = nil) {
        self.holders = holders
        self.macOfDeviceID = macOfDeviceID
    }
}
