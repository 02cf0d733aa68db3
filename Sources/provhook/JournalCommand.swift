import ArgumentParser
import Foundation
import ProvHookCore
import ProvisioningModel

/// `provhook journal …`: reads the append-only journal and checks its hash chain.
struct JournalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal", abstract: "Show the journal, or check its hash chain.",
        subcommands: [
            JournalShowCommand.self, JournalVerifyCommand.self, JournalHeadCommand.self, JournalSealCommand.self,
        ],
        defaultSubcommand: JournalShowCommand.self)
}

/// `provhook journal [filters]`: journal rows, newest last.
struct JournalShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show journal rows, newest last.")

    @OptionGroup var database: DatabaseOptions
    @Option(help: "Only this tenant's rows.") var tenant: String?
    @Option(help: "Only this MAC's rows (any common spelling).") var mac: String?
    @Option(help: "Only rows at or after this time (ISO 8601, e.g. 2026-11-26T10:00:00Z or 2026-11-26).") var since:
        String?
    @Option(help: "Only rows with this action, e.g. redirect.registerPhone.") var action: String?
    @Option(help: "At most this many rows (the newest).") var limit = 100
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        var filter = JournalFilter(tenantID: self.tenant, action: self.action, limit: self.limit)
        if let mac { filter.mac = try parseMAC(mac).canonical }
        if let since {
            guard let date = parseISO8601(since) else {
                throw CLIFailure.input(
                    "--since \(since.debugDescription) is not ISO 8601 (e.g. 2026-11-26T10:00:00Z or 2026-11-26)")
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
                    String($0.id ?? 0), $0.at?.iso8601 ?? "-", $0.tenantID ?? "-", $0.mac ?? "-", $0.actor, $0.action,
                    $0.outcome,
                    $0.eventID ?? "-", String(decoding: (try? encoder.encode($0.detail)) ?? Data(), as: UTF8.self),
                ]
            })
    }
}

/// `provhook journal verify`: recomputes the hash chain; lists every edited, deleted or inserted row, and every row
/// passed by a seal made out of order (the first 100, and how many more), and exits 1 if there is any.
struct JournalVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Recompute the journal's hash chain and report every broken row (exit 1).")
    @OptionGroup var database: DatabaseOptions
    @Option(help: "A head exported earlier (`journal head --json`): also check that the chain still contains it.")
    var expectHead: String?

    func run() async throws {
        // Input is checked before any work: a malformed head is a usage error (2), whatever the chain holds.
        let expected = try self.expectHead.map { text in
            guard let head = try? JSONDecoder().decode(JournalChain.Head.self, from: Data(text.utf8)) else {
                throw CLIFailure.input("--expect-head takes the JSON printed by `provhook journal head --json`")
            }
            return head
        }
        let verification = try await self.database.withStore { store in
            try await JournalChain(store: store).verify { checked in
                FileHandle.standardError.write(Data("verified \(checked) rows\n".utf8))
            }
        }
        if let first = verification.breaks.first {
            print("journal chain BROKEN at row \(first.id): \(first.problem)")
            print("\(verification.checkedRows) row(s) verified before it")
            for other in verification.breaks.dropFirst() {
                print("journal chain BROKEN at row \(other.id): \(other.problem)")
            }
            let unlisted = verification.breakCount - verification.breaks.count
            if unlisted > 0 { print("and \(unlisted) more break(s), not listed") }
            print(
                "\(verification.breakCount) break(s) in all, \(verification.outOfOrderSeals) of them seal(s) made out of order; "
                    + "\(verification.verifiedRows) sealed row(s) match their seals")
            throw ExitCode(1)
        }
        print(
            "journal chain intact: \(verification.checkedRows) sealed row(s) verified, head \(verification.head.journalID) \(verification.head.hash)"
        )
        if verification.unsealedRows > 0 { print("\(verification.unsealedRows) newer row(s) not sealed yet") }
        if let head = expected {
            let found = try await self.database.withStore { store in
                try await store.sealHash(journalID: head.journalID)
            }
            guard found == head.hash else {
                print(
                    "journal chain does NOT contain the exported head \(head.journalID) \(head.hash): rows were removed or rewritten"
                )
                throw ExitCode(1)
            }
            print("the exported head \(head.journalID) is part of the chain")
        }
    }
}

/// `provhook journal head`: the last seal, to keep outside the database.
struct JournalHeadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "head", abstract: "Print the chain head (last sealed row and hash).")
    @OptionGroup var database: DatabaseOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let head = try await self.database.withStore { try await JournalChain(store: $0).head() }
        if self.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(head), as: UTF8.self))
        } else {
            print("\(head.journalID) \(head.hash) (\(head.sealedRows) sealed rows)")
        }
    }
}

/// `provhook journal seal`: seals committed rows now (serve does this every few seconds).
struct JournalSealCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "seal", abstract: "Seal committed journal rows now.")
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let count = try await self.database.withStore { try await JournalChain(store: $0).seal() }
        print("sealed \(count) row(s)")
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
