/// Thrown when an operation did not finish before its deadline.
public struct DeadlineExceeded: Error, Sendable, CustomStringConvertible {
    public var what: String
    public var limit: Duration

    public var description: String { "\(self.what) did not finish within \(self.limit)" }
}

/// Runs `operation`, cancelling it and throwing `DeadlineExceeded` if it takes longer than `limit`.
///
/// PostgresNIO can wait forever on an unreachable server; every start-up check and CLI call goes through here.
public func withDeadline<T: Sendable>(
    _ limit: Duration, _ what: String, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw DeadlineExceeded(what: what, limit: limit)
        }
        return value
    }
}
