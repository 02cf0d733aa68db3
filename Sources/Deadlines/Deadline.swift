import NIOCore
import NIOPosix

/// Thrown when an operation did not finish before its deadline.
public struct DeadlineExceeded: Error, Sendable, CustomStringConvertible {
    public var what: String
    public var limit: Duration

    public init(what: String, limit: Duration) {
        self.what = what
        self.limit = limit
    }

    public var description: String { "\(self.what) did not finish within \(self.limit)" }
}

/// Runs `operation`, cancelling it and throwing `DeadlineExceeded` if it takes longer than `limit`.
///
/// PostgresNIO can wait forever on an unreachable server, and AsyncHTTPClient's own deadline ends when a response's
/// head arrives; database start-up checks, CLI calls and every call to the redirection service go through here.
/// The caller gets its answer at the deadline even when `operation` ignores cancellation: a task group would wait
/// for its child, so the operation runs in a task of its own, which is cancelled and left to end on its own.
public func withDeadline<T: Sendable>(
    _ limit: Duration, _ what: String, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let answer = OnceAnswer<T>()
    let work = Task {
        do {
            answer.give(.success(try await operation()))
        } catch {
            answer.give(.failure(error))
        }
    }
    let timer = scheduleTimer(in: limit) {
        answer.give(.failure(DeadlineExceeded(what: what, limit: limit)))
        work.cancel()
    }
    defer { timer.cancel() }
    return try await withTaskCancellationHandler {
        try await answer.value()
    } onCancel: {
        answer.give(.failure(CancellationError()))
        work.cancel()
    }
}

/// Waits for `task` to finish, at most `limit`, and answers whether it finished.
///
/// Awaiting `task.value` inside a task group is not bounded: a group waits for all its children before it returns,
/// and a child awaiting another task's value does not give up when cancelled. This returns at the deadline even when
/// `task` never finishes; the task itself is left running.
public func waitForTask<Success, Failure>(_ task: Task<Success, Failure>, atMost limit: Duration) async -> Bool {
    let answer = OnceAnswer<Bool>()
    let timer = scheduleTimer(in: limit) {
        answer.give(.success(false))
    }
    Task {
        _ = await task.result
        timer.cancel()
        answer.give(.success(true))
    }
    return (try? await answer.value()) ?? false
}

/// Runs `body` once `delay` has passed, on an event loop of NIO's shared group; cancelling the answer removes it.
///
/// Every deadline and idle limit in provhook is such a timer rather than a task that sleeps. A sleeping task, and
/// waking it to cancel it, cost two thread wake-ups (a sync reads each of a Kazoo PBX's new devices under a deadline;
/// ingest at concurrency 1 spent half of `serve`'s CPU in the kernel's scheduling), and a cancelled sleep's runtime
/// timer stayed queued, holding memory, until it was due. A cancelled scheduled task is removed at once.
@discardableResult
public func scheduleTimer(in delay: Duration, _ body: @escaping @Sendable () -> Void) -> Scheduled<Void> {
    MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: TimeAmount(delay), body)
}
