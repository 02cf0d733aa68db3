import ProvisioningModel

extension JournalAction: CaseIterable {
    /// Every action, as auditors see it in `journal.action`. A new case belongs here too (the switch below does not
    /// compile until it is looked at), and in docs/auditors.md, whose list a test checks against this one.
    public static var allCases: [Self] {
        DeviceEventType.allCases.map(Self.event) + [.eventRejected] + RedirectMethod.allCases.map(Self.call) + [
            .deviceRegister, .deviceDeregister, .deviceRepoint, .deviceRetry, .deviceForget, .deviceMove, .deviceAssign,
            .accountAdd, .accountUpdate, .accountRemove, .tenantAdd, .tenantUpdate, .tenantRemove,
            .sourceAdd, .sourceUpdate, .sourceRemove, .sourceLookup, .sourceSync,
            .reconcileFix, .reconcileFinding, .reconcileRun,
        ]
    }

    /// Never called. A switch without `default`, so that a new case does not compile until someone looks here and
    /// lists it in `allCases` above.
    private static func listedInAllCases(_ action: Self) {
        switch action {
        case .event, .eventRejected, .call, .deviceRegister, .deviceDeregister, .deviceRepoint, .deviceRetry,
            .deviceForget, .deviceMove, .deviceAssign, .accountAdd, .accountUpdate, .accountRemove, .tenantAdd,
            .tenantUpdate,
            .tenantRemove, .sourceAdd, .sourceUpdate, .sourceRemove, .sourceLookup, .sourceSync, .reconcileFix,
            .reconcileFinding, .reconcileRun:
            break
        }
    }
}
