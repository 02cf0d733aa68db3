import Foundation
import ProvisioningModel

/// A Snom redirection-service account, as stored. A MAC registered at the service belongs to the account that
/// registered it; each tenant's devices are registered with its account.
///
/// The account named `default` is the installation's own: its credentials, URL and concurrency come from the
/// `PROVHOOK_REDIRECT_*` variables, so it has none of its own here. The password is never part of this value.
public struct RedirectAccount: Sendable, Hashable, Codable {
    /// The name of the installation's own account.
    public static let defaultName = "default"

    public var name: String
    /// The service's basic-auth user; nil for `default`.
    public var user: String?
    /// How the password is kept: `sealed` (encrypted in the database), `file` (a file `serve` reads), or nil for
    /// `default`.
    public var passwordStorage: PasswordStorage?
    /// For `file`: the file's path. A path is not a secret.
    public var passwordFile: String?
    /// The XML-RPC endpoint; nil: `PROVHOOK_REDIRECT_URL`.
    public var url: String?
    /// Extra PEM trust roots for the endpoint; nil: `PROVHOOK_REDIRECT_CA_FILE`.
    public var caFile: String?
    /// Calls in flight at most for this account; nil: `PROVHOOK_REDIRECT_CONCURRENCY`.
    public var concurrency: Int?
    /// Tenants that use the account (removed ones included).
    public var tenants: Int
    /// Devices whose next call is made with the account, or that are moving to it.
    public var devices: Int
    public var createdAt: Date
    public var updatedAt: Date
    /// The provisioning service the account is for (`snom`: Snom's XML-RPC redirection service).
    public var kind: ServiceKind = .snomXMLRPC
    /// The vendor whose phones the account's service provisions: its kind's (`ServiceKind.vendor`).
    public var vendor: Vendor? = ServiceKind.snomXMLRPC.vendor
    /// Whether it is the installation's default account for its vendor: it serves that vendor's phones of every
    /// tenant that names no account for the vendor. `default` is Snom's until another Snom account is made default.
    public var isVendorDefault = false
    /// Whether the account takes a MAC another account of its service holds (the service's override flag, as
    /// Yealink's RPS has it); off, such a MAC is a conflict. Only kinds whose service has the flag take it.
    public var override = false
    /// Whether the service registers the account's phones only with their serial numbers (a Yealink YMCS account
    /// not enabled for MAC-only registration): set by the operator, or learned from the service.
    public var serialRequired = false
    /// The service's profile the account's phones are assigned to (Poly ZTP); nil: provhook's own, one per URL.
    public var profile: String?

    public var isDefault: Bool { self.name == Self.defaultName }

    /// How an account's password is kept.
    public enum PasswordStorage: String, Sendable, Hashable, Codable {
        /// Encrypted with AES-256-GCM under `PROVHOOK_SECRET_KEY_FILE`, bound to the account's name, URL and CA file.
        case sealed
        /// Kept in a file under `PROVHOOK_SECRETS_DIR` that `serve` reads; only its path is stored, sealed like a
        /// password.
        case file
    }

    enum CodingKeys: String, CodingKey {
        case name, kind, vendor, user, url, concurrency, tenants, devices, override, profile
        case serialRequired = "serial_required"
        case isVendorDefault = "vendor_default"
        case passwordStorage = "password_storage"
        case passwordFile = "password_file"
        case caFile = "ca_file"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    /// Account names are short and safe in a metric label and a command line.
    public static func validate(name: String) throws(StoreError) {
        guard isURLSafeName(name) else {
            throw .invalid(
                "account name \(name.debugDescription) must be 1 to 63 letters, digits, '_', '.' or '-', starting with a letter or digit"
            )
        }
    }

    /// What the service accepts as a basic-auth user: 1 to 200 characters, no ':' and no control character.
    public static func validate(user: String) throws(StoreError) {
        guard (1...200).contains(user.unicodeScalars.count), !user.contains(":"),
            !user.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw .invalid("an account's user must be 1 to 200 characters, without ':' or control characters")
        }
    }

