import ArgumentParser
import AsyncHTTPClient
import BenchSupport
import Foundation
import NIOCore
import NIOHTTP1
import ProvHookCore

/// `provhook-faults hostile`: hostile webhooks against a live listener. Each request has a kind and the answers
/// that kind may get; anything else (a 5xx, a dropped connection, a wrong 4xx) is a failure, and the listener
/// must still answer `/healthz` at the end.
struct HostileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hostile", abstract: "Fuzz the webhook listener with hostile requests.")

    @OptionGroup var target: WebhookTarget
    @Option(help: "Requests to send.") var count = 2000
    @Option(help: "Senders at once.") var concurrency = 8
    @Option(help: "Seed of the random generator, for replaying a run.") var seed: UInt64 = UInt64.random(
        in: 1...UInt64.max)

    enum Kind: String, CaseIterable {
        case randomBytes, invalidUTF8, deepNesting, wrongTypes, hugeString, mutated, nulCharacter, oversized,
            badSignature, unsigned,
            unknownTenant, valid
    }

    struct Probe: Sendable {
        var kind: String
        var tenant: String
        var body: [UInt8]
        var sign: Bool
        var forge: Bool
        var allowed: Set<UInt>
    }

    func run() async throws {
        let secret = try self.target.secret()
        var random = SplitMix(seed: self.seed)
        let probes = (0..<self.count).map { _ in self.probe(&random) }
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(2), read: .seconds(15))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        var failures: [String] = []
        var tally: [String: Int] = [:]
        do {
            let results = try await withThrowingTaskGroup(of: (String, String?).self) { group in
                var results: [(String, String?)] = []
                for (index, probe) in probes.enumerated() {
                    if index >= self.concurrency, let result = try await group.next() { results.append(result) }
                    group.addTask { (probe.kind, await self.send(probe, index: index, client: client, secret: secret)) }
                }
                for try await result in group { results.append(result) }
                return results
            }
            for (kind, failure) in results {
                tally[kind, default: 0] += 1
                if let failure { failures.append("\(kind): \(failure)") }
            }
            let health = try await client.execute(
                HTTPClientRequest(url: self.target.url + "/healthz"), timeout: .seconds(5))
            if health.status != .ok { failures.append("/healthz answered \(health.status.code) afterwards") }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
        let summary: [String: JSONValue] = [
            "requests": .number(Double(probes.count)), "failures": .number(Double(failures.count)),
            "seed": .string(String(self.seed)),
            "kinds": .object(tally.mapValues { .number(Double($0)) }),
            "examples": .array(failures.prefix(5).map(JSONValue.string)),
        ]
        printJSON(summary)
        if !failures.isEmpty { throw ExitCode(1) }
    }

    private func send(_ probe: Probe, index: Int, client: HTTPClient, secret: String) async -> String? {
        var request = SignedWebhook.request(
            baseURL: self.target.url, tenant: probe.tenant, id: "hostile_\(self.seed)_\(index)", body: probe.body,
            secret: secret, forge: probe.forge)
        if !probe.sign {
            for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] { request.headers.remove(name: name) }
        }
        do {
            let response = try await client.execute(request, timeout: .seconds(15))
            _ = try await response.body.collect(upTo: 1 << 20)
            return probe.allowed.contains(response.status.code) ? nil : "answered \(response.status.code)"
        } catch {
            // A listener may close the connection on an oversized body after answering; anything else is a failure.
            return probe.kind == Kind.oversized.rawValue ? nil : "no answer: \(error)"
        }
    }

    private func probe(_ random: inout SplitMix) -> Probe {
        let kind = Kind.allCases[Int(random.next() % UInt64(Kind.allCases.count))]
        let mac = String(format: "000413%06X", Int(random.next() % 0xFFFFFF))
        let valid = Array(
            #"{"type":"device.added","mac":"\#(mac)","device_id":"d\#(random.next() % 1000)","extension":"201"}"#.utf8)
        var probe = Probe(
            kind: kind.rawValue, tenant: self.target.tenant, body: valid, sign: true, forge: false, allowed: [400])
        switch kind {
        case .randomBytes:
            probe.body = (0..<Int(random.next() % 2048)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        case .invalidUTF8:
            probe.body = Array(#"{"type":"device.added","mac":""#.utf8) + [0xC3, 0x28, 0xFF, 0xFE] + Array(#""}"#.utf8)
        case .deepNesting:
            let depth = 1000 + Int(random.next() % 30_000)
            probe.body =
                Array(repeating: UInt8(ascii: "["), count: depth) + Array(repeating: UInt8(ascii: "]"), count: depth)
            probe.allowed = [400, 413]
        case .wrongTypes:
            let bodies = [
                #"{"type":1}"#, #"{"type":"device.added","mac":123}"#, #"[]"#, #"null"#,
                #"{"type":"device.added","mac":["a"]}"#,
                #"{"type":"device.exploded","mac":"000413000001"}"#, #"{"type":"device.added","mac":"00:04:13:61:0f"}"#,
                #""#,
            ]
            probe.body = Array(bodies[Int(random.next() % UInt64(bodies.count))].utf8)
        case .hugeString:
            probe.body =
                Array(#"{"type":"device.added","mac":"000413000001","extension":""#.utf8)
                + Array(repeating: UInt8(ascii: "x"), count: 60_000) + Array(#""}"#.utf8)
            probe.allowed = [400, 202]
        case .mutated:
            for _ in 0..<(1 + Int(random.next() % 4)) {
                probe.body[Int(random.next() % UInt64(probe.body.count))] = UInt8(truncatingIfNeeded: random.next())
            }
            probe.allowed = [202, 400]
        case .nulCharacter:
            probe.body = Array(#"{"type":"device.added","mac":"000413000001","extension":"a\u0000b"}"#.utf8)
        case .oversized:
            probe.body = Array(repeating: UInt8(ascii: " "), count: 70_000 + Int(random.next() % 1_000_000))
            probe.allowed = [413]
        case .badSignature:
            probe.forge = true
            probe.allowed = [401]
        case .unsigned:
            probe.sign = false
            probe.allowed = [401]
        case .unknownTenant:
            probe.tenant = "no-such-tenant-\(random.next() % 1000)"
            probe.allowed = [404]
        case .valid:
            probe.allowed = [202]
        }
        return probe
    }
}

/// A small, seedable random generator, so that a failing run can be replayed with `--seed`.
struct SplitMix {
    var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
