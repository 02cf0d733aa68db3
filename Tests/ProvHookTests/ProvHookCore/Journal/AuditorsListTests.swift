import Foundation
import ProvHookCore
import ProvHookTestSupport
import Testing

/// docs/auditors.md lists every journal action and every kind of actor in a table after a marker; these tests hold
/// those tables to the code, so that an action added to one and not the other fails here.
@Suite("The auditors' list")
struct AuditorsListTests {
    /// The first cell's first code span of each row of the table that follows `marker`.
    static func listed(after marker: String) throws -> [String] {
        let path = ScratchCluster.repositoryRoot + "/docs/auditors.md"
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(
            separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(
            lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == marker }, "\(marker) in \(path)")
        let rows = lines[(start + 1)...].drop { !$0.hasPrefix("|") }.prefix { $0.hasPrefix("|") }.dropFirst(2)
        return try rows.map { row in
            let cell = row.split(separator: "|", omittingEmptySubsequences: false)[1]
            let code = cell.split(separator: "`", omittingEmptySubsequences: false)
            try #require(code.count >= 3, "a row without a code span: \(row)")
            return String(code[1])
        }
    }

    @Test("the actions in docs/auditors.md are exactly JournalAction's, each once")
    func actions() throws {
        let listed = try Self.listed(after: "<!-- journal actions: checked by AuditorsListTests -->")
        let code = JournalAction.allCases.map(\.rawValue)
        #expect(Set(code).count == code.count, "JournalAction.allCases names an action twice")
        #expect(Set(listed).count == listed.count, "docs/auditors.md lists an action twice: \(listed)")
        #expect(Set(listed).subtracting(code).sorted() == [], "listed, but not an action of the code")
        #expect(Set(code).subtracting(listed).sorted() == [], "actions of the code missing from docs/auditors.md")
    }

    @Test("the actors in docs/auditors.md are exactly the kinds the code builds, and the status query's source:")
    func actors() throws {
        let listed = try Self.listed(after: "<!-- journal actors: checked by AuditorsListTests -->")
        let kinds = listed.map { actor in String(actor.prefix { $0 != ":" }) }
        #expect(Set(kinds) == Set(JournalActor.Kind.allCases.map(\.rawValue)))
        // `provhook status` finds a source's last event by this prefix (Store+Status.swift).
        #expect(listed.contains("source:<name>@<address>"))
    }
}
