import Deadlines
import NIOCore
import PostgresNIO
import Synchronization

/// Group commit for one-MAC events: the events that arrive while earlier ones are being recorded wait, and go
/// together into the next call of `record_events` (sql/0015_group_commit.sql), one round trip and one COMMIT for
/// all of them. Each caller is answered only after the COMMIT that holds its event.
///
/// An event alone, as at low load, is recorded at once: a batch never waits to fill. At most `maxRunning` batches
/// are in flight; the caller that starts a batch records it on its own task, then hands the turn to the first
/// waiting caller, so that no caller's answer waits for another's batch.
///
/// Each event runs in its own subtransaction, so one the database refuses (or that collides with a concurrent
/// event) leaves the others committed; its caller is told to record it alone, the path that explains a refusal.
///
/// An event's deadline (the store's) covers its whole wait: one still queued when it passes is answered with
/// `DeadlineExceeded` (a 503) and never sent, and a batch waits for its connection only as long as its oldest event,
/// its leader, has left. Without this, an event queued behind a batch that waited out its deadline would then wait
/// out its own, and be answered after twice the deadline.
public final class GroupCommit: Sendable {
    /// The most events in one call that may be asked for. PostgreSQL tracks 64 subtransactions per backend before
    /// snapshots that see it get slower; a batch stays below that.
    public static let maxBatch = 63
    /// The most events in one call unless asked otherwise.
    public static let defaultMaxBatch = 32
    /// The most batches in flight at once. One leaves the database idle while a batch's COMMIT waits for the disk;
    /// more spread the events thinner. Measured on two cores at concurrency 8 and 32, 1 and 4 were both slower.
    static let maxRunning = 2

    /// What became of one event in a batch.
    enum Outcome: Sendable, Equatable {
        /// Committed, with the other events of its batch.
        case accepted
        /// Committed, but its device waits for no call: no account serves its vendor (sql/0029).
        case skipped
        /// Its event id was recorded before.
        case duplicate
        /// Nothing was written: the tenant's credentials changed since the caller read them.
        case stale
        /// Nothing was written; record the event alone (it needs the full transaction, collided with a concurrent
        /// event, or was refused and deserves its precise rejection).
        case alone
    }

    private enum Turn {
        case answered(Result<Outcome, any Error>)
        case lead
    }

    private struct Waiter {
        let id: UInt64
        let event: String
        let continuation: CheckedContinuation<Turn, Never>
        /// Answers the waiter with `DeadlineExceeded` if it is still queued at its deadline; cancelled once it is not.
        let expiry: Scheduled<Void>
    }

    private struct State {
        var nextID: UInt64 = 0
        var waiting: [Waiter] = []
        var running = 0
        var largestBatch = 0
    }

    private let state = Mutex(State())
    /// The most events in one call, from 1 (each event alone) to `maxBatch`.
    let batchLimit: Int

    init(maxBatch: Int) {
        self.batchLimit = min(max(maxBatch, 1), Self.maxBatch)
    }

    /// The most events recorded in one call so far.
    var largestBatch: Int { self.state.withLock { $0.largestBatch } }

    /// Records `event` (the JSON text of `ingest_event`'s arguments, see `Store.ingestInOneCall`) with whichever
    /// events come together with it.
    func record(_ event: String, store: Store) async throws -> Outcome {
        let deadline = ContinuousClock.now + store.deadline
        // The common case at low load leads at once, without suspending: a continuation resumed at once would still
        // go through the executor, a thread wake-up per event.
        if self.state.withLock({ Self.takeSlot(&$0) }) {
            return try await self.lead(with: event, deadline: deadline, store: store)
        }
        let turn = await withCheckedContinuation { (continuation: CheckedContinuation<Turn, Never>) in
            let leads = self.state.withLock { state in
                // A batch may have ended since the check above.
                if Self.takeSlot(&state) { return true }
                let id = state.nextID
                state.nextID &+= 1
                let expiry = scheduleTimer(in: store.deadline) {
                    self.expire(id, limit: store.deadline)
                }
                state.waiting.append(
                    Waiter(id: id, event: event, continuation: continuation, expiry: expiry))
                return false
            }
            if leads { continuation.resume(returning: .lead) }
        }
        switch turn {
        case .answered(let result):
            return try result.get()
        case .lead:
            return try await self.lead(with: event, deadline: deadline, store: store)
        }
    }

