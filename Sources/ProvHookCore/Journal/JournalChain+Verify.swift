import NIOCore
import PostgresNIO

extension JournalChain {
    /// Recomputes the chain over every sealed row and reports the first break, in one linear pass.
    ///
    /// The journal and the seals are each read in id order, a page at a time by keyset (`id > last`, on their
    /// primary keys), and merged here: a row without a seal below the head was inserted, a seal without a row marks
    /// a deleted row, and a hash that differs marks an edit. Memory holds two pages; no query sorts or joins.
    /// `progress` is called with the rows checked so far after each page.
    public func verify(
        pageSize: Int = 10_000, progress: @Sendable (Int) -> Void = { _ in }
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
        var seals = Pages<(Int64, ByteBuffer)>(pageSize: pageSize) { after, limit throws(StoreError) in
            try await self.store.rows(
                "verifying the journal",
                """
                SELECT journal_id, hash FROM journal_seals WHERE journal_id > \(after) AND journal_id <= \(headID)
                ORDER BY journal_id LIMIT \(limit)
                """, as: (Int64, ByteBuffer).self)
        } id: {
            $0.0
        }

        var previous = Self.genesis
        var checked = 0
        var lastSealed: Int64 = 0
        func result(_ broken: (Int64, String)? = nil, unsealed: Int = 0) -> Verification {
            Verification(
                checkedRows: checked, firstBreak: broken, unsealedRows: unsealed,
                head: Head(journalID: lastSealed, hash: previous.hex, sealedRows: Int64(checked)))
        }
        while true {
            let row = try await rows.peek()
            let seal = try await seals.peek()
            guard let row else {
                guard let seal else { return result() }
                return result((seal.0, "row \(seal.0) is sealed but missing: it was deleted"))
            }
            guard let seal, seal.0 <= row.0 else {
                guard row.0 > headID else {
                    return result((row.0, "row \(row.0) has no seal: it was inserted after its successors were sealed"))
                }
                // The rows after the head are simply not sealed yet.
                let counts = try await self.store.rows(
                    "counting unsealed rows", "SELECT count(*)::bigint FROM journal WHERE id > \(headID)",
                    as: Int64.self)
                return result(unsealed: Int(counts.first ?? 0))
            }
            guard seal.0 == row.0 else {
                return result((seal.0, "row \(seal.0) is sealed but missing: it was deleted"))
            }
            let next = Self.link(previous, row)
            guard next.elementsEqual(seal.1.readableBytesView) else {
                return result((row.0, "row \(row.0) does not match its seal: it was edited (or an earlier row was)"))
            }
            previous = next
            checked += 1
            lastSealed = row.0
            rows.advance()
            seals.advance()
            if checked % pageSize == 0 { progress(checked) }
        }
    }
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
