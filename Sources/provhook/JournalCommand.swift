import ArgumentParser
import Foundation
import ProvHook
import SnomRedirect

/// `provhook journal`: reads the append-only journal.
struct JournalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal", abstract: "Show journal rows, newest last.")

    @OptionGroup var database: DatabaseOptions
    @Option(help: "Only this tenant's rows.") var tenant: String?
    @Option(help: "Only this MAC's rows (any common spelling).") var mac: String?
    @Option(help: "Only rows at or after this time (ISO 8601, e.g. 2026-11-26T10:00:00Z or 2026-11-26).") var since: String?
    @Option(help: "Only rows with this action, e.g. redirect.registerPhone.") var action: String?
    @Option(help: "At most this many rows (the newest).") var limit = 100
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        var filter = JournalFilter(tenantID: self.tenant, action: self.action, limit: self.limit)
        if let mac { filter.mac = try parseMAC(mac).canonical }
        if let since {
            guard let date = parseISO8601(since) else {
                throw CLIFailure.input("--since \(since.debugDescription) is not ISO 8601 (e.g. 2026-11-26T10:00:00Z or 2026-11-26)")
            }
            filter.since = date
        }
        let entries = try await self.database.withStore { try await $0.journal(filter) }
        if self.json { return try printJSON(entries) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        printTable(
            ["ID", "AT", "TENANT", "MAC", "ACTOR", "ACTION", "OUTCOME", "EVENT", "DETAIL"],
            entries.map {
                [
                    String($0.id ?? 0), $0.at?.iso8601 ?? "-", $0.tenantID ?? "-", $0.mac ?? "-", $0.actor, $0.action, $0.outcome,
                    $0.eventID ?? "-", String(decoding: (try? encoder.encode($0.detail)) ?? Data(), as: UTF8.self),
                ]
            })
    }
}

/// Parses a full ISO 8601 timestamp, or a date alone (midnight UTC).
func parseISO8601(_ text: String) -> Date? {
    let full = ISO8601DateFormatter()
    if let date = full.date(from: text) { return date }
    full.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let date = full.date(from: text) { return date }
    let day = ISO8601DateFormatter()
    day.formatOptions = [.withFullDate]
    return day.date(from: text)
}
