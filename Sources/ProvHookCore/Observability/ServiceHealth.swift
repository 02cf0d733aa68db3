import Foundation
import Synchronization

/// What `/readyz` reports about the redirection service for one account, as its worker last saw it.
public final class ServiceHealth: Sendable {
    public struct Snapshot: Sendable, Hashable {
        /// Set when the service answered 401 or 403; cleared by the next answer that is not.
        public var credentialsRejectedSince: Date?
        /// Set when calls fail for transport reasons (refused, timeout, 5xx, 429); cleared by the next answer.
        public var upstreamFailingSince: Date?
        /// The last transport failure, without secrets.
        public var lastUpstreamError: String?
    }

    private let state = Mutex(Snapshot())
    private let metrics: ProvHookMetrics
    /// The redirection account whose calls this health follows.
    public let account: String

    public init(metrics: ProvHookMetrics, account: String = RedirectAccount.defaultName) {
        self.metrics = metrics
        self.account = account
        metrics.credentialsRejected(false, account: account)
        metrics.upstreamDown(false, account: account)
    }

    public var snapshot: Snapshot { self.state.withLock { $0 } }

    /// The service answered (with `Ok` or an `Error:` code).
    public func recordAnswer() {
        let changed = self.state.withLock { state -> Bool in
            defer { state = Snapshot() }
            return state != Snapshot()
        }
        if changed {
            self.metrics.credentialsRejected(false, account: self.account)
            self.metrics.upstreamDown(false, account: self.account)
        }
    }

    /// The service refused our credentials.
    public func recordAuthenticationFailure() {
        self.state.withLock { state in
            if state.credentialsRejectedSince == nil { state.credentialsRejectedSince = Date() }
        }
        self.metrics.credentialsRejected(true, account: self.account)
    }

    /// A call failed for a transport reason.
    public func recordTransportFailure(_ description: String) {
        self.state.withLock { state in
            if state.upstreamFailingSince == nil { state.upstreamFailingSince = Date() }
            state.lastUpstreamError = description
        }
        self.metrics.upstreamDown(true, account: self.account)
    }
}
