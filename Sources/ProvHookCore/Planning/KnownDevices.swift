import ProvisioningModel

/// What the database knows that an event's meaning depends on, read in the event's own transaction.
struct KnownDevices: Sendable, Hashable {
    /// The MACs the event names that another tenant holds and still wants registered, as the database's
    /// `mac_held_by_another()` (sql/0020) answers: the MAC-holder rule is written there once.
    var heldByAnother: Set<MACAddress> = []
    /// The MAC that carries the event's `device_id` in the event's tenant, if any.
    var macOfDeviceID: MACAddress?
}
