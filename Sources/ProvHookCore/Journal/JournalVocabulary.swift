import ProvisioningModel

/// What a journal row records. The text of each is part of the row, and so of the hash chain: it never changes.
public enum JournalAction: Sendable, Hashable {
    /// An accepted device event, one row per MAC it changed: `event.device.added`, …
    case event(DeviceEventType)
    /// An authenticated event refused for its content: `event.rejected`.
    case eventRejected
    /// A call to the redirection service, one row per MAC: `redirect.registerPhone`, …
    case call(RedirectMethod)
    /// An operator's change of one device: `device.register`, `device.deregister`.
    case deviceRegister, deviceDeregister
    /// A device re-pointed at its tenant's new URL template: `device.repoint`.
    case deviceRepoint
    /// An operator's `device retry` (`device.retry`) and `device forget` (`device.forget`).
    case deviceRetry, deviceForget
    /// A device queued to move to another of our redirection accounts: `device.move`.
    case deviceMove
    /// A device that no account served (`no_account_for_vendor`) queued with the account that now serves its vendor:
    /// `device.assign`.
    case deviceAssign
    /// Redirection account changes: `account.add`, `account.update`, `account.remove`.
    case accountAdd, accountUpdate, accountRemove
    /// Tenant changes: `tenant.add`, `tenant.update`, `tenant.remove`.
    case tenantAdd, tenantUpdate, tenantRemove
    /// Inbound source changes: `source.add`, `source.update` (a token rotated), `source.remove`.
    case sourceAdd, sourceUpdate, sourceRemove
    /// A PBX API asked for a device that an event named only by id: `source.lookup` (journaled when it fails, is
    /// given up, or is made moot).
    case sourceLookup
    /// A sync of a source with its PBX: `source.sync`, one row per run, with its summary.
    case sourceSync
    /// Reconcile: a device queued again (`reconcile.fix`), a difference found (`reconcile.finding`), a run
    /// (`reconcile.run`).
    case reconcileFix, reconcileFinding, reconcileRun

    /// The text stored in `journal.action`.
    public var rawValue: String {
        switch self {
        case .event(let type): "event.\(type.rawValue)"
        case .eventRejected: "event.rejected"
        case .call(let method): method.rawValue
        case .deviceRegister: "device.register"
        case .deviceDeregister: "device.deregister"
        case .deviceRepoint: "device.repoint"
        case .deviceRetry: "device.retry"
        case .deviceForget: "device.forget"
        case .deviceMove: "device.move"
        case .deviceAssign: "device.assign"
        case .accountAdd: "account.add"
        case .accountUpdate: "account.update"
        case .accountRemove: "account.remove"
        case .tenantAdd: "tenant.add"
        case .tenantUpdate: "tenant.update"
        case .tenantRemove: "tenant.remove"
        case .sourceAdd: "source.add"
        case .sourceUpdate: "source.update"
        case .sourceRemove: "source.remove"
        case .sourceLookup: "source.lookup"
        case .sourceSync: "source.sync"
        case .reconcileFix: "reconcile.fix"
        case .reconcileFinding: "reconcile.finding"
        case .reconcileRun: "reconcile.run"
        }
    }

    /// The operator's change that sets `desired`.
    public static func deviceChange(_ desired: DesiredState) -> Self {
        desired == .registered ? .deviceRegister : .deviceDeregister
    }
}

/// How a journal row's action ended. The raw values are the stored text.
public enum JournalOutcome: String, Sendable, Hashable, CaseIterable, Codable {
    /// An event changed the device.
    case accepted
    /// An event was refused.
    case rejected
    /// An event that names its device only by id was recorded, and waits for its PBX's API to give the MAC.
    case lookupPending = "lookup_pending"
    /// A pending lookup was made moot: its device was deleted, or its source removed.
    case superseded
    /// An event for a device that already had a lookup waiting: merged into it, no call of its own. The row's
    /// `detail.merged_into` names the event id of the lookup it joined.
    case merged
    /// The MAC is outside the vendor-prefix filter: recorded, never sent.
    case skipped
    /// The device waits for a call.
    case queued
    /// Done: a call answered `Ok`, a tenant changed, a run finished.
    case ok
    /// The service answered `Error:…`, or a check could not be made.
    case error
    /// The call was refused before it reached the service, for good.
    case failed
    /// Retries stopped at the give-up age (of a call, or of a lookup: `source.lookup`).
    case gaveUp = "gave_up"
    /// A transient failure: the call is tried again.
    case retry
    /// The service refused our credentials: the call is tried again.
    case authFailed = "auth_failed"
    /// Nothing was sent: a dry run.
    case dryRun = "dry_run"
    /// Reconcile deregistered a MAC that the database does not know.
    case pruned
    /// Reconcile reported a difference and changed nothing.
    case reported
}
