import Foundation
import Logging
import PostgresNIO
import ProvisioningModel
import WebhookSignature

/// The columns read for a `Tenant`, in order (identifiers only, for `\(unescaped:)`); the per-vendor settings come as
/// `vendor=value` texts (a vendor slug holds no '=').
private let tenantColumns = """
    id, name, url_template, allow_bearer, mac_prefixes, \
    ARRAY(SELECT tv.vendor || '=' || tv.account FROM tenant_vendors tv \
          WHERE tv.tenant_id = tenants.id AND tv.account IS NOT NULL ORDER BY tv.vendor), \
    ARRAY(SELECT tv.vendor || '=' || tv.url_template FROM tenant_vendors tv \
          WHERE tv.tenant_id = tenants.id AND tv.url_template IS NOT NULL ORDER BY tv.vendor), \
    created_at, updated_at, removed_at
    """
private typealias TenantRow = (String, String, String, Bool, [String]?, [String], [String], Date, Date, Date?)

private func makeTenant(_ row: TenantRow) -> Tenant {
    func byVendor(_ pairs: [String]) -> [String: String] {
        Dictionary(
            pairs.compactMap { pair in
                pair.firstIndex(of: "=").map { (String(pair[..<$0]), String(pair[pair.index(after: $0)...])) }
            }, uniquingKeysWith: { first, _ in first })
    }
    return Tenant(
        id: row.0, name: row.1, urlTemplate: row.2, allowBearer: row.3, macPrefixes: row.4,
        accounts: byVendor(row.5), vendorURLTemplates: byVendor(row.6), createdAt: row.7, updatedAt: row.8,
        removedAt: row.9)
}

/// What `updateTenant` changed.
public struct TenantUpdate: Sendable {
    public var tenant: Tenant
    /// The new secret, when it was rotated; shown once and never stored elsewhere.
    public var newSecret: String?
    /// Devices re-pointed at the new URL template.
    public var repointedDevices: Int
    /// Devices queued to move to another account, or to the account that now serves their vendor.
    public var movingDevices: Int = 0
}

