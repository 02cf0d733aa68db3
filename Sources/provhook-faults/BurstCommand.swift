import ArgumentParser
import AsyncHTTPClient
import BenchSupport
import Foundation
import NIOCore
import NIOHTTP1
import ProvHookCore
import Synchronization

/// `provhook-faults burst`: sends signed webhooks from concurrent senders the way a PBX does: an event that was not
/// answered 2xx (a refused connection, a reset, a 5xx) is sent again with the same webhook-id until it is.
/// Every acknowledged event is appended to `--acked` as `webhook-id mac desired` the moment its 2xx arrives.
/// The summary also says how long the slowest answer took, how many requests got none (no response within 15 s, a
/// reset), and how many 503s came without `Retry-After`: a fault must never leave a PBX hanging.
///
/// Events: device.added for `--count` MACs; every fourth MAC is then removed by the same sender, so that the
/// desired end state mixes registered and deregistered devices.
struct BurstCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "burst", abstract: "Send a burst of signed webhooks like a PBX.")

    @OptionGroup var target: WebhookTarget
    @Option(help: "Devices; each gets device.added, every fourth also device.removed.") var count = 2000
    @Option(help: "Senders at once.") var concurrency = 16
    @Option(help: "Six hex digits: the MACs start with these.") var macPrefix = "000413"
    @Option(help: "Append each acknowledged event here.") var acked: String
    @Option(help: "Give up on an event after this many seconds of retrying.") var patience = 120.0

    func run() async throws {
        let secret = try self.target.secret()
        guard FileManager.default.createFile(atPath: self.acked, contents: nil),
            let log = FileHandle(forWritingAtPath: self.acked)
        else {
            throw ValidationError("cannot write \(self.acked)")
        }
        let journal = AckLog(handle: log)
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(
            idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: self.concurrency)
        configuration.timeout = .init(connect: .seconds(2), read: .seconds(15))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let run = String(UUID().uuidString.prefix(8)).lowercased()
        let stats = Totals()
        let started = ContinuousClock.now
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<self.count {
                    if index >= self.concurrency { try await group.next() }
                    let mac = self.macPrefix.uppercased() + String(format: "%06X", 0x200000 + index)
                    group.addTask {
                        var events = [("added", "registered")]
                        if index % 4 == 0 { events.append(("removed", "deregistered")) }
                        for (type, desired) in events {
                            let id = "burst_\(run)_\(index)_\(type)"
                            let body = Array(#"{"type":"device.\#(type)","mac":"\#(mac)"}"#.utf8)
                            let (delivered, tries) = await self.deliver(
                                client, id: id, body: body, secret: secret, totals: stats)
                            stats.count(tries: tries, delivered: delivered)
                            guard delivered else { return }
                            journal.append("\(id) \(mac) \(desired)\n")
                        }
                    }
                }
                try await group.waitForAll()
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
        let elapsed = ContinuousClock.now - started
        let totals = stats.value
        let summary: [String: JSONValue] = [
            "events": .number(Double(totals.sent)), "retries": .number(Double(totals.retried)),
            "gave_up": .number(Double(totals.gaveUp)), "seconds": .number(Double(elapsed.components.seconds)),
            "slowest_answer_ms": .number(Double(totals.slowestMs)), "unanswered": .number(Double(totals.unanswered)),
            "unavailable": .number(Double(totals.unavailable)),
            "unavailable_without_retry_after": .number(Double(totals.withoutRetryAfter)),
        ]
        printJSON(summary)
    }

    /// Sends one event until it is answered 2xx; whether it was, and how many tries it took.
    private func deliver(
        _ client: HTTPClient, id: String, body: [UInt8], secret: String, totals: Totals
    ) async -> (Bool, Int) {
        let deadline = ContinuousClock.now + .milliseconds(Int(self.patience * 1000))
        var tries = 0
        var pause = Duration.milliseconds(50)
        while ContinuousClock.now < deadline {
            tries += 1
            let request = SignedWebhook.request(
                baseURL: self.target.url, tenant: self.target.tenant, id: id, body: body, secret: secret)
            let sent = ContinuousClock.now
            if let response = try? await client.execute(request, timeout: .seconds(15)),
                (try? await response.body.collect(upTo: 1 << 20)) != nil
            {
                totals.answered(
                    in: ContinuousClock.now - sent, status: response.status.code,
                    retryAfter: response.headers.first(name: "Retry-After") != nil)
                if (200..<300).contains(response.status.code) { return (true, tries) }
                if (400..<500).contains(response.status.code) { return (false, tries) }  // never retried by a PBX
            } else {
                totals.unanswered()
            }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .seconds(1))
        }
        return (false, tries)
    }
}

/// The burst's counts, shared by its senders.
final class Totals: Sendable {
    struct Counts {
        var sent = 0, retried = 0, gaveUp = 0
        var slowestMs = 0, unanswered = 0, unavailable = 0, withoutRetryAfter = 0
    }
    private let counts = Mutex(Counts())

    func count(tries: Int, delivered: Bool) {
        self.counts.withLock {
            $0.sent += 1
            $0.retried += tries - 1
            if !delivered { $0.gaveUp += 1 }
        }
    }

    /// A request answered in `elapsed` with `status`.
    func answered(in elapsed: Duration, status: UInt, retryAfter: Bool) {
        let ms = Int(elapsed.components.seconds) * 1000 + Int(elapsed.components.attoseconds / 1_000_000_000_000_000)
        self.counts.withLock {
            $0.slowestMs = max($0.slowestMs, ms)
            if status == 503 {
                $0.unavailable += 1
                if !retryAfter { $0.withoutRetryAfter += 1 }
            }
        }
    }

    /// A request that got no answer: none within 15 s, or the connection dropped.
    func unanswered() {
        self.counts.withLock { $0.unanswered += 1 }
    }

    var value: Counts { self.counts.withLock { $0 } }
}

/// Appends lines to the acknowledgement log, one writer at a time.
final class AckLog: Sendable {
    private let handle: Mutex<FileHandle>

    init(handle: FileHandle) {
        self.handle = Mutex(handle)
    }

    func append(_ line: String) {
        self.handle.withLock { $0.write(Data(line.utf8)) }
    }
}
