import Foundation
import ProvisioningModel

/// An event that names its device only by the PBX's id (a Wazo `device_created`, a Kazoo `doc_created` without
/// `mac_address`), recorded until its source's PBX API gives the MAC; then it is planned like any event.
public struct PendingLookup: Sendable, Hashable {
    /// The row's id; 0 before it is stored.
    public var id: Int64
    public var source: String
    public var tenantID: String
    /// The event's idempotency key, under which the looked-up event is recorded.
    public var eventID: String
    /// `device.added` or `device.updated` (a removal needs no lookup: the stored device id gives the MAC).
    public var type: DeviceEventType
    public var deviceID: String
    /// The Kazoo account the device is in, when the event said.
    public var accountID: String?
    /// Who sent the event: `source:<name>@<address>`.
    public var actor: String
    /// How many lookups were started, this one included.
    public var attempts: Int
    public var receivedAt: Date
    /// The ids of later events for the same device that were merged into this lookup while it waited: each is
    /// answered as accepted, and recorded as seen once the lookup is resolved, but none makes a call of its own.
    public var mergedEventIDs: [String]

    public init(
        id: Int64 = 0, source: String, tenantID: String, eventID: String, type: DeviceEventType, deviceID: String,
        accountID: String?, actor: String, attempts: Int = 0, receivedAt: Date = Date(), mergedEventIDs: [String] = []
    ) {
        self.id = id
        self.source = source
        self.tenantID = tenantID
        self.eventID = eventID
        self.type = type
        self.deviceID = deviceID
        self.accountID = accountID
        self.actor = actor
        self.attempts = attempts
        self.receivedAt = receivedAt
        self.mergedEventIDs = mergedEventIDs
    }

    /// The event, once the PBX gave the device's MAC, model, brand and serial number.
    public func event(mac: MACAddress, model: String?, brand: String?, serial: String? = nil) -> DeviceEvent {
        switch self.type {
        case .updated:
            .updated(
                mac: mac, previousMAC: nil, deviceID: self.deviceID, extensionNumber: nil, model: model, brand: brand,
                serial: serial)
        case .added, .removed:
            .added(
                mac: mac, deviceID: self.deviceID, extensionNumber: nil, model: model, brand: brand, serial: serial)
        }
    }
}
