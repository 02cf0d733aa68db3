import Synchronization

/// The worker's call slots: how many calls may be at the redirection service at once.
final class CallSlots: Sendable {
    private struct State {
        var free: Int
        var acquirers: [CheckedContinuation<Void, Never>] = []
        var watchers: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>
    let capacity: Int

    init(_ capacity: Int) {
        self.capacity = capacity
        self.state = Mutex(State(free: capacity))
    }

    /// Slots free now.
    var free: Int { self.state.withLock { $0.free } }

    /// Takes a slot, waiting for one to be released if none is free.
    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = self.state.withLock { state -> Bool in
                guard state.free > 0 else {
                    state.acquirers.append(continuation)
                    return false
                }
                state.free -= 1
                return true
            }
            if granted { continuation.resume() }
        }
    }

    /// Gives a slot back: to the first waiting `acquire`, else to the pool; wakes every `waitForRelease`.
    func release() {
        let (acquirer, watchers) = self.state.withLock {
            state -> (CheckedContinuation<Void, Never>?, [CheckedContinuation<Void, Never>]) in
            let watchers = state.watchers
            state.watchers = []
            if state.acquirers.isEmpty {
                state.free += 1
                return (nil, watchers)
            }
            return (state.acquirers.removeFirst(), watchers)
        }
        acquirer?.resume()
        for watcher in watchers { watcher.resume() }
    }

    /// Returns at the next `release()`, or at once if every slot is free.
    func waitForRelease() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = self.state.withLock { state -> Bool in
                guard state.free < self.capacity || !state.acquirers.isEmpty else { return true }
                state.watchers.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }
}
