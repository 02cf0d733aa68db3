import Foundation

/// What a sync run reports, why it may stop early, and what bounds it.
extension SourceSync {
    /// What a run found and did, per outcome.
    public struct Summary: Sendable, Hashable, Codable {
        public var listed = 0
        public var unchanged = 0
        public var registered = 0
        public var deregistered = 0
        public var withoutMAC = 0
        public var disabled = 0
        public var rejected = 0
        /// Devices whose MAC another tenant holds registered: what the planner would refuse as `mac_in_use`. Counted,
        /// and named in the run's journal row, rather than journaled again by every run.
        public var conflicts = 0
        public var conflictMACs: [String] = []
        public var removalsHeldBack = 0
        /// Why the run stopped before the PBX had listed everything (``Stop``); nil when it listed what it could.
        public var stopped: Stop?
        /// The error that stopped it, for a one-line reason (it is in `errors` too).
        public var stopMessage: String?
        public var errors: [String] = []

        enum CodingKeys: String, CodingKey {
            case listed, unchanged, registered, deregistered, disabled, rejected, errors, conflicts, stopped
            case conflictMACs = "conflict_macs"
            case withoutMAC = "without_mac"
            case removalsHeldBack = "removals_held_back"
        }

        /// The summary as the journal and `source list` keep it.
        var journalDetail: [String: JSONValue] {
            [
                "listed": .number(Double(self.listed)), "unchanged": .number(Double(self.unchanged)),
                "registered": .number(Double(self.registered)), "deregistered": .number(Double(self.deregistered)),
                "without_mac": .number(Double(self.withoutMAC)), "disabled": .number(Double(self.disabled)),
                "rejected": .number(Double(self.rejected)), "conflicts": .number(Double(self.conflicts)),
                "conflict_macs": .array(self.conflictMACs.map(JSONValue.string)),
                "removals_held_back": .number(Double(self.removalsHeldBack)),
            ].merging(self.stopped.map { ["stopped": .string($0.rawValue)] } ?? [:]) { $1 }
        }

        /// Notes that the run stopped early, and why.
        mutating func stop(_ reason: Stop, _ message: String) {
            self.stopped = reason
            self.stopMessage = message
            self.errors.append(message)
        }
    }

    /// Why a run stopped early; the text is kept in the journal's `source.sync` row and the JSON summary.
    public enum Stop: String, Sendable, Hashable, Codable {
        /// The PBX gave no page within the stall timeout: it stopped answering, or answers too slowly.
        case stalled
        /// The PBX answered a cursor it had answered before: its paging goes round in circles.
        case repeatedCursor = "repeated_cursor"
        /// The listing went past the most devices or pages a sync reads.
        case tooLarge = "too_large"
        /// The run went past its longest duration.
        case deadline
        /// The sync was cancelled (`serve` shutting down).
        case cancelled
    }

    /// What bounds one run, so that a PBX that stops answering, or answers the same page forever, cannot hold a
    /// sync (and with it `source sync`, or a slot of `serve`'s scheduler) for ever.
    public struct Limits: Sendable, Hashable {
        /// The longest the PBX may take to give the next page, the lookups of that page's changed devices
        /// included (`PROVHOOK_SYNC_STALL_SECONDS`). A time without progress rather than a bound on the whole run,
        /// so that a large PBX that keeps answering can take as long as it needs.
        public var stallTimeout: Duration
        /// The longest a whole run may take (`PROVHOOK_SYNC_MAX_SECONDS`).
        public var maxDuration: Duration
        /// The most devices one run may list (`PROVHOOK_SYNC_MAX_DEVICES`); the pages are capped at what that many
        /// devices take at the page size, plus the last, empty one.
        public var maxDevices: Int
        /// How long one request to the PBX may take (`PROVHOOK_SYNC_READ_TIMEOUT_SECONDS`): an HTTP answer (plus
        /// 5 s to connect), or a FusionPBX statement, which the FusionPBX server ends (`statement_timeout`,
        /// `lock_timeout`) so that a locked `v_devices` cannot hold a connection there either.
        public var readTimeout: Duration

        public init(
            stallTimeout: Duration = .seconds(60), maxDuration: Duration = .seconds(3600),
            maxDevices: Int = 1_000_000, readTimeout: Duration = .seconds(10)
        ) {
            self.stallTimeout = stallTimeout
            self.maxDuration = maxDuration
            self.maxDevices = maxDevices
            self.readTimeout = readTimeout
        }

        /// The most pages a run may read at `pageSize`.
        public func maxPages(pageSize: Int) -> Int {
            (self.maxDevices + max(1, pageSize) - 1) / max(1, pageSize) + 1
        }
    }
}
