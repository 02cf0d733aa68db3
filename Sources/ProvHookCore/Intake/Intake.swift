/// The one entry point through which events are recorded: a webhook's verdict (the native contract's or a
/// platform's), a lookup's answer, a sync's or an import's event. It hands each to the store, which commits the
/// plan and its journal rows in one transaction, then counts the outcome and wakes the workers it concerns.
public struct Intake: Sendable {
    let store: Store
    let planner: EventPlanner
    /// Where outcomes are counted; nil for sync and import, which count in their own summaries.
    let metrics: ProvHookMetrics?
    /// Wakes the delivery worker when an event queued a call.
    let deliverySignal: WorkSignal?
    /// Wakes the lookup worker when an event waits for a lookup.
    let lookupSignal: WorkSignal?
    /// Told whether each event could be recorded, for `/readyz`; nil for sync and import.
    let recording: RecordingHealth?

    public init(
        store: Store, planner: EventPlanner, metrics: ProvHookMetrics? = nil, deliverySignal: WorkSignal? = nil,
        lookupSignal: WorkSignal? = nil, recording: RecordingHealth? = nil
    ) {
        self.recording = recording
        self.store = store
        self.planner = planner
        self.metrics = metrics
        self.deliverySignal = deliverySignal
        self.lookupSignal = lookupSignal
    }

    /// Who vouched for an event, and so what must still hold when it is recorded.
    public enum Authority: Sendable, Hashable {
        /// provhook itself (a lookup, a sync, an import): nothing to check.
        case provhook
        /// A tenant's credentials of `version`; `cached` when read from the cache rather than just now (a refusal
        /// is journaled under cached credentials only while they are current).
        case tenant(version: Int64, cached: Bool)
        /// The credentials of source `name` of `version`.
        case source(name: String, version: Int64)
    }

    /// Records `verdict` for tenant `tenantID` and says what became of it; nil when the credentials of `authority`
    /// changed before it could be recorded, having written nothing: authenticate the request again.
    ///
    /// - Parameters:
    ///   - payload: what is kept as the event's payload.
    ///   - source: the source the event came from (its devices are kept with it, and it labels the metrics); nil for
    ///     the native contract.
    public func record(
        _ verdict: SourceVerdict, tenantID: String, payload: [UInt8], actor: String, source: String? = nil,
        authority: Authority = .provhook
    ) async throws(StoreError) -> IntakeOutcome? {
        do {
            let outcome = try await self.recordOnce(
                verdict, tenantID: tenantID, payload: payload, actor: actor, source: source, authority: authority)
            self.recording?.recorded()
            return outcome
        } catch {
            if case .database(let failure) = error { self.recording?.failed(failure.description) }
            throw error
        }
    }

    private func recordOnce(
        _ verdict: SourceVerdict, tenantID: String, payload: [UInt8], actor: String, source: String?,
        authority: Authority
    ) async throws(StoreError) -> IntakeOutcome? {
        let outcome: IntakeOutcome?
        let type: DeviceEventType?
        switch verdict {
        case .unauthenticated:
            preconditionFailure("an unauthenticated request is refused before the intake")
        case .ignored(let reason):
            return self.ignored(reason, source: source)
        case .rejected(let rejection, let eventType, let eventID):
            type = eventType
            var cachedVersion: Int64?
            var sourceVersion: (name: String, version: Int64)?
            switch authority {
            case .provhook: break
            case .tenant(let version, let cached): cachedVersion = cached ? version : nil
            case .source(let name, let version): sourceVersion = (name, version)
            }
            let journaled = try await self.store.journalRejection(
                rejection, type: eventType, mac: nil, tenantID: tenantID, eventID: eventID, actor: actor,
                cachedCredentials: cachedVersion, source: sourceVersion)
            outcome = journaled ? .refused(rejection) : nil
        case .lookup(let eventType, let deviceID, let account, let eventID):
            guard case .source(let name, let version) = authority else {
                preconditionFailure("only a source's event waits for a lookup in its PBX API")
            }
            type = eventType
            let queued = try await self.store.queueLookup(
                PendingLookup(
                    source: name, tenantID: tenantID, eventID: eventID, type: eventType, deviceID: deviceID,
                    accountID: account, actor: actor), sourceCredentials: version)
            switch queued {
            case .accepted?:
                self.lookupSignal?.wake()
                // Accepted, but no call waits until the lookup is resolved.
                outcome = .accepted(queued: false)
            case let result?: outcome = IntakeOutcome(result)
            case nil: outcome = nil
            }
        case .event(let event, let eventID):
            type = event.type
            outcome = try await self.ingest(
                event, eventID: eventID, tenantID: tenantID, payload: payload, actor: actor, source: source,
                authority: authority
            ).map(IntakeOutcome.init)
        }
        guard let outcome else { return nil }
        if case .accepted(true) = outcome { self.deliverySignal?.wake() }
        self.count(outcome, type: type, source: source)
        return outcome
    }

    /// Records a batch of provhook's own events (a sync's page, an import's rows) as `record` would one by one, in
    /// that order, in as few commits as `Store.ingestAll` can; each event has its own outcome.
    public func recordAll(_ events: [BatchEvent]) async -> [Result<IntakeOutcome, StoreError>] {
        let results = await self.store.ingestAll(events, planner: self.planner)
        var queued = false
        let outcomes = zip(events, results).map { item, result in
            result.map { ingested in
                let outcome = IntakeOutcome(ingested)
                if case .accepted(true) = outcome { queued = true }
                self.count(outcome, type: item.event.type, source: item.source)
                return outcome
            }
        }
        if queued { self.deliverySignal?.wake() }
        return outcomes
    }

    /// An event that is not this provhook's business: counted, never journaled.
    public func ignored(_ reason: String, source: String?) -> IntakeOutcome {
        let outcome = IntakeOutcome.ignored(reason: reason)
        self.count(outcome, type: nil, source: source)
        return outcome
    }

    private func ingest(
        _ event: DeviceEvent, eventID: String, tenantID: String, payload: [UInt8], actor: String, source: String?,
        authority: Authority
    ) async throws(StoreError) -> IngestResult? {
        switch authority {
        case .provhook:
            return try await self.store.ingest(
                event, tenantID: tenantID, eventID: eventID, payload: payload, actor: actor, planner: self.planner,
                source: source)
        case .tenant(let version, _):
            return try await self.store.ingest(
                event, tenantID: tenantID, eventID: eventID, payload: payload, actor: actor, planner: self.planner,
                cachedCredentials: version)
        case .source(let name, let version):
            // A device deleted on the PBX drops the lookups still waiting for it.
            if case .removed(_, let deviceID?) = event {
                try await self.store.supersedeLookups(tenantID: tenantID, deviceID: deviceID, actor: actor)
            }
            return try await self.store.ingest(
                event, tenantID: tenantID, eventID: eventID, payload: payload, actor: actor, planner: self.planner,
                source: name, sourceCredentials: version)
        }
    }

    /// The one place an outcome is counted.
    private func count(_ outcome: IntakeOutcome, type: DeviceEventType?, source: String?) {
        guard let metrics = self.metrics else { return }
        let label = source ?? "native"
        switch outcome {
        case .ignored:
            metrics.event(type: "other", outcome: outcome.name, source: label)
        case .refused(let rejection):
            metrics.rejection(reason: rejection.code.rawValue, source: label)
            metrics.event(type: type?.rawValue ?? "unknown", outcome: outcome.name, source: label)
        case .accepted, .duplicate:
            metrics.event(type: type?.rawValue ?? "unknown", outcome: outcome.name, source: label)
        }
    }
}
