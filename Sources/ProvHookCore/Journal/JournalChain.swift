import Crypto
import Deadlines
import Foundation
import Logging
import PostgresNIO

/// The journal's hash chain: every row, in id order, sealed after commit with
/// `SHA-256(previous hash || canonical row)`. An edited, deleted or inserted row breaks the chain.
public struct JournalChain: Sendable {
    /// The hash before the first row: 32 zero bytes.
    static let genesis = [UInt8](repeating: 0, count: 32)

    let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// The last seal: what to keep outside the database.
    public struct Head: Sendable, Hashable, Codable {
        /// The last sealed journal id (0 when nothing is sealed).
        public var journalID: Int64
        /// Its chain hash, hex.
        public var hash: String
        /// Rows sealed so far.
        public var sealedRows: Int64

        enum CodingKeys: String, CodingKey {
            case journalID = "journal_id"
            case hash
            case sealedRows = "sealed_rows"
        }
    }

    /// What `verify` found.
    public struct Verification: Sendable, Hashable {
        /// Sealed rows verified before the first break; every sealed row when the chain is intact.
        public var checkedRows: Int
        /// Sealed rows whose seal matched, over the whole pass: after a break the chain is checked on from the stored
        /// seal, so that each independent change is found.
        public var verifiedRows: Int
        /// The breaks, in id order: at most the `breakLimit` given to `verify`; `breakCount` counts them all.
        public var breaks: [Break]
        /// Every break found, listed or not.
        public var breakCount: Int
        /// The breaks that are seals made out of order (`Break.Kind.sealedOutOfOrder`), listed or not.
        public var outOfOrderSeals: Int
        /// Committed rows not sealed yet (newer than the head).
        public var unsealedRows: Int
        /// The chain's head as verified: the last seal before the first break, or the last seal when intact.
        public var head: Head

        /// The first break, if any: its journal id and what is wrong.
        public var firstBreak: (id: Int64, problem: String)? {
            self.breaks.first.map { ($0.id, $0.problem) }
        }
    }

    /// One place where the chain and the journal disagree.
    public struct Break: Sendable, Hashable, Codable {
        /// What kind of disagreement it is.
        public enum Kind: String, Sendable, Hashable, Codable {
            /// The row does not match its seal: the row (or its seal) was changed.
            case edited
            /// A seal has no row: the row was deleted.
            case deleted
            /// A row below the head has no seal, and its time puts it after the next seal was made, or out of place
            /// among the rows before it: it was slipped in.
            case inserted
            /// A row below the head has no seal, and it was written before a later row was sealed: that seal was made
            /// while the row's insert was in flight, before it committed. The row is outside the chain for good, but
            /// nothing says it was tampered with (sql/0017 refuses such seals; older databases may hold them).
            case sealedOutOfOrder = "sealed_out_of_order"
        }

        /// The journal id where the chain breaks.
        public var id: Int64
        /// What kind of break it is.
        public var kind: Kind
        /// What is wrong, in a sentence.
        public var problem: String

        /// A break at row `id`.
        public init(id: Int64, kind: Kind, problem: String) {
            self.id = id
            self.kind = kind
            self.problem = problem
        }
    }

    /// The columns of a row, in the order they are hashed.
    typealias Row = (Int64, String, String?, String?, String, String, String, String?, String)

    /// The row's canonical text: its columns joined with U+001F, with `at` as microseconds since 1970.
    static func canonical(_ row: Row) -> [UInt8] {
        var text: [UInt8] = []
        text.reserveCapacity(64 + row.4.utf8.count + row.8.utf8.count)
        text.append(contentsOf: String(row.0).utf8)
        for field in [row.1, row.2 ?? "", row.3 ?? "", row.4, row.5, row.6, row.7 ?? "", row.8] {
            text.append(0x1F)
            text.append(contentsOf: field.utf8)
        }
        return text
    }

    static func link(_ previous: [UInt8], _ row: Row) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: Self.canonical(row))
        return Array(hasher.finalize())
    }

    static let rowColumns =
        "j.id, (extract(epoch FROM j.at) * 1000000)::bigint::text, j.tenant_id, j.mac, j.actor, j.action, j.outcome, j.event_id, j.detail::text"

    /// Seals every row that can no longer be preceded by a late commit; returns how many were sealed.
    ///
    /// The watermark comes from a brief SHARE lock on the journal, which waits only for the inserts in flight:
    /// once it is granted, every id up to the largest committed one is either committed or will never appear.
    @discardableResult
    public func seal(batch: Int = 2000) async throws(StoreError) -> Int {
        let logger = self.store.logger
        // `journal_watermark()` (sql/0004) takes a brief SHARE lock on the journal as the tables' owner, waiting at most
        // 200 ms: while it is requested, new journal inserts queue behind it, so ingest never waits longer for the
        // sealer. If a transaction holds the journal longer, this round is skipped. It also records the watermark
        // (sql/0017): the seals' trigger refuses a seal above the recorded one, so this call must come first.
        let watermark: Int64
        do {
            watermark =
                try await self.store.rows(
                    "reading the journal watermark", "SELECT journal_watermark()", as: Int64.self
                ).first ?? 0
        } catch .database(let failure) where failure.sqlState == "55P03" {
            return 0  // lock_not_available: try again next round.
        }
        var sealed = 0
        while true {
            let count = try await self.store.transaction("sealing the journal") { connection -> Int in
                // One sealer at a time; a second waits, then continues from the new head.
                try await connection.query(
                    "SELECT pg_advisory_xact_lock(\(AdvisoryLock.journalSealer))", logger: logger)
                let head = try await connection.rows(
                    "SELECT journal_id, hash FROM journal_seals ORDER BY journal_id DESC LIMIT 1",
                    as: (Int64, ByteBuffer).self, logger: logger
                ).first
                var previous = head.map { Array($0.1.readableBytesView) } ?? Self.genesis
                let rows = try await connection.rows(
                    """
                    SELECT \(unescaped: Self.rowColumns) FROM journal j
                    WHERE j.id > \(head?.0 ?? 0) AND j.id <= \(watermark) ORDER BY j.id LIMIT \(batch)
                    """, as: Row.self, logger: logger)
                guard !rows.isEmpty else { return 0 }
                var ids: [Int64] = []
                var hashes: [String] = []
                for row in rows {
                    previous = Self.link(previous, row)
                    ids.append(row.0)
                    hashes.append(previous.hex)
                }
                try await connection.query(
                    """
                    INSERT INTO journal_seals (journal_id, hash)
                    SELECT id, decode(hash, 'hex') FROM unnest(\(ids)::bigint[], \(hashes)::text[]) AS s(id, hash)
                    """, logger: logger)
                return rows.count
            }
            sealed += count
            if count < batch { return sealed }
        }
    }

    /// The last seal.
    public func head() async throws(StoreError) -> Head {
        let row = try await self.store.rows(
            "reading the chain head",
            """
            SELECT s.journal_id, encode(s.hash, 'hex'), (SELECT count(*) FROM journal_seals)::bigint
            FROM journal_seals s ORDER BY s.journal_id DESC LIMIT 1
            """, as: (Int64, String, Int64).self
        ).first
        return Head(journalID: row?.0 ?? 0, hash: row?.1 ?? Self.genesis.hex, sealedRows: row?.2 ?? 0)
    }
}
