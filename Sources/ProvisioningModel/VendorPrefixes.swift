/// Which vendor a MAC address belongs to by its prefix, when the PBX gives no brand: the IEEE registry's assignments
/// (generated into `VendorPrefixes+IEEE.swift` by `contrib/generate-vendor-prefixes.sh`) and the operator's own.
///
/// The operator's setting, `PROVHOOK_VENDOR_PREFIXES`, takes two forms:
/// - a plain comma list, `000413,00087B`, as before this table existed: the prefixes are Snom's, and only MACs under
///   them may be sent to any service (`allowsSending(_:)`);
/// - `VENDOR:PREFIX,PREFIX;VENDOR:PREFIX`, for example `snom:000413;yealink:001565,805EC0`, which assigns prefixes to
///   vendors and restricts nothing.
///
/// Either form adds to the defaults, and overrides them for the same prefix: an operator who knows better about a
/// range says so without having to repeat the whole registry. The longest matching prefix wins, so an operator's
/// `001565AB` carves a range out of the registry's `001565`.
public struct VendorPrefixes: Sendable, Hashable {
    /// The environment variable that holds the operator's setting.
    public static let settingName = "PROVHOOK_VENDOR_PREFIXES"

    /// The shortest prefix: an MA-L assignment (OUI).
    public static let minimumPrefixLength = 6
    /// The longest prefix: a whole MAC address.
    public static let maximumPrefixLength = 12

    /// Every prefix, 6 to 12 uppercase hex digits, with its vendor.
    public let vendorByPrefix: [String: Vendor]

    /// The prefixes a plain-list setting names, outside of which nothing may be sent; nil when nothing is restricted.
    public let sendablePrefixes: Set<String>?

    /// The registry's assignments of the known vendors, with no restriction: what applies when the setting is unset.
    public static let defaults = VendorPrefixes(vendorByPrefix: Self.ieeeAssignments, sendablePrefixes: nil)

    private init(vendorByPrefix: [String: Vendor], sendablePrefixes: Set<String>?) {
        self.vendorByPrefix = vendorByPrefix
        self.sendablePrefixes = sendablePrefixes
    }

    /// Parses the operator's setting in either form and lays it over `defaults`.
    ///
    /// Prefixes are hex digits without separators, in any case, as the plain list has always been written; blank
    /// entries (`000413,,00087B`, a trailing `;`) are ignored. A prefix given to two vendors is refused.
    public init(parsing setting: String, over defaults: VendorPrefixes = .defaults) throws(VendorPrefixesError) {
        let assigned: [String: Vendor]
        let sendable: Set<String>?
        if setting.contains(":") {
            assigned = try Self.parseAssignments(setting)
            sendable = nil
        } else {
            let prefixes = try Self.parsePrefixList(setting[...])
            guard !prefixes.isEmpty else { throw .empty }
            assigned = Dictionary(prefixes.map { ($0, Vendor.snom) }, uniquingKeysWith: { first, _ in first })
            sendable = Set(prefixes)
        }
        self.init(
            vendorByPrefix: defaults.vendorByPrefix.merging(assigned) { _, operators in operators },
            sendablePrefixes: sendable)
    }

    /// The vendor of the longest prefix that `mac` starts with, or nil when no prefix matches.
    public func vendor(of mac: MACAddress) -> Vendor? {
        for length in stride(from: Self.maximumPrefixLength, through: Self.minimumPrefixLength, by: -2) {
            if let vendor = self.vendorByPrefix[String(mac.canonical.prefix(length))] {
                return vendor
            }
        }
        return nil
    }

    /// Whether provhook may send `mac` to a service: always, unless a plain-list setting restricts it to its prefixes.
    public func allowsSending(_ mac: MACAddress) -> Bool {
        guard let sendablePrefixes = self.sendablePrefixes else { return true }
        return sendablePrefixes.contains { mac.canonical.hasPrefix($0) }
    }

    /// Checks one prefix and returns it in uppercase: 6 to 12 hex digits, an even number, no separators.
    public static func parsePrefix(_ text: some StringProtocol) throws(VendorPrefixesError) -> String {
        let prefix = String(text)
        guard prefix.unicodeScalars.allSatisfy(\.properties.isASCIIHexDigit) else { throw .notHex(prefix: prefix) }
        let count = prefix.unicodeScalars.count
        guard count >= Self.minimumPrefixLength else { throw .tooShort(prefix: prefix) }
        guard count <= Self.maximumPrefixLength else { throw .tooLong(prefix: prefix) }
        // A prefix matches whole octets of the MAC, as MA-L (6 digits) and the longer ranges operators carve out.
        guard count.isMultiple(of: 2) else { throw .oddLength(prefix: prefix) }
        return prefix.uppercased()
    }

    /// The prefixes of a comma list, trimmed and uppercased, blank entries skipped.
    private static func parsePrefixList(_ list: Substring) throws(VendorPrefixesError) -> [String] {
        var prefixes: [String] = []
        for entry in list.split(separator: ",") {
            let text = entry.trimmingWhitespace()
            if !text.isEmpty {
                prefixes.append(try Self.parsePrefix(text))
            }
        }
        return prefixes
    }

    /// The `VENDOR:PREFIX,…;…` form.
    private static func parseAssignments(_ setting: String) throws(VendorPrefixesError) -> [String: Vendor] {
        var assigned: [String: Vendor] = [:]
        for group in setting.split(separator: ";") {
            let entry = group.trimmingWhitespace()
            if entry.isEmpty { continue }
            guard let colon = entry.firstIndex(of: ":") else { throw .missingVendor(entry: String(entry)) }
            let name = entry[..<colon].trimmingWhitespace()
            guard !name.isEmpty else { throw .emptyVendor(entry: String(entry)) }
            guard let vendor = Vendor(brand: String(name)) else { throw .invalidVendor(String(name)) }
            let prefixes = try Self.parsePrefixList(entry[entry.index(after: colon)...])
            guard !prefixes.isEmpty else { throw .noPrefixes(entry: String(entry)) }
            for prefix in prefixes {
                if let earlier = assigned[prefix], earlier != vendor {
                    throw .conflictingVendors(prefix: prefix, earlier, vendor)
                }
                assigned[prefix] = vendor
            }
        }
        guard !assigned.isEmpty else { throw .empty }
        return assigned
    }
}

extension Substring {
    /// The text without leading and trailing whitespace; the module does without Foundation.
    fileprivate func trimmingWhitespace() -> Substring {
        guard let first = self.firstIndex(where: { !$0.isWhitespace }),
            let last = self.lastIndex(where: { !$0.isWhitespace })
        else { return self[self.endIndex...] }
        return self[first...last]
    }
}
