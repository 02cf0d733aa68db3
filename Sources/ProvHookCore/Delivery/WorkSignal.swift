import Deadlines
import NIOCore
import Synchronization

/// Wakes the delivery loop when work is queued: by this process's webhooks directly, and by other processes
/// through PostgreSQL's NOTIFY. A wake that arrives while nobody waits is kept for the next wait.
public final class WorkSignal: Sendable {
    private struct State {
        var isPending = false
        var isStopped = false
        var waiter: CheckedContinuation<Void, Never>?
        /// Which wait the waiter belongs to, so that a limit that fires late ends only its own wait.
        var wait: UInt64 = 0
        /// The last wait its limit or its task's cancellation ended, perhaps before it began to wait.
        var ended: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Signals woken with this one: each account's worker follows the process's signal.
    private let followers = Mutex<[WorkSignal]>([])

    public init() {}

    /// Wakes `follower` too whenever this signal is woken.
    public func relay(to follower: WorkSignal) {
        self.followers.withLock { $0.append(follower) }
    }

    /// Stops relaying to `follower`.
    public func stopRelaying(to follower: WorkSignal) {
        self.followers.withLock { $0.removeAll { $0 === follower } }
    }

    /// Wakes the waiter, or the next one.
    public func wake() {
        for follower in self.followers.withLock({ $0 }) { follower.wake() }
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.isPending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Stops waiting for good; used at shutdown.
    public func stop() {
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.isStopped = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Whether `stop()` was called.
    public var isStopped: Bool { self.state.withLock { $0.isStopped } }

    /// Whether a wake arrived since the last wait, clearing it: for a loop that is busy and looks without waiting.
    public func consumeWake() -> Bool {
        self.state.withLock { state in
            defer { state.isPending = false }
            return state.isPending
        }
    }

    /// Returns on a wake, on `stop()`, on its task's cancellation, or after `limit`, whichever comes first.
    public func wait(upTo limit: Duration) async {
        let wait = self.state.withLock { state -> UInt64? in
            guard !state.isPending, !state.isStopped else {
                state.isPending = false
                return nil
            }
            state.wait &+= 1
            return state.wait
        }
        guard let wait else { return }
        // The delivery loop waits after every round of calls: a timer, not a sleep (see `scheduleTimer`).
        let timer = scheduleTimer(in: limit) {
            self.end(wait)
        }
        defer { timer.cancel() }
        await self.waitForWake(wait)
    }

    /// Ends wait `wait`, if it is still the one waiting.
    private func end(_ wait: UInt64) {
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.wait == wait else { return nil }
            state.ended = wait
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    private func waitForWake(_ wait: UInt64) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.state.withLock { state -> Bool in
                    // A wake, a stop or the limit may have come between the check above and this.
                    if state.isPending || state.isStopped || Task.isCancelled || state.ended == wait {
                        state.isPending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            self.end(wait)
        }
    }
}
