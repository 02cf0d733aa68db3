import NIOCore
import PostgresNIO

extension JournalChain {
    /// Recomputes the chain over every sealed row and reports every break, in one linear pass.
    ///
    /// The journal and the seals are each read in id order, a page at a time by keyset (`id > last`, on their
    /// primary keys), and merged here: a row without a seal below the head was inserted (or passed by a seal made out
    /// of order), a seal without a row marks a deleted row, and a hash that differs marks an edit. After a break the
    /// chain goes on from the stored seal, so that each independent change is reported where it is; `breakLimit`
    /// bounds the breaks listed, and all are counted. Memory holds two pages; no query sorts or joins.
    /// `progress` is called with the sealed rows checked so far after each page.
    public func verify(
        pageSize: Int = 10_000, breakLimit: Int = 100, progress: @Sendable (Int) -> Void = { _ in }
    ) async throws(StoreError) -> Verification {
        let headID = try await self.head().journalID
        var rows = Pages<Row>(pageSize: pageSize) { after, limit throws(StoreError) in
            try await self.store.rows(
                "verifying the journal",
                "SELECT \(unescaped: Self.rowColumns) FROM journal j WHERE j.id > \(after) ORDER BY j.id LIMIT \(limit)",
                as: Row.self)
        } id: {
            $0.0
        }
        // Each seal with the time it was made, in microseconds since 1970 as the rows' `at`.
        var seals = Pages<(Int64, ByteBuffer, Int64)>(pageSize: pageSize) { after, limit throws(StoreError) in
            try await self.store.rows(
                "verifying the journal",
                """
                SELECT journal_id, hash, (extract(epoch FROM sealed_at) * 1000000)::bigint FROM journal_seals
                WHERE journal_id > \(after) AND journal_id <= \(headID) ORDER BY journal_id LIMIT \(limit)
                """, as: (Int64, ByteBuffer, Int64).self)
        } id: {
            $0.0
        }

        var previous = Self.genesis
        var seen = 0
        var verified = 0
        var lastSealed: Int64 = 0
        var previousAt: Int64?
        var breaks: [Break] = []
        var breakCount = 0
        var outOfOrder = 0
        var beforeFirstBreak: (checked: Int, head: Head)?
        func record(_ id: Int64, _ kind: Break.Kind, _ problem: String) {
            if beforeFirstBreak == nil {
                beforeFirstBreak = (
                    verified, Head(journalID: lastSealed, hash: previous.hex, sealedRows: Int64(verified))
                )
            }
            breakCount += 1
            if kind == .sealedOutOfOrder { outOfOrder += 1 }
            if breaks.count < breakLimit { breaks.append(Break(id: id, kind: kind, problem: problem)) }
        }
        var unsealed = 0
        while true {
            let row = try await rows.peek()
            let seal = try await seals.peek()
            if let seal, row.map({ seal.0 < $0.0 }) ?? true {
                record(seal.0, .deleted, "row \(seal.0) is sealed but missing: it was deleted")
                previous = Array(seal.1.readableBytesView)
                lastSealed = seal.0
                seals.advance()
                continue
            }
            guard let row else { break }
            let at = Int64(row.1)
            defer { previousAt = at ?? previousAt }
            guard let seal, seal.0 == row.0 else {
                guard row.0 > headID else {
                    // A seal above this row was made while it had none. If the row was written before that seal and
                    // in its place in time, its insert was in flight when a later row was sealed; otherwise it was
                    // slipped in afterwards. (Its time is what the row says: whoever can write the row can write it.)
                    let later = seal?.0 ?? headID
                    if let at, let sealedAt = seal?.2, at <= sealedAt, at >= (previousAt ?? at) - Self.clockSlack {
                        record(
                            row.0, .sealedOutOfOrder,
                            "row \(row.0) has no seal: a later row (\(later)) was sealed before it committed "
                                + "(a seal made out of order); the row is outside the chain")
                    } else {
                        record(
                            row.0, .inserted,
                            "row \(row.0) has no seal: it was inserted after its successors were sealed")
                    }
                    rows.advance()
                    continue
                }
                // The rows after the head are simply not sealed yet.
                let counts = try await self.store.rows(
                    "counting unsealed rows", "SELECT count(*)::bigint FROM journal WHERE id > \(headID)",
                    as: Int64.self)
                unsealed = Int(counts.first ?? 0)
                break
            }
            let stored = Array(seal.1.readableBytesView)
            if Self.link(previous, row).elementsEqual(stored) {
                verified += 1
            } else {
                record(row.0, .edited, "row \(row.0) does not match its seal: it was edited (or its seal was)")
            }
            // Checked on from the stored seal: a later row is judged by its own seal, not by an earlier change.
            previous = stored
            lastSealed = row.0
            seen += 1
            rows.advance()
            seals.advance()
            if seen % pageSize == 0 { progress(seen) }
        }
        let intact = Head(journalID: lastSealed, hash: previous.hex, sealedRows: Int64(verified))
        return Verification(
            checkedRows: beforeFirstBreak?.checked ?? verified, verifiedRows: verified, breaks: breaks,
            breakCount: breakCount, outOfOrderSeals: outOfOrder, unsealedRows: unsealed,
            head: beforeFirstBreak?.head ?? intact)
    }

    /// How far a row's time may fall behind the row before it and still be in its place: ids are drawn just before
    /// the time is read, so two inserts at once may read the clock in the other order.
    static let clockSlack: Int64 = 1_000_000
}

/// Rows read a page at a time by keyset, for a merge that looks at one row at a time. The next page is read while
/// this one is checked, so that the database and the hashing overlap.
private struct Pages<Element: Sendable> {
    typealias Fetch = @Sendable (Int64, Int) async throws(StoreError) -> [Element]
    let pageSize: Int
    let fetch: Fetch
    let id: (Element) -> Int64
    private var page: [Element] = []
    private var index = 0
    private var last: Int64 = 0
    private var isExhausted = false
    private var next: Task<[Element], any Error>?

    init(pageSize: Int, fetch: @escaping Fetch, id: @escaping (Element) -> Int64) {
        self.pageSize = max(1, pageSize)
        self.fetch = fetch
        self.id = id
    }

    /// The next element, reading the next page when this one is used up; nil at the end.
    mutating func peek() async throws(StoreError) -> Element? {
        if self.index == self.page.count, !self.isExhausted {
            self.page = try await self.nextPage()
            self.index = 0
            self.isExhausted = self.page.count < self.pageSize
            if let tail = self.page.last { self.last = self.id(tail) }
            if !self.isExhausted {
                let (fetch, last, size) = (self.fetch, self.last, self.pageSize)
                self.next = Task { try await fetch(last, size) }
            }
        }
        return self.index < self.page.count ? self.page[self.index] : nil
    }

    private mutating func nextPage() async throws(StoreError) -> [Element] {
        guard let next = self.next else { return try await self.fetch(self.last, self.pageSize) }
        self.next = nil
        do {
            return try await next.value
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.from("verifying the journal", error)
        }
    }

    mutating func advance() { self.index += 1 }
}
