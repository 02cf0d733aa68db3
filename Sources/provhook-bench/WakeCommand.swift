import ArgumentParser
import AsyncHTTPClient
import BenchSupport
import Foundation
import NIOCore
import NIOHTTP1
import ProvHookCore

/// `provhook-bench wake`: at idle, one webhook at a time, the time from its answer (2xx received) to its call
/// starting at the stand-in, read from the stand-in's call log (`fake-redirect --call-log`). It measures how fast
/// a committed event wakes the worker: the NOTIFY or the in-process wake, the claim and the connection to the
/// service. Both clocks are this machine's wall clock.
struct WakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wake", abstract: "Time from a webhook's answer to its call starting at the stand-in.")

    @Option(help: "provhook's base URL, e.g. http://127.0.0.1:8080.") var url: String
    @Option(help: "The tenant the webhooks go to; its template must route its MACs to the stand-in.") var tenant: String
    @Option(help: "File holding the tenant's webhook secret.") var secretFile: String
    @Option(help: "The stand-in's call log.") var callLog: String
    @Option(help: "Six hex digits of a vendor the stand-in serves; the webhooks' MACs start with these.")
    var macPrefix = "000413"
    @Option(help: "Webhooks sent, one at a time.") var count = 50
    @Option(help: "Milliseconds of idle after each call is seen, before the next webhook.") var gapMs = 200
    @Option(help: "Seconds to wait for one call before giving up.") var timeout = 10.0

    func validate() throws {
        guard self.macPrefix.count == 6, self.macPrefix.allSatisfy(\.isHexDigit) else {
            throw ValidationError("--mac-prefix must be 6 hex digits")
        }
        guard (1...100_000).contains(self.count) else { throw ValidationError("--count must be 1...100000") }
    }

    func run() async throws {
        let secret = try SignedWebhook.secret(fromFile: self.secretFile)
        guard let log = FileHandle(forReadingAtPath: self.callLog) else {
            throw ValidationError("cannot read the call log \(self.callLog)")
        }
        defer { try? log.close() }
        // Only calls logged from now on count: a MAC sent before (by another run) must not match.
        _ = try log.seekToEnd()
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let run = String(UUID().uuidString.prefix(8)).lowercased()
        let runLow = Int.random(in: 0..<0x1000) << 12
        var delays: [Double] = []
        var pending = Data()
        do {
            for index in 0..<self.count {
                let mac = self.macPrefix.uppercased() + String(format: "%06X", (runLow + index) & 0xFF_FFFF)
                let body = Array(#"{"type":"device.added","mac":"\#(mac)"}"#.utf8)
                let request = SignedWebhook.request(
                    baseURL: self.url, tenant: self.tenant, id: "wake_\(run)_\(index)", body: body, secret: secret)
                let response = try await client.execute(request, timeout: .seconds(30))
                _ = try await response.body.collect(upTo: 1 << 20)
                let answered = Date().timeIntervalSince1970
                guard (200..<300).contains(response.status.code) else {
                    throw ValidationError("webhook \(index) answered \(response.status.code)")
                }
                let started = try await self.callStart(of: mac, in: log, pending: &pending)
                delays.append((started - answered) * 1000)
                try await Task.sleep(for: .milliseconds(self.gapMs))
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
        let sorted = delays.sorted()
        printJSON([
            "events": JSONValue.number(Double(delays.count)),
            "p50_ms": .number(rounded(percentile(sorted, 0.50), 3)),
            "p99_ms": .number(rounded(percentile(sorted, 0.99), 3)),
            "min_ms": .number(rounded(sorted.first ?? 0, 3)), "max_ms": .number(rounded(sorted.last ?? 0, 3)),
        ])
    }

    /// Reads the call log as it grows until a call naming `mac` appears; its start, in Unix seconds.
    private func callStart(of mac: String, in log: FileHandle, pending: inout Data) async throws -> Double {
        let deadline = ContinuousClock.now + .milliseconds(Int(self.timeout * 1000))
        let decoder = JSONDecoder()
        struct Call: Decodable {
            var macs: [String]
            var started: Double
        }
        while true {
            if let more = try log.readToEnd(), !more.isEmpty { pending.append(more) }
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = pending[pending.startIndex..<newline]
                pending = Data(pending[(newline + 1)...])
                if let call = try? decoder.decode(Call.self, from: line), call.macs.contains(mac) {
                    return call.started
                }
            }
            guard ContinuousClock.now < deadline else {
                throw ValidationError("no call for \(mac) within \(self.timeout) s of its answer")
            }
            try await Task.sleep(for: .microseconds(250))
        }
    }
}
