import Foundation

/// A PBX customer, as stored. The webhook secret is not part of it: it is read only to authenticate.
public struct Tenant: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var urlTemplate: String
    public var allowBearer: Bool
    /// The MAC ranges (hex prefixes) the tenant may claim; nil: any MAC no other tenant holds.
    public var macPrefixes: [String]?
    /// The accounts the tenant names, by vendor slug, one per vendor; a vendor it names none for is served by the
    /// installation's default account for that vendor (`RedirectAccount.isVendorDefault`), if there is one.
    public var accounts: [String: String] = [:]
    /// URL templates for the phones of one vendor, by vendor slug; every other vendor's phones use `urlTemplate`.
    public var vendorURLTemplates: [String: String] = [:]
    public var createdAt: Date
    public var updatedAt: Date
    public var removedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, name
        case urlTemplate = "url_template"
        case allowBearer = "allow_bearer"
        case macPrefixes = "mac_prefixes"
        case accounts
        case vendorURLTemplates = "vendor_url_templates"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case removedAt = "removed_at"
    }

    /// A tenant's name: 1 to 200 characters, counted as PostgreSQL counts them (code points), no control characters.
    public static func validate(name: String) throws(StoreError) {
        guard (1...200).contains(name.unicodeScalars.count),
            !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw .invalid("a tenant name must be 1 to 200 characters, without control characters")
        }
    }

    /// Tenant ids are short and URL-safe, since they appear in the webhook path.
    public static func validate(id: String) throws(StoreError) {
        guard isURLSafeName(id) else {
            throw .invalid(
                "tenant id \(id.debugDescription) must be 1 to 63 letters, digits, '_', '.' or '-', starting with a letter or digit"
            )
        }
    }
}

/// Whether `name` can name a tenant or a source in a URL path: 1 to 63 ASCII letters, digits, `_`, `.` or `-`,
/// starting with a letter or digit (the tables' `*_format` checks say the same).
func isURLSafeName(_ name: String) -> Bool {
    let allowed = name.unicodeScalars.allSatisfy {
        $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_.-".unicodeScalars.contains($0))
    }
    return (1...63).contains(name.count) && allowed && (name.first?.isLetter == true || name.first?.isNumber == true)
}

/// The secret and settings needed to authenticate one tenant's events.
public struct TenantCredentials: Sendable {
    /// The tenant's `whsec_` secret; never logged, journaled or shown after creation.
    public var secret: String
    /// Whether the tenant may send `Authorization: Bearer <secret>` instead of a signature.
    public var allowBearer: Bool
    /// The MACs the tenant may claim; nil: any.
    public var macRanges: MACRanges?
    /// The version of the tenant's row these were read at (`tenants.credentials_version`); any change to the tenant
    /// gives it a new one. An event authenticated with cached credentials is recorded only while it is current.
    public var version: Int64

    public init(secret: String, allowBearer: Bool, macRanges: MACRanges? = nil, version: Int64 = 0) {
        self.secret = secret
        self.allowBearer = allowBearer
        self.macRanges = macRanges
        self.version = version
    }
}
