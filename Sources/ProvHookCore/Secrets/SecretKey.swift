import Crypto
import Foundation

/// A 32-byte key that encrypts tenants' webhook secrets at rest (AES-256-GCM), read from `PROVHOOK_SECRET_KEY_FILE`.
///
/// The database holds only what the key sealed, so a copy of the database (a backup, a replica, the app's login)
/// does not give the secrets that sign webhooks. The key never reaches the database, a log or a message.
public struct SecretKey: Sendable {
    /// The key's id: the first 8 bytes of HMAC-SHA256(key, "provhook secret key id"), in hex. Stored next to each
    /// sealed secret, it says which key opens it without saying anything about the key.
    public let id: String
    let key: SymmetricKey
    /// The file the key was read from; nil for a key made in memory. No secret may be kept by reference in it.
    public private(set) var path: String?

    /// The key from 32 bytes.
    public init(bytes: some ContiguousBytes) throws(SecretKeyError) {
        let key = SymmetricKey(data: bytes)
        guard key.bitCount == 256 else { throw .wrongLength(key.bitCount / 8) }
        self.key = key
        let tag = HMAC<SHA256>.authenticationCode(for: Data("provhook secret key id".utf8), using: key)
        self.id = Array(tag).prefix(8).hex
    }

    /// A new random key, for tests and throwaway setups.
    public static func generate() -> SecretKey {
        try! SecretKey(bytes: SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
    }

    /// The key in a file: 32 raw bytes, or their base64 (as `openssl rand -base64 32` writes it). The file must be a
    /// regular file that no one but its owner and group can read: others may have no access at all.
    public init(contentsOfFile path: String) throws(SecretKeyError) {
        let data = try Self.readPrivateFile(path)
        if data.count == 32 {
            try self.init(bytes: data)
        } else {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let decoded = Data(base64Encoded: text) else { throw .wrongLength(data.count) }
            try self.init(bytes: decoded)
        }
        self.path = path
    }

    /// The contents of a file that holds a secret: a regular file that no one but its owner and group can read, and
    /// that its group cannot write. The key and every password file an account names pass this check.
    static func readPrivateFile(_ path: String) throws(SecretKeyError) -> Data {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .unreadable(path, String(cString: strerror(errno))) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .unreadable(path, "not a regular file") }
        guard info.st_mode & 0o007 == 0, info.st_mode & 0o020 == 0 else {
            throw .exposed(path, String(info.st_mode & 0o777, radix: 8))
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path, "permission denied")
        }
        return data
    }

    /// Seals `secret` for `owner`: nonce, ciphertext and tag. The owner (a tenant's or a source's name) is
    /// authenticated with it, so a sealed secret copied onto another row does not open.
    func seal(_ secret: String, for owner: SecretOwner) -> [UInt8] {
        // AES.GCM.seal fails only for a nonce of the wrong size; its own random nonce cannot be.
        let box = try! AES.GCM.seal(Data(secret.utf8), using: self.key, authenticating: owner.context)
        return Array(box.combined!)
    }

    /// Opens what `seal` made for `owner`; nil if this key did not seal it for that owner, or it was altered.
    func open(_ sealed: [UInt8], for owner: SecretOwner) -> String? {
        guard let box = try? AES.GCM.SealedBox(combined: sealed),
            let plain = try? AES.GCM.open(box, using: self.key, authenticating: owner.context)
        else { return nil }
        return String(validating: plain, as: UTF8.self)
    }
}

/// Where a secret may be sent: the origin (scheme, host and port) of the URL it goes to, and the CA file that decides
/// which host is the real one. Sealed secrets that leave provhook (an account's password, a PBX API's secret) are bound
/// to it, so a row whose URL or CA file was changed by a login that does not know the secret (the app's login, say) no
/// longer opens, and the secret is never sent to the new place.
public struct SecretDestination: Sendable, Hashable, CustomStringConvertible {
    /// `scheme://host:port`, lowercased, with the scheme's default port spelled out; `environment` for an account
    /// without a URL of its own (it calls its kind's default, which only the operator or provhook itself sets:
    /// `PROVHOOK_REDIRECT_URL`, or SRAPS's production API root).
    public var origin: String
    /// The CA file's path, or empty for the system's trust roots.
    public var caFile: String

