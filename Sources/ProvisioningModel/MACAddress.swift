/// A device's MAC address, held in the canonical form the Snom service expects: 12 uppercase hex digits.
///
/// Parsing accepts the common spellings: `00:04:13:61:0f:f5`, `00-04-13-61-0F-F5`, `0004.1361.0ff5` and
/// `000413610ff5`. Anything else is refused with a reason an operator can act on.
public struct MACAddress: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// 12 uppercase hex digits, for example `000413610FF5`.
    public let canonical: String

    /// Parses one of the accepted spellings.
    public init(parsing text: String) throws(MACAddressError) {
        let scalars = Array(text.unicodeScalars)
        guard !scalars.isEmpty else { throw .empty }
        let separators = Set(scalars.filter { !$0.properties.isASCIIHexDigit })
        let digits: [Unicode.Scalar]
        switch separators.count {
        case 0:
            guard scalars.count == 12 else { throw .wrongLength(digits: scalars.count) }
            digits = scalars
        case 1:
            let separator = separators.first!
            let groups = text.unicodeScalars.split(separator: separator, omittingEmptySubsequences: false)
            switch separator {
            case ":", "-":
                guard groups.count == 6, groups.allSatisfy({ $0.count == 2 }) else {
                    throw .badGrouping(separator: Character(separator))
                }
            case ".":
                guard groups.count == 3, groups.allSatisfy({ $0.count == 4 }) else {
                    throw .badGrouping(separator: Character(separator))
                }
            default:
                throw .invalidCharacter(Character(separator))
            }
            digits = groups.flatMap { $0 }
        default:
            let unexpected = scalars.first { !$0.properties.isASCIIHexDigit && !":-.".unicodeScalars.contains($0) }
            throw unexpected.map { .invalidCharacter(Character($0)) } ?? .mixedSeparators
        }
        self.canonical = String(String.UnicodeScalarView(digits)).uppercased()
    }

    /// Parses one of the accepted spellings, or returns nil.
    public init?(_ text: String) {
        guard let parsed = try? MACAddress(parsing: text) else { return nil }
        self = parsed
    }

    /// The first six hex digits: the vendor's organisationally unique identifier.
    public var oui: String { String(self.canonical.prefix(6)) }

    public var description: String { self.canonical }

    public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool { lhs.canonical < rhs.canonical }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self = try MACAddress(parsing: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.canonical)
    }
}

/// Why a text is not a MAC address.
public enum MACAddressError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Nothing was given.
    case empty
    /// Without separators, a MAC is exactly 12 hex digits.
    case wrongLength(digits: Int)
    /// A character that is neither a hex digit nor one of `:`, `-`, `.`.
    case invalidCharacter(Character)
    /// `:` and `-` need six groups of two digits; `.` needs three groups of four.
    case badGrouping(separator: Character)
    /// More than one kind of separator.
    case mixedSeparators

    public var description: String {
        switch self {
        case .empty:
            "MAC address is empty"
        case .wrongLength(let digits):
            "MAC address has \(digits) characters; expected 12 hex digits"
        case .invalidCharacter(let character):
            "MAC address contains \(String(character).debugDescription), which is not a hex digit or separator"
        case .badGrouping(let separator):
            separator == "."
                ? "MAC address written with '.' must be three groups of four hex digits, like 0004.1361.0ff5"
                : "MAC address written with '\(separator)' must be six groups of two hex digits, like 00\(separator)04\(separator)13\(separator)61\(separator)0f\(separator)f5"
        case .mixedSeparators:
            "MAC address mixes separators; use one of ':', '-' or '.'"
        }
    }
}
