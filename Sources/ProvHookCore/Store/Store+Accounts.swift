import Foundation
import Logging
import NIOCore
import PostgresNIO
import ProvisioningModel

/// The columns read for a `RedirectAccount`, in order (identifiers only, for `\(unescaped:)`).
private let accountColumns = """
    a.name, a.username, CASE WHEN a.password_file IS NOT NULL THEN 'file' WHEN a.password_sealed IS NOT NULL \
    THEN 'sealed' END, a.password_file, a.url, a.ca_file, a.concurrency, \
    (SELECT count(*) FROM tenant_vendors tv WHERE tv.account = a.name)::int, \
    (SELECT count(*) FROM devices d WHERE d.account = a.name OR d.move_to = a.name)::int, a.created_at, a.updated_at, \
    a.kind, a.vendor, a.vendor_default, a.override, a.serial_required, a.profile
    """
private typealias AccountRow = (
    String, String?, String?, String?, String?, String?, Int?, Int, Int, Date, Date, String, String, Bool, Bool, Bool,
    String?
)

private func makeAccount(_ row: AccountRow) -> RedirectAccount {
    RedirectAccount(
        name: row.0, user: row.1, passwordStorage: row.2.flatMap(RedirectAccount.PasswordStorage.init(rawValue:)),
        passwordFile: row.3, url: row.4, caFile: row.5, concurrency: row.6, tenants: row.7, devices: row.8,
        createdAt: row.9, updatedAt: row.10, kind: ServiceKind(rawValue: row.11), vendor: Vendor(rawValue: row.12),
        isVendorDefault: row.13, override: row.14, serialRequired: row.15, profile: row.16)
}

/// What an account change sets; nil leaves a field as it is, `.some(nil)` clears it.
public struct AccountChanges: Sendable {
    /// The service the account is for; only when it is added (an account keeps its kind: a tenant moves to another
    /// account instead). Nil: `snom`.
    public var kind: ServiceKind?
    public var user: String?
    public var password: AccountPassword?
    public var url: String??
    public var caFile: String??
    public var concurrency: Int??
    /// Whether a new account becomes its vendor's default (`Store.makeVendorDefault` for an existing one).
    public var makeDefault: Bool
    /// Whether the account takes MACs other accounts of its service hold (`RedirectAccount.override`); nil leaves
    /// it as it is (off for a new account). Whether its kind has the flag is the caller's to check, with the
    /// registry's descriptors.
    public var override: Bool?
    /// Whether the service registers the account's phones by serial number; nil leaves it as it is.
    public var serialRequired: Bool?
    /// The service's profile for the account's phones; `.some(nil)` clears it.
    public var profile: String??

    public init(
        kind: ServiceKind? = nil, user: String? = nil, password: AccountPassword? = nil, url: String?? = nil,
        caFile: String?? = nil, concurrency: Int?? = nil, makeDefault: Bool = false, override: Bool? = nil,
        serialRequired: Bool? = nil, profile: String?? = nil
    ) {
        self.makeDefault = makeDefault
        self.override = override
        self.serialRequired = serialRequired
        self.profile = profile
        self.kind = kind
        self.user = user
        self.password = password
        self.url = url
        self.caFile = caFile
        self.concurrency = concurrency
    }

    func validate() throws(StoreError) {
        if let kind { try RedirectAccount.validate(kind: kind) }
        if let user { try RedirectAccount.validate(user: user) }
        if case .sealed(let password) = self.password { try RedirectAccount.validate(password: password) }
        if case .file(let path) = self.password, !path.hasPrefix("/") || path.utf8.count > 1024 {
            throw .invalid("an account's password file must be an absolute path of at most 1024 bytes")
        }
        if case .some(.some(let url)) = self.url { try RedirectAccount.validate(url: url) }
        if case .some(.some(let path)) = self.caFile, !path.hasPrefix("/") {
            throw .invalid("an account's CA file must be an absolute path")
        }
        if case .some(.some(let concurrency)) = self.concurrency {
            try RedirectAccount.validate(concurrency: concurrency)
        }
        if case .some(.some(let profile)) = self.profile { try RedirectAccount.validate(profile: profile) }
    }

