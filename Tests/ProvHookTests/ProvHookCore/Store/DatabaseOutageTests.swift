import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PostgresNIO
import ProvHookCore
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import StandInSupport
import Testing

@Suite("Database outage")
struct DatabaseOutageTests {
    @Test(
        "the database stopped → the webhook answers 503, never 2xx; provhook recovers without a restart; nothing acknowledged is lost"
    )
    func databaseStopped() async throws {
        try await Self.withProvHook(databaseDeadline: .seconds(1)) { cluster, standIn, provhook, secret, kazooToken in
            var acknowledged: [String] = []
            func add(_ mac: String) async throws -> Int {
                let answer = try await provhook.send(
                    tenant: "acme", body: #"{"type":"device.added","mac":"\#(mac)"}"#, secret: secret)
                if (200..<300).contains(answer.status) { acknowledged.append(mac) }
                return answer.status
            }
            // With a 1 s deadline a loaded machine may answer the very first event 503 while the pool connects;
            // a PBX sends it again, and so does the test. Only 2xx answers count as acknowledged.
            try await eventually("the first event accepted while the database is up") {
                try await add("000413000001") == 202
            }

            try cluster.stop()
            for index in 2...6 {
                let status = try await add(String(format: "0004130000%02X", index))
                #expect(status == 503, "while the database is down the answer is 503, never 2xx")
            }
            #expect(try await provhook.get("/readyz").status == 503)
            // Kazoo drops every HTTP error and retries only transport errors: it gets a closed connection, no
            // answer.
            let kazoo = "http://127.0.0.1:\(provhook.port)/v1/sources/kazoo-acme/events?token=\(kazooToken)"
            let closedAt = ContinuousClock.now
            do {
                let answer = try await SourceRig.send(
                    kazoo, body: KazooSourceTests.v1FormCreated,
                    contentType: "application/x-www-form-urlencoded",
                    headers: [("X-Hook-ID", "7d3f1e2c9b8a4d6e5f0a1b2c3d4e5f60")])
                Issue.record("Kazoo got an answer it drops: \(answer.status)")
            } catch {
                #expect(
                    ContinuousClock.now - closedAt < .seconds(15),
                    "closed once the database failed, not timed out: \(error)")
            }

            try cluster.start()
            // An operation caught on a connection that died with the server is abandoned only after
            // Store.stalledBodyLimit (40 s): recovery is bounded by that, not by a quiet machine's speed.
            let recovery = Store.stalledBodyLimit + .seconds(50)
            try await eventually("accepting again", within: recovery) { try await add("000413000010") == 202 }
            try await eventually("ready again", within: recovery) {
                try await provhook.get("/readyz").status == 200
            }
            for mac in acknowledged {
                try await eventually("\(mac) applied", within: recovery) {
                    await standIn.state.registration(mac) != nil
                }
            }
            #expect(acknowledged.count >= 2)
            // Kazoo's retry, once the database is back, is recorded.
            let retried = try await SourceRig.send(
                kazoo, body: KazooSourceTests.v1FormCreated, contentType: "application/x-www-form-urlencoded",
                headers: [("X-Hook-ID", "7d3f1e2c9b8a4d6e5f0a1b2c3d4e5f60")])
            #expect(retried.status == 200 && retried.body.contains("accepted"), "\(retried.body)")
        }
    }

