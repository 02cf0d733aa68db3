import Logging
import NIOCore
import PostgresNIO

/// Where the tenants' webhook secrets stand: how many are still in clear, and how many each key sealed.
public struct SecretsInventory: Sendable, Equatable {
    /// Secrets from before migration 0006, not sealed yet.
    public var inClear: Int
    /// Sealed secrets by the id of the key that sealed them.
    public var sealedByKey: [String: Int]
}

extension Store {
    /// Counts the secrets by form and key, for `serve`'s start-up check and `tenant reseal`.
    public func secretsInventory() async throws(StoreError) -> SecretsInventory {
        let rows = try await self.rows(
            "counting webhook secrets",
            "SELECT webhook_secret_key_id, count(*) FROM tenants GROUP BY webhook_secret_key_id",
            as: (String?, Int).self)
        var inventory = SecretsInventory(inClear: 0, sealedByKey: [:])
        for (keyID, count) in rows {
            if let keyID { inventory.sealedByKey[keyID] = count } else { inventory.inClear = count }
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
    /// secrets and sources' tokens, journaling each as a `tenant.update` or `source.update`. Returns the tenants'
    /// ids and the sources as `source:NAME`. A secret that no key held opens stops it, and nothing is changed.
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
            let sources = try await connection.rows(
                """
                SELECT name, tenant_id, token_sealed, token_key_id, api_secret_sealed, api_secret_key_id FROM sources
                WHERE token_key_id <> \(secrets.current.id) OR api_secret_key_id <> \(secrets.current.id)
                ORDER BY name FOR UPDATE
                """, as: (String, String?, ByteBuffer, String, ByteBuffer?, String?).self, logger: logger)
            for (name, _, sealed, keyID, apiSealed, apiKeyID) in sources {
                let token = try secrets.open(Array(sealed.readableBytesView), keyID: keyID, for: .source(name))
                let (resealed, newKeyID) = secrets.seal(token, for: .source(name))
                var apiResealed: [UInt8]?
                if let apiSealed, let apiKeyID {
                    let secret = try secrets.open(
                        Array(apiSealed.readableBytesView), keyID: apiKeyID, for: .sourceAPI(name))
                    apiResealed = secrets.seal(secret, for: .sourceAPI(name)).sealed
                }
                try await connection.query(
                    """
                    UPDATE sources SET token_sealed = \(ByteBuffer(bytes: resealed)), token_key_id = \(newKeyID),
                        api_secret_sealed = \(apiResealed.map { ByteBuffer(bytes: $0) }),
                        api_secret_key_id = CASE WHEN api_secret_key_id IS NULL THEN NULL ELSE \(newKeyID) END
                    WHERE name = \(name)
                    """, logger: logger)
            }
            try await Self.appendJournal(
                sources.map { name, tenantID, _, keyID, _, apiKeyID in
                    var detail: [String: JSONValue] = [
                        "source": .string(name), "token_resealed_from": .string(keyID),
                        "token_sealed_under": .string(secrets.current.id),
                    ]
                    if let apiKeyID { detail["api_secret_resealed_from"] = .string(apiKeyID) }
                    return JournalEntry(
                        tenantID: tenantID, mac: nil, actor: actor, action: .sourceUpdate, outcome: .ok, detail: detail)
                }, on: connection, logger: logger)
            let accounts = try await connection.rows(
                """
                SELECT name, password_sealed, password_key_id FROM redirect_accounts
                WHERE password_key_id <> \(secrets.current.id) ORDER BY name FOR UPDATE
                """, as: (String, ByteBuffer, String).self, logger: logger)
            for (name, sealed, keyID) in accounts {
                let password = try secrets.open(Array(sealed.readableBytesView), keyID: keyID, for: .account(name))
                let (resealed, newKeyID) = secrets.seal(password, for: .account(name))
                try await connection.query(
                    """
                    UPDATE redirect_accounts SET password_sealed = \(ByteBuffer(bytes: resealed)),
                        password_key_id = \(newKeyID)
                    WHERE name = \(name)
                    """, logger: logger)
            }
            try await Self.appendJournal(
                accounts.map { name, _, keyID in
                    JournalEntry(
                        tenantID: nil, mac: nil, actor: actor, action: .accountUpdate, outcome: .ok,
                        detail: [
                            "account": .string(name), "password_resealed_from": .string(keyID),
                            "password_sealed_under": .string(secrets.current.id),
                        ])
                }, on: connection, logger: logger)
            return rows.map(\.0) + sources.map { "source:\($0.0)" } + accounts.map { "account:\($0.0)" }
        }
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