    /// The destination of `url` (nil: the installation's own, from the environment) verified with `caFile`.
    public init(url: String?, caFile: String?) {
        self.caFile = caFile ?? ""
        guard let url else {
            self.origin = "environment"
            return
        }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            let host = components.host?.lowercased(), !host.isEmpty
        else {
            // Not a URL the clients could call; binding to the whole text still refuses any other.
            self.origin = url
            return
        }
        let defaultPort: Int? =
            switch scheme {
            case "https": 443
            case "http": 80
            case "postgres", "postgresql": 5432
            default: nil
            }
        let port = components.port ?? defaultPort
        self.origin = "\(scheme == "postgresql" ? "postgres" : scheme)://\(host)\(port.map { ":\($0)" } ?? "")"
    }

    /// Where a source's PBX API secret goes: its API's URL (a FusionPBX database's URL, without its password) and
    /// CA file.
    public init(_ api: SourceAPI) { self.init(url: api.url, caFile: api.caFile) }

    public var description: String { self.caFile.isEmpty ? self.origin : "\(self.origin) (CA file \(self.caFile))" }

    /// What the seal authenticates besides its owner.
    var context: String { "\u{0}to\u{0}\(self.origin)\u{0}ca\u{0}\(self.caFile)" }
}

/// Whose secret a sealed value is: it is authenticated with the value, which opens for that owner only.
enum SecretOwner: Sendable, CustomStringConvertible {
    /// A tenant's webhook secret.
    case tenant(String)
    /// An inbound source's token.
    case source(String)
    /// The secret of an inbound source's PBX API (a Kazoo API key, a Wazo user's password, a FusionPBX database
    /// password), bound to where it is sent; nil only to open a secret sealed before migration 0016.
    case sourceAPI(String, SecretDestination?)
    /// A redirection account's password, bound to where it is sent; nil only to open one sealed before 0016.
    case account(String, SecretDestination?)
    /// The path of a redirection account's password file, bound to where the password is sent: a row that names
    /// another file, or another URL, does not open.
    case accountPasswordFile(String, SecretDestination)
    /// The PIN a provisioning service keeps for the phone of this MAC (canonical), which never leaves provhook but to
    /// its operator.
    case devicePIN(String)

    var context: Data {
        switch self {
        case .tenant(let id): Data("provhook tenant webhook secret\u{0}\(id)".utf8)
        case .source(let name): Data("provhook source token\u{0}\(name)".utf8)
        case .sourceAPI(let name, let destination):
            Data("provhook source API secret\u{0}\(name)\(destination?.context ?? "")".utf8)
        case .account(let name, let destination):
            Data("provhook redirection account password\u{0}\(name)\(destination?.context ?? "")".utf8)
        case .accountPasswordFile(let name, let destination):
            Data("provhook redirection account password file\u{0}\(name)\(destination.context)".utf8)
        case .devicePIN(let mac): Data("provhook device PIN\u{0}\(mac)".utf8)
        }
    }

    var description: String {
        switch self {
        case .tenant(let id): "the webhook secret of tenant \(id.debugDescription)"
        case .source(let name): "the token of source \(name.debugDescription)"
        case .sourceAPI(let name, _): "the API secret of source \(name.debugDescription)"
        case .account(let name, _): "the password of redirection account \(name.debugDescription)"
        case .accountPasswordFile(let name, _): "the password file of redirection account \(name.debugDescription)"
        case .devicePIN(let mac): "the PIN of device \(mac)"
        }
    }
}

/// The key that seals new secrets and, during a rotation, the previous keys that still open old ones.
public struct SecretKeyring: Sendable {
    /// Seals every new or rotated secret (`PROVHOOK_SECRET_KEY_FILE`).
    public let current: SecretKey
    /// Open secrets sealed before a rotation (`PROVHOOK_PREVIOUS_SECRET_KEY_FILE`), until `tenant reseal` ran.
    public let previous: [SecretKey]
    /// The only directory whose files an account may name as its password file (`PROVHOOK_SECRETS_DIR`): the
    /// database's logins may change which file a row names, and must not be able to name any other file of the host.
    public let secretsDirectory: String

