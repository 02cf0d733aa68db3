import ProvisioningModel

/// The MACs a tenant may claim, as hex prefixes (1 to 12 digits each): an operator's way to keep a tenant to its
/// own phones. A tenant without ranges may claim any MAC that no other tenant holds, first come first served.
public struct MACRanges: Sendable, Hashable {
    /// Uppercase hex prefixes, sorted, without duplicates; never empty.
    public let prefixes: [String]

    /// Parses prefixes such as `000413`, `00041361` or `00:04:13`; nil for an empty list, which lifts the
    /// restriction.
    public init?(_ items: [String]) throws(StoreError) {
        guard items.count <= 100 else { throw .invalid("a tenant may have at most 100 MAC ranges") }
        var prefixes = Set<String>()
        for item in items {
            let hex = item.filter { $0 != ":" && $0 != "-" && $0 != "." }.uppercased()
            guard (1...12).contains(hex.count), hex.allSatisfy({ $0.isHexDigit && $0.isASCII }) else {
                throw .invalid(
                    "MAC range \(String(item.prefix(32)).debugDescription) must be 1 to 12 hex digits, such as 000413")
            }
            prefixes.insert(hex)
        }
        guard !prefixes.isEmpty else { return nil }
        self.prefixes = prefixes.sorted()
    }

    /// Whether `mac` falls in one of the ranges.
    public func contains(_ mac: MACAddress) -> Bool {
        self.prefixes.contains { mac.canonical.hasPrefix($0) }
    }
}
