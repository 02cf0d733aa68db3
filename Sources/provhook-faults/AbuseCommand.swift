import ArgumentParser
import AsyncHTTPClient
import BenchSupport
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import ProvHookCore

/// `provhook-faults abuse`: holds `--idle` connections open without sending anything and `--slow` slowloris
/// connections that send a request's headers a byte at a time, while a normal client keeps sending signed webhooks.
/// Passes when every normal request is answered 2xx and its p99 latency stays within `max(3 × baseline, baseline +
/// 20 ms)`, the baseline being measured first without the abuse.
struct AbuseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abuse", abstract: "Idle connections and slowloris against the listener.")

    @Option(help: "provhook's host.") var host = "127.0.0.1"
    @Option(help: "provhook's port.") var port: Int
    @Option(help: "The tenant.") var tenant: String
    @Option(help: "File holding the tenant's webhook secret.") var secretFile: String
    @Option(help: "Idle connections held open.") var idle = 1000
    @Option(help: "Slowloris connections.") var slow = 50
    @Option(help: "Seconds the abuse lasts.") var seconds = 20.0
    @Option(help: "Also report the peak RSS of this process.") var pid: Int32?

    func run() async throws {
        let secret = try SignedWebhook.secret(fromFile: self.secretFile)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let baseURL = "http://\(self.host):\(self.port)"
        var rssBefore = 0.0
        if let pid = self.pid { rssBefore = Double(MemorySampler.residentKiB(pid: pid) ?? 0) / 1024 }
        let baseline = try await Self.normalTraffic(
            client, baseURL: baseURL, tenant: self.tenant, secret: secret, for: 5)

        let group = MultiThreadedEventLoopGroup.singleton
        var channels: [any Channel] = []
        var refused = 0
        for _ in 0..<self.idle {
            do {
                channels.append(try await ClientBootstrap(group: group).connect(host: self.host, port: self.port).get())
            } catch {
                refused += 1
            }
        }
        var slow: [any Channel] = []
        for _ in 0..<self.slow {
            if let channel = try? await ClientBootstrap(group: group).connect(host: self.host, port: self.port).get() {
                slow.append(channel)
            }
        }
        let request = Array(
            "POST /v1/tenants/\(self.tenant)/events HTTP/1.1\r\nHost: \(self.host)\r\nContent-Type: application/json\r\nX-Padding: "
                .utf8)
        let sampler = self.pid.map { MemorySampler(pid: $0) }
        sampler?.start()
        let trickle = Task {
            var index = 0
            while !Task.isCancelled {
                for channel in slow where channel.isActive {
                    let byte = index < request.count ? request[index] : UInt8(ascii: "a")
                    channel.writeAndFlush(ByteBuffer(bytes: [byte]), promise: nil)
                }
                index += 1
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        let during = try await Self.normalTraffic(
            client, baseURL: baseURL, tenant: self.tenant, secret: secret, for: self.seconds)
        trickle.cancel()
        let stillOpen = channels.filter(\.isActive).count
        let slowOpen = slow.filter(\.isActive).count
        for channel in channels + slow { try? await channel.close() }
        let peak = sampler?.stop()
        try await client.shutdown()

        let limit = max(3 * baseline.p99, baseline.p99 + 20)
        let passed = baseline.failures == 0 && during.failures == 0 && during.p99 <= limit && during.requests > 0
        var output: [String: JSONValue] = [
            "idle_connections": .number(Double(self.idle - refused)), "refused": .number(Double(refused)),
            "idle_still_open": .number(Double(stillOpen)), "slowloris_still_open": .number(Double(slowOpen)),
            "baseline_p99_ms": .number(rounded(baseline.p99)), "during_p99_ms": .number(rounded(during.p99)),
            "p99_limit_ms": .number(rounded(limit)), "requests_during": .number(Double(during.requests)),
            "failures_during": .number(Double(during.failures)), "passed": .bool(passed),
        ]
        if let peak {
            output["rss_before_mib"] = .number(rounded(rssBefore, 1))
            output["rss_peak_mib"] = .number(rounded(peak, 1))
        }
        printJSON(output)
        if !passed { throw ExitCode(1) }
    }

    struct Traffic {
        var requests = 0
        var failures = 0
        var p99 = 0.0
    }

    /// One client sending signed webhooks back to back for `seconds`.
    static func normalTraffic(
        _ client: HTTPClient, baseURL: String, tenant: String, secret: String, for seconds: Double
    ) async throws -> Traffic {
        var latencies: [Double] = []
        var traffic = Traffic()
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        let run = String(UUID().uuidString.prefix(8)).lowercased()
        while ContinuousClock.now < deadline {
            let id = "abuse_\(run)_\(traffic.requests)"
            let body = Array(
                #"{"type":"device.added","mac":"0A0B0C\#(String(format: "%06X", traffic.requests))"}"#.utf8)
            let request = SignedWebhook.request(baseURL: baseURL, tenant: tenant, id: id, body: body, secret: secret)
            let sent = ContinuousClock.now
            traffic.requests += 1
            do {
                let response = try await client.execute(request, timeout: .seconds(10))
                _ = try await response.body.collect(upTo: 1 << 16)
                if !(200..<300).contains(response.status.code) { traffic.failures += 1 }
            } catch {
                traffic.failures += 1
            }
            let latency = ContinuousClock.now - sent
            latencies.append(Double(latency.components.seconds) * 1000 + Double(latency.components.attoseconds) / 1e15)
        }
        traffic.p99 = percentile(latencies.sorted(), 0.99)
        return traffic
    }
}
