import Deadlines
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// provhook's PostgreSQL store. All SQL goes through PostgresNIO's bound interpolation.
///
/// The operations are grouped in extensions, one file each: `Store+Tenants`, `Store+Accounts` (with
/// `Store+AccountPasswords`), `Store+Sources`, `Store+Secrets` (sealing and binding secrets), `Store+Devices`,
/// `Store+DevicePINs`, `Store+DeviceCare` (`device show`, `retry`, `forget`), `Store+Events` (ingest),
/// `Store+Lookups`, `Store+Sync`, `Store+Delivery` (the worker's claims and outcomes), `Store+Reconcile`,
/// `Store+Journal`, `Store+Seals` and `Store+Status` (`status` and `/metrics`).
public struct Store: Sendable {
    /// The pool; it must be running (`client.run()`) as a service.
    public let client: PostgresClient
    let logger: Logger
    /// The longest any operation may take. PostgresClient waits for a connection forever while the database is
    /// down; past this deadline the operation fails instead, so that webhooks answer 503 rather than hang.
    let deadline: Duration
    /// Seals and opens tenants' webhook secrets; nil for the commands that never touch one.
    let secrets: SecretKeyring?
    /// Records the one-MAC events that arrive together in one call and one COMMIT; shared by copies of this store.
    let groupCommit: GroupCommit
    /// How long an operation's body may run past its deadline before its connection is presumed dead and closed.
    private(set) var overrun = Store.stalledBodyLimit

    /// - Parameter ingestBatch: the most one-MAC events recorded in one call and one COMMIT; 1 commits each alone.
    public init(
        client: PostgresClient, logger: Logger, deadline: Duration = .seconds(10), secrets: SecretKeyring? = nil,
        ingestBatch: Int = GroupCommit.defaultMaxBatch
    ) {
        self.client = client
        self.groupCommit = GroupCommit(maxBatch: ingestBatch)
        self.secrets = secrets
        self.logger = logger.forPostgres
        self.deadline = deadline
    }

