import Synchronization

/// Waits for `task` to finish, at most `limit`, and answers whether it finished.
///
/// Awaiting `task.value` inside a task group is not bounded: a group waits for all its children before it returns,
/// and a child awaiting another task's value does not give up when cancelled. This returns at the deadline even when
/// `task` never finishes; the task itself is left running.
public func waitForTask<Success, Failure>(_ task: Task<Success, Failure>, atMost limit: Duration) async -> Bool {
    let slot = ContinuationSlot()
    return await withCheckedContinuation { continuation in
        slot.set(continuation)
        let timer = Task {
            try? await Task.sleep(for: limit)
            slot.resume(returning: false)
        }
        Task {
            _ = await task.result
            timer.cancel()
            slot.resume(returning: true)
        }
    }
}

/// A continuation resumed once, by whichever of two racers comes first.
private final class ContinuationSlot: Sendable {
    private let continuation = Mutex<CheckedContinuation<Bool, Never>?>(nil)

    func set(_ continuation: CheckedContinuation<Bool, Never>) {
        self.continuation.withLock { $0 = continuation }
    }

    func resume(returning value: Bool) {
        let continuation = self.continuation.withLock { slot in
            defer { slot = nil }
            return slot
        }
        continuation?.resume(returning: value)
    }
}
