import ArgumentParser
import BenchSupport
import Foundation
import Integrations
import Logging
import PostgresNIO
import ProvHookCore
import ProvisioningModel

/// Errors only: PostgresNIO warns when a query races the pool's start, which is harmless here.
let benchLogger: Logger = {
    var logger = Logger(label: "provhook-bench")
    logger.logLevel = .error
    return logger
}()

/// Options shared by the commands that talk to the database directly.
struct BenchDatabase: ParsableArguments {
    @Option(help: "postgres://user@host:port/database") var databaseURL: String
    @Option(help: "The tenant the devices belong to.") var tenant: String
    @Option(help: "Six hex digits: the devices' MACs start with these.") var macPrefix = "000413"
    @Option(help: "How many devices.") var count = 2000

    func macs() -> [MACAddress] {
        (0..<self.count).map { MACAddress(self.macPrefix.uppercased() + String(format: "%06X", 0x100000 + $0))! }
    }

    /// Runs `body` with a store on a running pool.
    func withStore<T: Sendable>(_ body: @Sendable (Store, PostgresClient) async throws -> T) async throws -> T {
        let logger = benchLogger
        let client = PostgresClient(
            configuration: try DatabaseURL(self.databaseURL).clientConfiguration(maxConnections: 16),
            backgroundLogger: logger.forPostgres)
        let pool = Task { await client.run() }
        defer { pool.cancel() }
        return try await body(Store(client: client, logger: logger, deadline: .seconds(30)), client)
    }
}

/// `provhook-bench fill`: queues work the way the listener does (`Store.ingest`, the same transaction) while no
/// worker runs, so that the drain that follows is measured on a full queue.
struct FillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fill", abstract: "Queue device events while provhook is stopped.")

    @OptionGroup var database: BenchDatabase
    @Option(help: "added or removed.") var event = "added"

    func run() async throws {
        guard ["added", "removed"].contains(self.event) else {
            throw ValidationError("--event must be added or removed")
        }
        let macs = self.database.macs()
        let tenant = self.database.tenant
        let event = self.event
        let journalID = try await self.database.withStore { store, client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, mac) in macs.enumerated() {
                    if index >= 16 { try await group.next() }
                    group.addTask {
                        let body = #"{"type":"device.\#(event)","mac":"\#(mac.canonical)"}"#
                        let parsed = try NativeWebhookSource.parse(Array(body.utf8))
                        _ = try await store.ingest(
                            parsed, tenantID: tenant,
                            eventID: "fill_\(event)_\(mac.canonical)_\(UUID().uuidString.prefix(8))",
                            payload: Array(body.utf8), actor: JournalActor.bench("fill").rawValue,
                            planner: EventPlanner())
                    }
                }
                try await group.waitForAll()
            }
            let rows = try await client.query("SELECT COALESCE(max(id), 0) FROM journal", logger: benchLogger)
            for try await id in rows.decode(Int64.self) { return id }
            return 0
        }
        printJSON(["devices": JSONValue.number(Double(macs.count)), "journal_id": .number(Double(journalID))])
    }
}

/// `provhook-bench drain`: waits until every device reached its desired state, then measures the drain from the
/// journal: from the first call's start (its row's time less its latency) to the last call's row.
struct DrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain", abstract: "Time the worker's drain of a filled queue.")

    @OptionGroup var database: BenchDatabase
    @Option(help: "registered or deregistered.") var status = "registered"
    @Option(help: "Journal rows after this id are this drain's.") var afterID: Int64 = 0
    @Option(help: "Give up after this many seconds.") var timeout = 300.0
    @Option(help: "Also report the peak RSS of this process.") var pid: Int32?

    func run() async throws {
        let sampler = self.pid.map { MemorySampler(pid: $0) }
        sampler?.start()
        let prefix = self.database.macPrefix.uppercased() + "%"
        let status = self.status
        let expected = self.database.count
        let afterID = self.afterID
        let limit = ContinuousClock.now + .milliseconds(Int(self.timeout * 1000))
        let started = ContinuousClock.now
        let output = try await self.database.withStore { _, client -> [String: JSONValue] in
            let logger = benchLogger
            while true {
                let rows = try await client.query(
                    "SELECT count(*) FROM devices WHERE mac LIKE \(prefix) AND status = \(status)", logger: logger)
                var done = 0
                for try await count in rows.decode(Int64.self) { done = Int(count) }
                if done >= expected { break }
                guard ContinuousClock.now < limit else {
                    throw ValidationError("only \(done) of \(expected) devices \(status) after \(Int(self.timeout)) s")
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            let wall = ContinuousClock.now - started
            let span = try await client.query(
                """
                SELECT EXTRACT(EPOCH FROM max(at) - min(at - make_interval(secs => (detail->>'latency_ms')::float8 / 1000)))::float8,
                       count(DISTINCT detail->>'call_id'), count(*) FILTER (WHERE outcome = 'ok'), count(*),
                       COALESCE(max((detail->>'batch_size')::int), 1)
                FROM journal WHERE id > \(afterID) AND action LIKE 'redirect.%' AND mac LIKE \(prefix)
                """, logger: logger)
            for try await (seconds, calls, ok, rows, batch) in span.decode((Double?, Int64, Int64, Int64, Int).self) {
                let seconds = seconds ?? 0
                return [
                    "devices": .number(Double(expected)), "calls": .number(Double(calls)),
                    "ok_rows": .number(Double(ok)),
                    "journal_rows": .number(Double(rows)), "largest_batch": .number(Double(batch)),
                    "seconds": .number(rounded(seconds, 3)),
                    "rate": .number(rounded(seconds > 0 ? Double(expected) / seconds : 0, 1)),
                    "wall_seconds": .number(
                        rounded(Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18, 3)),
                ]
            }
            return [:]
        }
        var result = output
        if let peak = sampler?.stop() { result["peak_rss_mib"] = .number(rounded(peak, 1)) }
        printJSON(result)
    }
}
