import ArgumentParser
import AsyncHTTPClient
import BenchSupport
import Foundation
import Logging
import PostgresNIO
import ProvHookCore
import ProvisioningModel
import SnomXMLRPC
import VendorRegistry

/// `provhook-faults check`: after a fault, checks the three promises against the acknowledgement log.
/// 1. Every acknowledged event is in `webhook_events`.
/// 2. The journal has exactly one accepted row per acknowledged event.
/// 3. Once nothing is pending, every device is in its desired state at the service (`listPhones`, with the
///    `PROVHOOK_REDIRECT_*` settings), and the service holds no MAC of the burst that should not be there.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Check that nothing acknowledged was lost.")

    @Option(help: "postgres://user@host:port/database") var databaseURL: String
    @Option(help: "The tenant.") var tenant: String
    @Option(help: "The acknowledgement log written by `burst`.") var acked: String
    @Option(help: "Six hex digits: the burst's MACs start with these.") var macPrefix = "000413"
    @Option(help: "The model the stand-in reports for every MAC.") var model = "snomD785"
    @Option(
        help:
            "Seconds to wait for the queue to drain; a claim lost with its database connection waits for its lease (120 s)."
    ) var timeout = 180.0

    struct Ack {
        var id: String
        var mac: String
        var desired: String
    }

    func run() async throws {
        let acks = try String(contentsOfFile: self.acked, encoding: .utf8).split(separator: "\n").compactMap {
            line -> Ack? in
            let parts = line.split(separator: " ").map(String.init)
            return parts.count == 3 ? Ack(id: parts[0], mac: parts[1], desired: parts[2]) : nil
        }
        var expected: [String: String] = [:]
        for ack in acks { expected[ack.mac] = ack.desired }  // each MAC's events come from one sender, in order

        var logger = Logger(label: "provhook-faults")
        logger.logLevel = .error
        let client = PostgresClient(
            configuration: try DatabaseURL(self.databaseURL).clientConfiguration(maxConnections: 4),
            backgroundLogger: logger.forPostgres)
        let pool = Task { await client.run() }
        defer { pool.cancel() }

        let ids = acks.map(\.id)
        let stored = try await Self.strings(
            client, logger,
            "SELECT webhook_id FROM webhook_events WHERE tenant_id = \(self.tenant) AND webhook_id = ANY(\(ids))")
        let missing = Set(ids).subtracting(stored)

        let accepted = try await Self.pairs(
            client, logger,
            """
            SELECT event_id, count(*)::bigint FROM journal
            WHERE tenant_id = \(self.tenant) AND event_id = ANY(\(ids)) AND action LIKE 'event.%' AND outcome = 'accepted'
            GROUP BY event_id
            """)
        let journalMismatches = ids.filter { accepted[$0] != 1 }

        let prefix = self.macPrefix.uppercased() + "%"
        let deadline = ContinuousClock.now + .milliseconds(Int(self.timeout * 1000))
        var pending = 0
        repeat {
            pending = Int(
                try await Self.pairs(
                    client, logger,
                    "SELECT 'n', count(*)::bigint FROM devices WHERE mac LIKE \(prefix) AND status = 'pending'")["n"]
                    ?? 0)
            if pending == 0 { break }
            try await Task.sleep(for: .milliseconds(250))
        } while ContinuousClock.now < deadline
        let desiredInDatabase = try await Self.pairs(
            client, logger, "SELECT mac, desired FROM devices WHERE mac LIKE \(prefix)", as: String.self)
        let wrongDesired = expected.filter { desiredInDatabase[$0.key] != $0.value }.map(\.key)

        let configuration = try Settings().redirectConfiguration()
        let httpClient = try RedirectClient.makeHTTPClient(configuration: configuration)
        let atService: Set<String>
        do {
            let service = RedirectClient(configuration: configuration, httpClient: httpClient, logger: logger)
            atService = Set(try await service.listPhones(model: self.model, url: nil).map(\.canonical))
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
        let notApplied = expected.filter { ($0.value == "registered") != atService.contains($0.key) }.map(\.key)
        let unexpected = atService.filter { $0.hasPrefix(self.macPrefix.uppercased()) && expected[$0] == nil }

        let passed =
            missing.isEmpty && journalMismatches.isEmpty && pending == 0 && wrongDesired.isEmpty && notApplied.isEmpty
            && unexpected.isEmpty
        let summary: [String: JSONValue] = [
            "acknowledged": .number(Double(acks.count)), "missing_in_database": .number(Double(missing.count)),
            "journal_mismatches": .number(Double(journalMismatches.count)), "still_pending": .number(Double(pending)),
            "wrong_desired_state": .number(Double(wrongDesired.count)),
            "not_applied_at_service": .number(Double(notApplied.count)),
            "unexpected_at_service": .number(Double(unexpected.count)), "devices": .number(Double(expected.count)),
            "examples": .array(
                (Array(missing.prefix(3)) + journalMismatches.prefix(3) + notApplied.prefix(3)).map(JSONValue.string)),
            "passed": .bool(passed),
        ]
        printJSON(summary)
        if !passed { throw ExitCode(1) }
    }

    private static func strings(
        _ client: PostgresClient, _ logger: Logger, _ query: PostgresQuery
    ) async throws -> Set<String> {
        var result: Set<String> = []
        for try await value in try await client.query(query, logger: logger).decode(String.self) {
            result.insert(value)
        }
        return result
    }

    /// The rows of `query` as a dictionary from its first column to its second.
    private static func pairs<Value: PostgresDecodable & Sendable>(
        _ client: PostgresClient, _ logger: Logger, _ query: PostgresQuery, as: Value.Type = Int64.self
    ) async throws -> [String: Value] {
        var result: [String: Value] = [:]
        for try await (key, value) in try await client.query(query, logger: logger).decode((String, Value).self) {
            result[key] = value
        }
        return result
    }
}
