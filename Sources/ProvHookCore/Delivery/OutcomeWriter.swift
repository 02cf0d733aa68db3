import ProvisioningModel
import Synchronization

/// Writes calls' outcomes, those of calls answered together in one statement and one COMMIT.
///
/// While a write is in flight, the outcomes of the calls answered meanwhile wait and go together into the next
/// write, as `GroupCommit` does for webhooks: at the service's limit a worker's calls are answered many at a time,
/// and a COMMIT each (a disk flush each) bounded the drain and took the database from ingest. A write alone, as at
/// low load, starts at once: nothing ever waits for a batch to fill. The caller that leads a write does it on its
/// own task, then hands the turn to the first caller that waited. A write holds at most one call per call slot.
///
/// Unlike `GroupCommit`, the calls written together succeed or fail together: a write that cannot be made (the
/// database away past the claims' lease) leaves every one of them to be repeated, as it would each alone.
final class OutcomeWriter: Sendable {
    /// Writes outcomes; answers the positions of those that were applied, or nil if nothing was written.
    typealias Write = @Sendable ([DeliveryOutcome]) async -> Set<Int>?

    private enum Turn {
        case answered(Set<String>?)
        case lead
    }

    private struct Waiter {
        let outcomes: [DeliveryOutcome]
        let continuation: CheckedContinuation<Turn, Never>
    }

    private struct State {
        var writing = false
        var waiting: [Waiter] = []
    }

    private let state = Mutex(State())
    private let write: Write

    init(write: @escaping Write) {
        self.write = write
    }

    /// The callers waiting for the next write.
    var waiting: Int { self.state.withLock { $0.waiting.count } }

    /// Writes `outcomes`, with those of any calls answered meanwhile. Answers the MACs of `outcomes` whose outcome
    /// was applied (the others were superseded, or their claim had passed on), or nil if nothing was written.
    func record(_ outcomes: [DeliveryOutcome]) async -> Set<String>? {
        let leadsAtOnce = self.state.withLock { state in
            guard !state.writing else { return false }
            state.writing = true
            return true
        }
        if !leadsAtOnce {
            let turn = await withCheckedContinuation { (continuation: CheckedContinuation<Turn, Never>) in
                let leads = self.state.withLock { state in
                    // The write in flight may have ended since the check above.
                    guard state.writing else {
                        state.writing = true
                        return true
                    }
                    state.waiting.append(Waiter(outcomes: outcomes, continuation: continuation))
                    return false
                }
                if leads { continuation.resume(returning: .lead) }
            }
            if case .answered(let applied) = turn { return applied }
        }
        // This caller leads: its own outcomes and every waiting caller's, in one write.
        let joined = self.state.withLock { state in
            defer { state.waiting = [] }
            return state.waiting
        }
        let all = outcomes + joined.flatMap(\.outcomes)
        let applied = await self.write(all)
        // Each caller is answered for its own outcomes, by position: one MAC may be in two calls.
        func answer(_ positions: Range<Int>) -> Set<String>? {
            applied.map { applied in Set(positions.filter(applied.contains).map { all[$0].device.mac.canonical }) }
        }
        var start = outcomes.count
        for waiter in joined {
            let end = start + waiter.outcomes.count
            waiter.continuation.resume(returning: .answered(answer(start..<end)))
            start = end
        }
        let next = self.state.withLock { state -> Waiter? in
            guard !state.waiting.isEmpty else {
                state.writing = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.continuation.resume(returning: .lead)
        return answer(0..<outcomes.count)
    }
}
