import Logging
import SnomRedirect

/// The delivery worker and what it shares with the rest of the process (its wake signal and the service's health),
/// wired in one place for `provhook serve` and `provhook reconcile --apply`.
public struct Delivery: Sendable {
    /// The loop; a `Service` for `serve`, or drained directly by reconcile.
    public let worker: DeliveryWorker
    /// Wakes the worker when this process queues work.
    public let signal: WorkSignal
    /// What the worker learned of the service: credentials refused, upstream failing.
    public let health: ServiceHealth

    /// - Parameter listenURL: where to LISTEN for other processes' wake-ups; nil for a worker that only drains.
    /// - Parameter account: the redirection account whose devices the worker applies, with `redirect`.
    public init(
        store: Store, account: String = RedirectAccount.defaultName, redirect: any RedirectService,
        configuration: DeliveryConfiguration, metrics: ProvHookMetrics, listenURL: DatabaseURL?, logger: Logger
    ) {
        self.signal = WorkSignal()
        self.health = ServiceHealth(metrics: metrics, account: account)
        self.worker = DeliveryWorker(
            store: store, account: account, redirect: redirect, configuration: configuration, signal: self.signal,
            metrics: metrics,
            health: self.health, listenURL: listenURL, logger: logger)
    }
}
