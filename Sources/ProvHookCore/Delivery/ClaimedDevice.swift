import Foundation
import ProvisioningModel

/// A device claimed by a worker: what to apply, for which generation.
public struct ClaimedDevice: Sendable, Hashable {
    public var mac: MACAddress
    /// Nil for a MAC no tenant claims, queued for deregistration by `reconcile --prune`.
    public var tenantID: String?
    public var desired: DesiredState
    public var url: String?
    /// The redirection account this call is made with.
    public var account: String = RedirectAccount.defaultName
    /// Set while the MAC moves to another of our accounts: this call deregisters it with `account`, and the device
    /// then registers with `moveTo`.
    public var moveTo: String?
    /// The phone's serial number, for a service that registers by serial.
    public var serial: String? = nil
    /// The code printed on the phone, for a service that registers by it (Gigaset's).
    public var gigasetCode: String? = nil
    public var generation: Int64
    /// This attempt's number, starting at 1.
    public var attempt: Int
    /// When the current generation started waiting.
    public var pendingSince: Date
    /// The claim's end as the database set it, in microseconds since 1970: the fencing token of this claim. An
    /// outcome is written, and a claim released, only while the row still carries it, so that an answer coming after
    /// another worker took the device over is never counted.
    public var claimToken: Int64
    /// When this process made the claim, by its own clock.
    public var claimedAt: ContinuousClock.Instant
}

/// What a worker learned about one claimed device.
public struct DeliveryOutcome: Sendable {
    public var device: ClaimedDevice
    /// The new status: `registered`, `deregistered`, `failed`, `conflict`, or `pending` to try again.
    public var status: DeviceStatus
    /// Why it is not applied (for `failed`, `conflict`, and retries).
    public var error: String?
    /// When to try again, for `pending`.
    public var retryAfter: Duration
    /// The journal row for this device's call.
    public var journal: JournalEntry
    /// A move's first step is done (the old account no longer holds the MAC): the device takes `moveTo` as its
    /// account and is due again, to register with it.
    public var moved: Bool = false
}
