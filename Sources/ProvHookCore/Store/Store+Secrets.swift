import Logging
import NIOCore
import PostgresNIO

/// Where the sealed secrets stand (every column of `SealedColumn.all`): how many tenants' webhook secrets are still
/// in clear, how many secrets each key sealed, and how many are not bound to where they are sent yet.
public struct SecretsInventory: Sendable, Equatable {
    /// Tenants' webhook secrets from before migration 0006, not sealed yet.
    public var inClear: Int
    /// Sealed secrets, of every sealed column, by the id of the key that sealed them.
    public var sealedByKey: [String: Int]
    /// Accounts' passwords and sources' API secrets sealed before migration 0016, not bound to their destination.
    public var unbound: Int
}

extension Store {
    /// Counts the secrets by form and key, for `migrate` and `tenant reseal`.
    public func secretsInventory() async throws(StoreError) -> SecretsInventory {
        let logger = self.logger
        return try await self.transaction("counting secrets") { connection in
            try await Self.secretsInventory(on: connection, logger: logger)
        }
    }

    /// `secretsInventory()` on a connection of the caller's, for `serve`'s start-up check, which runs before any pool.
    public static func secretsInventory(
        on connection: PostgresConnection, logger: Logger
    ) async throws
        -> SecretsInventory
    {
        // The columns' names come from `SealedColumn.all`, a constant; nothing of the caller's is in this text.
        let sealed = SealedColumn.all.map {
            "SELECT \($0.keyID) AS key_id FROM \($0.table) WHERE \($0.sealed) IS NOT NULL"
        }
        let rows = try await connection.rows(
            """
            SELECT 'sealed', key_id, count(*) FROM (\(unescaped: sealed.joined(separator: " UNION ALL "))) AS s
            GROUP BY key_id
            UNION ALL SELECT 'clear', NULL, count(*) FROM tenants WHERE webhook_secret IS NOT NULL
            """, as: (String, String?, Int).self, logger: logger)
        var inventory = SecretsInventory(
            inClear: 0, sealedByKey: [:], unbound: try await Self.unboundSecrets(on: connection, logger: logger))
        for (kind, keyID, count) in rows {
            if kind == "clear" { inventory.inClear = count } else if let keyID { inventory.sealedByKey[keyID] = count }
        }
        return inventory
    }

    /// Seals every secret still in clear (from before migration 0006) under the current key and clears the column,
    /// journaling each tenant as a `tenant.update`. Returns the tenants sealed.
    public func sealSecretsInClear(actor: String) async throws(StoreError) -> [String] {
        let secrets = try self.requireSecrets()
        let logger = self.logger
        return try await self.transaction("sealing webhook secrets") { connection in
            let rows = try await connection.rows(
                "SELECT id, webhook_secret FROM tenants WHERE webhook_secret IS NOT NULL ORDER BY id FOR UPDATE",
                as: (String, String).self, logger: logger)
            for (id, secret) in rows {
                let (sealed, keyID) = secrets.seal(secret, tenantID: id)
                try await Self.storeSealed(sealed, keyID: keyID, tenantID: id, on: connection, logger: logger)
            }
            try await Self.appendJournal(
                rows.map { id, _ in
                    .tenantUpdated(id, detail: ["secret_sealed_under": .string(secrets.current.id)], actor: actor)
                }, on: connection, logger: logger)
            return rows.map(\.0)
        }
    }

