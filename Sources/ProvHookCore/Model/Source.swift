import Foundation

/// The webhook formats of PBX platforms that provhook reads as they are sent.
public enum SourceKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// 2600Hz Kazoo `object` webhooks on devices (v1 form, JSON or GET; v2).
    case kazoo
    /// Wazo Platform webhookd subscriptions to `device_created`, `device_edited`, `device_deleted`.
    case wazo
    /// Any other panel, read through a declarative mapping.
    case mapping
    /// FusionPBX, which sends no webhooks: its devices are read from its database (`source sync`).
    case fusionpbx
}

/// Where a source's PBX API is, for the lookups of events that name a device only by its id. Its secret (a Kazoo
/// API key, a Wazo user's password) is not part of it: it is sealed in the database and opened only to log in.
public struct SourceAPI: Sendable, Hashable, Codable {
    /// Kazoo's crossbar URL including `/v2`, or the Wazo host's URL.
    public var url: String
    /// The Wazo user; nil for Kazoo.
    public var user: String?
    /// A PEM file of CAs trusted for the API besides the system's.
    public var caFile: String?
    /// The Wazo tenant to act in (`Wazo-Tenant`).
    public var tenant: String?

    enum CodingKeys: String, CodingKey {
        case url, user, tenant
        case caFile = "ca_file"
    }

    /// Refuses an `http://` API unless `allowsHTTP` (`Settings.allowsPlainHTTPPBX`): its secret would be sent in
    /// clear. The message names the opt-in.
    public func checkTransport(allowsHTTP: Bool) throws(StoreError) {
        guard !allowsHTTP, self.url.lowercased().hasPrefix("http://") else { return }
        throw .invalid(
            "the PBX API \(String(self.url.prefix(200))) is http://, which would send its API key or password in clear; use https://, or set PROVHOOK_PBX_ALLOW_HTTP=1 for a PBX on this host or a test stand-in"
        )
    }

    public init(url: String, user: String? = nil, caFile: String? = nil, tenant: String? = nil) {
        (self.url, self.user, self.caFile, self.tenant) = (url, user, caFile, tenant)
    }
}

/// How a source's last sync with its PBX ended.
public struct SourceSyncOutcome: Sendable, Hashable, Codable {
    public var at: Date
    /// Counts by outcome: `listed`, `unchanged`, `registered`, `deregistered`, …
    public var summary: [String: JSONValue]
    /// What could not be read or recorded; nil when the run was complete.
    public var error: String?

    public init(at: Date, summary: [String: JSONValue], error: String?) {
        (self.at, self.summary, self.error) = (at, summary, error)
    }
}

/// An inbound source, as stored: a PBX's own webhooks, at `POST /v1/sources/{name}/events`. Its token is not part
/// of it: it is read only to authenticate.
public struct Source: Sendable, Hashable, Codable {
    public var name: String
    public var kind: SourceKind
    /// The tenant whose devices its events change; for a Kazoo source with `accounts`, the tenant of the accounts
    /// not listed there, or nil to ignore them.
    public var tenantID: String?
    /// A Kazoo source's accounts: Kazoo `account_id` → tenant, for one hook on a reseller account.
    public var accounts: [String: String]
    /// The PBX's API, for lookups and syncs.
    public var api: SourceAPI?
    /// The last `source sync`, if any.
    public var lastSync: SourceSyncOutcome?
    /// How often `provhook serve` syncs the source with its PBX, in seconds; nil: never by itself.
    public var syncInterval: Int?
    public var createdAt: Date
    public var updatedAt: Date
    public var removedAt: Date?

    /// Where the source's webhooks go, on the webhook listener.
    public var path: String { "/v1/sources/\(self.name)/events" }

    enum CodingKeys: String, CodingKey {
        case name, kind, path, accounts, api
        case tenantID = "tenant"
        case lastSync = "last_sync"
        case syncInterval = "sync_interval_seconds"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case removedAt = "removed_at"
    }

