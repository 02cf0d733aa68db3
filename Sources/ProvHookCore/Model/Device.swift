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
    /// The MAC is outside the vendor-prefix filter; nothing is ever sent for it.
    case skipped
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
    /// The redirection account the device's next call is made with.
    public var account: String = RedirectAccount.defaultName
    /// Set while the MAC moves to another of our accounts.
    public var moveTo: String?

    enum CodingKeys: String, CodingKey {
        case mac, desired, url, status, generation, attempts, model
        case tenantID = "tenant_id"
        case deviceID = "device_id"
        case extensionNumber = "extension"
        case nextAttemptAt = "next_attempt_at"
        case lastError = "last_error"
        case updatedAt = "updated_at"
        case account
        case moveTo = "move_to"
    }
}
