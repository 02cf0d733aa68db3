/// A stand-in's requests held unanswered until a test lets them go, and counted as they arrive: a test can act while a
/// call is under way however slow the machine is, where a fixed latency would be a race it can lose.
///
/// A stand-in calls `arrive()` as a request comes in and `pass()` before it applies and answers it; a test calls
/// `start()`, waits for `received`, acts, then `release()`. A request still held when the stand-in stops is ended by
/// its stop's limit (`BackgroundServer.stop`).
public actor RequestHold {
    /// Requests that have arrived, answered or not.
    public private(set) var received = 0
    private var holding = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init() {}

    /// Every request from now on waits, unanswered and not yet applied, until `release()`.
    public func start() { self.holding = true }

    /// Lets every held request go on, and stops holding new ones.
    public func release() {
        self.holding = false
        let waiting = self.waiting
        self.waiting.removeAll()
        for request in waiting { request.resume() }
    }

    /// Counts a request as it arrives.
    public func arrive() { self.received += 1 }

    /// Returns at once unless requests are held; then when they are released.
    public func pass() async {
        guard self.holding else { return }
        await withCheckedContinuation { self.waiting.append($0) }
    }
}
