import Synchronization

/// Thrown when an operation did not finish before its deadline.
public struct DeadlineExceeded: Error, Sendable, CustomStringConvertible {
    public var what: String
    public var limit: Duration

    public var description: String { "\(self.what) did not finish within \(self.limit)" }
}

/// Runs `operation`, cancelling it and throwing `DeadlineExceeded` if it takes longer than `limit`.
///
/// PostgresNIO can wait forever on an unreachable server; every start-up check and CLI call goes through here.
/// The caller gets its answer at the deadline even when `operation` ignores cancellation: a task group would wait
/// for its child, so the operation runs in a task of its own, which is cancelled and left to end on its own.
public func withDeadline<T: Sendable>(
    _ limit: Duration, _ what: String, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let answer = OnceAnswer<T>()
    let work = Task {
        do {
            answer.give(.success(try await operation()))
        } catch {
            answer.give(.failure(error))
        }
    }
    let timer = Task {
        try? await Task.sleep(for: limit)
        guard !Task.isCancelled else { return }
        answer.give(.failure(DeadlineExceeded(what: what, limit: limit)))
        work.cancel()
    }
    defer { timer.cancel() }
    return try await withTaskCancellationHandler {
        try await answer.value()
    } onCancel: {
        answer.give(.failure(CancellationError()))
        work.cancel()
    }
}

/// An answer given once, by whichever of several racers comes first, to one waiter.
final class OnceAnswer<T: Sendable>: Sendable {
    private struct State {
        var result: Result<T, any Error>?
        var waiter: CheckedContinuation<T, any Error>?
    }

    private let state = Mutex(State())

    /// Gives the answer; false if one was given before.
    @discardableResult
    func give(_ result: Result<T, any Error>) -> Bool {
        let (given, waiter) = self.state.withLock { state -> (Bool, CheckedContinuation<T, any Error>?) in
            guard state.result == nil else { return (false, nil) }
            state.result = result
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume(with: result)
        return given
    }

    /// Waits for the answer.
    func value() async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let ready = self.state.withLock { state -> Result<T, any Error>? in
                if let result = state.result { return result }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}
