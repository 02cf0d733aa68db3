import Foundation
import Logging
import PBXDirectory
import ServiceLifecycle

/// Runs the periodic syncs of the sources that have an interval (`source add|update --sync-interval`), in
/// `provhook serve`: a sync is claimed with a lease in the database, so that one process at a time runs it when
/// several share the database; its outcome is kept with the source (`source list`), in the journal and in
/// `/metrics`. A periodic sync never passes the mass-removal guard: that takes an operator's
/// `source sync --allow-mass-removal`.
public struct SyncScheduler: NamedService {
    let store: Store
    let planner: EventPlanner
    let metrics: ProvHookMetrics
    let factory: DirectoryCache.Factory
    /// How often the sources are checked for a due sync.
    let pollInterval: Duration
    let logger: Logger

    public init(
        store: Store, planner: EventPlanner, metrics: ProvHookMetrics,
        factory: @escaping DirectoryCache.Factory = DirectoryCache.standard, pollInterval: Duration = .seconds(15),
        logger: Logger
    ) {
        self.store = store
        self.planner = planner
        self.metrics = metrics
        self.factory = factory
        self.pollInterval = pollInterval
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    while let source = try await self.store.claimDueSync(lease: .seconds(3600)) {
                        await self.sync(source)
                    }
                } catch {
                    self.logger.error("cannot check for due syncs", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: self.pollInterval)
            }
        }
        self.logger.info("sync scheduler stopped")
    }

    private func sync(_ source: String) async {
        let started = ContinuousClock.now
        do {
            let (sync, client) = try await SourceSync.prepare(
                source: source, store: self.store, planner: self.planner, factory: self.factory, logger: self.logger)
            let result: Result<SourceSync.Summary, StoreError>
            do {
                result = .success(try await sync.run(dryRun: false, allowMassRemoval: false))
            } catch {
                result = .failure(error)
            }
            await client.shutdown()
            let summary = try result.get()
            self.metrics.sync(
                source: source, succeeded: summary.errors.isEmpty, changes: summary.registered + summary.deregistered,
                latency: ContinuousClock.now - started)
            self.logger.info(
                "periodic sync done",
                metadata: [
                    "source": "\(source)", "listed": "\(summary.listed)", "registered": "\(summary.registered)",
                    "deregistered": "\(summary.deregistered)", "errors": "\(summary.errors.count)",
                ])
        } catch {
            // The source could not be read at all: kept with it, so that `source list` and the journal say so.
            self.metrics.sync(source: source, succeeded: false, changes: 0, latency: ContinuousClock.now - started)
            self.logger.error("periodic sync failed", metadata: ["source": "\(source)", "error": "\(error)"])
            try? await self.store.finishSync(
                run: UUID(), source: source, tenantIDs: [], summary: [:], error: "\(error)", actor: "sync:\(source)")
        }
    }
}
