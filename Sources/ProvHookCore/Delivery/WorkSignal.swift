import Synchronization

/// Wakes the delivery loop when work is queued: by this process's webhooks directly, and by other processes
/// through PostgreSQL's NOTIFY. A wake that arrives while nobody waits is kept for the next wait.
public final class WorkSignal: Sendable {
    private struct State {
        var isPending = false
        var isStopped = false
        var waiter: CheckedContinuation<Void, Never>?
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

    /// Returns on a wake, on `stop()`, or after `limit`, whichever comes first.
    public func wait(upTo limit: Duration) async {
        let ready = self.state.withLock { state -> Bool in
            guard state.isPending || state.isStopped else { return false }
            state.isPending = false
            return true
        }
        guard !ready else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForWake() }
            group.addTask { try? await Task.sleep(for: limit) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForWake() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.state.withLock { state -> Bool in
                    if state.isPending || state.isStopped || Task.isCancelled {
                        state.isPending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