    /// Runs `body` in one transaction, committed when it returns and rolled back when it throws.
    func transaction<T: Sendable>(
        _ context: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(StoreError) -> T {
        do {
            return try await self.rawTransaction(context, body)
        } catch {
            throw StoreError.from(context, error)
        }
    }

    /// `transaction` without the error translation, for callers that inspect the body's own errors.
    func rawTransaction<T: Sendable>(
        _ context: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let logger = self.logger
        return try await self.withLease(context) { connection in
            try await connection.withTransaction(logger: logger) { connection in try await body(connection) }
        }
    }

    /// Runs one query outside a transaction and collects its rows.
    func rows<each Column: PostgresDecodable & Sendable>(
        _ context: String, _ query: PostgresQuery, as types: (repeat each Column).Type
    ) async throws(StoreError) -> [(repeat each Column)] {
        let logger = self.logger
        do {
            return try await self.withLease(context) { connection in
                try await connection.rows(query, as: (repeat each Column).self, logger: logger)
            }
        } catch {
            throw StoreError.from(context, error)
        }
    }

    /// How long a body may run past its lease's deadline before its connection is presumed dead: the server's
    /// `statement_timeout` and `idle_in_transaction_session_timeout` (30 s, see `DatabaseURL`) plus a margin.
    public static let stalledBodyLimit = Duration.seconds(40)

    /// This store for the webhook listener: a connection is given up `recordingOverrun` past the deadline of any
    /// operation, not `stalledBodyLimit`. What a webhook asks of the database (its credentials, its event) takes
    /// milliseconds, and the webhook must be answered within its deadline whatever the database does; the commands and
    /// workers keep the long limit for the long operations (a sync's page, a journal verification).
    public var answeringWebhooks: Store {
        var copy = self
        copy.overrun = Self.recordingOverrun
        return copy
    }

    /// How long recording events may run past the events' deadline. A webhook's whole answer is bounded by its
    /// deadline plus this: `record_events` takes milliseconds, and its lock waits end at the deadline (`lock_timeout`),
    /// so a call still running a second later is on a connection that stopped answering (a silent partition, a
    /// primary that died mid-call), which is closed rather than waited on for `stalledBodyLimit`.
    public static let recordingOverrun = Duration.seconds(1)

    /// Leases a connection and runs `body` on it. Only the lease has a deadline: PostgresClient waits for a
    /// connection forever while the database is down, and past the deadline the caller answers 503 instead.
    ///
    /// Either `body` runs to its end or it never starts: once it has a connection it is never cancelled from here,
    /// so a transaction always ends in COMMIT or ROLLBACK (the server's `statement_timeout` and
    /// `idle_in_transaction_session_timeout` bound it; see `DatabaseURL`). If the deadline passes first, the lease
    /// is abandoned and the caller returns at once, even if the pool never answers the abandoned request. A body that
    /// runs past the deadline by `overrun` (by default the store's: `stalledBodyLimit`, or `recordingOverrun` for
    /// `answeringWebhooks`) is on a dead connection: its caller gets an
    /// error, and the connection is closed, which ends the body and gives the pool its slot back for a new connection.
    /// (PostgresNIO sets no TCP keepalive or user timeout on its sockets, so nothing else would notice a connection
    /// whose packets vanish.)
    ///
    /// `deadline` is what is left of the caller's own (an event that waited behind others has less); nil: the store's.
    func withLease<T: Sendable>(
        _ context: String, deadline: Duration? = nil, overrun: Duration? = nil,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let overrun = overrun ?? self.overrun
        let client = self.client
        let gate = LeaseGate<T>()
        let lease = Task {
            do {
                let value = try await client.withConnection { connection in
                    guard gate.begin(on: connection) else { throw CancellationError() }
                    return try await body(connection)
                }
                gate.finish(.success(value))
            } catch {
                gate.finish(.failure(error))
            }
        }
        // The deadline and the stalled-body check: timers, not sleeping tasks (see `scheduleTimer`).
        let deadline = deadline ?? self.deadline
        let logger = self.logger
        let stalled = Mutex<Scheduled<Void>?>(nil)
        let timer = scheduleTimer(in: deadline) {
            if gate.abandon(DeadlineExceeded(what: "waiting for a database connection (\(context))", limit: deadline)) {
                lease.cancel()
                return
            }
            // The body runs. A body still running `overrun` later is on a connection that died without PostgresNIO
            // noticing (seen when the server restarts mid-transaction, and in a partition that drops packets), and
            // would wait forever. Its caller is answered with an error, and the connection is closed.
            let check = scheduleTimer(in: overrun) {
                if gate.fail(
                    DeadlineExceeded(
                        what: "the database answering (\(context)); the connection is presumed dead",
                        limit: deadline + overrun))
                {
                    logger.error(
                        "a database connection stopped answering; it is closed and its operation abandoned",
                        metadata: ["operation": "\(context)"])
                    lease.cancel()
                    gate.closeConnection()
                }
            }
            stalled.withLock { $0 = check }
        }
        defer {
            timer.cancel()
            stalled.withLock { $0?.cancel() }
        }
        return try await withTaskCancellationHandler {
            try await gate.result()
        } onCancel: {
            if gate.abandon(CancellationError()) { lease.cancel() }
        }
    }

    /// Checks that the database answers, within `limit`; used by `/readyz`.
    public func ping(limit: Duration = .seconds(2)) async -> Bool {
        let client = self.client
        let logger = self.logger
        do {
            return try await withDeadline(limit, "database ping") {
                try await client.query("SELECT 1", logger: logger)
                return true
            }
        } catch {
            return false
        }
    }
}

extension PostgresConnection {
    /// Runs a statement and collects its rows.
    func rows<each Column: PostgresDecodable & Sendable>(
        _ query: PostgresQuery, as types: (repeat each Column).Type, logger: Logger
    ) async throws -> [(repeat each Column)] {
        let sequence = try await self.query(query, logger: logger)
        var result: [(repeat each Column)] = []
        for try await row in sequence.decode((repeat each Column).self) { result.append(row) }
        return result
    }
}

/// The meeting point of a lease, its deadline and its caller. The body begins only if the lease was not
/// abandoned first, and the caller is answered exactly once.
private final class LeaseGate<T: Sendable>: Sendable {
    private enum Phase {
        case waiting, running, abandoned
    }

    private let phase = Mutex(Phase.waiting)
    private let answer = OnceAnswer<T>()
    /// The connection the body runs on, so that a body that stalls can have it closed.
    private let connection = Mutex<PostgresConnection?>(nil)

    /// Called with a connection in hand: whether the body may run.
    func begin(on connection: PostgresConnection) -> Bool {
        self.phase.withLock { phase in
            guard phase == .waiting else { return false }
            phase = .running
            self.connection.withLock { $0 = connection }
            return true
        }
    }

    /// Closes the body's connection: its statement fails at once, and the pool replaces the connection.
    func closeConnection() {
        guard let connection = self.connection.withLock({ $0 }) else { return }
        let closing: EventLoopFuture<Void> = connection.close()
        closing.whenComplete { _ in }
    }

    /// Gives up on a lease whose body has not begun, answering the caller with `error`; false once it has begun.
    @discardableResult
    func abandon(_ error: any Error) -> Bool {
        let abandoned = self.phase.withLock { phase in
            guard phase == .waiting else { return false }
            phase = .abandoned
            return true
        }
        if abandoned { self.answer.give(.failure(error)) }
        return abandoned
    }

    /// Answers the caller with `error` even though the body runs; false if it has already ended.
    @discardableResult
    func fail(_ error: any Error) -> Bool {
        self.answer.give(.failure(error))
    }

    /// The lease's own end.
    func finish(_ result: Result<T, any Error>) {
        self.answer.give(result)
    }

    /// Waits for the outcome.
    func result() async throws -> T {
        try await self.answer.value()
    }
}

extension Store {
    /// The keyring, or the error that says how to give one.
    func requireSecrets() throws(StoreError) -> SecretKeyring {
        guard let secrets = self.secrets else {
            throw .secretKey(
                "PROVHOOK_SECRET_KEY_FILE is required: it encrypts the tenants' webhook secrets; \(Settings.secretKeyHowTo)"
            )
        }
        return secrets
    }
}
