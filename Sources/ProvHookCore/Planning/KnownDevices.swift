import ProvisioningModel

/// What the database knows that an event's meaning depends on, read in the event's own transaction.
struct KnownDevices: Sendable, Hashable {
    /// Who holds a MAC now, and what it wants for it.
    struct Holder: Sendable, Hashable {
        var tenantID: String
        var desired: DesiredState
    }

    /// The holder of each MAC the event names; a MAC absent here is unknown.
    var holders: [MACAddress: Holder] = [:]
    /// The MAC that carries the event's `device_id` in the event's tenant, if any.
    var macOfDeviceID: MACAddress?
}
