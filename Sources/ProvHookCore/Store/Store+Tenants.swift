import Foundation
import Logging
import PostgresNIO
import ProvisioningModel
import WebhookSignature

/// The columns read for a `Tenant`, in order (identifiers only, for `\(unescaped:)`).
private let tenantColumns =
    "id, name, url_template, allow_bearer, mac_prefixes, account, created_at, updated_at, removed_at"
private typealias TenantRow = (String, String, String, Bool, [String]?, String, Date, Date, Date?)

private func makeTenant(_ row: TenantRow) -> Tenant {
    Tenant(
        id: row.0, name: row.1, urlTemplate: row.2, allowBearer: row.3, macPrefixes: row.4, account: row.5,
        createdAt: row.6, updatedAt: row.7, removedAt: row.8)
}

/// What `updateTenant` changed.
public struct TenantUpdate: Sendable {
    public var tenant: Tenant
    /// The new secret, when it was rotated; shown once and never stored elsewhere.
    public var newSecret: String?
    /// Devices re-pointed at the new URL template.
    public var repointedDevices: Int
    /// Devices queued to move to the tenant's new account.
    public var movingDevices: Int = 0
}

extension Store {
    /// Adds a tenant with a new `whsec_` secret, which is returned once.
    public func addTenant(
        id: String, name: String?, urlTemplate: URLTemplate, allowBearer: Bool, macRanges: MACRanges? = nil,
        account: String = RedirectAccount.defaultName, actor: String
    ) async throws(StoreError) -> (Tenant, secret: String) {
        try Tenant.validate(id: id)
        let secret = WebhookSecret.generate()
        let (sealed, keyID) = try self.requireSecrets().seal(secret, tenantID: id)
        let name = name ?? id
        try Tenant.validate(name: name)
        let logger = self.logger
        let tenant = try await self.transaction("adding tenant \(id)") { connection in
            try await Self.requireAccount(account, on: connection, logger: logger)
            let rows = try await connection.rows(
                """
                INSERT INTO tenants (
                    id, name, url_template, webhook_secret_sealed, webhook_secret_key_id, allow_bearer, mac_prefixes,
                    account)
                VALUES (
                    \(id), \(name), \(urlTemplate.text), \(ByteBuffer(bytes: sealed)), \(keyID), \(allowBearer),
                    \(macRanges?.prefixes), \(account))
                ON CONFLICT (id) DO NOTHING
                RETURNING \(unescaped: tenantColumns)
                """, as: TenantRow.self, logger: logger)
            guard let row = rows.first else {
                throw StoreError.conflict("tenant \(id.debugDescription) already exists")
            }
            try await Self.appendJournal(
                [
                    .tenantAdded(
                        id, name: name, urlTemplate: urlTemplate.text, allowBearer: allowBearer,
                        macPrefixes: macRanges?.prefixes, account: account, actor: actor)
                ],
                on: connection, logger: logger)
            return makeTenant(row)
        }
        return (tenant, secret)
    }

    /// All tenants, optionally with removed ones.
    public func tenants(includeRemoved: Bool = false) async throws(StoreError) -> [Tenant] {
        try await self.rows(
            "listing tenants",
            "SELECT \(unescaped: tenantColumns) FROM tenants WHERE \(includeRemoved) OR removed_at IS NULL ORDER BY id",
            as: TenantRow.self
        ).map(makeTenant)
    }

    /// One tenant, removed or not.
    public func tenant(_ id: String) async throws(StoreError) -> Tenant? {
        try await self.rows(
            "reading tenant \(id)", "SELECT \(unescaped: tenantColumns) FROM tenants WHERE id = \(id)",
            as: TenantRow.self
        )
        .first.map(makeTenant)
    }

    /// The secret of an active tenant, opened with the keyring, or nil if there is no such tenant (or it was removed).
    public func credentials(tenantID: String) async throws(StoreError) -> TenantCredentials? {
        let secrets = try self.requireSecrets()
        let rows = try await self.rows(
            "reading tenant \(tenantID)",
            """
            SELECT webhook_secret_sealed, webhook_secret_key_id, allow_bearer, mac_prefixes, credentials_version
            FROM tenants WHERE id = \(tenantID) AND removed_at IS NULL
            """,
            as: (ByteBuffer?, String?, Bool, [String]?, Int64).self)
        guard let (sealed, keyID, allowBearer, prefixes, version) = rows.first else { return nil }
        guard let sealed, let keyID else {
            throw .secretKey(
                "the webhook secret of tenant \(tenantID.debugDescription) is still in clear; run `provhook migrate` with PROVHOOK_SECRET_KEY_FILE set"
            )
        }
        return TenantCredentials(
            secret: try secrets.open(Array(sealed.readableBytesView), keyID: keyID, tenantID: tenantID),
            allowBearer: allowBearer,
            macRanges: try prefixes.flatMap { prefixes throws(StoreError) in try MACRanges(prefixes) },
            version: version)
    }

