import Deadlines
import NIOCore
import Synchronization
import Testing

/// An operation that never ends and ignores cancellation, as a call on a connection whose packets vanish does;
/// `release()` lets it end once the test is over.
final class Stuck: Sendable {
    private let waiter = Mutex<CheckedContinuation<Void, Never>?>(nil)

    func wait() async {
        await withCheckedContinuation { continuation in self.waiter.withLock { $0 = continuation } }
    }

    func release() { self.waiter.withLock { $0.take() }?.resume() }
}

@Suite("withDeadline: its caller is answered by the deadline, whatever the operation does")
struct DeadlineTests {
    @Test("an operation that ends in time gives its value, and its error as it is")
    func inTime() async throws {
        #expect(try await withDeadline(.seconds(60), "adding") { 1 + 1 } == 2)
        struct Refused: Error {}
        await #expect(throws: Refused.self) { try await withDeadline(.seconds(60), "refusing") { throw Refused() } }
    }

    @Test("an operation that ignores cancellation is left at the deadline, which names it", .timeLimit(.minutes(1)))
    func stuckOperation() async throws {
        let stuck = Stuck()
        defer { stuck.release() }
        let error = await #expect(throws: DeadlineExceeded.self) {
            try await withDeadline(.milliseconds(50), "waiting for the PBX") { await stuck.wait() }
        }
        #expect(error?.what == "waiting for the PBX")
        #expect(error?.limit == .milliseconds(50))
    }

    @Test("a cancelled caller is answered at once, though the operation ignores it", .timeLimit(.minutes(1)))
    func cancelledCaller() async throws {
        let stuck = Stuck()
        defer { stuck.release() }
        let caller = Task { try await withDeadline(.seconds(3600), "waiting for the PBX") { await stuck.wait() } }
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }
    }
}

@Suite("waitForTask: how long a stop waits for a task")
struct WaitForTaskTests {
    @Test(
        "a task that ends in time is reported finished; one that never ends is given up at the limit",
        .timeLimit(.minutes(1)))
    func finishedOrGivenUp() async {
        #expect(await waitForTask(Task { 1 }, atMost: .seconds(60)))
        let stuck = Stuck()
        defer { stuck.release() }
        let never = Task { await stuck.wait() }
        #expect(await !waitForTask(never, atMost: .milliseconds(50)))
    }
}

@Suite("scheduleTimer: the timer every deadline is")
struct ScheduleTimerTests {
    @Test("a timer runs once it is due; a cancelled one never runs", .timeLimit(.minutes(1)))
    func runsOrIsRemoved() async throws {
        let ran = Mutex<[String]>([])
        let cancelled = scheduleTimer(in: .milliseconds(20)) { ran.withLock { $0.append("cancelled") } }
        cancelled.cancel()
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            scheduleTimer(in: .milliseconds(60)) {
                ran.withLock { $0.append("due") }
                done.resume()
            }
        }
        // Past the cancelled timer's time as well: it is gone, not late.
        try await Task.sleep(for: .milliseconds(100))
        #expect(ran.withLock { $0 } == ["due"])
    }
}
