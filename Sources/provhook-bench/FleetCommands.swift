import ArgumentParser
import AsyncHTTPClient
import BenchSupport
import Foundation
import NIOCore
import NIOHTTP1
import ProvHookCore

/// `provhook-bench seed`: sends one signed `device.added` webhook for each of `--devices` devices over HTTP, the way
/// a PBX onboards a fleet: the first `--first-share` devices to the first tenant, the rest round-robin across the
/// others. The MACs are `--mac-prefix` followed by a counter from `--first`, so a run can be continued.
struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed", abstract: "Onboard a fleet through the webhook listener.")

    @Option(help: "provhook's base URL, e.g. http://127.0.0.1:8080.") var url: String
    @Option(help: "A directory of files, one a tenant: the file's name is the tenant, its content the secret.")
    var secrets: String
    @Option(help: "How many devices.") var devices = 1000
    @Option(help: "Devices given to the first tenant (by name) before the round-robin.") var firstShare = 0
    @Option(help: "Six hex digits; the MACs start with these.") var macPrefix = "000420"
    @Option(help: "The first device's counter.") var first = 0
    @Option(help: "The model in every event.") var model = "snomD785"
    @Option(help: "Requests in flight.") var concurrency = 32

    func run() async throws {
        let tenants = try FileManager.default.contentsOfDirectory(atPath: self.secrets).sorted().map {
            ($0, try SignedWebhook.secret(fromFile: self.secrets + "/" + $0))
        }
        guard !tenants.isEmpty else { throw ValidationError("no tenant in \(self.secrets)") }
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: self.concurrency)
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(30))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let started = ContinuousClock.now
        let failures: Int
        do {
            failures = try await withThrowingTaskGroup(of: Int.self) { group in
                var next = 0
                var failures = 0
                func add() {
                    guard next < self.devices else { return }
                    let index = next
                    next += 1
                    let (tenant, secret) =
                        index < self.firstShare || tenants.count == 1
                        ? tenants[0] : tenants[1 + (index - self.firstShare) % (tenants.count - 1)]
                    let mac = self.macPrefix.uppercased() + String(format: "%06X", self.first + index)
                    let body = Array(#"{"type":"device.added","mac":"\#(mac)","model":"\#(self.model)"}"#.utf8)
                    let request = SignedWebhook.request(
                        baseURL: self.url, tenant: tenant, id: "seed_\(mac)", body: body, secret: secret)
                    group.addTask {
                        let response = try await client.execute(request, timeout: .seconds(30))
                        _ = try await response.body.collect(upTo: 1 << 20)
                        return (200..<300).contains(response.status.code) ? 0 : 1
                    }
                }
                for _ in 0..<self.concurrency { add() }
                while let failed = try await group.next() {
                    failures += failed
                    add()
                }
                return failures
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        printJSON([
            "events": JSONValue.number(Double(self.devices)), "failures": .number(Double(failures)),
            "seconds": .number(rounded(seconds, 3)), "rate": .number(rounded(Double(self.devices) / seconds, 1)),
        ])
    }
}

/// `provhook-bench claim`: times the worker's claim query (`Store.claimDue`) on the database as it is, giving each
/// claim back at once; the median and the slowest of `--repeat` claims.
struct ClaimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "claim", abstract: "Time the claim query.")

    @Option(help: "postgres://user@host:port/database") var databaseURL: String
    @Option(help: "Devices a claim asks for.") var limit = 64
    @Option(name: .customLong("repeat"), help: "Claims timed.") var repeats = 20

    func run() async throws {
        let database = try BenchDatabase.parse(["--database-url", self.databaseURL, "--tenant", "-"])
        let (limit, repeats) = (self.limit, self.repeats)
        let (times, claimed) = try await database.withStore { store, _ -> ([Double], Int) in
            var times: [Double] = []
            var claimed = 0
            for _ in 0..<repeats {
                let started = ContinuousClock.now
                let devices = try await store.claimDue(limit: limit, lease: .seconds(120))
                let elapsed = ContinuousClock.now - started
                times.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
                claimed = devices.count
                try await store.releaseClaims(devices)
            }
            return (times.sorted(), claimed)
        }
        printJSON([
            "median_ms": JSONValue.number(rounded(percentile(times, 0.5), 3)),
            "max_ms": .number(rounded(times.last ?? 0, 3)),
            "claimed": .number(Double(claimed)), "limit": .number(Double(limit)),
        ])
    }
}