    /// Changes a tenant. A new URL template re-points every registered device of the tenant.
    public func updateTenant(
        id: String, name: String? = nil, urlTemplate: URLTemplate? = nil, allowBearer: Bool? = nil,
        macRanges: MACRanges?? = nil, rotateSecret: Bool = false, account: String? = nil, actor: String
    ) async throws(StoreError) -> TenantUpdate {
        let setRanges = macRanges != nil
        let prefixes = macRanges.flatMap { $0 }?.prefixes
        if let name { try Tenant.validate(name: name) }
        let newSecret = rotateSecret ? WebhookSecret.generate() : nil
        let sealed = try newSecret.map { secret throws(StoreError) in
            try self.requireSecrets().seal(secret, tenantID: id)
        }
        let template = urlTemplate?.text
        let logger = self.logger
        return try await self.transaction("updating tenant \(id)") { connection in
            if let account { try await Self.requireAccount(account, on: connection, logger: logger) }
            let previousAccount = try await connection.rows(
                "SELECT account FROM tenants WHERE id = \(id) AND removed_at IS NULL FOR UPDATE", as: String.self,
                logger: logger
            ).first
            let rows = try await connection.rows(
                """
                UPDATE tenants SET
                    account = COALESCE(\(account), account),
                    name = COALESCE(\(name), name),
                    url_template = COALESCE(\(template), url_template),
                    allow_bearer = COALESCE(\(allowBearer), allow_bearer),
                    mac_prefixes = CASE WHEN \(setRanges) THEN \(prefixes) ELSE mac_prefixes END,
                    webhook_secret = CASE WHEN \(sealed != nil) THEN NULL ELSE webhook_secret END,
                    webhook_secret_sealed = COALESCE(\(sealed.map { ByteBuffer(bytes: $0.sealed) }), webhook_secret_sealed),
                    webhook_secret_key_id = COALESCE(\(sealed?.keyID), webhook_secret_key_id),
                    updated_at = now()
                WHERE id = \(id) AND removed_at IS NULL
                RETURNING \(unescaped: tenantColumns)
                """, as: TenantRow.self, logger: logger)
            guard let row = rows.first else { throw StoreError.notFound("no tenant \(id.debugDescription)") }
            var detail: [String: JSONValue] = [:]
            if let name { detail["name"] = .string(name) }
            if let template { detail["url_template"] = .string(template) }
            if let allowBearer { detail["allow_bearer"] = .bool(allowBearer) }
            if setRanges { detail["mac_prefixes"] = prefixes.map { .array($0.map(JSONValue.string)) } ?? .null }
            if rotateSecret { detail["secret_rotated"] = true }
            var moving = 0
            if let account, let previousAccount, account != previousAccount {
                moving = try await Self.moveDevices(
                    tenantID: id, to: account, actor: actor, on: connection, logger: logger)
                detail["account"] = .string(account)
                detail["previous_account"] = .string(previousAccount)
                detail["moving_devices"] = .int(Int64(moving))
            }
            var repointed = 0
            if let template {
                repointed = try await Self.repointDevices(
                    tenantID: id, template: template, actor: actor, on: connection, logger: logger)
                detail["repointed_devices"] = .int(Int64(repointed))
            }
            try await Self.appendJournal(
                [.tenantUpdated(id, detail: detail, actor: actor)], on: connection, logger: logger)
            return TenantUpdate(
                tenant: makeTenant(row), newSecret: newSecret, repointedDevices: repointed, movingDevices: moving)
        }
    }