    @Test(
        "the database stops after a Kazoo event's source was read: Kazoo gets a closed connection, never an answer it drops"
    )
    func kazooRecordingFails() async throws {
        let logger = Logger(label: "test")
        // A deadline longer than the test's wait for the lock, so that what ends the recording is the stop.
        try await Self.withProvHook(databaseDeadline: .seconds(60)) { cluster, _, provhook, _, kazooToken in
            let kazoo = "http://127.0.0.1:\(provhook.port)/v1/sources/kazoo-acme/events?token=\(kazooToken)"
            @Sendable func send() async -> Result<(status: Int, body: String), any Error> {
                do {
                    // Longer than anything provhook may take to fail, so that a 503 it sends is seen as one.
                    var request = HTTPClientRequest(url: kazoo)
                    request.method = .POST
                    request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                    request.headers.add(name: "X-Hook-ID", value: "7d3f1e2c9b8a4d6e5f0a1b2c3d4e5f60")
                    request.body = .bytes(ByteBuffer(string: KazooSourceTests.v1FormCreated))
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(180))
                    let body = try await response.body.collect(upTo: 1 << 20)
                    return .success((Int(response.status.code), String(buffer: body)))
                } catch {
                    return .failure(error)
                }
            }
            // The source is read and the event recorded while the database is up.
            try await eventually("a Kazoo event recorded") {
                if case .success(let answer) = await send() { return answer.body.contains("accepted") }
                return false
            }
            try await Database.withConnection(cluster.url, logger: logger) { connection in
                // The next event's source is read (sources and tenants are free), and its recording waits for
                // webhook_events; the test sees it waiting, then stops the database under it.
                try await connection.query("BEGIN", logger: logger)
                try await connection.query("LOCK TABLE webhook_events IN ACCESS EXCLUSIVE MODE", logger: logger)
                async let outcome = send()
                try await eventually("the event's recording waits for the lock") {
                    // The recording's own statement, not the retention's pruning, which may wait there too.
                    // pg_stat_activity is read afresh: within a transaction it is a snapshot otherwise.
                    try await connection.query("SELECT pg_stat_clear_snapshot()", logger: logger)
                    let rows = try await connection.query(
                        """
                        SELECT count(*)::int FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                        WHERE NOT l.granted AND l.relation = 'webhook_events'::regclass
                            AND (a.query ILIKE '%record_events%' OR a.query ILIKE '%INSERT INTO webhook_events%')
                        """,
                        logger: logger)
                    for try await count in rows.decode(Int.self) { return count > 0 }
                    return false
                }
                // Not `stop`: the lock's holder could end first, and the recording take the lock and commit.
                try cluster.crash()
                switch await outcome {
                case .success(let answer):
                    Issue.record(
                        "Kazoo got an answer, which it drops without retrying: \(answer.status) \(answer.body)")
                case .failure(let error):
                    #expect(
                        error as? HTTPClientError != .deadlineExceeded,
                        "the connection was closed, not left to time out: \(error)")
                }
            }
            // The listener's idle timeout may close the connection before the recording gives up on the dead
            // database; the refusal is counted when it does.
            try await eventually("the refusal counted", within: .seconds(120)) {
                String(decoding: provhook.metrics.render(), as: UTF8.self).contains(
                    #"reason="unavailable",source="kazoo-acme""#)
            }
            try cluster.start()
        }
    }

    /// A database that answers but refuses writes (a standby reached after a failover is read-only; a full disk
    /// refuses them too): the ping alone would say ready, so the intake's failures must.
    @Test("a database that answers but refuses writes: webhooks get 503, /readyz says recording fails, and recovers")
    func readOnlyDatabase() async throws {
        try await Self.withProvHook(databaseDeadline: .seconds(2)) { cluster, _, provhook, secret, _ in
            let logger = Logger(label: "test")
            func setReadOnly(_ on: Bool) async throws {
                try await Database.withConnection(cluster.url, logger: logger) { connection in
                    try await connection.query(
                        on
                            ? "ALTER SYSTEM SET default_transaction_read_only = on"
                            : "ALTER SYSTEM RESET default_transaction_read_only", logger: logger)
                    try await connection.query("SELECT pg_reload_conf()", logger: logger)
                }
            }
            func add(_ mac: String) async throws -> Int {
                try await provhook.send(
                    tenant: "acme", body: #"{"type":"device.added","mac":"\#(mac)"}"#, secret: secret
                ).status
            }
            #expect(try await provhook.get("/readyz").status == 200)
            try await setReadOnly(true)
            // The reload reaches every backend at its next command: the first events may still pass.
            try await eventually("a webhook refused while the database refuses writes") {
                try await add("000413000D0\(Int.random(in: 1...9))") == 503
            }
            let unready = try await provhook.get("/readyz")
            let checks = unready.json["checks"] as? [String: Any]
            #expect(unready.status == 503 && checks?["database"] as? String == "ok", "\(unready.body)")
            #expect(
                (checks?["recording"] as? String)?.hasPrefix("failing since") == true
                    && unready.body.contains("read-only"), "\(unready.body)")

            try await setReadOnly(false)
            try await eventually("recorded again once the database takes writes") {
                try await add("000413000D0A") == 202
            }
            #expect(try await provhook.get("/readyz").status == 200, "the next recorded event clears it")
        }
    }

    /// A scratch cluster with the tenant acme and its Kazoo source, and provhook running on it with
    /// `databaseDeadline` beside the redirection stand-in: `body` gets the cluster (to stop and start), the stand-in,
    /// provhook, the tenant's webhook secret and the source's token.
    @Test(
        "with the database gone, every webhook of a burst is answered 503 within its deadline, those queued behind a batch included"
    )
    func burstAnsweredWithinDeadline() async throws {
        let deadline = Duration.seconds(3)
        try await Self.withProvHook(databaseDeadline: deadline) { cluster, _, provhook, secret, _ in
            // Accepted once, so that the tenant's credentials are cached and the burst goes straight to recording.
            try await eventually("the first event accepted") {
                try await provhook.send(
                    tenant: "acme", body: #"{"type":"device.added","mac":"000413000B00"}"#, secret: secret
                ).status == 202
            }
            try cluster.stop()
            // More senders than the batches in flight (GroupCommit.maxRunning): most events wait in the queue while
            // the first batches wait out their deadline for a connection. Eight, the HTTP client's connections to one
            // host, so that every request is in provhook at once rather than waiting in the client.
            let started = ContinuousClock.now
            let answers = try await withThrowingTaskGroup(of: (status: Int, after: Duration).self) { group in
                for index in 1...8 {
                    group.addTask {
                        let mac = String(format: "000413000B%02X", index)
                        let answer = try await provhook.send(
                            tenant: "acme", body: #"{"type":"device.added","mac":"\#(mac)"}"#, secret: secret)
                        return (answer.status, ContinuousClock.now - started)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.count == 8 && answers.allSatisfy { $0.status == 503 }, "\(answers.map(\.status))")
            // Queued behind a batch that waited its whole deadline, an event used to wait out its own as well.
            let slowest = answers.map(\.after).max() ?? .zero
            #expect(
                slowest < deadline + .seconds(2),
                "the slowest answer came after \(slowest): \(answers.map(\.after).sorted())")
        }
    }

    static func withProvHook(
        databaseDeadline: Duration,
        _ body: (ScratchCluster, RunningFakeRedirect, RunningProvHook, _ secret: String, _ kazooToken: String)
            async throws
            -> Void
    ) async throws {
        let cluster = try ScratchCluster.create()
        defer { cluster.destroy() }
        try await cluster.migrate()
        let secrets = SecretKeyring.generate()
        let client = try RunningStore(url: cluster.url, maxConnections: 2, secrets: secrets)
        let (_, secret) = try await client.store.addTenant("acme")
        let (_, kazooToken) = try await client.store.addSource(
            name: "kazoo-acme", kind: .kazoo, tenantID: "acme", actor: "cli:test")
        await client.stop()
        try await RunningFakeRedirect.with(state: StandInAccounts.makeState()) { standIn in
            try await RunningProvHook.start(
                database: cluster.url, secrets: secrets, redirectEndpoint: standIn.endpoint,
                databaseDeadline: databaseDeadline
            ).whileRunning { provhook in try await body(cluster, standIn, provhook, secret, kazooToken) }
        }
    }
}
