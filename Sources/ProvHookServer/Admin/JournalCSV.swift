import Foundation
import ProvHookCore

/// The journal as CSV (RFC 4180), with cells that spreadsheets would run as formulas made inert.
enum JournalCSV {
    static func render(_ entries: [JournalEntry]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out = "id,at,tenant_id,mac,actor,action,outcome,event_id,detail\r\n"
        let formatter = ISO8601DateFormatter()
        for entry in entries {
            let detail = String(decoding: (try? encoder.encode(entry.detail)) ?? Data(), as: UTF8.self)
            let cells = [
                entry.id.map(String.init) ?? "", entry.at.map(formatter.string) ?? "", entry.tenantID ?? "",
                entry.mac ?? "",
                entry.actor, entry.action, entry.outcome, entry.eventID ?? "", detail,
            ]
            out += cells.map(Self.cell).joined(separator: ",") + "\r\n"
        }
        return out
    }

    static func cell(_ text: String) -> String {
        var value = text
        if let first = value.first, "=+-@\t\r".contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
