import Foundation
import ProvisioningModel

/// Which MACs provhook may send: Snom and Snom-based ranges by default.
public struct VendorFilter: Sendable, Hashable {
    /// Snom (000413, 00087B) and Gigaset IP PRO (589EC6, 00ACDC).
    public static let defaultPrefixes: Set<String> = ["000413", "00087B", "589EC6", "00ACDC"]

    /// The allowed OUIs, six uppercase hex digits each.
    public var prefixes: Set<String>

    public init(prefixes: Set<String> = Self.defaultPrefixes) {
        self.prefixes = Set(prefixes.map { $0.uppercased() })
    }

    /// Parses a comma-separated list of six-hex-digit prefixes.
    public init(parsing text: String) throws(ConfigurationError) {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() }
        guard !items.isEmpty, items.allSatisfy({ $0.count == 6 && $0.allSatisfy(\.isHexDigit) }) else {
            throw .invalid(
                variable: "PROVHOOK_VENDOR_PREFIXES",
                reason: "must be comma-separated 6-hex-digit prefixes like 000413,00087B")
        }
        self.prefixes = Set(items)
    }

    /// Whether provhook may send `mac` to the service.
    public func allows(_ mac: MACAddress) -> Bool { self.prefixes.contains(mac.oui) }
}
