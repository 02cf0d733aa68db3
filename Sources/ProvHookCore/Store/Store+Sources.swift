import Foundation
import Logging
import NIOCore
import PostgresNIO
import WebhookSignature

/// The columns read for a `Source`, in order (identifiers and a subquery only, for `\(unescaped:)`).
private let sourceColumns = """
    s.name, s.kind, s.tenant_id, s.created_at, s.updated_at, s.removed_at, s.api_url, s.api_user, s.api_ca_file,
    s.api_tenant, (SELECT jsonb_object_agg(a.account_id, a.tenant_id) FROM source_accounts a WHERE a.source = s.name)::text,
    s.last_sync_at, s.last_sync_summary::text, s.last_sync_error, s.sync_interval_seconds
    """
private typealias SourceRow = (
    String, String, String?, Date, Date, Date?, String?, String?, String?, String?, String?, Date?, String?, String?,
    Int32?
)

private func makeSource(_ row: SourceRow) -> Source {
    Source(
        name: row.0, kind: SourceKind(rawValue: row.1) ?? .kazoo, tenantID: row.2,
        accounts: row.10.flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:],
        api: row.6.map { SourceAPI(url: $0, user: row.7, caFile: row.8, tenant: row.9) },
        lastSync: row.11.map { at in
            SourceSyncOutcome(
                at: at,
                summary: row.12.flatMap { try? JSONDecoder().decode([String: JSONValue].self, from: Data($0.utf8)) }
                    ?? [:], error: row.13)
        },
        syncInterval: row.14.map(Int.init),
        createdAt: row.3, updatedAt: row.4, removedAt: row.5)
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

    /// Adds a source with a new token that is returned once. A mapping source needs its `mapping` (JSON, checked by
    /// the caller); a Kazoo source may map accounts to tenants instead of, or besides, its own tenant; Kazoo and
    /// Wazo sources may name their PBX's API, whose secret is sealed like the token.
    public func addSource(
        name: String, kind: SourceKind, tenantID: String?, mapping: String? = nil, accounts: [String: String] = [:],
        api: (SourceAPI, secret: String)? = nil, syncInterval: Int? = nil, actor: String
    ) async throws(StoreError) -> (Source, token: String) {
        try Source.validate(name: name)
        try Self.check(syncInterval: syncInterval, hasAPI: api != nil)
        try Self.check(kind: kind, tenantID: tenantID, mapping: mapping, accounts: accounts, api: api?.0)
        let token = Self.makeSourceToken()
        let secrets = try self.requireSecrets()
        let (sealed, keyID) = secrets.seal(token, for: .source(name))
        let sealedAPI = api.map { secrets.seal($0.secret, for: .sourceAPI(name, SecretDestination($0.0))) }
        let logger = self.logger
        return try await self.transaction("adding source \(name)") { connection in
            try await Self.requireTenants(
                [tenantID].compactMap { $0 } + accounts.values, on: connection, logger: logger)
            let rows = try await connection.rows(
                """
                INSERT INTO sources (name, kind, tenant_id, token_sealed, token_key_id, mapping, api_url, api_user,
                                     api_secret_sealed, api_secret_key_id, api_ca_file, api_tenant, sync_interval_seconds,
                                     api_secret_bound)
                VALUES (\(name), \(kind.rawValue), \(tenantID), \(ByteBuffer(bytes: sealed)), \(keyID), \(mapping)::jsonb,
                        \(api?.0.url), \(api?.0.user), \(sealedAPI.map { ByteBuffer(bytes: $0.sealed) }),
                        \(sealedAPI?.keyID), \(api?.0.caFile), \(api?.0.tenant), \(syncInterval.map(Int32.init)),
                        \(sealedAPI != nil))
                ON CONFLICT (name) DO NOTHING
                RETURNING name
                """, as: String.self, logger: logger)
            guard !rows.isEmpty else { throw StoreError.conflict("source \(name.debugDescription) already exists") }
            try await Self.mapAccounts(accounts, source: name, on: connection, logger: logger)
            let source = try await Self.source(name, on: connection, logger: logger)
            try await Self.appendJournal(
                [
                    JournalEntry(
                        tenantID: tenantID, mac: nil, actor: actor, action: .sourceAdd, outcome: .ok,
                        detail: Self.journalDetail(source))
                ], on: connection, logger: logger)
            return (source, token)
        }
    }

    /// Changes a source's tenant, mapping, accounts or API; its token stays.
    public func updateSource(name: String, _ update: SourceUpdate, actor: String) async throws(StoreError) -> Source {
        let secrets = try self.requireSecrets()
        // A new API comes with its secret, sealed for the new URL and CA file: the secret is never sent to a place
        // it was not given for.
        let sealedAPI = update.api.map { api in
            api.map { secrets.seal($0.secret, for: .sourceAPI(name, SecretDestination($0.0))) }
        }
        let logger = self.logger
        return try await self.transaction("updating source \(name)") { connection in
            let current = try await Self.source(name, on: connection, logger: logger, forUpdate: true)
            var accounts = current.accounts.merging(update.mapAccounts) { _, new in new }
            for account in update.unmapAccounts { accounts[account] = nil }
            let tenantID = update.tenantID ?? current.tenantID
            let api = update.api.map { $0?.0 } ?? current.api
            // What does not fit the stored source (its kind, its accounts) conflicts with it.
            if update.mapping != nil, current.kind != .mapping {
                throw StoreError.conflict(
                    "only a mapping source has a mapping; \(name) is a \(current.kind.rawValue) source")
            }
            do {
                try Self.check(
                    kind: current.kind, tenantID: tenantID, mapping: current.kind == .mapping ? "{}" : nil,
                    accounts: accounts, api: api)
                try Self.check(
                    syncInterval: update.syncInterval.flatMap { $0 }
                        ?? (update.syncInterval == nil ? current.syncInterval : nil),
                    hasAPI: api != nil)
            } catch StoreError.invalid(let message) {
                throw StoreError.conflict("\(message) (source \(name) is a \(current.kind.rawValue) source)")
            }
            try await Self.requireTenants(
                [tenantID].compactMap { $0 } + update.mapAccounts.values, on: connection, logger: logger)
            let keepAPI = update.api == nil
            let newInterval: Int32? = update.syncInterval.flatMap { $0 }.map(Int32.init)
            try await connection.query(
                """
                UPDATE sources SET tenant_id = \(tenantID), mapping = coalesce(\(update.mapping)::jsonb, mapping),
                    api_url = CASE WHEN \(keepAPI) THEN api_url ELSE \(api?.url) END,
                    api_user = CASE WHEN \(keepAPI) THEN api_user ELSE \(api?.user) END,
                    api_ca_file = CASE WHEN \(keepAPI) THEN api_ca_file ELSE \(api?.caFile) END,
                    api_tenant = CASE WHEN \(keepAPI) THEN api_tenant ELSE \(api?.tenant) END,
                    api_secret_sealed = CASE WHEN \(keepAPI) THEN api_secret_sealed
                        ELSE \(sealedAPI?.map { ByteBuffer(bytes: $0.sealed) }) END,
                    api_secret_key_id = CASE WHEN \(keepAPI) THEN api_secret_key_id ELSE \(sealedAPI??.keyID) END,
                    api_secret_bound = CASE WHEN \(keepAPI) THEN api_secret_bound ELSE \(sealedAPI??.keyID != nil) END,
                    sync_interval_seconds = CASE WHEN \(update.syncInterval == nil) THEN sync_interval_seconds
                        ELSE \(newInterval) END,
                    updated_at = now()
                WHERE name = \(name)
                """, logger: logger)
            try await connection.query(
                "DELETE FROM source_accounts WHERE source = \(name) AND NOT account_id = ANY(\(Array(accounts.keys)))",
                logger: logger)
            try await Self.mapAccounts(update.mapAccounts, source: name, on: connection, logger: logger)
            let source = try await Self.source(name, on: connection, logger: logger)
            var detail = Self.journalDetail(source)
            if update.api != nil { detail["api_changed"] = true }
            if let interval = update.syncInterval {
                detail["sync_interval_seconds"] = interval.map { .number(Double($0)) } ?? .null
            }
            try await Self.appendJournal(
                [
                    JournalEntry(
                        tenantID: source.tenantID, mac: nil, actor: actor, action: .sourceUpdate, outcome: .ok,
                        detail: detail)
                ], on: connection, logger: logger)
            return source
        }
    }

    /// All sources, optionally with removed ones.
    public func sources(includeRemoved: Bool = false) async throws(StoreError) -> [Source] {
        try await self.rows(
            "listing sources",
            """
            SELECT \(unescaped: sourceColumns) FROM sources s WHERE \(includeRemoved) OR s.removed_at IS NULL
            ORDER BY s.name
            """,
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
                RETURNING name
                """, as: String.self, logger: logger)
            guard !rows.isEmpty else { throw StoreError.notFound("no source \(name.debugDescription)") }
            let source = try await Self.source(name, on: connection, logger: logger)
            try await Self.appendJournal(
                [
                    JournalEntry(
                        tenantID: source.tenantID, mac: nil, actor: actor, action: .sourceUpdate, outcome: .ok,
                        detail: ["source": .string(name), "token_rotated": true])
                ], on: connection, logger: logger)
            return (source, token)
        }
    }

    /// Removes a source: its webhooks answer 404 from then on, and its pending lookups are dropped (journaled).
    /// The row stays, so the journal keeps its meaning.
    public func removeSource(name: String, actor: String) async throws(StoreError) {
        let logger = self.logger
        try await self.transaction("removing source \(name)") { connection in
            let rows = try await connection.rows(
                """
                UPDATE sources SET removed_at = now(), updated_at = now() WHERE name = \(name) AND removed_at IS NULL
                RETURNING tenant_id
                """, as: String?.self, logger: logger)
            guard let tenantID = rows.first else { throw StoreError.notFound("no source \(name.debugDescription)") }
            let dropped: Int64 =
                try await connection.rows(
                    "WITH d AS (DELETE FROM source_lookups WHERE source = \(name) RETURNING 1) SELECT count(*)::bigint FROM d",
                    as: Int64.self, logger: logger
                ).first ?? Int64(0)
            try await Self.appendJournal(
                [
                    JournalEntry(
                        tenantID: tenantID, mac: nil, actor: actor, action: .sourceRemove, outcome: .ok,
                        detail: ["source": .string(name), "lookups_dropped": .number(Double(dropped))])
                ], on: connection, logger: logger)
        }
    }

    /// The token, tenant and accounts of an active source, or nil. A source whose own tenant was removed keeps
    /// serving its mapped accounts' active tenants.
    public func sourceCredentials(name: String) async throws(StoreError) -> SourceCredentials? {
        let secrets = try self.requireSecrets()
        let rows = try await self.rows(
            "reading source \(name)",
            """
            SELECT s.kind, t.id, s.token_sealed, s.token_key_id, s.mapping::text, s.api_url IS NOT NULL,
                (SELECT jsonb_object_agg(a.account_id, a.tenant_id) FROM source_accounts a
                 JOIN tenants at ON at.id = a.tenant_id AND at.removed_at IS NULL WHERE a.source = s.name)::text,
                s.credentials_version
            FROM sources s LEFT JOIN tenants t ON t.id = s.tenant_id AND t.removed_at IS NULL
            WHERE s.name = \(name) AND s.removed_at IS NULL
            """, as: (String, String?, ByteBuffer, String, String?, Bool, String?, Int64).self)
        guard let (kind, tenantID, sealed, keyID, mapping, hasAPI, accountsJSON, version) = rows.first,
            let kind = SourceKind(rawValue: kind)
        else { return nil }
        let accounts =
            accountsJSON.flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:]
        guard tenantID != nil || !accounts.isEmpty else { return nil }
        let token = try secrets.open(Array(sealed.readableBytesView), keyID: keyID, for: .source(name))
        return SourceCredentials(
            name: name, kind: kind, tenantID: tenantID, accounts: accounts, token: token,
            mapping: mapping.map { Array($0.utf8) }, hasAPI: hasAPI, version: version)
    }

    /// A source's API and its opened secret, for the lookups and the sync; nil when the source has none (or is
    /// removed). The secret opens only for the URL origin and CA file it was given with.
    public func sourceAPI(name: String) async throws(StoreError) -> (SourceKind, SourceAPI, secret: String)? {
        let secrets = try self.requireSecrets()
        let rows = try await self.rows(
            "reading the API of source \(name)",
            """
            SELECT kind, api_url, api_user, api_ca_file, api_tenant, api_secret_sealed, api_secret_key_id,
                   api_secret_bound
            FROM sources WHERE name = \(name) AND removed_at IS NULL AND api_url IS NOT NULL
            """, as: (String, String, String?, String?, String?, ByteBuffer, String, Bool).self)
        guard let (kind, url, user, caFile, tenant, sealed, keyID, bound) = rows.first,
            let kind = SourceKind(rawValue: kind)
        else { return nil }
        let api = SourceAPI(url: url, user: user, caFile: caFile, tenant: tenant)
        guard bound else {
            throw .secretKey(
                "the API secret of source \(name) is not bound to where it is sent (it was stored before migration 0016); run `provhook migrate` with PROVHOOK_SECRET_KEY_FILE set"
            )
        }
        let destination = SecretDestination(api)
        do {
            let secret = try secrets.open(
                Array(sealed.readableBytesView), keyID: keyID, for: .sourceAPI(name, destination))
            return (kind, api, secret)
        } catch StoreError.secretKey(let reason) where reason.contains("does not open") {
            throw .secretKey(
                "the API secret of source \(name) was sealed for another destination than \(destination), so it is not sent there: its API URL or CA file was changed without the secret; give them again with `provhook source update \(name)`"
            )
        }
    }

    /// Whether `version` is still the source's credentials version, holding its row until the caller's
    /// transaction ends, so that a rotation or removal commits before or after the caller's writes, never between.
    static func sourceCredentialsAreCurrent(
        _ name: String, version: Int64, on connection: PostgresConnection, logger: Logger
    ) async throws -> Bool {
        try await !connection.rows(
            """
            SELECT 1 FROM sources
            WHERE name = \(name) AND credentials_version = \(version) AND removed_at IS NULL FOR SHARE
            """, as: Int32.self, logger: logger
        ).isEmpty
    }

    // MARK: Helpers

    /// The rules a source's settings follow, with a message that says which is broken.
    static func check(
        kind: SourceKind, tenantID: String?, mapping: String?, accounts: [String: String], api: SourceAPI?
    ) throws(StoreError) {
        guard (kind == .mapping) == (mapping != nil) else {
            throw .invalid(
                kind == .mapping ? "a mapping source needs its mapping" : "only a mapping source has a mapping")
        }
        if !accounts.isEmpty, kind != .kazoo { throw .invalid("only a Kazoo source maps accounts to tenants") }
        guard tenantID != nil || !accounts.isEmpty else {
            throw .invalid("a source needs a tenant, or (Kazoo) at least one account mapped to a tenant")
        }
        for account in accounts.keys where !Self.isAccountID(account) {
            throw .invalid("Kazoo account id \(String(account.prefix(64)).debugDescription) is not valid")
        }
        if kind == .fusionpbx, api == nil {
            throw .invalid("a FusionPBX source needs its database (--pbx-database-url-file) and domain (--domain)")
        }
        guard let api else { return }
        switch kind {
        case .mapping: throw .invalid("a mapping source has no PBX API")
        case .fusionpbx:
            guard api.user == nil, let domain = api.tenant, (1...200).contains(domain.count) else {
                throw .invalid("a FusionPBX source takes its database URL and a domain name (--domain)")
            }
            guard (try? DatabaseURL(api.url)) != nil else {
                throw .invalid("the FusionPBX database URL must be postgres://user[:password]@host[:port]/database")
            }
            return
        case .kazoo:
            guard api.user == nil, api.tenant == nil else {
                throw .invalid("a Kazoo API takes an API key only (no user or Wazo tenant)")
            }
        case .wazo:
            guard let user = api.user, (1...200).contains(user.count) else {
                throw .invalid("a Wazo API needs its user")
            }
        }
        guard api.url.utf8.count <= 2000, api.url.wholeMatch(of: Self.apiURLPattern) != nil else {
            throw .invalid(
                "API URL \(String(api.url.prefix(200)).debugDescription) must be http(s)://host[:port][/path], without credentials, query, fragment or spaces"
            )
        }
        if let tenant = api.tenant, !(1...200).contains(tenant.count) {
            throw .invalid("the Wazo tenant is 1 to 200 characters")
        }
        if let caFile = api.caFile, !caFile.hasPrefix("/") {
            throw .invalid("the API CA file must be an absolute path")
        }
    }

    /// What an API URL may be; `sql/0011` checks the same.
    nonisolated(unsafe) static let apiURLPattern = /https?:\/\/[^\/?#@\x00-\x20\x7F]+(\/[^?#\x00-\x20\x7F]*)?/

    /// A periodic sync reads the PBX's API, at most every minute and at least every week.
    static func check(syncInterval: Int?, hasAPI: Bool) throws(StoreError) {
        guard let syncInterval else { return }
        guard (60...604_800).contains(syncInterval) else {
            throw .invalid("the sync interval is 60 to 604800 seconds (one minute to one week)")
        }
        guard hasAPI else { throw .invalid("a periodic sync needs the source's PBX API (--api-url …)") }
    }

    static func isAccountID(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.unicodeScalars.allSatisfy {
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_.-".unicodeScalars.contains($0))
            }
    }

    private static func requireTenants(
        _ ids: [String], on connection: PostgresConnection, logger: Logger
    ) async throws {
        let wanted = Set(ids)
        guard !wanted.isEmpty else { return }
        let found = try await connection.rows(
            "SELECT id FROM tenants WHERE id = ANY(\(Array(wanted))) AND removed_at IS NULL FOR SHARE", as: String.self,
            logger: logger)
        if let missing = wanted.subtracting(found).sorted().first {
            throw StoreError.notFound("no tenant \(missing.debugDescription)")
        }
    }

    private static func mapAccounts(
        _ accounts: [String: String], source: String, on connection: PostgresConnection, logger: Logger
    ) async throws {
        guard !accounts.isEmpty else { return }
        let keys = Array(accounts.keys)
        try await connection.query(
            """
            INSERT INTO source_accounts (source, account_id, tenant_id)
            SELECT \(source), a, t FROM unnest(\(keys)::text[], \(keys.map { accounts[$0]! })::text[]) AS m(a, t)
            ON CONFLICT (source, account_id) DO UPDATE SET tenant_id = excluded.tenant_id
            """, logger: logger)
    }

    private static func source(
        _ name: String, on connection: PostgresConnection, logger: Logger, forUpdate: Bool = false
    ) async throws -> Source {
        let rows = try await connection.rows(
            """
            SELECT \(unescaped: sourceColumns) FROM sources s WHERE s.name = \(name) AND s.removed_at IS NULL
            \(unescaped: forUpdate ? "FOR UPDATE" : "")
            """, as: SourceRow.self, logger: logger)
        guard let row = rows.first else { throw StoreError.notFound("no source \(name.debugDescription)") }
        return makeSource(row)
    }

    /// What a source's journal row says of it: never its token or API secret.
    private static func journalDetail(_ source: Source) -> [String: JSONValue] {
        var detail: [String: JSONValue] = ["source": .string(source.name), "kind": .string(source.kind.rawValue)]
        if !source.accounts.isEmpty {
            detail["accounts"] = .object(source.accounts.mapValues { .string($0) })
        }
        if let api = source.api { detail["api_url"] = .string(api.url) }
        return detail
    }
}
