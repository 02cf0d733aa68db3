import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The columns read for a `RedirectAccount`, in order (identifiers only, for `\(unescaped:)`).
private let accountColumns = """
    a.name, a.username, CASE WHEN a.password_sealed IS NOT NULL THEN 'sealed' WHEN a.password_file IS NOT NULL \
    THEN 'file' END, a.password_file, a.url, a.ca_file, a.concurrency, \
    (SELECT count(*) FROM tenants t WHERE t.account = a.name)::int, \
    (SELECT count(*) FROM devices d WHERE d.account = a.name OR d.move_to = a.name)::int, a.created_at, a.updated_at
    """
private typealias AccountRow = (String, String?, String?, String?, String?, String?, Int?, Int, Int, Date, Date)

private func makeAccount(_ row: AccountRow) -> RedirectAccount {
    RedirectAccount(
        name: row.0, user: row.1, passwordStorage: row.2.flatMap(RedirectAccount.PasswordStorage.init(rawValue:)),
        passwordFile: row.3, url: row.4, caFile: row.5, concurrency: row.6, tenants: row.7, devices: row.8,
        createdAt: row.9, updatedAt: row.10)
}

/// What an account change sets; nil leaves a field as it is, `.some(nil)` clears it.
public struct AccountChanges: Sendable {
    public var user: String?
    public var password: AccountPassword?
    public var url: String??
    public var caFile: String??
    public var concurrency: Int??

    public init(
        user: String? = nil, password: AccountPassword? = nil, url: String?? = nil, caFile: String?? = nil,
        concurrency: Int?? = nil
    ) {
        self.user = user
        self.password = password
        self.url = url
        self.caFile = caFile
        self.concurrency = concurrency
    }

    func validate() throws(StoreError) {
        if let user { try RedirectAccount.validate(user: user) }
        if case .sealed(let password) = self.password { try RedirectAccount.validate(password: password) }
        if case .file(let path) = self.password, !path.hasPrefix("/") {
            throw .invalid("an account's password file must be an absolute path")
        }
        if case .some(.some(let url)) = self.url { try RedirectAccount.validate(url: url) }
        if case .some(.some(let path)) = self.caFile, !path.hasPrefix("/") {
            throw .invalid("an account's CA file must be an absolute path")
        }
        if case .some(.some(let concurrency)) = self.concurrency {
            try RedirectAccount.validate(concurrency: concurrency)
        }
    }