extension Store {
    /// Adds a tenant with a new `whsec_` secret, which is returned once. `accounts` names at most one account per
    /// vendor; `vendorURLTemplates` gives the phones of a vendor their own template.
    public func addTenant(
        id: String, name: String?, urlTemplate: URLTemplate, allowBearer: Bool, macRanges: MACRanges? = nil,
        accounts: [String] = [], vendorURLTemplates: [Vendor: URLTemplate] = [:], actor: String
    ) async throws(StoreError) -> (Tenant, secret: String) {
        try Tenant.validate(id: id)
        let secret = WebhookSecret.generate()
        let (sealed, keyID) = try self.requireSecrets().seal(secret, tenantID: id)
        let name = name ?? id
        try Tenant.validate(name: name)
        let logger = self.logger
        let tenant = try await self.transaction("adding tenant \(id)") { connection in
            let byVendor = try await Self.accountsByVendor(accounts, on: connection, logger: logger)
            let inserted = try await connection.rows(
                """
                INSERT INTO tenants (
                    id, name, url_template, webhook_secret_sealed, webhook_secret_key_id, allow_bearer, mac_prefixes)
                VALUES (
                    \(id), \(name), \(urlTemplate.text), \(ByteBuffer(bytes: sealed)), \(keyID), \(allowBearer),
                    \(macRanges?.prefixes))
                ON CONFLICT (id) DO NOTHING
                RETURNING id
                """, as: String.self, logger: logger)
            guard !inserted.isEmpty else {
                throw StoreError.conflict("tenant \(id.debugDescription) already exists")
            }
            for (vendor, account) in byVendor {
                try await Self.setVendorAccount(account, of: vendor, tenantID: id, on: connection, logger: logger)
            }
            for (vendor, template) in vendorURLTemplates {
                try await Self.setVendorURLTemplate(
                    template.text, of: vendor, tenantID: id, on: connection, logger: logger)
            }
            try await Self.appendJournal(
                [
                    .tenantAdded(
                        id, name: name, urlTemplate: urlTemplate.text, allowBearer: allowBearer,
                        macPrefixes: macRanges?.prefixes,
                        accounts: Dictionary(uniqueKeysWithValues: byVendor.map { ($0.key.rawValue, $0.value) }),
                        vendorURLTemplates: Dictionary(
                            uniqueKeysWithValues: vendorURLTemplates.map { ($0.key.rawValue, $0.value.text) }),
                        actor: actor)
                ],
                on: connection, logger: logger)
            return try await Self.tenant(id, on: connection, logger: logger)
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

    /// Changes a tenant. A new URL template re-points every registered device of the tenant that it applies to.
    ///
    /// `accounts` sets the tenant's account for each one's vendor (at most one per vendor) and `dropAccounts` removes
    /// the tenant's own account for a vendor, so that the vendor's default serves it; either moves the devices of
    /// that vendor to the account that now serves them (`devices_reassign` in sql/). `vendorURLTemplates` sets
    /// (or, with nil, removes) a vendor's own URL template.
    public func updateTenant(
        id: String, name: String? = nil, urlTemplate: URLTemplate? = nil, allowBearer: Bool? = nil,
        macRanges: MACRanges?? = nil, rotateSecret: Bool = false, accounts: [String] = [], dropAccounts: [Vendor] = [],
        vendorURLTemplates: [Vendor: URLTemplate?] = [:], actor: String
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
            let byVendor = try await Self.accountsByVendor(accounts, on: connection, logger: logger)
            if let both = dropAccounts.first(where: { byVendor[$0] != nil }) {
                throw StoreError.invalid("--account and --drop-account both name vendor \(both)")
            }
            let rows = try await connection.rows(
                """
                UPDATE tenants SET
                    name = COALESCE(\(name), name),
                    url_template = COALESCE(\(template), url_template),
                    allow_bearer = COALESCE(\(allowBearer), allow_bearer),
                    mac_prefixes = CASE WHEN \(setRanges) THEN \(prefixes) ELSE mac_prefixes END,
                    webhook_secret = CASE WHEN \(sealed != nil) THEN NULL ELSE webhook_secret END,
                    webhook_secret_sealed = COALESCE(\(sealed.map { ByteBuffer(bytes: $0.sealed) }), webhook_secret_sealed),
                    webhook_secret_key_id = COALESCE(\(sealed?.keyID), webhook_secret_key_id),
                    updated_at = now()
                WHERE id = \(id) AND removed_at IS NULL
                RETURNING id
                """, as: String.self, logger: logger)
            guard !rows.isEmpty else { throw StoreError.notFound("no tenant \(id.debugDescription)") }
            var detail: [String: JSONValue] = [:]
            if let name { detail["name"] = .string(name) }
            if let template { detail["url_template"] = .string(template) }
            if let allowBearer { detail["allow_bearer"] = .bool(allowBearer) }
            if setRanges { detail["mac_prefixes"] = prefixes.map { .array($0.map(JSONValue.string)) } ?? .null }
            if rotateSecret { detail["secret_rotated"] = true }

            var changedAccounts: [String: JSONValue] = [:]
            var previousAccounts: [String: JSONValue] = [:]
            var accountChanges = byVendor.map { ($0.key, Optional($0.value)) }
            accountChanges += dropAccounts.map { ($0, nil) }
            for (vendor, account) in accountChanges.sorted(by: { $0.0 < $1.0 }) {
                let previous = try await Self.setVendorAccount(
                    account, of: vendor, tenantID: id, on: connection, logger: logger)
                if previous != account {
                    changedAccounts[vendor.rawValue] = account.map(JSONValue.string) ?? .null
                    previousAccounts[vendor.rawValue] = previous.map(JSONValue.string) ?? .null
                }
            }
            var moving = 0
            if !changedAccounts.isEmpty {
                for vendor in changedAccounts.keys.sorted() {
                    moving += try await Self.reassignDevices(
                        tenantID: id, vendor: vendor, actor: actor, on: connection, logger: logger)
                }
                detail["accounts"] = .object(changedAccounts)
                detail["previous_accounts"] = .object(previousAccounts)
                detail["moving_devices"] = .int(Int64(moving))
            }
            var repointVendors: [Vendor?] = template == nil ? [] : [nil]
            var changedTemplates: [String: JSONValue] = [:]
            for (vendor, vendorTemplate) in vendorURLTemplates.sorted(by: { $0.key < $1.key }) {
                try await Self.setVendorURLTemplate(
                    vendorTemplate?.text, of: vendor, tenantID: id, on: connection, logger: logger)
                changedTemplates[vendor.rawValue] = vendorTemplate.map { .string($0.text) } ?? .null
                if template == nil { repointVendors.append(vendor) }
            }
            if !changedTemplates.isEmpty { detail["vendor_url_templates"] = .object(changedTemplates) }
            var repointed = 0
            for vendor in repointVendors {
                repointed += try await Self.repointDevices(
                    tenantID: id, vendor: vendor, actor: actor, on: connection, logger: logger)
            }
            if !repointVendors.isEmpty { detail["repointed_devices"] = .int(Int64(repointed)) }
            try await Self.appendJournal(
                [.tenantUpdated(id, detail: detail, actor: actor)], on: connection, logger: logger)
            return TenantUpdate(
                tenant: try await Self.tenant(id, on: connection, logger: logger), newSecret: newSecret,
                repointedDevices: repointed, movingDevices: moving)
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

    /// One tenant, read on `connection`.
    static func tenant(_ id: String, on connection: PostgresConnection, logger: Logger) async throws -> Tenant {
        let rows = try await connection.rows(
            "SELECT \(unescaped: tenantColumns) FROM tenants WHERE id = \(id)", as: TenantRow.self, logger: logger)
        guard let row = rows.first else { throw StoreError.notFound("no tenant \(id.debugDescription)") }
        return makeTenant(row)
    }

    /// Points every registered device of a tenant (of one vendor, when given) at the URL its vendor's template now
    /// renders (`vendor_url_template` in sql/), each journaled; returns how many.
    static func repointDevices(
        tenantID: String, vendor: Vendor?, actor: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> Int {
        // Webhooks render URLs from the template inside their own statement; this lock makes them wait for the
        // new template to commit, so no device keeps a URL from the old one.
        try await connection.query("LOCK TABLE devices IN SHARE ROW EXCLUSIVE MODE", logger: logger)
        let changed = try await connection.rows(
            """
            UPDATE devices SET url = render_url(vendor_url_template(tenant_id, vendor), mac), generation = generation + 1
            WHERE tenant_id = \(tenantID) AND desired = 'registered' AND status <> 'skipped'
              AND (\(vendor?.rawValue)::text IS NULL OR vendor = \(vendor?.rawValue))
              AND url IS DISTINCT FROM render_url(vendor_url_template(tenant_id, vendor), mac)
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

    /// Gives the devices of a tenant (nil: of every tenant) and of a vendor the account that now serves them
    /// (`devices_reassign` in sql/): a MAC an account of ours may hold is queued at a new generation to be
    /// deregistered with it, then registered with the new one (`device.move`); a device no account served is queued
    /// with the new one (`device.assign`); one that no account serves any more and that none holds is skipped
    /// (`no_account_for_vendor`). Returns how many were queued.
    static func reassignDevices(
        tenantID: String?, vendor: String, actor: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> Int {
        // Webhooks choose a device's account inside their own statement (a trigger); this lock makes them wait for
        // the new account to commit, as a re-point does for a new template.
        try await connection.query("LOCK TABLE devices IN SHARE ROW EXCLUSIVE MODE", logger: logger)
        let changed = try await connection.rows(
            """
            SELECT mac, tenant_id, generation, from_account, to_account FROM devices_reassign(\(tenantID), \(vendor))
            WHERE status = 'pending'
            """, as: (String, String, Int64, String?, String?).self, logger: logger)
        try await Self.appendJournal(
            changed.map { mac, tenant, generation, from, to in
                .deviceQueued(
                    from == nil ? .deviceAssign : .deviceMove, mac: mac, tenantID: tenant, generation: generation,
                    actor: actor,
                    detail: [
                        "from_account": from.map(JSONValue.string) ?? .null,
                        "to_account": to.map(JSONValue.string) ?? .null, "vendor": .string(vendor),
                    ])
            }, on: connection, logger: logger)
        return changed.count
    }

    /// The accounts named, by the vendor each serves; refuses an unknown account and two for one vendor. Locks the
    /// accounts against removal until the transaction ends.
    static func accountsByVendor(
        _ names: [String], on connection: PostgresConnection, logger: Logger
    ) async throws -> [Vendor: String] {
        guard !names.isEmpty else { return [:] }
        let rows = try await connection.rows(
            "SELECT name, vendor FROM redirect_accounts WHERE name = ANY(\(names)::text[]) FOR KEY SHARE",
            as: (String, String).self, logger: logger)
        let vendorOf = Dictionary(rows, uniquingKeysWith: { first, _ in first })
        var byVendor: [Vendor: String] = [:]
        for name in names {
            guard let slug = vendorOf[name], let vendor = Vendor(rawValue: slug) else {
                // A conflict with the accounts there are, not "not found": the tenant exists, and a 404 would say it
                // is missing.
                throw StoreError.conflict("no account \(name.debugDescription); add it with provhook account add")
            }
            if let other = byVendor[vendor], other != name {
                throw StoreError.conflict(
                    "accounts \(other.debugDescription) and \(name.debugDescription) are both for \(vendor.displayName) phones; a tenant has one account per vendor"
                )
            }
            byVendor[vendor] = name
        }
        return byVendor
    }

    /// Sets (nil: removes) a tenant's own account for `vendor`; returns the one it had.
    @discardableResult
    static func setVendorAccount(
        _ account: String?, of vendor: Vendor, tenantID: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> String? {
        try await connection.rows(
            "SELECT tenant_vendor_set(\(tenantID), \(vendor.rawValue), true, \(account), false, NULL)",
            as: String?.self, logger: logger
        ).first ?? nil
    }

    /// Sets (nil: removes) a tenant's own URL template for `vendor`.
    static func setVendorURLTemplate(
        _ template: String?, of vendor: Vendor, tenantID: String, on connection: PostgresConnection, logger: Logger
    ) async throws {
        try await connection.query(
            "SELECT tenant_vendor_set(\(tenantID), \(vendor.rawValue), false, NULL, true, \(template))",
            logger: logger)
    }
}

extension Store {
    /// Fails unless `account` exists; locks it against removal until the transaction ends.
    static func requireAccount(_ account: String, on connection: PostgresConnection, logger: Logger) async throws {
        let found = try await connection.rows(
            "SELECT name FROM redirect_accounts WHERE name = \(account) FOR KEY SHARE", as: String.self, logger: logger)
        guard !found.isEmpty else {
            throw StoreError.notFound("no account \(account.debugDescription); add it with provhook account add")
        }
    }
}
