import Foundation
import Synchronization

/// Whether events can be recorded, as the intake last saw it: `/readyz` reports it, so that a database that answers
/// a ping but refuses writes (a standby reached after a failover, read-only; a full disk) makes provhook unready.
///
/// A failure counts until an event is recorded again, or for `window` at most: readiness must come back without
/// traffic, since a load balancer sends none to an unready instance. If the database still refuses, the next event
/// fails again and readiness drops again at once.
public final class RecordingHealth: Sendable {
    /// The last failure to record an event, while it counts.
    public struct Failure: Sendable, Hashable {
        /// When the run of failures began.
        public var since: Date
        /// The last failure's reason, as the store describes it (never a secret).
        public var reason: String
    }

    private struct State {
        var failure: Failure?
        var lastFailureAt: ContinuousClock.Instant?
    }

    /// How long a failure counts without another event.
    public let window: Duration
    private let state = Mutex(State())
    /// Whether `state` holds a failure: read without the lock by `recorded`, which every event calls.
    private let hasFailure = Atomic(false)

    /// - Parameter window: short enough that `/readyz` is ready again within 5 s of the database's recovery when no
    ///   event comes to clear the failure.
    public init(window: Duration = .seconds(4)) {
        self.window = window
    }

    /// The failure that makes provhook unready now, if any.
    public var failure: Failure? {
        self.state.withLock { state in
            guard let failure = state.failure, let at = state.lastFailureAt else { return nil }
            return ContinuousClock.now - at < self.window ? failure : nil
        }
    }

    /// An event could not be recorded because of the database.
    func failed(_ reason: String) {
        self.state.withLock { state in
            let since = state.failure?.since ?? Date()
            state.failure = Failure(since: since, reason: String(reason.prefix(300)))
            state.lastFailureAt = .now
            self.hasFailure.store(true, ordering: .relaxed)
        }
    }

    /// An event was recorded (or refused for its content, which also took a working database).
    func recorded() {
        // The common case, nothing to clear, takes no lock: this runs for every event recorded.
        guard self.hasFailure.load(ordering: .relaxed) else { return }
        self.state.withLock { state in
            state = State()
            self.hasFailure.store(false, ordering: .relaxed)
        }
    }
}
