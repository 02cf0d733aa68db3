import Foundation
import Logging
import NIOCore
import PostgresNIO
import WebhookSignature

/// The columns read for a `Source`, in order (identifiers only, for `\(unescaped:)`).
private let sourceColumns = "name, kind, tenant_id, created_at, updated_at, removed_at"
private typealias SourceRow = (String, String, String, Date, Date, Date?)

private func makeSource(_ row: SourceRow) -> Source {
    Source(
        name: row.0, kind: SourceKind(rawValue: row.1) ?? .kazoo, tenantID: row.2, createdAt: row.3,
        updatedAt: row.4, removedAt: row.5)
}

extension Store {
    /// A new source token: 32 random bytes, base64url, prefixed so that it is recognisable in a configuration.
    static func makeSourceToken() -> String {
        let secret = WebhookSecret.generate()
        let base = secret.dropFirst("whsec_".count)
        return "phsrc_"
            + base.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Adds a source for an active tenant, with a new token that is returned once.
    /// A mapping source needs its `mapping` (JSON, checked by the caller); other kinds have none.
    public func addSource(
        name: String, kind: SourceKind, tenantID: String, mapping: String? = nil, actor: String
    ) async throws(StoreError) -> (Source, token: String) {
        guard (kind == .mapping) == (mapping != nil) else {
            throw .invalid(
                kind == .mapping ? "a mapping source needs its mapping" : "only a mapping source has a mapping")
        }
        try Source.validate(name: name)
        let token = Self.makeSourceToken()
        let (sealed, keyID) = try self.requireSecrets().seal(token, for: .source(name))
        let logger = self.logger
        return try await self.transaction("adding source \(name)") { connection in
            let tenants = try await connection.rows(
                "SELECT id FROM tenants WHERE id = \(tenantID) AND removed_at IS NULL FOR SHARE", as: String.self,
                logger: logger)
            guard !tenants.isEmpty else { throw StoreError.notFound("no tenant \(tenantID.debugDescription)") }
            let rows = try await connection.rows(
                """
                INSERT INTO sources (name, kind, tenant_id, token_sealed, token_key_id, mapping)
                VALUES (\(name), \(kind.rawValue), \(tenantID), \(ByteBuffer(bytes: sealed)), \(keyID), \(mapping)::jsonb)
                ON CONFLICT (name) DO NOTHING
                RETURNING \(unescaped: sourceColumns)
                """, as: SourceRow.self, logger: logger)
            guard let row = rows.first else {
                throw StoreError.conflict("source \(name.debugDescription) already exists")
            }
            try await Self.appendJournal(
                [
                    JournalEntry(
                        tenantID: tenantID, mac: nil, actor: actor, action: .sourceAdd, outcome: .ok,
                        detail: ["source": .string(name), "kind": .string(kind.rawValue)])
                ], on: connection, logger: logger)
            return (makeSource(row), token)
        }
    }

    /// All sources, optionally with removed ones.
    public func sources(includeRemoved: Bool = false) async throws(StoreError) -> [Source] {
        try await self.rows(
            "listing sources",
            "SELECT \(unescaped: sourceColumns) FROM sources WHERE \(includeRemoved) OR removed_at IS NULL ORDER BY name",
            as: SourceRow.self
        ).map(makeSource)
    }

    /// Gives a source a new token, returned once; the old one stops working at once.
    public func rotateSourceToken(name: String, actor: String) async throws(StoreError) -> (Source, token: String) {
        let token = Self.makeSourceToken()
        let (sealed, keyID) = try self.requireSecrets().seal(token, for: .source(name))
        let logger = self.logger
        return try await self.transaction("rotating the token of source \(name)") { connection in
            let rows = try await connection.rows(
                """
                UPDATE sources SET token_sealed = \(ByteBuffer(bytes: sealed)), token_key_id = \(keyID), updated_at = now()
                WHERE name = \(name) AND removed_at IS NULL
                RETURNING \(unescaped: sourceColumns)
                """, as: SourceRow.self, logger: logger)
            guard let row = rows.first else { throw StoreError.notFound("no source \(name.debugDescription)") }
            let source = makeSource(row)
            try await Self.appendJournal(
                [
                    JournalEntry(
                        tenantID: source.tenantID, mac: nil, actor: actor, action: .sourceUpdate, outcome: .ok,
                        detail: ["source": .string(name), "token_rotated": true])
                ], on: connection, logger: logger)
            return (source, token)
        }
    }

    /// Removes a source: its webhooks answer 404 from then on. The row stays, so the journal keeps its meaning.
    public func removeSource(name: String, actor: String) async throws(StoreError) {
        let logger = self.logger
        try await self.transaction("removing source \(name)") { connection in
            let rows = try await connection.rows(
                """
                UPDATE sources SET removed_at = now(), updated_at = now() WHERE name = \(name) AND removed_at IS NULL
                RETURNING tenant_id
                """, as: String.self, logger: logger)
            guard let tenantID = rows.first else { throw StoreError.notFound("no source \(name.debugDescription)") }
            try await Self.appendJournal(
                [
                    JournalEntry(
                        tenantID: tenantID, mac: nil, actor: actor, action: .sourceRemove, outcome: .ok,
                        detail: ["source": .string(name)])
                ], on: connection, logger: logger)
        }
    }

    /// The token and tenant of an active source of an active tenant, or nil.
    public func sourceCredentials(name: String) async throws(StoreError) -> SourceCredentials? {
        let secrets = try self.requireSecrets()
        let rows = try await self.rows(
            "reading source \(name)",
            """
            SELECT s.kind, s.tenant_id, s.token_sealed, s.token_key_id, s.mapping::text
            FROM sources s JOIN tenants t ON t.id = s.tenant_id
            WHERE s.name = \(name) AND s.removed_at IS NULL AND t.removed_at IS NULL
            """, as: (String, String, ByteBuffer, String, String?).self)
        guard let (kind, tenantID, sealed, keyID, mapping) = rows.first, let kind = SourceKind(rawValue: kind) else {
            return nil
        }
        let token = try secrets.open(Array(sealed.readableBytesView), keyID: keyID, for: .source(name))
        return SourceCredentials(kind: kind, tenantID: tenantID, token: token, mapping: mapping.map { Array($0.utf8) })
    }
}