    public init(
        name: String, kind: SourceKind, tenantID: String?, accounts: [String: String] = [:], api: SourceAPI? = nil,
        lastSync: SourceSyncOutcome? = nil, syncInterval: Int? = nil, createdAt: Date, updatedAt: Date,
        removedAt: Date?
    ) {
        self.lastSync = lastSync
        self.syncInterval = syncInterval
        self.name = name
        self.kind = kind
        self.tenantID = tenantID
        self.accounts = accounts
        self.api = api
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.removedAt = removedAt
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try container.decode(String.self, forKey: .name),
            kind: try container.decode(SourceKind.self, forKey: .kind),
            tenantID: try container.decodeIfPresent(String.self, forKey: .tenantID),
            accounts: try container.decodeIfPresent([String: String].self, forKey: .accounts) ?? [:],
            api: try container.decodeIfPresent(SourceAPI.self, forKey: .api),
            lastSync: try container.decodeIfPresent(SourceSyncOutcome.self, forKey: .lastSync),
            syncInterval: try container.decodeIfPresent(Int.self, forKey: .syncInterval),
            createdAt: try container.decode(Date.self, forKey: .createdAt),
            updatedAt: try container.decode(Date.self, forKey: .updatedAt),
            removedAt: try container.decodeIfPresent(Date.self, forKey: .removedAt))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.name, forKey: .name)
        try container.encode(self.kind, forKey: .kind)
        try container.encode(self.tenantID, forKey: .tenantID)
        try container.encode(self.accounts, forKey: .accounts)
        try container.encode(self.api, forKey: .api)
        try container.encodeIfPresent(self.lastSync, forKey: .lastSync)
        try container.encode(self.syncInterval, forKey: .syncInterval)
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
    public var name: String
    public var kind: SourceKind
    /// The source's own tenant (see `Source.tenantID`).
    public var tenantID: String?
    /// Kazoo `account_id` → tenant.
    public var accounts: [String: String]
    /// The source's token (a mapping's HMAC key too); never logged, journaled or shown after it was made.
    public var token: String
    /// A mapping source's mapping, as JSON.
    public var mapping: [UInt8]?
    /// Whether the source has a PBX API to look devices up in.
    public var hasAPI: Bool
    /// `sources.credentials_version` when these were read: an event they authenticated is recorded only while it
    /// is still the source's (a token rotated or a source removed meanwhile turns the request away).
    public var version: Int64

    public init(
        name: String = "", kind: SourceKind, tenantID: String?, accounts: [String: String] = [:], token: String,
        mapping: [UInt8]? = nil, hasAPI: Bool = false, version: Int64 = 0
    ) {
        self.version = version
        self.name = name
        self.kind = kind
        self.tenantID = tenantID
        self.accounts = accounts
        self.token = token
        self.mapping = mapping
        self.hasAPI = hasAPI
    }

    /// The tenant of an event from the PBX account `account`: the account's own when listed, else the source's.
    public func tenant(forAccount account: String?) -> String? {
        account.flatMap { self.accounts[$0] } ?? self.tenantID
    }
}

/// What changes in `source update`; nil leaves a field as it is.
public struct SourceUpdate: Sendable {
    /// The new own tenant; `.some(nil)` clears it (allowed only while accounts are mapped).
    public var tenantID: String??
    /// A mapping source's new mapping (JSON, checked by the caller).
    public var mapping: String?
    /// The accounts to map (account → tenant), and the accounts to unmap.
    public var mapAccounts: [String: String]
    public var unmapAccounts: [String]
    /// A new API (with its secret), or `.some(nil)` to remove it.
    public var api: (SourceAPI, secret: String)??
    /// A new periodic sync interval in seconds, or `.some(nil)` to stop it.
    public var syncInterval: Int??

    public init(
        tenantID: String?? = nil, mapping: String? = nil, mapAccounts: [String: String] = [:],
        unmapAccounts: [String] = [], api: (SourceAPI, secret: String)?? = nil, syncInterval: Int?? = nil
    ) {
        self.syncInterval = syncInterval
        self.tenantID = tenantID
        self.mapping = mapping
        self.mapAccounts = mapAccounts
        self.unmapAccounts = unmapAccounts
        self.api = api
    }
}