    /// Answers a waiter whose deadline passed while it was still queued; nothing if a batch took it first.
    private func expire(_ id: UInt64, limit: Duration) {
        let expired = self.state.withLock { state -> Waiter? in
            guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiting.remove(at: index)
        }
        expired?.continuation.resume(
            returning: .answered(
                .failure(DeadlineExceeded(what: "waiting behind earlier events for the database", limit: limit))))
    }

    /// Takes one of the `maxRunning` slots if one is free.
    private static func takeSlot(_ state: inout State) -> Bool {
        guard state.running < Self.maxRunning else { return false }
        state.running += 1
        return true
    }

    /// Records a batch of `event` and the events waiting, answers the others, and passes the turn on.
    private func lead(with event: String, deadline: ContinuousClock.Instant, store: Store) async throws -> Outcome {
        let others = self.state.withLock { state in
            let count = min(self.batchLimit - 1, state.waiting.count)
            state.largestBatch = max(state.largestBatch, count + 1)
            defer { state.waiting.removeFirst(count) }
            return Array(state.waiting.prefix(count))
        }
        for waiter in others { waiter.expiry.cancel() }
        // The leader is the batch's oldest event (the queue is first in, first out), so its deadline is the earliest.
        let remaining = max(deadline - ContinuousClock.now, .milliseconds(1))
        let results = await Self.run([event] + others.map(\.event), deadline: remaining, store: store)
        let next = self.state.withLock { state -> Waiter? in
            guard !state.waiting.isEmpty else {
                state.running -= 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.expiry.cancel()
        for (waiter, result) in zip(others, results.dropFirst()) {
            waiter.continuation.resume(returning: .answered(result))
        }
        next?.continuation.resume(returning: .lead)
        return try results[0].get()
    }

    /// One call of `record_events`, and each event's result; the connection is waited for at most `deadline`.
    static func run(
        _ events: [String], deadline: Duration, store: Store
    ) async -> [Result<Outcome, any Error>] {
        let logger = store.logger
        do {
            // The short overrun whichever store records: sync and import record through here with the main store,
            // whose default is the long one, and a call of 63 events takes milliseconds.
            let outcomes = try await store.withLease(
                "recording events", deadline: deadline, overrun: Store.recordingOverrun
            ) { connection in
                try await connection.rows("CALL record_events(\(events), NULL)", as: [String].self, logger: logger)
                    .first
            }
            guard let outcomes, outcomes.count == events.count else {
                throw DatabaseError(context: "recording events", reason: "record_events answered for other events")
            }
            return outcomes.map { outcome in
                switch outcome {
                case "accepted": .success(.accepted)
                case "skipped": .success(.skipped)
                case "duplicate": .success(.duplicate)
                case "stale": .success(.stale)
                default: .success(.alone)
                }
            }
        } catch {
            // A refusal of the call as a whole (or a leader's task cancelled before its lease began) wrote nothing:
            // each event is recorded alone. An unreachable database fails every event, as it would have alone.
            let refusedWhole = error is CancellationError || DatabaseError("recording events", error).sqlState != nil
            return Array(repeating: refusedWhole ? .success(.alone) : .failure(error), count: events.count)
        }
    }
}

extension GroupCommit.Outcome {
    /// What this outcome of `change`'s event is for its caller; nil when nothing was written (`stale`, `alone`).
    /// The one place that says what `skipped` means: accepted, and no call queued.
    func recorded(_ change: DeviceChange) -> IngestResult? {
        switch self {
        case .accepted: .accepted(queued: !change.isSkipped)
        case .skipped: .accepted(queued: false)
        case .duplicate: .duplicate
        case .stale, .alone: nil
        }
    }
}