    /// Removes a tenant: its webhooks answer 404 from now on and its registered devices are queued for
    /// deregistration. The row stays, so the journal keeps its meaning. Returns the number of devices queued.
    public func removeTenant(id: String, actor: String) async throws(StoreError) -> Int {
        let logger = self.logger
        return try await self.transaction("removing tenant \(id)") { connection in
            let rows = try await connection.rows(
                "UPDATE tenants SET removed_at = now(), updated_at = now() WHERE id = \(id) AND removed_at IS NULL RETURNING id",
                as: String.self, logger: logger)
            guard !rows.isEmpty else { throw StoreError.notFound("no tenant \(id.debugDescription)") }
            try await connection.query("LOCK TABLE devices IN SHARE ROW EXCLUSIVE MODE", logger: logger)
            let queued = try await connection.rows(
                """
                UPDATE devices SET desired = 'deregistered', generation = generation + 1
                WHERE tenant_id = \(id) AND desired = 'registered' AND status <> 'skipped'
                RETURNING mac, generation
                """, as: (String, Int64).self, logger: logger)
            var entries = queued.map { mac, generation in
                JournalEntry.deviceQueued(
                    .deviceDeregister, mac: mac, tenantID: id, generation: generation, actor: actor,
                    detail: ["reason": "tenant removed"])
            }
            let count = queued.count
            entries.append(.tenantRemoved(id, devicesDeregistering: count, actor: actor))
            try await Self.appendJournal(entries, on: connection, logger: logger)
            return count
        }
    }

    /// Points every registered device of a tenant at `template`, each journaled; returns how many.
    static func repointDevices(
        tenantID: String, template: String, actor: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> Int {
        // Webhooks render URLs from the template inside their own statement; this lock makes them wait for the
        // new template to commit, so no device keeps a URL from the old one.
        try await connection.query("LOCK TABLE devices IN SHARE ROW EXCLUSIVE MODE", logger: logger)
        let changed = try await connection.rows(
            """
            UPDATE devices SET url = render_url(\(template), mac), generation = generation + 1
            WHERE tenant_id = \(tenantID) AND desired = 'registered' AND status <> 'skipped'
              AND url IS DISTINCT FROM render_url(\(template), mac)
            RETURNING mac, url, generation
            """, as: (String, String, Int64).self, logger: logger)
        try await Self.appendJournal(
            changed.map { mac, url, generation in
                .deviceQueued(
                    .deviceRepoint, mac: mac, tenantID: tenantID, generation: generation, actor: actor,
                    detail: ["url": .string(url)])
            }, on: connection, logger: logger)
        return changed.count
    }

    /// Moves a tenant's devices to `account`: a device that no account of ours may hold (deregistered, or never
    /// sent) takes the new account at once; every other is queued at a new generation to be deregistered with the
    /// account that holds it, then registered with the new one (`devices.move_to`). Each queued device is journaled
    /// as `device.move`. Returns how many were queued.
    static func moveDevices(
        tenantID: String, to account: String, actor: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> Int {
        // Webhooks take the tenant's account inside their own statement (a trigger); this lock makes them wait for the
        // new account to commit, as a re-point does for a new template.
        try await connection.query("LOCK TABLE devices IN SHARE ROW EXCLUSIVE MODE", logger: logger)
        let moved = try await connection.rows(
            """
            WITH targets AS (
                SELECT mac, device_may_be_held(status, move_to) AS held FROM devices
                WHERE tenant_id = \(tenantID) AND coalesce(move_to, account) <> \(account)
            ), changed AS (
                UPDATE devices d SET
                    account = CASE WHEN t.held THEN d.account ELSE \(account) END,
                    move_to = CASE WHEN t.held AND d.account <> \(account) THEN \(account) END,
                    generation = d.generation + CASE WHEN t.held THEN 1 ELSE 0 END
                FROM targets t WHERE d.mac = t.mac
                RETURNING d.mac, d.account, d.move_to, d.generation, d.status
            )
            SELECT mac, account, move_to, generation FROM changed WHERE status = 'pending'
            """, as: (String, String, String?, Int64).self, logger: logger)
        try await Self.appendJournal(
            moved.map { mac, from, to, generation in
                .deviceQueued(
                    .deviceMove, mac: mac, tenantID: tenantID, generation: generation, actor: actor,
                    detail: ["from_account": .string(from), "to_account": .string(to ?? account)])
            }, on: connection, logger: logger)
        return moved.count
    }

    /// Fails unless `account` exists; locks it against removal until the transaction ends.
    static func requireAccount(_ account: String, on connection: PostgresConnection, logger: Logger) async throws {
        let found = try await connection.rows(
            "SELECT name FROM redirect_accounts WHERE name = \(account) FOR KEY SHARE", as: String.self, logger: logger)
        guard !found.isEmpty else {
            throw StoreError.notFound("no account \(account.debugDescription); add it with provhook account add")
        }
    }
}
