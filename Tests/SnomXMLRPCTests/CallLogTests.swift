import Foundation
import ProvisioningModel
import SnomXMLRPC
import SnomXMLRPCStandIn
import Synchronization
import Testing

/// The stand-in's call log, which the two-instance fault scenario reads to prove that no MAC was worked twice at once.
@Suite("Stand-in call log")
struct CallLogTests {
    func entry(
        _ macs: [String], _ started: Double, _ finished: Double, method: String? = "redirect.registerPhone"
    ) -> CallLogEntry {
        CallLogEntry(method: method, macs: macs, status: 200, started: started, finished: finished)
    }

    @Test("calls on one MAC that follow each other do not overlap; touching ends do not either")
    func sequential() {
        let entries = [
            self.entry(["000413000001"], 0, 1), self.entry(["000413000001"], 1, 2), self.entry(["000413000001"], 3, 4),
        ]
        #expect(CallLogEntry.overlaps(entries).isEmpty)
    }

    @Test("calls on one MAC in progress at once overlap, including one nested inside a long call")
    func overlapping() {
        let long = self.entry(["000413000001"], 0, 10)
        let first = self.entry(["000413000001"], 2, 3)
        let nested = self.entry(["000413000001"], 5, 6)
        let overlaps = CallLogEntry.overlaps([nested, long, first])
        #expect(overlaps.map(\.later) == [first, nested])
        #expect(overlaps.allSatisfy { $0.mac == "000413000001" && $0.earlier == long })
    }

    @Test("a list call overlaps a single call on one of its MACs; other MACs and failed requests are apart")
    func lists() {
        let list = self.entry(["000413000001", "000413000002"], 0, 2, method: "redirect.deregisterPhoneList")
        let single = self.entry(["000413000002"], 1, 3)
        let other = self.entry(["000413000003"], 1, 3)
        let unparsed = self.entry(["000413000001"], 1, 3, method: nil)
        #expect(CallLogEntry.overlaps([list, single, other, unparsed]).map(\.mac) == ["000413000002"])
    }

    @Test("the stand-in logs each call's MACs, uppercased, from single and list calls")
    func recorded() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            let logged = LoggedEntries()
            await standIn.state.observeCalls { logged.append(CallLogEntry($0)) }
            _ = try await standIn.client.registerPhone(
                try MACAddress(parsing: "000413abcdef"), url: "https://prov.example.com/a.xml")
            _ = try await standIn.client.deregisterPhoneList([
                try MACAddress(parsing: "000413000001"), try MACAddress(parsing: "000413000002"),
            ])
            let entries = logged.entries
            #expect(entries.map(\.method) == ["redirect.registerPhone", "redirect.deregisterPhoneList"])
            #expect(entries.map(\.macs) == [["000413ABCDEF"], ["000413000001", "000413000002"]])
            #expect(entries.allSatisfy { $0.status == 200 && $0.started <= $0.finished })
            let line = try JSONEncoder().encode(entries[0])
            #expect(try JSONDecoder().decode(CallLogEntry.self, from: line) == entries[0])
            #expect(!String(decoding: line, as: UTF8.self).contains(StandIn.password))
        }
    }
}

/// Collects entries from the stand-in's observer, which runs on the state's actor.
final class LoggedEntries: Sendable {
    private let storage = Mutex<[CallLogEntry]>([])
    func append(_ entry: CallLogEntry) { self.storage.withLock { $0.append(entry) } }
    var entries: [CallLogEntry] { self.storage.withLock { $0 } }
}
