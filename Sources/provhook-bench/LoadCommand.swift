import ArgumentParser
import AsyncHTTPClient
import BenchSupport
import Foundation
import NIOCore
import NIOHTTP1
import ProvHookCore

/// `provhook-bench load`: a closed-loop load generator. Each of `--concurrency` clients sends a request, waits for
/// the answer, and sends the next, over keep-alive HTTP/1.1. Webhooks are signed, each with a fresh webhook-id.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load", abstract: "Closed-loop HTTP load: rate and latency.")

    @Option(help: "provhook's base URL, e.g. http://127.0.0.1:8080.") var url: String
    @Option(help: "Send signed device.added webhooks to this tenant; without it, GET /healthz.") var tenant: String?
    @Option(help: "File holding the tenant's webhook secret.") var secretFile: String?
    @Option(help: "Six hex digits; webhook MACs start with these.") var macPrefix = "0A0B0C"
    @Option(help: "Clients sending at once.") var concurrency = 1
    @Option(help: "Seconds measured.") var seconds = 5.0
    @Option(help: "Seconds of unmeasured warm-up first.") var warmup = 1.0
    @Option(help: "Also report the peak RSS of this process.") var pid: Int32?

    func validate() throws {
        guard (1...1024).contains(self.concurrency) else { throw ValidationError("--concurrency must be 1...1024") }
        guard self.tenant == nil || self.secretFile != nil else {
            throw ValidationError("--tenant needs --secret-file")
        }
        guard self.macPrefix.count == 6, self.macPrefix.allSatisfy(\.isHexDigit) else {
            throw ValidationError("--mac-prefix must be 6 hex digits")
        }
    }

    func run() async throws {
        let secret = try self.secretFile.map(SignedWebhook.secret(fromFile:))
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: self.concurrency)
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(30))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let sampler = self.pid.map { MemorySampler(pid: $0) }
        let run = String(UUID().uuidString.prefix(8)).lowercased()
        do {
            if self.warmup > 0 {
                _ = try await self.drive(client, secret: secret, run: run + "w", for: self.warmup)
            }
            sampler?.start()
            let started = ContinuousClock.now
            let results = try await self.drive(client, secret: secret, run: run, for: self.seconds)
            let elapsed = ContinuousClock.now - started
            let peak = sampler?.stop()
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let latencies = results.flatMap(\.latencies).sorted()
            let failures = results.reduce(0) { $0 + $1.failures }
            var output: [String: JSONValue] = [
                "requests": .number(Double(latencies.count)), "failures": .number(Double(failures)),
                "seconds": .number(rounded(seconds, 3)),
                "rate": .number(rounded(Double(latencies.count - failures) / seconds, 1)),
                "p50_ms": .number(rounded(percentile(latencies, 0.50), 3)),
                "p99_ms": .number(rounded(percentile(latencies, 0.99), 3)),
                "concurrency": .number(Double(self.concurrency)),
            ]
            if let peak { output["peak_rss_mib"] = .number(rounded(peak, 1)) }
            printJSON(output)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    struct ClientResult: Sendable {
        var latencies: [Double] = []
        var failures = 0
    }

    /// Runs every client until `seconds` pass; each request's latency in milliseconds.
    private func drive(
        _ client: HTTPClient, secret: String?, run: String, for seconds: Double
    ) async throws -> [ClientResult] {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        return try await withThrowingTaskGroup(of: ClientResult.self) { group in
            for index in 0..<self.concurrency {
                group.addTask {
                    var result = ClientResult()
                    var sequence = 0
                    while ContinuousClock.now < deadline {
                        let request = self.request(client: index, sequence: sequence, run: run, secret: secret)
                        sequence += 1
                        let sent = ContinuousClock.now
                        let response = try await client.execute(request, timeout: .seconds(30))
                        _ = try await response.body.collect(upTo: 1 << 20)
                        let latency = ContinuousClock.now - sent
                        result.latencies.append(
                            Double(latency.components.seconds) * 1000 + Double(latency.components.attoseconds) / 1e15)
                        if !(200..<300).contains(response.status.code) { result.failures += 1 }
                    }
                    return result
                }
            }
            var results: [ClientResult] = []
            for try await result in group { results.append(result) }
            return results
        }
    }

    private func request(client: Int, sequence: Int, run: String, secret: String?) -> HTTPClientRequest {
        guard let tenant = self.tenant, let secret else {
            return HTTPClientRequest(url: self.url + "/healthz")
        }
        let low = (client &* 1_000_003 &+ sequence) & 0xFF_FFFF
        let mac = self.macPrefix.uppercased() + String(format: "%06X", low)
        let body = Array(#"{"type":"device.added","mac":"\#(mac)","extension":"\#(100 + client)"}"#.utf8)
        return SignedWebhook.request(
            baseURL: self.url, tenant: tenant, id: "bench_\(run)_\(client)_\(sequence)", body: body, secret: secret)
    }
}
