/// How the delivery worker runs.
public struct DeliveryConfiguration: Sendable {
    /// Calls in flight at most (`PROVHOOK_REDIRECT_CONCURRENCY`).
    public var concurrency: Int
    /// MACs per list call at most.
    public var maxListSize: Int
    /// How long a claim lasts; longer than a call can take.
    public var lease: Duration
    /// Backoff and give-up age.
    public var retry: RetryPolicy
    /// Names this worker in the journal: `worker:<instance>`.
    public var instance: String
    /// The longest sleep when nothing is due; a safety net only, since commits wake the worker.
    public var idleWake: Duration
    /// `PROVHOOK_DRY_RUN`: nothing is sent; each call that would have been made is journaled as `dry_run`.
    public var isDryRun: Bool

    public init(
        concurrency: Int = 8, maxListSize: Int = 100, lease: Duration = .seconds(120),
        retry: RetryPolicy = RetryPolicy(),
        instance: String, idleWake: Duration = .seconds(60), isDryRun: Bool = false
    ) {
        self.concurrency = concurrency
        self.maxListSize = maxListSize
        self.lease = lease
        self.retry = retry
        self.instance = instance
        self.idleWake = idleWake
        self.isDryRun = isDryRun
    }
}