    /// The journal's record of the change: what was set, never a password.
    var journalDetail: [String: JSONValue] {
        var detail: [String: JSONValue] = [:]
        if let user { detail["user"] = .string(user) }
        switch self.password {
        case .sealed: detail["password"] = "sealed"
        case .file(let path): detail["password_file"] = .string(path)
        case nil: break
        }
        if let url { detail["url"] = url.map(JSONValue.string) ?? .null }
        if let caFile { detail["ca_file"] = caFile.map(JSONValue.string) ?? .null }
        if let concurrency { detail["concurrency"] = concurrency.map { .int(Int64($0)) } ?? .null }
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
        guard let user = changes.user, let password = changes.password else {
            throw .invalid("an account needs a user and a password (a password file)")
        }
        try changes.validate()
        let sealed = try self.sealed(password, account: name)
        let logger = self.logger
        let url = changes.url ?? nil
        let caFile = changes.caFile ?? nil
        let concurrency = changes.concurrency ?? nil
        return try await self.transaction("adding account \(name)") { connection in
            let rows = try await connection.rows(
                """
                WITH a AS (
                    INSERT INTO redirect_accounts AS a (
                        name, username, password_sealed, password_key_id, password_file, url, ca_file, concurrency)
                    VALUES (\(name), \(user), \(sealed.map { ByteBuffer(bytes: $0.sealed) }), \(sealed?.keyID),
                            \(password.file), \(url), \(caFile), \(concurrency))
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
            try await Self.appendJournal(
                [
                    JournalEntry(
                        tenantID: nil, mac: nil, actor: actor, action: .accountAdd, outcome: .ok, detail: detail)
                ],
                on: connection, logger: logger)
            return makeAccount(row)
        }
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
        try changes.validate()
        let sealed = try changes.password.flatMap { password throws(StoreError) in
            try self.sealed(password, account: name)
        }
        let setPassword = changes.password != nil
        let passwordFile = changes.password?.file
        let setURL = changes.url != nil
        let setCAFile = changes.caFile != nil
        let setConcurrency = changes.concurrency != nil
        let logger = self.logger
        return try await self.transaction("updating account \(name)") { connection in
            let rows = try await connection.rows(
                """
                WITH a AS (
                    UPDATE redirect_accounts SET
                        username = COALESCE(\(changes.user), username),
                        password_sealed = CASE WHEN \(setPassword)
                            THEN \(sealed.map { ByteBuffer(bytes: $0.sealed) }) ELSE password_sealed END,
                        password_key_id = CASE WHEN \(setPassword) THEN \(sealed?.keyID) ELSE password_key_id END,
                        password_file = CASE WHEN \(setPassword) THEN \(passwordFile) ELSE password_file END,
                        url = CASE WHEN \(setURL) THEN \(changes.url ?? nil) ELSE url END,
                        ca_file = CASE WHEN \(setCAFile) THEN \(changes.caFile ?? nil) ELSE ca_file END,
                        concurrency = CASE WHEN \(setConcurrency) THEN \(changes.concurrency ?? nil) ELSE concurrency END,
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
                SELECT (SELECT count(*) FROM tenants WHERE account = \(name))::int,
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

    /// Every account with its password opened (read from its file, or unsealed), for the processes that call the
    /// service. `default` comes first, without credentials: they are the environment's.
    public func accountCredentials() async throws(StoreError) -> [AccountCredentials] {
        let rows = try await self.rows(
            "reading account credentials",
            """
            SELECT name, username, password_sealed, password_key_id, password_file, url, ca_file, concurrency
            FROM redirect_accounts ORDER BY name <> 'default', name
            """, as: (String, String?, ByteBuffer?, String?, String?, String?, String?, Int?).self)
        var accounts: [AccountCredentials] = []
        for (name, user, sealed, keyID, file, url, caFile, concurrency) in rows {
            var password: String?
            if let sealed, let keyID {
                password = try self.requireSecrets().open(
                    Array(sealed.readableBytesView), keyID: keyID, for: .account(name))
            } else if let file {
                password = try Self.readPasswordFile(file, account: name)
            }
            accounts.append(
                AccountCredentials(
                    name: name, user: user, password: password, url: url, caFile: caFile, concurrency: concurrency))
        }
        return accounts
    }

    /// Reads an account's password file: its first line, without the line break.
    public static func readPasswordFile(_ path: String, account: String) throws(StoreError) -> String {
        let whose = account.isEmpty ? "" : " of account \(account.debugDescription)"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalid("cannot read the password file \(path)\(whose)")
        }
        var text = String(decoding: data, as: UTF8.self)
        while let last = text.unicodeScalars.last, last == "\n" || last == "\r" { text.unicodeScalars.removeLast() }
        guard !text.isEmpty else { throw .invalid("the password file \(path)\(whose) is empty") }
        guard (1...1024).contains(text.utf8.count), !text.contains(where: \.isNewline) else {
            throw .invalid("the password file \(path)\(whose) must hold one line of 1 to 1024 bytes")
        }
        return text
    }

    private func sealed(
        _ password: AccountPassword, account: String
    ) throws(StoreError)
        -> (sealed: [UInt8], keyID: String)?
    {
        guard case .sealed(let text) = password else { return nil }
        guard let secrets = self.secrets else {
            throw .secretKey(
                "an account's password is stored encrypted, and PROVHOOK_SECRET_KEY_FILE is not set; set it, or give --password-by-reference to keep the password in its file"
            )
        }
        return secrets.seal(text, for: .account(account))
    }
}

extension AccountPassword {
    /// The file's path, for a password kept in a file.
    var file: String? {
        if case .file(let path) = self { return path }
        return nil
    }
}
