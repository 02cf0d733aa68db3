import ProvisioningModel

/// One builder for each kind of journal row: every row provhook writes is made here, so that its action, outcome and
/// detail keys are written once.
extension JournalEntry {
    /// An accepted event's change of one device.
    ///
    /// `written` is what the database made of the change (`device_set_desired`); without it, the row holds only what
    /// the event said, for `ingest_event` in sql/ to complete with the same fields.
    public static func eventAccepted(
        _ change: DeviceChange, type: DeviceEventType, written: WrittenDevice?, tenantID: String, actor: String,
        eventID: String
    ) -> JournalEntry {
        var detail: [String: JSONValue] = ["type": .string(type.rawValue), "desired": .string(change.desired.rawValue)]
        if let deviceID = change.deviceID { detail["device_id"] = .string(deviceID) }
        if let number = change.extensionNumber { detail["extension"] = .string(number) }
        if let model = change.model { detail["model"] = .string(model) }
        // The serial the event gave (none: the device kept its own); a serial number is no secret.
        if let serial = change.serial { detail["serial"] = .string(serial) }
        if let written { detail.merge(written.journalDetail(desired: change.desired)) { _, written in written } }
        return JournalEntry(
            tenantID: tenantID, mac: change.mac.canonical, actor: actor, action: .event(type),
            outcome: written?.status == .skipped ? .skipped : .accepted, eventID: eventID, detail: detail)
    }

    /// An authenticated event refused for its content; `type` is nil when the body did not say.
    public static func eventRejected(
        _ rejection: EventRejection, type: DeviceEventType?, mac: MACAddress?, tenantID: String?, actor: String,
        eventID: String?
    ) -> JournalEntry {
        var detail: [String: JSONValue] = [
            "code": .string(rejection.code.rawValue), "message": .string(rejection.message),
        ]
        if let type { detail["type"] = .string(type.rawValue) }
        return JournalEntry(
            tenantID: tenantID, mac: mac?.canonical, actor: actor, action: .eventRejected, outcome: .rejected,
            eventID: eventID, detail: detail)
    }

    /// An event that names its device only by id, recorded to be looked up in its source's PBX API.
    public static func lookupPending(_ lookup: PendingLookup) -> JournalEntry {
        var detail: [String: JSONValue] = [
            "type": .string(lookup.type.rawValue), "device_id": .string(lookup.deviceID),
            "source": .string(lookup.source),
        ]
        if let account = lookup.accountID { detail["account_id"] = .string(account) }
        return JournalEntry(
            tenantID: lookup.tenantID, mac: nil, actor: lookup.actor, action: .event(lookup.type),
            outcome: .lookupPending, eventID: lookup.eventID, detail: detail)
    }

    /// An event for a device that already had a lookup waiting, merged into that lookup (`merged`): it makes no call
    /// of its own, and `merged_into` names the event id under which the looked-up event will be recorded.
    public static func lookupMerged(_ lookup: PendingLookup, into pendingEventID: String) -> JournalEntry {
        var detail: [String: JSONValue] = [
            "type": .string(lookup.type.rawValue), "device_id": .string(lookup.deviceID),
            "source": .string(lookup.source), "merged_into": .string(pendingEventID),
        ]
        if let account = lookup.accountID { detail["account_id"] = .string(account) }
        return JournalEntry(
            tenantID: lookup.tenantID, mac: nil, actor: lookup.actor, action: .event(lookup.type), outcome: .merged,
            eventID: lookup.eventID, detail: detail)
    }

    /// A lookup that failed and is tried again (`retry`), that failed past its give-up age (`gave_up`), or that a
    /// deletion or removal made moot (`superseded`). The events merged into it are listed, as its outcome is theirs.
    public static func lookupOutcome(
        _ lookup: PendingLookup, outcome: JournalOutcome, error: (code: String, message: String)?, actor: String
    ) -> JournalEntry {
        var detail: [String: JSONValue] = [
            "type": .string(lookup.type.rawValue), "device_id": .string(lookup.deviceID),
            "source": .string(lookup.source), "attempt": .number(Double(lookup.attempts)),
        ]
        if let error {
            detail["code"] = .string(error.code)
            detail["error"] = .string(String(error.message.prefix(500)))
        }
        if !lookup.mergedEventIDs.isEmpty {
            detail["merged_event_ids"] = .array(lookup.mergedEventIDs.map(JSONValue.string))
        }
        return JournalEntry(
            tenantID: lookup.tenantID, mac: nil, actor: actor, action: .sourceLookup, outcome: outcome,
            eventID: lookup.eventID, detail: detail)
    }

