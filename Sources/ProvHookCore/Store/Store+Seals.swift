import PostgresNIO

extension Store {
    /// The chain hash sealed for one journal row, hex, or nil.
    public func sealHash(journalID: Int64) async throws(StoreError) -> String? {
        try await self.rows(
            "reading a seal", "SELECT encode(hash, 'hex') FROM journal_seals WHERE journal_id = \(journalID)",
            as: String.self
        ).first
    }
}