    /// The journal's record of the change: what was set, never a password.
    var journalDetail: [String: JSONValue] {
        var detail: [String: JSONValue] = [:]
        if let kind { detail["kind"] = .string(kind.rawValue) }
        if let user { detail["user"] = .string(user) }
        switch self.password {
        case .sealed: detail["password"] = "sealed"
        case .file(let path): detail["password_file"] = .string(path)
        case nil: break
        }
        if let url { detail["url"] = url.map(JSONValue.string) ?? .null }
        if let caFile { detail["ca_file"] = caFile.map(JSONValue.string) ?? .null }
        if let concurrency { detail["concurrency"] = concurrency.map { .int(Int64($0)) } ?? .null }
        if let override { detail["override"] = .bool(override) }
        if let serialRequired { detail["serial_required"] = .bool(serialRequired) }
        if let profile { detail["profile"] = profile.map(JSONValue.string) ?? .null }
        return detail
    }
}

extension Store {
    /// Adds a redirection account. A password to seal needs the secret key; without one, only a password file may be
    /// named.
    public func addAccount(
        name: String, changes: AccountChanges, actor: String
    ) async throws(StoreError)
        -> RedirectAccount
    {
        try RedirectAccount.validate(name: name)
        guard name != RedirectAccount.defaultName else {
            throw .conflict("the account \"default\" always exists; its credentials are PROVHOOK_REDIRECT_*")
        }
        guard let password = changes.password else {
            throw .invalid("an account needs its secret: a password, key secret or API key (a file of it)")
        }
        let user = changes.user
        try changes.validate()
        let url = changes.url ?? nil
        let caFile = changes.caFile ?? nil
        let sealed = try self.sealed(password, account: name, to: SecretDestination(url: url, caFile: caFile))
        let logger = self.logger
        let concurrency = changes.concurrency ?? nil
        let kind = changes.kind ?? .snomXMLRPC
        guard let vendor = kind.vendor else {
            throw .invalid("an account's kind must start with its vendor's name, like snom or snom-sraps")
        }
        return try await self.transaction("adding account \(name)") { connection in
            let rows = try await connection.rows(
                """
                WITH a AS (
                    INSERT INTO redirect_accounts AS a (
                        name, kind, vendor, username, password_sealed, password_key_id, password_file, url, ca_file,
                        concurrency, destination_bound, override, serial_required, profile)
                    VALUES (\(name), \(kind.rawValue), \(vendor.rawValue), \(user),
                            \(ByteBuffer(bytes: sealed.sealed)), \(sealed.keyID), \(password.file), \(url),
                            \(caFile), \(concurrency), true, \(changes.override ?? false),
                            \(changes.serialRequired ?? false), \(changes.profile ?? nil))
                    ON CONFLICT (name) DO NOTHING
                    RETURNING *
                )
                SELECT \(unescaped: accountColumns) FROM a
                """, as: AccountRow.self, logger: logger)
            guard let row = rows.first else {
                throw StoreError.conflict("account \(name.debugDescription) already exists")
            }
            var detail = changes.journalDetail
            detail["account"] = .string(name)
            detail["vendor"] = .string(vendor.rawValue)
            try await Self.appendJournal(
                [
                    JournalEntry(
                        tenantID: nil, mac: nil, actor: actor, action: .accountAdd, outcome: .ok, detail: detail)
                ],
                on: connection, logger: logger)
            if changes.makeDefault {
                return try await Self.makeVendorDefault(name, actor: actor, on: connection, logger: logger)
            }
            return makeAccount(row)
        }
    }

    /// Makes an account its vendor's default: it then serves that vendor's phones of every tenant that names no
    /// account for the vendor, in place of the previous default. Their devices move to it (`devices_reassign` in
    /// sql/), and those no account served are delivered now.
    public func makeVendorDefault(name: String, actor: String) async throws(StoreError) -> RedirectAccount {
        let logger = self.logger
        return try await self.transaction("making account \(name) its vendor's default") { connection in
            try await Self.makeVendorDefault(name, actor: actor, on: connection, logger: logger)
        }
    }

