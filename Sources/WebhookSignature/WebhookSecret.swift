import Crypto
import Foundation

/// A Standard Webhooks secret: `whsec_` followed by the base64 of the key bytes.
public enum WebhookSecret {
    /// A new secret of 32 random bytes.
    public static func generate() -> String {
        let key = SymmetricKey(size: .bits256)
        return "whsec_" + key.withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// The key bytes of a `whsec_` secret, or nil if it is not one.
    public static func keyBytes(_ secret: String) -> [UInt8]? {
        guard secret.hasPrefix("whsec_"), let data = Data(base64Encoded: String(secret.dropFirst(6))), data.count >= 16
        else { return nil }
        return Array(data)
    }
}
