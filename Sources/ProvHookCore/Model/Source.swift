import Foundation

/// The webhook formats of PBX platforms that provhook reads as they are sent.
public enum SourceKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// 2600Hz Kazoo `object` webhooks on devices (v1 form, JSON or GET; v2).
    case kazoo
    /// Any other panel, read through a declarative mapping.
    case mapping
}

/// An inbound source, as stored: a PBX's own webhooks for one tenant, at `POST /v1/sources/{name}/events`. Its
/// token is not part of it: it is read only to authenticate.
public struct Source: Sendable, Hashable, Codable {
    public var name: String
    public var kind: SourceKind
    public var tenantID: String
    public var createdAt: Date
    public var updatedAt: Date
    public var removedAt: Date?

    /// Where the source's webhooks go, on the webhook listener.
    public var path: String { "/v1/sources/\(self.name)/events" }

    enum CodingKeys: String, CodingKey {
        case name, kind, path
        case tenantID = "tenant"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case removedAt = "removed_at"
    }

    public init(
        name: String, kind: SourceKind, tenantID: String, createdAt: Date, updatedAt: Date, removedAt: Date?
    ) {
        self.name = name
        self.kind = kind
        self.tenantID = tenantID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.removedAt = removedAt
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try container.decode(String.self, forKey: .name),
            kind: try container.decode(SourceKind.self, forKey: .kind),
            tenantID: try container.decode(String.self, forKey: .tenantID),
            createdAt: try container.decode(Date.self, forKey: .createdAt),
            updatedAt: try container.decode(Date.self, forKey: .updatedAt),
            removedAt: try container.decodeIfPresent(Date.self, forKey: .removedAt))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.name, forKey: .name)
        try container.encode(self.kind, forKey: .kind)
        try container.encode(self.tenantID, forKey: .tenantID)
        try container.encode(self.path, forKey: .path)
        try container.encode(self.createdAt, forKey: .createdAt)
        try container.encode(self.updatedAt, forKey: .updatedAt)
        try container.encodeIfPresent(self.removedAt, forKey: .removedAt)
    }

    /// Source names are short and URL-safe, since they appear in the webhook path.
    public static func validate(name: String) throws(StoreError) {
        guard isURLSafeName(name) else {
            throw .invalid(
                "source name \(String(name.prefix(64)).debugDescription) must be 1 to 63 letters, digits, '_', '.' or '-', starting with a letter or digit"
            )
        }
    }
}

/// What authenticates one source's webhooks, and whose they are.
public struct SourceCredentials: Sendable {
    public var kind: SourceKind
    public var tenantID: String
    /// The source's token (a mapping's HMAC key too); never logged, journaled or shown after it was made.
    public var token: String
    /// A mapping source's mapping, as JSON.
    public var mapping: [UInt8]?

    public init(kind: SourceKind, tenantID: String, token: String, mapping: [UInt8]? = nil) {
        (self.kind, self.tenantID, self.token, self.mapping) = (kind, tenantID, token, mapping)
    }
}