    private static func makeVendorDefault(
        _ name: String, actor: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> RedirectAccount {
        let found = try await connection.rows(
            """
            SELECT vendor, vendor_default,
                   (SELECT d.name FROM redirect_accounts d WHERE d.vendor = a.vendor AND d.vendor_default)
            FROM redirect_accounts a WHERE a.name = \(name) FOR UPDATE
            """, as: (String, Bool, String?).self, logger: logger)
        guard let (vendor, isDefault, previous) = found.first else {
            throw StoreError.notFound("no account \(name.debugDescription)")
        }
        if !isDefault {
            try await connection.query(
                """
                UPDATE redirect_accounts SET vendor_default = false, updated_at = now()
                WHERE vendor = \(vendor) AND vendor_default
                """, logger: logger)
            try await connection.query(
                "UPDATE redirect_accounts SET vendor_default = true, updated_at = now() WHERE name = \(name)",
                logger: logger)
            let moving = try await Self.reassignDevices(
                tenantID: nil, vendor: vendor, actor: actor, on: connection, logger: logger)
            try await Self.appendJournal(
                [
                    JournalEntry(
                        tenantID: nil, mac: nil, actor: actor, action: .accountUpdate, outcome: .ok,
                        detail: [
                            "account": .string(name), "vendor_default": true, "vendor": .string(vendor),
                            "previous_default": previous.map(JSONValue.string) ?? .null,
                            "moving_devices": .int(Int64(moving)),
                        ])
                ], on: connection, logger: logger)
        }
        let rows = try await connection.rows(
            "SELECT \(unescaped: accountColumns) FROM redirect_accounts a WHERE a.name = \(name)", as: AccountRow.self,
            logger: logger)
        guard let row = rows.first else { throw StoreError.notFound("no account \(name.debugDescription)") }
        return makeAccount(row)
    }

    /// Every account, `default` included.
    public func accounts() async throws(StoreError) -> [RedirectAccount] {
        try await self.rows(
            "listing accounts", "SELECT \(unescaped: accountColumns) FROM redirect_accounts a ORDER BY a.name",
            as: AccountRow.self
        ).map(makeAccount)
    }

    /// One account, or nil.
    public func account(_ name: String) async throws(StoreError) -> RedirectAccount? {
        try await self.rows(
            "reading account \(name)",
            "SELECT \(unescaped: accountColumns) FROM redirect_accounts a WHERE a.name = \(name)", as: AccountRow.self
        ).first.map(makeAccount)
    }

    /// Changes an account. `default` has nothing of its own to change.
    public func updateAccount(
        name: String, changes: AccountChanges, actor: String
    ) async throws(StoreError)
        -> RedirectAccount
    {
        guard name != RedirectAccount.defaultName else {
            throw .conflict("the account \"default\" is configured by PROVHOOK_REDIRECT_*, not stored")
        }
        guard changes.kind == nil else {
            throw .invalid(
                "an account keeps its kind; add an account of the other kind and move the tenants to it (tenant update ID --account NEW)"
            )
        }
        try changes.validate()
        let setPassword = changes.password != nil
        let passwordFile = changes.password?.file
        let setURL = changes.url != nil
        let setCAFile = changes.caFile != nil
        let setConcurrency = changes.concurrency != nil
        if setPassword { _ = try self.requireSecrets() }
        let logger = self.logger
        return try await self.transaction("updating account \(name)") { connection in
            // The password is bound to where it is sent: a new URL or CA file needs it again, and a new password is
            // sealed for the URL and CA file the account will have.
            let current = try await connection.rows(
                "SELECT url, ca_file FROM redirect_accounts WHERE name = \(name) FOR UPDATE",
                as: (String?, String?).self, logger: logger)
            guard let (currentURL, currentCAFile) = current.first else {
                throw StoreError.notFound("no account \(name.debugDescription)")
            }
            let url = changes.url ?? currentURL
            let caFile = changes.caFile ?? currentCAFile
            let destination = SecretDestination(url: url, caFile: caFile)
            var sealed: (sealed: [UInt8], keyID: String)?
            if let password = changes.password {
                sealed = try self.sealed(password, account: name, to: destination)
            } else if destination != SecretDestination(url: currentURL, caFile: currentCAFile) {
                throw StoreError.conflict(
                    "changing the URL or CA file of account \(name) sends its password to a new place, so it needs the password again (--password-file, or \"password\" through the API)"
                )
            }
            let rows = try await connection.rows(
                """
                WITH a AS (
                    UPDATE redirect_accounts SET
                        username = COALESCE(\(changes.user), username),
                        password_sealed = CASE WHEN \(setPassword)
                            THEN \(sealed.map { ByteBuffer(bytes: $0.sealed) }) ELSE password_sealed END,
                        password_key_id = CASE WHEN \(setPassword) THEN \(sealed?.keyID) ELSE password_key_id END,
                        password_file = CASE WHEN \(setPassword) THEN \(passwordFile) ELSE password_file END,
                        destination_bound = destination_bound OR \(setPassword),
                        url = CASE WHEN \(setURL) THEN \(changes.url ?? nil) ELSE url END,
                        ca_file = CASE WHEN \(setCAFile) THEN \(changes.caFile ?? nil) ELSE ca_file END,
                        concurrency = CASE WHEN \(setConcurrency) THEN \(changes.concurrency ?? nil) ELSE concurrency END,
                        override = COALESCE(\(changes.override), override),
                        serial_required = COALESCE(\(changes.serialRequired), serial_required),
                        profile = CASE WHEN \(changes.profile != nil) THEN \(changes.profile ?? nil) ELSE profile END,
                        updated_at = now()
                    WHERE name = \(name)
                    RETURNING *
                )
                SELECT \(unescaped: accountColumns) FROM a
                """, as: AccountRow.self, logger: logger)
            guard let row = rows.first else { throw StoreError.notFound("no account \(name.debugDescription)") }
            var detail = changes.journalDetail
            detail["account"] = .string(name)
            // New settings may be what its waiting devices waited for (refused credentials, a wrong URL): they are
            // due now rather than at the end of their backoff.
            let due = try await connection.rows(
                """
                UPDATE devices SET next_attempt_at = now()
                WHERE account = \(name) AND status = 'pending' AND next_attempt_at > now()
                RETURNING mac
                """, as: String.self, logger: logger)
            if !due.isEmpty {
                detail["devices_due_now"] = .int(Int64(due.count))
                try await connection.query("SELECT pg_notify(\(Store.wakeChannel), '')", logger: logger)
            }
            try await Self.appendJournal(
                [
                    JournalEntry(
                        tenantID: nil, mac: nil, actor: actor, action: .accountUpdate, outcome: .ok, detail: detail)
                ], on: connection, logger: logger)
            return makeAccount(row)
        }
    }

    /// Removes an account that no tenant uses and that holds no device (a move away from it must be finished).
    public func removeAccount(name: String, actor: String) async throws(StoreError) {
        guard name != RedirectAccount.defaultName else { throw .conflict("the account \"default\" cannot be removed") }
        let logger = self.logger
        try await self.transaction("removing account \(name)") { connection in
            let locked = try await connection.rows(
                "SELECT name FROM redirect_accounts WHERE name = \(name) FOR UPDATE", as: String.self, logger: logger)
            guard !locked.isEmpty else { throw StoreError.notFound("no account \(name.debugDescription)") }
            let uses = try await connection.rows(
                """
                SELECT (SELECT count(*) FROM tenant_vendors WHERE account = \(name))::int,
                       (SELECT count(*) FROM devices WHERE account = \(name) OR move_to = \(name))::int
                """, as: (Int, Int).self, logger: logger)
            let (tenants, devices) = uses.first ?? (0, 0)
            guard tenants == 0 else {
                throw StoreError.conflict(
                    "account \(name.debugDescription) is used by \(tenants) tenant(s); move them first (tenant update ID --account OTHER)"
                )
            }

            guard devices == 0 else {
                throw StoreError.conflict(
                    "account \(name.debugDescription) still holds \(devices) device(s) that are moving away; wait until the move ends (device list)"
                )
            }
            try await connection.query("DELETE FROM redirect_accounts WHERE name = \(name)", logger: logger)
            try await Self.appendJournal(
                [
                    JournalEntry(
                        tenantID: nil, mac: nil, actor: actor, action: .accountRemove, outcome: .ok,
                        detail: ["account": .string(name)])
                ], on: connection, logger: logger)
        }
    }
}
