import ProvisioningModel

/// One event of a batch that provhook itself records (a sync's page, an import's rows): no credentials to check.
public struct BatchEvent: Sendable {
    public var event: DeviceEvent
    public var eventID: String
    public var tenantID: String
    /// What is kept as the event's payload.
    public var payload: [UInt8]
    public var actor: String
    /// The source the event came from (its devices are kept with it); nil for an import.
    public var source: String?

    public init(
        _ event: DeviceEvent, eventID: String, tenantID: String, payload: [UInt8], actor: String, source: String?
    ) {
        (self.event, self.eventID, self.tenantID) = (event, eventID, tenantID)
        (self.payload, self.actor, self.source) = (payload, actor, source)
    }
}

extension Store {
    /// Records `events` as `ingest` would one by one, in that order, but up to `GroupCommit.maxBatch` of them in one
    /// call of `record_events`: one round trip and one COMMIT for a chunk, instead of one each. Onboarding a fleet
    /// (sync, import) is then bound by the database's work, not by its round trips and commits.
    ///
    /// The planner, the procedure, the idempotency keys and the journal rows are those of a webhook's event. An event
    /// of more than one change (a device that moved to another MAC) is recorded alone at its place, ending the chunk
    /// before it; so is one whose MAC or device id the chunk already has. An event the call sends to the full
    /// transaction (a refusal it must explain, a tenant with MAC ranges, a collision) is recorded right after its
    /// chunk: no other event of the chunk shares its MAC or device id.
    ///
    /// Each event has its own result: an unreachable database fails each event of the chunks it reached, as it would
    /// have one by one.
    public func ingestAll(
        _ events: [BatchEvent], planner: EventPlanner
    ) async -> [Result<IngestResult, StoreError>] {
        var results = [Result<IngestResult, StoreError>?](repeating: nil, count: events.count)
        var chunk: [(index: Int, change: DeviceChange, arguments: String)] = []
        var keys: Set<String> = []

        func alone(_ index: Int, fastPath: Bool) async {
            let item = events[index]
            do {
                let result = try await self.ingest(
                    item.event, tenantID: item.tenantID, eventID: item.eventID, payload: item.payload,
                    actor: item.actor, planner: planner, source: item.source, credentialsVersion: nil,
                    fastPath: fastPath)
                // Nothing is compared without a version; this is never nil.
                results[index] = result.map { .success($0) } ?? .failure(.conflict("the event was not recorded"))
            } catch {
                results[index] = .failure(error)
            }
        }
        func flush() async {
            guard !chunk.isEmpty else { return }
            let outcomes = await GroupCommit.run(chunk.map(\.arguments), deadline: self.deadline, store: self)
            var again: [Int] = []
            for (entry, outcome) in zip(chunk, outcomes) {
                switch outcome {
                case .success(.accepted): results[entry.index] = .success(.accepted(queued: !entry.change.isSkipped))
                case .success(.duplicate): results[entry.index] = .success(.duplicate)
                case .success(.stale), .success(.alone): again.append(entry.index)
                case .failure(let error): results[entry.index] = .failure(StoreError.from("recording events", error))
                }
            }
            chunk.removeAll(keepingCapacity: true)
            keys.removeAll(keepingCapacity: true)
            for index in again { await alone(index, fastPath: false) }
        }

        for (index, item) in events.enumerated() {
            guard let change = planner.singleChange(item.event) else {
                await flush()
                await alone(index, fastPath: false)
                continue
            }
            let own = ["mac:" + change.mac.canonical] + (change.deviceID.map { ["id:" + $0] } ?? [])
            if chunk.count == GroupCommit.maxBatch || own.contains(where: keys.contains) { await flush() }
            keys.formUnion(own)
            let arguments = Self.oneCallArguments(
                change, type: item.event.type, tenantID: item.tenantID, eventID: item.eventID,
                payloadText: String(decoding: item.payload, as: UTF8.self), actor: item.actor, source: item.source)
            chunk.append((index, change, arguments))
        }
        await flush()
        return results.map { $0 ?? .failure(.conflict("the event was not recorded")) }
    }
}
