import Synchronization

/// An answer given once, by whichever of several racers comes first, to one waiter.
public final class OnceAnswer<T: Sendable>: Sendable {
    private struct State {
        var result: Result<T, any Error>?
        var waiter: CheckedContinuation<T, any Error>?
    }

    private let state = Mutex(State())

    public init() {}

    /// Gives the answer; false if one was given before.
    @discardableResult
    public func give(_ result: Result<T, any Error>) -> Bool {
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
    public func value() async throws -> T {
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
