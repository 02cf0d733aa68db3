import Foundation
import ProvisioningModel

/// Where a device stands.
public enum DeviceStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// The desired state is not applied yet.
    case pending
    /// Registered at the service with `url`.
    case registered
    /// Not registered at the service.
    case deregistered
    /// The service refused permanently (`malformed_mac`, `malformed_url`, …), or retries gave up.
    case failed
    /// Another account holds the MAC (`owned_by_other_user`).
    case conflict
    /// Nothing is sent for it, for the reason `Device.skippedBecause` gives.
    case skipped
    /// Its account's service registers phones only with their serial numbers, and none was given: it waits, and is
    /// sent again as soon as an event or an import gives its serial (or the account no longer needs serials).
    case waitingForSerial = "waiting_for_serial"
    /// Its account's service registers a phone only with the code printed on it (Gigaset's), and none was given: it
    /// waits, and is sent again as soon as an event or an import gives its code.
    case waitingForCode = "waiting_for_code"
}

/// Why a device is `skipped`.
public enum SkipReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// The MAC is outside the prefixes a plain-list `PROVHOOK_VENDOR_PREFIXES` allows.
    case vendorNotAllowed = "vendor_not_allowed"
    /// Neither the PBX's brand nor the MAC's prefix names a vendor.
    case unknownVendor = "unknown_vendor"
    /// Neither the tenant nor the installation has an account for the device's vendor; the device is delivered
    /// once one is added (`account add … --default`, or `tenant update … --account`).
    case noAccountForVendor = "no_account_for_vendor"
}

/// A device row.
public struct Device: Sendable, Hashable, Codable {
    public var mac: String
    /// Nil for a MAC no tenant claims, queued for deregistration by `reconcile --prune`.
    public var tenantID: String?
    public var deviceID: String?
    public var extensionNumber: String?
    public var model: String?
    public var desired: DesiredState
    public var url: String?
    public var status: DeviceStatus
    public var generation: Int64
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastError: String?
    public var updatedAt: Date
    /// The account the device's next call is made with; nil when no account serves its vendor (it is skipped).
    public var account: String? = RedirectAccount.defaultName
    /// Set while the MAC moves to another of our accounts.
    public var moveTo: String?
    /// The phone's vendor: the brand its PBX gives, else its MAC prefix's; nil when neither says.
    public var vendor: Vendor?
    /// Why it is skipped, when it is.
    public var skippedBecause: SkipReason?
    /// The phone's serial number, as the last event that gave one said (`DeviceSerial`); nil until one does.
    public var serial: String?
    /// The code printed on a Gigaset phone (`GigasetCode`), as the last event that gave one said; nil until one does.
    public var gigasetCode: String?

    enum CodingKeys: String, CodingKey {
        case mac, desired, url, status, generation, attempts, model
        case tenantID = "tenant_id"
        case deviceID = "device_id"
        case extensionNumber = "extension"
        case nextAttemptAt = "next_attempt_at"
        case lastError = "last_error"
        case updatedAt = "updated_at"
        case account, vendor, serial
        case moveTo = "move_to"
        case gigasetCode = "gigaset_code"
        case skippedBecause = "skipped_because"
    }
}
