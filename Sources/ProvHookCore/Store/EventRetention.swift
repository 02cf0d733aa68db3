import Foundation
import Logging
import ServiceLifecycle

/// Deletes the idempotency keys of old webhook events every hour while `serve` runs (`PROVHOOK_EVENT_RETENTION_DAYS`).
public struct EventRetention: NamedService {
    let store: Store
    /// How long an event's key is kept.
    let retention: Duration
    let interval: Duration
    let logger: Logger

    public init(store: Store, retention: Duration, interval: Duration = .seconds(3600), logger: Logger) {
        self.store = store
        self.retention = retention
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let cutoff = Date() - Double(self.retention.components.seconds)
            do {
                let pruned = try await cancelWhenGracefulShutdown {
                    try await self.store.pruneEvents(receivedBefore: cutoff)
                }
                if pruned > 0 { self.logger.info("pruned old webhook events", metadata: ["events": "\(pruned)"]) }
            } catch is CancellationError {
                break
            } catch {
                self.logger.warning("cannot prune old webhook events; will retry", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
    }
}
