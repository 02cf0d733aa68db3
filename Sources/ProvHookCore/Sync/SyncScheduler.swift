import Foundation
import Logging
import ServiceLifecycle

/// Runs the periodic syncs of the sources that have an interval (`source add|update --sync-interval`), in
/// `provhook serve`: a sync is claimed with a lease in the database, so that one process at a time runs it when
/// several share the database; its outcome is kept with the source (`source list`), in the journal and in
/// `/metrics`. A periodic sync never passes the mass-removal guard: that takes an operator's
/// `source sync --allow-mass-removal`.
///
/// Different sources' syncs run side by side, up to `concurrency` at once, so that a PBX that is slow or stops
/// answering holds back only its own source's sync (which its ``SourceSync/Limits`` end); one source's sync never
/// runs twice at once.
public struct SyncScheduler: NamedService {
    let store: Store
    let planner: EventPlanner
    let metrics: ProvHookMetrics
    let factory: DirectoryCache.Factory
    /// How often the sources are checked for a due sync.
    let pollInterval: Duration
    /// The most syncs run at once (`PROVHOOK_SYNC_CONCURRENCY`).
    let concurrency: Int
    let limits: SourceSync.Limits
    let logger: Logger

    /// - Parameters:
    ///   - concurrency: the most syncs of different sources run at once.
    ///   - limits: what bounds each sync.
    public init(
        store: Store, planner: EventPlanner, metrics: ProvHookMetrics,
        factory: @escaping DirectoryCache.Factory, pollInterval: Duration = .seconds(15),
        concurrency: Int = 4, limits: SourceSync.Limits = SourceSync.Limits(), logger: Logger
    ) {
        self.store = store
        self.planner = planner
        self.metrics = metrics
        self.factory = factory
        self.pollInterval = pollInterval
        self.concurrency = max(1, concurrency)
        self.limits = limits
        self.logger = logger
    }

    /// How long a claimed sync is another process's to leave alone: longer than a sync may run, so that a sync
    /// still running is never claimed again elsewhere.
    var lease: Duration { self.limits.maxDuration + .seconds(300) }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: String?.self) { group in
                // The sources whose sync runs in this process; a child returns its source when done, the timer nil.
                var running: Set<String> = []
                group.addTask { await self.tick() }
                while !Task.isCancelled {
                    do {
                        while running.count < self.concurrency,
                            let source = try await self.store.claimDueSync(lease: self.lease)
                        {
                            // A lease that ran out under a sync still running here (it cannot, as the lease
                            // outlasts the longest sync, but a second run of one source must never start).
                            guard running.insert(source).inserted else { continue }
                            group.addTask {
                                await self.sync(source)
                                return source
                            }
                        }
                    } catch {
                        self.logger.error("cannot check for due syncs", metadata: ["error": "\(error)"])
                    }
                    // Wait for a sync to end (its slot is free: check again at once) or for the next check.
                    guard let done = await group.next() else { break }
                    if let source = done {
                        running.remove(source)
                    } else {
                        group.addTask { await self.tick() }
                    }
                }
                group.cancelAll()
            }
        }
        self.logger.info("sync scheduler stopped")
    }

    /// Sleeps until the next check for due syncs.
    private func tick() async -> String? {
        try? await Task.sleep(for: self.pollInterval)
        return nil
    }

    private func sync(_ source: String) async {
        let started = ContinuousClock.now
        do {
            let (sync, client) = try await SourceSync.prepare(
                source: source, store: self.store, planner: self.planner, limits: self.limits, factory: self.factory,
                logger: self.logger)
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
                    "stopped": "\(summary.stopped?.rawValue ?? "-")",
                ])
        } catch {
            // The source could not be read at all: kept with it, so that `source list` and the journal say so.
            self.metrics.sync(source: source, succeeded: false, changes: 0, latency: ContinuousClock.now - started)
            self.logger.error("periodic sync failed", metadata: ["source": "\(source)", "error": "\(error)"])
            try? await self.store.finishSync(
                run: UUID(), source: source, tenantIDs: [], summary: [:], error: "\(error)",
                actor: JournalActor.sync(source: source).rawValue)
        }
    }
}
