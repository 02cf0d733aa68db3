/// Why an authenticated event was refused for its content (HTTP 400 for the native contract). Every refusal is
/// journaled, with its code.
public struct EventRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable code; its raw value is what the journal, the HTTP answers and the metrics say.
    public var code: Code
    /// What is wrong, for the sender; never a secret.
    public var message: String

    public var description: String { "\(self.code.rawValue): \(self.message)" }

    public init(code: Code, message: String) {
        (self.code, self.message) = (code, message)
    }

    /// Every reason an event is refused for. The raw values are part of the wire contract (journal rows, HTTP
    /// bodies, metrics labels): never change one.
    public enum Code: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// The wire string, wherever a code is interpolated (logs, metrics labels), as the journal and HTTP spell it.
        public var description: String { self.rawValue }

        // The body itself.
        case invalidJSON = "invalid_json"
        case invalidForm = "invalid_form"
        case invalidField = "invalid_field"
        case missingType = "missing_type"
        case unknownType = "unknown_type"
        case missingMAC = "missing_mac"
        case malformedMAC = "malformed_mac"
        case invalidWebhookID = "invalid_webhook_id"
        /// A JSON member named twice (a Kazoo body).
        case duplicateMember = "duplicate_member"
        /// A signed timestamp outside the accepted window (a Kazoo body signed by its hmac).
        case staleTimestamp = "stale_timestamp"
        /// A field outside what a Kazoo hmac covers that disagrees with the signed data.
        case unsignedFieldMismatch = "unsigned_field_mismatch"
        // What the planner refuses.
        case unknownDevice = "unknown_device"
        case macInUse = "mac_in_use"
        case macNotAllowed = "mac_not_allowed"
        // What a lookup in the PBX's API found (`DirectoryError.code`).
        case deviceNotFound = "device_not_found"
        case lookupUnauthorized = "lookup_unauthorized"
        case lookupUnavailable = "lookup_unavailable"
        case lookupInvalidAnswer = "lookup_invalid_answer"
    }
}