    /// Where password files live unless `PROVHOOK_SECRETS_DIR` says otherwise.
    public static let defaultSecretsDirectory = "/etc/provhook"

    public init(current: SecretKey, previous: [SecretKey] = [], secretsDirectory: String = Self.defaultSecretsDirectory)
    {
        self.current = current
        self.previous = previous.filter { $0.id != current.id }
        self.secretsDirectory = secretsDirectory
    }

    /// Reads a password file that an account names, after checking that it may be read for that: it lies under
    /// `secretsDirectory` (after resolving links), it is not a key file, and it passes the key's own mode checks.
    func readReferencedFile(_ path: String) throws(StoreError) -> Data {
        func resolved(_ path: String) -> String? {
            guard let pointer = realpath(path, nil) else { return nil }
            defer { free(pointer) }
            return String(cString: pointer)
        }
        guard let file = resolved(path) else {
            throw .secretKey("cannot read the password file \(path): \(String(cString: strerror(errno)))")
        }
        guard let directory = resolved(self.secretsDirectory),
            file.hasPrefix(directory.hasSuffix("/") ? directory : directory + "/")
        else {
            throw .secretKey(
                "the password file \(path) is not under PROVHOOK_SECRETS_DIR (\(self.secretsDirectory)); an account may only name a file there"
            )
        }
        let keyFiles = ([self.current] + self.previous).compactMap(\.path).compactMap(resolved)
        guard !keyFiles.contains(file) else {
            throw .secretKey("the password file \(path) is a secret key file, which is never sent anywhere")
        }
        do {
            return try SecretKey.readPrivateFile(file)
        } catch {
            throw .secretKey("account password file: \(error)")
        }
    }

    /// A keyring of one new random key, for tests and throwaway setups.
    public static func generate() -> SecretKeyring { SecretKeyring(current: .generate()) }

    /// The ids of every key held.
    public var keyIDs: [String] { [self.current.id] + self.previous.map(\.id) }

    /// Seals under the current key; returns the sealed bytes and the key's id.
    func seal(_ secret: String, for owner: SecretOwner) -> (sealed: [UInt8], keyID: String) {
        (self.current.seal(secret, for: owner), self.current.id)
    }

    /// Seals a tenant's webhook secret under the current key.
    func seal(_ secret: String, tenantID: String) -> (sealed: [UInt8], keyID: String) {
        self.seal(secret, for: .tenant(tenantID))
    }

    /// Opens a tenant's webhook secret sealed under the key `keyID`.
    func open(_ sealed: [UInt8], keyID: String, tenantID: String) throws(StoreError) -> String {
        try self.open(sealed, keyID: keyID, for: .tenant(tenantID))
    }

    /// Opens a secret sealed under the key `keyID`.
    func open(_ sealed: [UInt8], keyID: String, for owner: SecretOwner) throws(StoreError) -> String {
        guard let key = ([self.current] + self.previous).first(where: { $0.id == keyID }) else {
            throw .secretKey(
                "\(owner) is sealed under key \(keyID), which is "
                    + "neither PROVHOOK_SECRET_KEY_FILE (\(self.current.id)) nor PROVHOOK_PREVIOUS_SECRET_KEY_FILE")
        }
        guard let secret = key.open(sealed, for: owner) else {
            throw .secretKey("\(owner) does not open under key \(keyID): it was altered or copied from another row")
        }
        return secret
    }
}

/// Why a secret key file cannot be used. Names the file, never its contents.
public enum SecretKeyError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(String, String)
    case exposed(String, String)
    case wrongLength(Int)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        case .exposed(let path, let mode):
            "\(path) is readable or writable by others (mode \(mode)); chmod 600 it"
        case .wrongLength(let count):
            "it holds \(count) bytes; a key is 32 random bytes, raw or in base64"
        }
    }
}