    /// Re-seals under the current key every secret sealed under a previous one (a key rotation), tenants' webhook
    /// secrets, sources' tokens and API secrets, and accounts' passwords, journaling each as a `tenant.update`,
    /// `source.update` or `account.update`, and devices' PINs (not journaled); secrets from before migration 0016 are
    /// bound to their destination on the way. Returns the tenants' ids, the sources as `source:NAME`, the accounts as
    /// `account:NAME` and the devices whose PIN was re-sealed as `device:MAC`. A secret that no
    /// key held opens stops it, and nothing is changed.
    public func resealSecrets(actor: String) async throws(StoreError) -> [String] {
        let secrets = try self.requireSecrets()
        let logger = self.logger
        return try await self.transaction("re-sealing webhook secrets") { connection in
            let rows = try await connection.rows(
                """
                SELECT id, webhook_secret_sealed, webhook_secret_key_id FROM tenants
                WHERE webhook_secret_key_id IS DISTINCT FROM \(secrets.current.id) AND webhook_secret_sealed IS NOT NULL
                ORDER BY id FOR UPDATE
                """, as: (String, ByteBuffer, String).self, logger: logger)
            for (id, sealed, keyID) in rows {
                let secret = try secrets.open(Array(sealed.readableBytesView), keyID: keyID, tenantID: id)
                let (resealed, newKeyID) = secrets.seal(secret, tenantID: id)
                try await Self.storeSealed(resealed, keyID: newKeyID, tenantID: id, on: connection, logger: logger)
            }
            try await Self.appendJournal(
                rows.map { id, _, keyID in
                    .tenantUpdated(
                        id,
                        detail: [
                            "secret_resealed_from": .string(keyID), "secret_sealed_under": .string(secrets.current.id),
                        ], actor: actor)
                }, on: connection, logger: logger)
            let sources = try await Self.resealSources(
                secrets, onlyUnbound: false, actor: actor, on: connection, logger: logger)
            let accounts = try await Self.resealAccounts(
                secrets, onlyUnbound: false, actor: actor, on: connection, logger: logger)
            let pins = try await Self.resealDevicePINs(secrets, on: connection, logger: logger)
            return rows.map(\.0) + sources.map { "source:\($0)" } + accounts.map { "account:\($0)" }
                + pins.map { "device:\($0)" }
        }
    }

    /// Binds to their destination the accounts' passwords and sources' API secrets sealed before migration 0016 (to
    /// the URL and CA file each row names now), journaling each; `provhook migrate` runs it with the key. Returns the
    /// accounts as `account:NAME` and the sources as `source:NAME`.
    public func bindSecretsToDestinations(actor: String) async throws(StoreError) -> [String] {
        let secrets = try self.requireSecrets()
        let logger = self.logger
        return try await self.transaction("binding secrets to their destinations") { connection in
            let sources = try await Self.resealSources(
                secrets, onlyUnbound: true, actor: actor, on: connection, logger: logger)
            let accounts = try await Self.resealAccounts(
                secrets, onlyUnbound: true, actor: actor, on: connection, logger: logger)
            return sources.map { "source:\($0)" } + accounts.map { "account:\($0)" }
        }
    }

    /// How many accounts' passwords and sources' API secrets are not bound to their destination yet.
    public func unboundSecrets() async throws(StoreError) -> Int {
        let logger = self.logger
        return try await self.transaction("counting unbound secrets") { connection in
            try await Self.unboundSecrets(on: connection, logger: logger)
        }
    }

    /// `unboundSecrets()` on a connection of the caller's.
    static func unboundSecrets(on connection: PostgresConnection, logger: Logger) async throws -> Int {
        // Identifiers and conditions from `SealedColumn.all`, a constant.
        let counts = SealedColumn.all.compactMap { column in
            column.unbound.map { "(SELECT count(*) FROM \(column.table) WHERE \($0))" }
        }
        return try await connection.rows(
            "SELECT \(unescaped: counts.joined(separator: " + "))", as: Int.self, logger: logger
        ).first ?? 0
    }

