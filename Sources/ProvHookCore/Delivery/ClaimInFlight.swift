import Synchronization

/// A claim made while the delivery loop goes on sending what it has queued: the loop takes its devices once it has
/// ended, and waits for it only when nothing is left to send. A claim that held the loop would hold every slot that
/// frees meanwhile; with lists of 100 the claim takes longer than a call, and the slots then stood idle.
final class ClaimInFlight: Sendable {
    /// The devices claimed, and whether the claim found fewer due devices than it asked for.
    typealias Claimed = (devices: [ClaimedDevice], exhausted: Bool)

    private struct State {
        var result: Result<Claimed, StoreError>?
        /// The loop, waiting for the result: there is one reader.
        var waiter: CheckedContinuation<Result<Claimed, StoreError>, Never>?
    }

    private let state = Mutex(State())

    private init() {}

    /// Starts `claim` in a task of its own.
    static func start(_ claim: @escaping @Sendable () async throws(StoreError) -> Claimed) -> ClaimInFlight {
        let inFlight = ClaimInFlight()
        Task {
            let result: Result<Claimed, StoreError>
            do throws(StoreError) {
                result = .success(try await claim())
            } catch {
                result = .failure(error)
            }
            inFlight.end(with: result)
        }
        return inFlight
    }

    private func end(with result: Result<Claimed, StoreError>) {
        let waiter = self.state.withLock { state in
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: result)
    }

    /// Whether the claim has ended, so that `result()` answers without waiting.
    var hasEnded: Bool { self.state.withLock { $0.result != nil } }

    /// The claim's result, once it has ended.
    func result() async -> Result<Claimed, StoreError> {
        await withCheckedContinuation { continuation in
            let result = self.state.withLock { state in
                if state.result == nil { state.waiter = continuation }
                return state.result
            }
            if let result { continuation.resume(returning: result) }
        }
    }
}