    /// An operator's change of one device's desired state.
    public static func deviceChanged(
        _ change: DeviceChange, written: WrittenDevice, tenantID: String, actor: String
    ) -> JournalEntry {
        var detail = written.journalDetail(desired: .registered)
        detail["url"] = written.url.map(JSONValue.string) ?? .null
        return JournalEntry(
            tenantID: tenantID, mac: change.mac.canonical, actor: actor, action: .deviceChange(change.desired),
            outcome: written.status == .skipped ? .skipped : .queued, detail: detail)
    }

    /// A device queued again at a new generation, by a re-point, a tenant's removal or a reconcile fix.
    public static func deviceQueued(
        _ action: JournalAction, mac: String, tenantID: String?, generation: Int64, actor: String,
        detail: [String: JSONValue] = [:]
    ) -> JournalEntry {
        var detail = detail
        detail["generation"] = .int(generation)
        return JournalEntry(
            tenantID: tenantID, mac: mac, actor: actor, action: action, outcome: .queued, detail: detail)
    }

    /// A tenant added.
    public static func tenantAdded(
        _ id: String, name: String, urlTemplate: String, allowBearer: Bool, macPrefixes: [String]? = nil,
        accounts: [String: String] = [:], vendorURLTemplates: [String: String] = [:], actor: String
    ) -> JournalEntry {
        var detail: [String: JSONValue] = [
            "name": .string(name), "url_template": .string(urlTemplate), "allow_bearer": .bool(allowBearer),
        ]
        if let macPrefixes { detail["mac_prefixes"] = .array(macPrefixes.map(JSONValue.string)) }
        if !accounts.isEmpty { detail["accounts"] = .object(accounts.mapValues(JSONValue.string)) }
        if !vendorURLTemplates.isEmpty {
            detail["vendor_url_templates"] = .object(vendorURLTemplates.mapValues(JSONValue.string))
        }
        return JournalEntry(tenantID: id, mac: nil, actor: actor, action: .tenantAdd, outcome: .ok, detail: detail)
    }

    /// A tenant changed; `detail` names what changed (never the secret itself).
    public static func tenantUpdated(_ id: String, detail: [String: JSONValue], actor: String) -> JournalEntry {
        JournalEntry(tenantID: id, mac: nil, actor: actor, action: .tenantUpdate, outcome: .ok, detail: detail)
    }

    /// A tenant removed, with the number of its devices queued for deregistration.
    public static func tenantRemoved(_ id: String, devicesDeregistering: Int, actor: String) -> JournalEntry {
        JournalEntry(
            tenantID: id, mac: nil, actor: actor, action: .tenantRemove, outcome: .ok,
            detail: ["devices_deregistering": .int(Int64(devicesDeregistering))])
    }

    /// One difference that reconcile found, and what it did about it.
    public static func reconcileFinding(_ finding: Reconciler.Finding, dryRun: Bool, actor: String) -> JournalEntry {
        var detail: [String: JSONValue] = [
            "kind": .string(finding.kind), "action": .string(finding.action.rawValue), "dry_run": .bool(dryRun),
        ]
        if let expected = finding.expected { detail["expected"] = .string(expected) }
        if let actual = finding.actual { detail["actual"] = .string(actual) }
        return JournalEntry(
            tenantID: finding.tenantID, mac: finding.mac.isEmpty ? nil : finding.mac, actor: actor,
            action: .reconcileFinding, outcome: finding.action, detail: detail)
    }

    /// A reconcile run.
    public static func reconcileRun(
        tenantID: String?, devicesChecked: Int, findings: Int, calls: Int, prune: Bool, dryRun: Bool, actor: String
    ) -> JournalEntry {
        JournalEntry(
            tenantID: tenantID, mac: nil, actor: actor, action: .reconcileRun, outcome: dryRun ? .dryRun : .ok,
            detail: [
                "devices_checked": .int(Int64(devicesChecked)), "findings": .int(Int64(findings)),
                "calls": .int(Int64(calls)), "prune": .bool(prune),
            ])
    }
}

extension JSONValue {
    /// A whole number.
    public static func int(_ value: Int64) -> JSONValue { .number(Double(value)) }
}
