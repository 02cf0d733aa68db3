import Foundation
import NIOCore
import PostgresNIO
import ProvisioningModel

/// The accounts' passwords: opened for the processes that call the services, sealed when an operator gives one, and
/// read from a password file.
extension Store {
    /// Every account with its password opened (read from its file, or unsealed), for the processes that call the
    /// service. `default` comes first, without credentials: they are the environment's. An account whose password
    /// cannot be had is returned `unusable`, with the reason, so that it holds back only its own devices: its seal
    /// does not open (under an unknown key, or for another URL or CA file than the row now names), or its file may
    /// not be read (`SecretKeyring.readReferencedFile`).
    public func accountCredentials() async throws(StoreError) -> [AccountCredentials] {
        let rows = try await self.rows(
            "reading account credentials",
            """
            SELECT name, kind, username, password_sealed, password_key_id, password_file, url, ca_file, concurrency,
                   destination_bound, override, serial_required, profile
            FROM redirect_accounts ORDER BY name <> 'default', name
            """,
            as: (
                String, String, String?, ByteBuffer?, String?, String?, String?, String?, Int?, Bool, Bool, Bool,
                String?
            ).self)
        var accounts: [AccountCredentials] = []
        for (name, kind, user, sealed, keyID, file, url, caFile, concurrency, bound, override, serial, profile) in rows
        {
            var credentials = AccountCredentials(
                name: name, kind: ServiceKind(rawValue: kind), user: user, password: nil, url: url, caFile: caFile,
                concurrency: concurrency, override: override, serialRequired: serial, profile: profile)
            if name != RedirectAccount.defaultName {
                do {
                    credentials.password = try self.openPassword(
                        account: name, sealed: sealed.map { Array($0.readableBytesView) }, keyID: keyID, file: file,
                        destination: SecretDestination(url: url, caFile: caFile), bound: bound)
                } catch {
                    credentials.unusable = error.description
                }
            }
            accounts.append(credentials)
        }
        return accounts
    }

    /// An account's password: unsealed, or read from the file whose sealed path the row carries.
    private func openPassword(
        account name: String, sealed: [UInt8]?, keyID: String?, file: String?, destination: SecretDestination,
        bound: Bool
    ) throws(StoreError) -> String {
        let secrets = try self.requireSecrets()
        guard bound, let sealed, let keyID else {
            throw .secretKey(
                "the password of account \(name) is not bound to where it is sent (it was stored before migration 0016); run `provhook migrate` with PROVHOOK_SECRET_KEY_FILE set"
            )
        }
        let owner: SecretOwner = file == nil ? .account(name, destination) : .accountPasswordFile(name, destination)
        let opened: String
        do {
            opened = try secrets.open(sealed, keyID: keyID, for: owner)
        } catch StoreError.secretKey(let reason) where reason.contains("does not open") {
            throw .secretKey(
                "\(owner) was sealed for another destination than \(destination) (or another file), so it is not sent there: its URL, CA file or password file was changed without the password; give it again (provhook account update \(name) --password-file F)"
            )
        }
        guard let file else { return opened }
        guard opened == file else {
            throw .secretKey("\(owner) names \(file), but its seal names another file; give it again")
        }
        let data = try secrets.readReferencedFile(file)
        return try Self.passwordLine(data, path: file, account: name)
    }

    /// Reads an account's password file: its first line, without the line break.
    public static func readPasswordFile(_ path: String, account: String) throws(StoreError) -> String {
        let whose = account.isEmpty ? "" : " of account \(account.debugDescription)"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalid("cannot read the password file \(path)\(whose)")
        }
        return try Self.passwordLine(data, path: path, account: account)
    }

    /// The password a file holds: its one line, without the line break.
    static func passwordLine(_ data: Data, path: String, account: String) throws(StoreError) -> String {
        let whose = account.isEmpty ? "" : " of account \(account.debugDescription)"
        var text = String(decoding: data, as: UTF8.self)
        while let last = text.unicodeScalars.last, last == "\n" || last == "\r" { text.unicodeScalars.removeLast() }
        guard !text.isEmpty else { throw .invalid("the password file \(path)\(whose) is empty") }
        guard (1...1024).contains(text.utf8.count), !text.contains(where: \.isNewline) else {
            throw .invalid("the password file \(path)\(whose) must hold one line of 1 to 1024 bytes")
        }
        return text
    }

    /// The account's password, or its password file's path, sealed for `destination`. A password file must be one
    /// that `serve` may read (under `PROVHOOK_SECRETS_DIR`, not a key, private), checked here so that the operator
    /// hears of a mistake at once rather than from `serve`.
    func sealed(
        _ password: AccountPassword, account: String, to destination: SecretDestination
    ) throws(StoreError) -> (sealed: [UInt8], keyID: String) {
        guard let secrets = self.secrets else {
            throw .secretKey(
                "an account's password, or its password file's path, is sealed under the secret key, bound to where the password is sent, and PROVHOOK_SECRET_KEY_FILE is not set; \(Settings.secretKeyHowTo)"
            )
        }
        switch password {
        case .sealed(let text): return secrets.seal(text, for: .account(account, destination))
        case .file(let path):
            _ = try Self.passwordLine(secrets.readReferencedFile(path), path: path, account: account)
            return secrets.seal(path, for: .accountPasswordFile(account, destination))
        }
    }
}

extension AccountPassword {
    /// The file's path, for a password kept in a file.
    var file: String? {
        if case .file(let path) = self { return path }
        return nil
    }
}
