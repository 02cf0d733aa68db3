import Foundation
import Logging
import PostgresNIO
import ProvisioningModel
import ServiceLifecycle
import Synchronization

/// The service an account's worker calls, and how to close it once the worker stops.
public struct AccountService: Sendable {
    public var service: any ProvisioningService
    /// Closes what the service holds (its HTTP connection pool); nil when it holds nothing.
    public var close: (@Sendable () async -> Void)?

    public init(service: any ProvisioningService, close: (@Sendable () async -> Void)? = nil) {
        self.service = service
        self.close = close
    }

    /// A client with a connection pool of its own and the function that closes that pool, as a vendor client's
    /// `withOwnPool` makes them.
    public init(_ made: (client: some ProvisioningService, close: @Sendable () async -> Void)) {
        self.init(service: made.client, close: made.close)
    }
}

/// Makes the service an account's worker calls.
public typealias AccountServiceFactory = @Sendable (AccountCredentials) throws -> AccountService

extension AccountService {
    /// The usual factory: `default` calls `defaultService`; every other account gets the client of its kind from
    /// `registry`, with an HTTP connection pool of its own. An account whose secret cannot be had
    /// (`AccountCredentials.unusable`) gets no client, never the installation's credentials.
    public static func factory(
        default defaultService: any ProvisioningService, registry: ServiceRegistry
    ) -> AccountServiceFactory {
        { account in
            if account.isDefault { return AccountService(service: defaultService) }
            if let reason = account.unusable { throw StoreError.secretKey(reason) }
            return try registry.factory(for: account.kind)(account)
        }
    }
}

/// One delivery worker per redirection account, each with its own service client (so its own HTTP connection pool),
/// concurrency limit and health: an account whose credentials are refused, or whose endpoint is down, holds back only
/// its own tenants' work.
///
/// The accounts are read from the database at start and every `refreshInterval`; a worker starts for an account
/// added, restarts for one whose settings changed, and stops for one removed. It is the only thing `serve` runs for
/// delivery: `default` is an account like the others, with the `PROVHOOK_REDIRECT_*` settings.
public final class AccountDelivery: NamedService {
    let store: Store
    let configuration: DeliveryConfiguration
    let metrics: ProvHookMetrics
    let listenURL: DatabaseURL?
    let makeService: AccountServiceFactory
    let refreshInterval: Duration
    let logger: Logger
    /// Woken by this process's webhooks and by NOTIFY; relays to every account's worker.
    public let signal: WorkSignal
    private let running = Mutex<[String: Running]>([:])
    private let healths = Mutex<[String: ServiceHealth]>([:])

    private struct Running: Sendable {
        var credentials: AccountCredentials
        var worker: DeliveryWorker
    }

    public init(
        store: Store, configuration: DeliveryConfiguration, metrics: ProvHookMetrics, listenURL: DatabaseURL?,
        refreshInterval: Duration = .seconds(10), logger: Logger, makeService: @escaping AccountServiceFactory
    ) {
        self.store = store
        self.configuration = configuration
        self.metrics = metrics
        self.listenURL = listenURL
        self.makeService = makeService
        self.refreshInterval = refreshInterval
        self.logger = logger
        self.signal = WorkSignal()
        // `default` is reported from the start, so that `/readyz` and the metrics name it before the first refresh.
        self.healths.withLock { $0[RedirectAccount.defaultName] = ServiceHealth(metrics: metrics) }
    }

    /// Each running account's health, by name, for `/readyz`.
    public var health: [String: ServiceHealth.Snapshot] {
        self.healths.withLock { $0.mapValues(\.snapshot) }
    }

    public func run() async throws {
        let stopped = WorkSignal()
        await withGracefulShutdownHandler {
            // Unstructured, so that it can be cancelled alone: the workers' calls in flight must finish.
            let listener = self.listenURL.map { url in
                Task {
                    await Self.listenForNotifications(
                        url, signal: self.signal, stopped: stopped, logger: self.logger)
                }
            }
            await withDiscardingTaskGroup { group in
                while !stopped.isStopped && !Task.isCancelled {
                    await self.refresh(in: &group)
                    await stopped.wait(upTo: self.refreshInterval)
                }
                listener?.cancel()
                self.stopAll()
            }
        } onGracefulShutdown: {
            stopped.stop()
            self.stopAll()
        }
        self.logger.info("delivery stopped")
    }

