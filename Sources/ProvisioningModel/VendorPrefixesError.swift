/// Why an operator's vendor-prefix setting was refused; each case names the entry to fix.
///
/// Descriptions do not name the variable, so that the caller can say where the setting came from (the environment or
/// a command-line flag).
public enum VendorPrefixesError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The setting names no prefix at all.
    case empty
    /// A `VENDOR:PREFIX` entry whose vendor is blank, such as `:000413`.
    case emptyVendor(entry: String)
    /// An entry without `VENDOR:` in a setting whose other entries have one.
    case missingVendor(entry: String)
    /// A vendor that is not a brand: longer than 32 characters, or other characters than letters, digits and `-`.
    case invalidVendor(String)
    /// A `VENDOR:` entry with no prefix after it.
    case noPrefixes(entry: String)
    /// A prefix with a character that is not a hex digit (separators such as `:` included).
    case notHex(prefix: String)
    /// A prefix of fewer than 6 hex digits.
    case tooShort(prefix: String)
    /// A prefix of more than 12 hex digits.
    case tooLong(prefix: String)
    /// A prefix of an odd number of hex digits, which would end in the middle of an octet.
    case oddLength(prefix: String)
    /// One prefix given to two vendors in the same setting.
    case conflictingVendors(prefix: String, Vendor, Vendor)

    public var description: String {
        let rule = "a prefix is 6 to 12 hex digits, an even number, without separators, like 000413 or 001565AB"
        switch self {
        case .empty:
            return "names no prefix; write 000413,00087B or snom:000413;yealink:001565,805EC0"
        case .emptyVendor(let entry):
            return "entry \(Self.quoted(entry)) has no vendor before ':'; write it like yealink:001565"
        case .missingVendor(let entry):
            return "entry \(Self.quoted(entry)) has no 'VENDOR:'; once one entry names its vendor, every entry must, "
                + "separated by ';', like snom:000413;yealink:001565"
        case .invalidVendor(let vendor):
            return "vendor \(Self.quoted(vendor)) is not a brand: at most 32 letters, digits and '-'"
        case .noPrefixes(let entry):
            return "entry \(Self.quoted(entry)) names no prefix after ':'"
        case .notHex(let prefix):
            return "prefix \(Self.quoted(prefix)) is not hexadecimal: \(rule)"
        case .tooShort(let prefix):
            return "prefix \(Self.quoted(prefix)) has \(prefix.unicodeScalars.count) hex digits, too few: \(rule)"
        case .tooLong(let prefix):
            return "prefix \(Self.quoted(prefix)) has \(prefix.unicodeScalars.count) hex digits, too many: \(rule)"
        case .oddLength(let prefix):
            return "prefix \(Self.quoted(prefix)) has an odd number of hex digits: \(rule)"
        case .conflictingVendors(let prefix, let earlier, let later):
            return "prefix \(prefix) is given to both \(earlier) and \(later); give each prefix to one vendor"
        }
    }

    /// The operator's text in quotes, escaped and cut short, so that a stray control character or a pasted blob
    /// cannot garble the message.
    private static func quoted(_ text: String) -> String {
        let limit = 40
        guard text.count > limit else { return text.debugDescription }
        return String(text.prefix(limit)).debugDescription + "…"
    }
}
