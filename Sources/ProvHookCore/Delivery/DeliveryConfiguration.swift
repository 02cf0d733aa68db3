/// How the delivery worker runs.
public struct DeliveryConfiguration: Sendable {
    /// Calls in flight at most (`PROVHOOK_REDIRECT_CONCURRENCY`).
    public var concurrency: Int
    /// MACs per list call at most.
    public var maxListSize: Int
    /// How long a claim lasts. While it lasts no other worker may take the device, so it must outlast any call:
    /// `init` makes it at least `callDeadline` plus `leaseMargin`, whatever is asked.
    public var lease: Duration
    /// The longest a call to the service may take, answer included (`RedirectConfiguration.callDeadline`).
    public var callDeadline: Duration
    /// Backoff and give-up age.
    public var retry: RetryPolicy
    /// Names this worker in the journal: `worker:<instance>`.
    public var instance: String
    /// The longest sleep when nothing is due; a safety net only, since commits wake the worker.
    public var idleWake: Duration
    /// `PROVHOOK_DRY_RUN`: nothing is sent; each call that would have been made is journaled as `dry_run`.
    public var isDryRun: Bool

    /// Time kept free in every lease for claiming, waiting for a call slot's bookkeeping and writing the outcome.
    public static let leaseMargin = Duration.seconds(30)

    public init(
        concurrency: Int = 8, maxListSize: Int = 100, lease: Duration = .seconds(120),
        callDeadline: Duration = .seconds(40), retry: RetryPolicy = RetryPolicy(),
        instance: String, idleWake: Duration = .seconds(60), isDryRun: Bool = false
    ) {
        self.concurrency = concurrency
        self.maxListSize = maxListSize
        self.callDeadline = callDeadline
        self.lease = max(lease, callDeadline + Self.leaseMargin)
        self.retry = retry
        self.instance = instance
        self.idleWake = idleWake
        self.isDryRun = isDryRun
    }

    /// Whether a call for a claim made at `claimedAt` may still be sent at `now`: only if it ends, at its deadline,
    /// before the claim could pass to another worker. A claim that waited too long for a slot is given back instead.
    public func maySend(claimedAt: ContinuousClock.Instant, now: ContinuousClock.Instant = .now) -> Bool {
        now + self.callDeadline + .seconds(5) < claimedAt + self.lease
    }
}
