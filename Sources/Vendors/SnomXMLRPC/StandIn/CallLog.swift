import Foundation

/// One line of the stand-in's call log (`fake-redirect --call-log`): a call as the service saw it, with the
/// MACs it named and when it started and finished. It carries no credentials.
public struct CallLogEntry: Codable, Sendable, Equatable {
    /// The XML-RPC method, or nil if the request never got that far.
    public var method: String?
    /// The MACs named by the call, uppercased.
    public var macs: [String]
    /// The HTTP status answered.
    public var status: Int
    /// Unix seconds when the service began to handle the call.
    public var started: Double
    /// Unix seconds when the service had its answer.
    public var finished: Double

    public init(method: String?, macs: [String], status: Int, started: Double, finished: Double) {
        self.method = method
        self.macs = macs
        self.status = status
        self.started = started
        self.finished = finished
    }

    public init(_ call: FakeRedirectState.Call) {
        self.init(
            method: call.method, macs: call.macs, status: call.status,
            started: call.startedAt.timeIntervalSince1970, finished: call.finishedAt.timeIntervalSince1970)
    }

    /// Two calls that named one MAC while both were in progress: one began before the other had finished.
    public struct Overlap: Sendable, Equatable {
        public var mac: String
        public var earlier: CallLogEntry
        public var later: CallLogEntry
    }

    /// Every pair of calls on one MAC that overlap in time. A MAC worked by one claim at a time has none.
    public static func overlaps(_ entries: [CallLogEntry]) -> [Overlap] {
        var byMAC: [String: [CallLogEntry]] = [:]
        for entry in entries where entry.method != nil {
            for mac in Set(entry.macs) { byMAC[mac, default: []].append(entry) }
        }
        var found: [Overlap] = []
        for (mac, calls) in byMAC {
            let ordered = calls.sorted { $0.started < $1.started }
            // Sorted by start, a call overlaps a later one exactly when it finishes after that one starts; keeping
            // the latest finish seen so far finds calls nested inside a long one too.
            var latest: CallLogEntry?
            for call in ordered {
                if let previous = latest, previous.finished > call.started {
                    found.append(Overlap(mac: mac, earlier: previous, later: call))
                }
                if call.finished > latest?.finished ?? -.infinity { latest = call }
            }
        }
        return found.sorted { $0.earlier.started < $1.earlier.started }
    }
}