    /// A password of 1 to 1024 bytes, without a line break (a file's final newline is removed before this).
    public static func validate(password: String) throws(StoreError) {
        guard (1...1024).contains(password.utf8.count), !password.contains(where: \.isNewline) else {
            throw .invalid("an account's password must be 1 to 1024 bytes on one line")
        }
    }

    /// An endpoint a service's client can call: absolute http or https with a host and a path, no credentials in it.
    /// Whether the path must end with '/' is the kind's to say (`ServiceRegistry.check`).
    public static func validate(url: String) throws(StoreError) {
        let parsed = try ServiceURL(url, credentials: "give them to the account instead") {
            StoreError.invalid("an account's URL \($0)")
        }
        guard parsed.path.hasPrefix("/") else { throw .invalid("an account's URL must have a path, such as /xmlrpc/") }
    }

    /// A kind as the database accepts it: 1 to 32 lowercase letters, digits or '-', starting with a letter. Whether
    /// this provhook can call such a service is the registry's to say (`ServiceRegistry.kinds`).
    public static func validate(kind: ServiceKind) throws(StoreError) {
        let text = kind.rawValue
        guard (1...32).contains(text.utf8.count), text.first?.isLowercase == true, text.first?.isASCII == true,
            text.utf8.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D })
        else {
            throw .invalid("an account's kind must be 1 to 32 lowercase letters, digits or '-', starting with a letter")
        }
    }

    /// A profile id as services write them: 1 to 128 letters, digits, '_', '.', ':' or '-'.
    public static func validate(profile: String) throws(StoreError) {
        guard (1...128).contains(profile.utf8.count),
            profile.first.map({ $0.isASCII && ($0.isLetter || $0.isNumber) }) == true,
            profile.utf8.allSatisfy({ byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == 0x5F || byte == 0x2E || byte == 0x3A || byte == 0x2D
            })
        else {
            throw .invalid(
                "a profile must be 1 to 128 letters, digits, '_', '.', ':' or '-', starting with a letter or digit")
        }
    }

    /// Calls in flight at most: 1 to 64.
    public static func validate(concurrency: Int) throws(StoreError) {
        guard (1...64).contains(concurrency) else { throw .invalid("an account's concurrency must be 1 to 64") }
    }
}

/// A new account's password, or a new one for an account.
public enum AccountPassword: Sendable {
    /// Sealed under the current secret key and stored.
    case sealed(String)
    /// A file that `serve` reads; only the path is stored.
    case file(String)
}

/// An account with its password opened: what `serve`, `reconcile` and `status` need to call the service with it.
public struct AccountCredentials: Sendable, Equatable {
    public var name: String
    /// The provisioning service the account is for: which client `ServiceRegistry` makes for it.
    public var kind: ServiceKind = .snomXMLRPC
    /// Nil for `default`, whose credentials come from the environment.
    public var user: String?
    public var password: String?
    public var url: String?
    public var caFile: String?
    public var concurrency: Int?
    /// Whether registrations take a MAC another account of the service holds (`RedirectAccount.override`).
    public var override = false
    /// Whether phones are registered by serial number (`RedirectAccount.serialRequired`).
    public var serialRequired = false
    /// The service's profile for the account's phones (`RedirectAccount.profile`).
    public var profile: String?
    /// Why the account's password cannot be had (its seal does not open for the row's URL and CA file, its file may
    /// not be read); nil when it can. Such an account is never called: its devices wait.
    public var unusable: String?

    public var isDefault: Bool { self.name == RedirectAccount.defaultName }
}

extension AccountCredentials: SecretHolding {
    public var description: String {
        "AccountCredentials(name: \(self.name), user: \(self.user ?? "<environment>"), password: <redacted>)"
    }
}