    /// Reads the accounts and starts, restarts or stops workers to match.
    private func refresh(in group: inout DiscardingTaskGroup) async {
        let accounts: [AccountCredentials]
        do {
            accounts = try await self.store.accountCredentials()
        } catch {
            self.logger.error("cannot read the redirection accounts", metadata: ["error": "\(error)"])
            return
        }
        let wanted = Dictionary(accounts.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let stale = self.running.withLock { running in
            running.filter { name, current in wanted[name].map { $0 != current.credentials } ?? true }
        }
        for (name, current) in stale {
            self.logger.info("stopping the delivery worker of an account", metadata: ["account": "\(name)"])
            current.worker.signal.stop()
            self.signal.stopRelaying(to: current.worker.signal)
            self.running.withLock { $0[name] = nil }
            if wanted[name] == nil { self.healths.withLock { $0[name] = nil } }
        }
        for credentials in accounts where self.running.withLock({ $0[credentials.name] == nil }) {
            let made: AccountService
            do {
                made = try self.makeService(credentials)
            } catch {
                self.logger.error(
                    "cannot make the redirection client of an account; its devices wait",
                    metadata: ["account": "\(credentials.name)", "error": "\(error)"])
                continue
            }
            let health = self.healths.withLock { healths in
                if let health = healths[credentials.name] { return health }
                let health = ServiceHealth(metrics: self.metrics, account: credentials.name)
                healths[credentials.name] = health
                return health
            }
            var configuration = self.configuration
            if let concurrency = credentials.concurrency { configuration.concurrency = concurrency }
            let signal = WorkSignal()
            let worker = DeliveryWorker(
                store: self.store, account: credentials.name, redirect: made.service, configuration: configuration,
                signal: signal, metrics: self.metrics, health: health, wakeAll: self.signal, logger: self.logger)
            self.signal.relay(to: signal)
            self.running.withLock {
                $0[credentials.name] = Running(credentials: credentials, worker: worker)
            }
            self.logger.debug(
                "starting the delivery worker of an account",
                metadata: ["account": "\(credentials.name)", "concurrency": "\(configuration.concurrency)"])
            group.addTask {
                await worker.deliver()
                await made.close?()
                self.logger.info("delivery worker stopped", metadata: ["account": "\(credentials.name)"])
            }
        }
    }

    private func stopAll() {
        for running in self.running.withLock({ Array($0.values) }) { running.worker.signal.stop() }
    }

    /// LISTENs for NOTIFY from other processes (and the CLI), waking `signal` for each, until `stopped` is stopped
    /// or the task is cancelled; reconnects after failures.
    private static func listenForNotifications(
        _ url: DatabaseURL, signal: WorkSignal, stopped: WorkSignal, logger: Logger
    ) async {
        var delay = Duration.seconds(1)
        while !Task.isCancelled && !stopped.isStopped {
            do {
                try await Database.withConnection(url, timeout: .seconds(5), logger: logger) { connection in
                    try await connection.listen(on: Store.wakeChannel) { notifications in
                        delay = .seconds(1)
                        // Something may have been queued while we were not listening.
                        signal.wake()
                        for try await _ in notifications { signal.wake() }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.debug("LISTEN connection lost; reconnecting", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(30))
        }
    }

    /// Applies the due work of every redirection account here, each with its own service and all at once, until
    /// nothing is due or `limit` passes; returns the calls made. `reconcile --apply` uses it, so that its fixes are
    /// applied even when no `serve` runs. It claims like any worker, so it is safe while `serve` runs too.
    public static func drain(
        store: Store, makeService: AccountServiceFactory, configuration: DeliveryConfiguration, limit: Duration,
        logger: Logger
    ) async throws -> Int {
        let accounts = try await store.accountCredentials()
        var made: [(AccountCredentials, AccountService)] = []
        for account in accounts {
            do {
                made.append((account, try makeService(account)))
            } catch {
                logger.error(
                    "cannot make the redirection client of an account; its work waits",
                    metadata: ["account": "\(account.name)", "error": "\(error)"])
            }
        }
        let metrics = ProvHookMetrics()
        return await withTaskGroup(of: Int.self) { group in
            for (account, service) in made {
                var configuration = configuration
                if let concurrency = account.concurrency { configuration.concurrency = concurrency }
                group.addTask {
                    let worker = DeliveryWorker(
                        store: store, account: account.name, redirect: service.service, configuration: configuration,
                        signal: WorkSignal(), metrics: metrics,
                        health: ServiceHealth(metrics: metrics, account: account.name), logger: logger)
                    let calls = await worker.drain(limit: limit)
                    await service.close?()
                    return calls
                }
            }
            return await group.reduce(0, +)
        }
    }
}
