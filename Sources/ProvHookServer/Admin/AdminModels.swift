import Hummingbird
import ProvHookCore

/// The admin API's bodies, as `/openapi.yaml` describes them.
struct DevicePage: ResponseEncodable {
    var devices: [Device]
    var nextAfter: String?
    enum CodingKeys: String, CodingKey { case devices, nextAfter = "next_after" }
}

struct JournalPage: ResponseEncodable {
    var entries: [JournalEntry]
    var nextAfterID: Int64?
    enum CodingKeys: String, CodingKey { case entries, nextAfterID = "next_after_id" }
}

struct TenantList: ResponseEncodable { var tenants: [Tenant] }

struct TenantCreate: Decodable {
    var id: String
    var urlTemplate: String
    var name: String?
    var allowBearer: Bool?
    var macPrefixes: [String]?
    /// One account (the older form of `accounts`).
    var account: String?
    /// The tenant's accounts, one per vendor.
    var accounts: [String]?
    /// URL templates by vendor.
    var vendorURLTemplates: [String: String]?
    enum CodingKeys: String, CodingKey {
        case id, name, account, accounts, urlTemplate = "url_template", allowBearer = "allow_bearer"
        case macPrefixes = "mac_prefixes"
        case vendorURLTemplates = "vendor_url_templates"
    }
}

struct TenantPatch: Decodable {
    var name: String?
    var urlTemplate: String?
    var allowBearer: Bool?
    var rotateSecret: Bool?
    /// New MAC ranges; an empty list lifts the restriction.
    var macPrefixes: [String]?
    /// Another account for its vendor: the tenant's devices of that vendor move to it (the older form of
    /// `accounts`).
    var account: String?
    /// Accounts for their vendors: the tenant's devices of each vendor move to them.
    var accounts: [String]?
    /// Vendors whose own account the tenant drops, for the vendor's default.
    var dropAccounts: [String]?
    /// URL templates by vendor; null removes one.
    var vendorURLTemplates: [String: String?]?
    enum CodingKeys: String, CodingKey {
        case name, account, accounts, urlTemplate = "url_template", allowBearer = "allow_bearer"
        case rotateSecret = "rotate_secret"
        case macPrefixes = "mac_prefixes"
        case dropAccounts = "drop_accounts"
        case vendorURLTemplates = "vendor_url_templates"
    }
}

struct TenantWithSecret: ResponseEncodable {
    var tenant: Tenant
    var webhookSecret: String?
    var repointedDevices: Int?
    var movingDevices: Int?
    enum CodingKeys: String, CodingKey {
        case tenant, webhookSecret = "webhook_secret", repointedDevices = "repointed_devices"
        case movingDevices = "moving_devices"
    }
}

struct ReconcileRequest: Decodable {
    var tenant: String?
    var dryRun: Bool?
    var prune: Bool?
    enum CodingKeys: String, CodingKey { case tenant, dryRun = "dry_run", prune }
}

struct ReconcileReport: ResponseEncodable {
    struct Item: Encodable {
        var kind: String
        var mac: String?
        var tenant: String?
        var expected: String?
        var actual: String?
        var action: String
    }
    var devicesChecked: Int
    var inSync: Int
    var findings: [Item]
    enum CodingKeys: String, CodingKey { case devicesChecked = "devices_checked", inSync = "in_sync", findings }

    init(_ summary: Reconciler.Summary) {
        self.devicesChecked = summary.devicesChecked
        self.inSync = summary.inSync
        self.findings = summary.findings.map {
            Item(
                kind: $0.kind, mac: $0.mac.isEmpty ? nil : $0.mac, tenant: $0.tenantID, expected: $0.expected,
                actual: $0.actual, action: $0.action.rawValue)
        }
    }
}
