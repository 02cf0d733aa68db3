import ArgumentParser
import BenchSupport
import Foundation
import ProvHookCore
import SnomXMLRPCStandIn

/// `provhook-faults calls`: reads the stand-in's call log (`fake-redirect --call-log`) and fails if two calls on
/// one MAC were ever in progress at once, which would mean one device was worked by two claims.
struct CallsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calls", abstract: "Check the stand-in's call log: no two calls on one MAC at once.")

    @Option(help: "The call log written by `fake-redirect --call-log`.") var callLog: String
    @Option(help: "Six hex digits: only MACs that start with these are checked; all when omitted.") var macPrefix:
        String?

    func run() async throws {
        let decoder = JSONDecoder()
        let prefix = self.macPrefix?.uppercased() ?? ""
        let entries = try String(contentsOfFile: self.callLog, encoding: .utf8).split(separator: "\n").map { line in
            try decoder.decode(CallLogEntry.self, from: Data(line.utf8))
        }.filter { $0.macs.contains { $0.hasPrefix(prefix) } }
        let overlaps = CallLogEntry.overlaps(entries).filter { $0.mac.hasPrefix(prefix) }
        for overlap in overlaps.prefix(5) {
            FileHandle.standardError.write(
                Data("    overlap on \(overlap.mac): \(overlap.earlier) and \(overlap.later)\n".utf8))
        }
        let summary: [String: JSONValue] = [
            "calls": .number(Double(entries.count)), "macs": .number(Double(Set(entries.flatMap(\.macs)).count)),
            "overlaps": .number(Double(overlaps.count)),
        ]
        printJSON(summary)
        if !overlaps.isEmpty { throw ExitCode.failure }
    }
}
