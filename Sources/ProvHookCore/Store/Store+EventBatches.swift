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

    /// What links this event to others of a batch, whose order between them must then be kept: its MAC and its
    /// device id (a tenant's).
    var keys: [String] {
        (self.event.primaryMAC.map { ["mac:" + $0.canonical] } ?? [])
            + (self.event.deviceID.map { ["id:\(self.tenantID):\($0)"] } ?? [])
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
    /// Events that share no MAC and no device id do not depend on each other's order: such a batch is split into
    /// `streams` (each in the batch's order, on its own connection), so that the database works on two at once. A
    /// batch with an event of more than one change stays one stream: the MAC it moves from is known only to the
    /// database.
    ///
    /// Each event has its own result: an unreachable database fails each event of the chunks it reached, as it would
    /// have one by one.
    public func ingestAll(
        _ events: [BatchEvent], planner: EventPlanner, streams: Int = Store.batchStreams
    ) async -> [Result<IngestResult, StoreError>] {
        let split = Self.streams(of: events, planner: planner, count: streams)
        guard split.count > 1 else { return await self.ingestInOrder(events, planner: planner) }
        var results = [Result<IngestResult, StoreError>?](repeating: nil, count: events.count)
        await withTaskGroup(of: ([Int], [Result<IngestResult, StoreError>]).self) { group in
            for stream in split {
                group.addTask { (stream, await self.ingestInOrder(stream.map { events[$0] }, planner: planner)) }
            }
            for await (indices, answers) in group {
                for (index, answer) in zip(indices, answers) { results[index] = answer }
            }
        }
        return results.map { $0 ?? .failure(.conflict("the event was not recorded")) }
    }

    /// How many connections a batch is recorded on at most: two keep a database of two cores busy while leaving
    /// the rest of the pool to webhooks.
    public static let batchStreams = 2

    /// The indices of `events` in at most `count` streams of about equal size, where events that share a MAC or a
    /// device id (directly or through another event) are in one stream, in their order; one stream for a small
    /// batch or one with an event of more than one change.
    static func streams(of events: [BatchEvent], planner: EventPlanner, count: Int) -> [[Int]] {
        guard count > 1, events.count > GroupCommit.maxBatch,
            events.allSatisfy({ planner.singleChange($0.event) != nil })
        else { return [Array(events.indices)] }
        // Union-find over the events, joined by each key they share.
        var parent = Array(events.indices)
        func root(_ index: Int) -> Int {
            var index = index
            while parent[index] != index {
                parent[index] = parent[parent[index]]
                index = parent[index]
            }
            return index
        }
        var owner: [String: Int] = [:]
        for (index, item) in events.enumerated() {
            for key in item.keys {
                if let other = owner[key] {
                    let (a, b) = (root(index), root(other))
                    if a != b { parent[a] = b }
                } else {
                    owner[key] = index
                }
            }
        }
        var streams = [[Int]](repeating: [], count: count)
        var streamOf: [Int: Int] = [:]
        for index in events.indices {
            let group = root(index)
            let stream =
                streamOf[group] ?? streams.indices.min { streams[$0].count < streams[$1].count } ?? 0
            streamOf[group] = stream
            streams[stream].append(index)
        }
        return streams.filter { !$0.isEmpty }
    }

    /// `ingestAll` on one connection at a time, in the events' order.
    private func ingestInOrder(
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
                case .success(let outcome):
                    if let recorded = outcome.recorded(entry.change) {
                        results[entry.index] = .success(recorded)
                    } else {
                        again.append(entry.index)
                    }
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
            if chunk.count == GroupCommit.maxBatch || item.keys.contains(where: keys.contains) { await flush() }
            keys.formUnion(item.keys)
            let arguments = Self.oneCallArguments(
                change, type: item.event.type, tenantID: item.tenantID, eventID: item.eventID,
                payloadText: String(decoding: item.payload, as: UTF8.self), actor: item.actor, source: item.source)
            chunk.append((index, change, arguments))
        }
        await flush()
        return results.map { $0 ?? .failure(.conflict("the event was not recorded")) }
    }
}