    /// Re-seals sources' tokens and API secrets under the current key (or, `onlyUnbound`, binds the API secrets from
    /// before 0016), journaling each as a `source.update`; returns their names.
    private static func resealSources(
        _ secrets: SecretKeyring, onlyUnbound: Bool, actor: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> [String] {
        let sources = try await connection.rows(
            """
            SELECT name, tenant_id, token_sealed, token_key_id, api_secret_sealed, api_secret_key_id, api_url,
                   api_ca_file, api_secret_bound
            FROM sources
            WHERE (NOT \(onlyUnbound) AND (token_key_id <> \(secrets.current.id) OR api_secret_key_id <> \(secrets.current.id)))
               OR (api_secret_sealed IS NOT NULL AND NOT api_secret_bound)
            ORDER BY name FOR UPDATE
            """,
            as: (String, String?, ByteBuffer, String, ByteBuffer?, String?, String?, String?, Bool).self,
            logger: logger)
        var entries: [JournalEntry] = []
        for (name, tenantID, sealed, keyID, apiSealed, apiKeyID, apiURL, apiCAFile, bound) in sources {
            var detail: [String: JSONValue] = ["source": .string(name)]
            var token = (sealed: Array(sealed.readableBytesView), keyID: keyID)
            if !onlyUnbound {
                let opened = try secrets.open(token.sealed, keyID: keyID, for: .source(name))
                token = secrets.seal(opened, for: .source(name))
                detail["token_resealed_from"] = .string(keyID)
                detail["token_sealed_under"] = .string(secrets.current.id)
            }
            var api: (sealed: [UInt8], keyID: String)?
            if let apiSealed, let apiKeyID {
                let destination = SecretDestination(url: apiURL, caFile: apiCAFile)
                let secret = try secrets.open(
                    Array(apiSealed.readableBytesView), keyID: apiKeyID,
                    for: .sourceAPI(name, bound ? destination : nil))
                api = secrets.seal(secret, for: .sourceAPI(name, destination))
                detail["api_secret_resealed_from"] = .string(apiKeyID)
                if !bound { detail["api_secret_bound_to"] = .string(destination.description) }
            }
            try await connection.query(
                """
                UPDATE sources SET token_sealed = \(ByteBuffer(bytes: token.sealed)), token_key_id = \(token.keyID),
                    api_secret_sealed = \(api.map { ByteBuffer(bytes: $0.sealed) }), api_secret_key_id = \(api?.keyID),
                    api_secret_bound = \(api != nil)
                WHERE name = \(name)
                """, logger: logger)
            entries.append(
                JournalEntry(
                    tenantID: tenantID, mac: nil, actor: actor, action: .sourceUpdate, outcome: .ok, detail: detail))
        }
        try await Self.appendJournal(entries, on: connection, logger: logger)
        return sources.map(\.0)
    }

    /// Re-seals accounts' passwords (and password files' paths) under the current key (or, `onlyUnbound`, binds
    /// those from before 0016), each bound to the URL and CA file the row names, journaling each as an
    /// `account.update`; returns their names.
    private static func resealAccounts(
        _ secrets: SecretKeyring, onlyUnbound: Bool, actor: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> [String] {
        let accounts = try await connection.rows(
            """
            SELECT name, password_sealed, password_key_id, password_file, url, ca_file, destination_bound
            FROM redirect_accounts
            WHERE name <> 'default'
              AND ((NOT \(onlyUnbound) AND password_key_id <> \(secrets.current.id)) OR NOT destination_bound)
            ORDER BY name FOR UPDATE
            """, as: (String, ByteBuffer?, String?, String?, String?, String?, Bool).self, logger: logger)
        var entries: [JournalEntry] = []
        for (name, sealed, keyID, file, url, caFile, bound) in accounts {
            let destination = SecretDestination(url: url, caFile: caFile)
            var detail: [String: JSONValue] = ["account": .string(name)]
            let resealed: (sealed: [UInt8], keyID: String)
            if let file {
                // The path is sealed, not the password: check that the seal still names this file.
                if bound, let sealed, let keyID {
                    let path = try secrets.open(
                        Array(sealed.readableBytesView), keyID: keyID, for: .accountPasswordFile(name, destination))
                    guard path == file else {
                        throw StoreError.secretKey("the password file of account \(name) does not match its seal")
                    }
                }
                resealed = secrets.seal(file, for: .accountPasswordFile(name, destination))
            } else {
                guard let sealed, let keyID else { continue }
                let password = try secrets.open(
                    Array(sealed.readableBytesView), keyID: keyID, for: .account(name, bound ? destination : nil))
                resealed = secrets.seal(password, for: .account(name, destination))
            }
            if let keyID { detail["password_resealed_from"] = .string(keyID) }
            detail["password_sealed_under"] = .string(secrets.current.id)
            if !bound { detail["password_bound_to"] = .string(destination.description) }
            try await connection.query(
                """
                UPDATE redirect_accounts SET password_sealed = \(ByteBuffer(bytes: resealed.sealed)),
                    password_key_id = \(resealed.keyID), destination_bound = true
                WHERE name = \(name)
                """, logger: logger)
            entries.append(
                JournalEntry(
                    tenantID: nil, mac: nil, actor: actor, action: .accountUpdate, outcome: .ok, detail: detail))
        }
        try await Self.appendJournal(entries, on: connection, logger: logger)
        return accounts.map(\.0)
    }

    private static func storeSealed(
        _ sealed: [UInt8], keyID: String, tenantID: String, on connection: PostgresConnection, logger: Logger
    ) async throws {
        try await connection.query(
            """
            UPDATE tenants SET webhook_secret = NULL, webhook_secret_sealed = \(ByteBuffer(bytes: sealed)),
                webhook_secret_key_id = \(keyID)
            WHERE id = \(tenantID)
            """, logger: logger)
    }
}
