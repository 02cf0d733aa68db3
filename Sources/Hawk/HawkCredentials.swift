import Crypto

/// A Hawk key pair: the id sent in the clear and the secret key that signs, always with HMAC-SHA256.
///
/// SRAPS calls them *Access Key ID* and *Access Key Secret*. The key never appears in `description`,
/// `debugDescription` or a mirror, so logging a value of this type cannot leak it.
public struct HawkCredentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The key identifier, sent as the header's `id` attribute.
    public let id: String
    /// The secret, as HMAC key; kept as `SymmetricKey` so that it is never printed by accident.
    let key: SymmetricKey

    /// Credentials from an id and a secret given as text; the secret's UTF-8 bytes are the HMAC key.
    public init(id: String, key: String) {
        self.id = id
        self.key = SymmetricKey(data: Array(key.utf8))
    }

    /// Credentials from an id and raw secret bytes.
    public init(id: String, keyBytes: [UInt8]) {
        self.id = id
        self.key = SymmetricKey(data: keyBytes)
    }

    /// The id and a redacted key.
    public var description: String {
        "HawkCredentials(id: \(self.id), key: <redacted>)"
    }

    /// The same as `description`: the key stays redacted in debug output too.
    public var debugDescription: String {
        self.description
    }

    /// A mirror without the key, so that `dump` and reflection-based printing cannot reveal it.
    public var customMirror: Mirror {
        Mirror(self, children: ["id": self.id, "key": "<redacted>"], displayStyle: .struct)
    }
}
