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

extension Store {
    /// Whether this login owns the journal (or is a member of its owner), and so could disable its triggers.
    /// `serve` warns when it does: docs/operating.md deploys it as a login of `provhook_app`.
    public func ownsJournal() async throws(StoreError) -> Bool {
        try await self.rows(
            "checking who owns the journal",
            "SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class WHERE oid = 'journal'::regclass",
            as: Bool.self
        ).first ?? false
    }
}
