/// A phone's vendor (its brand), named by a lowercase slug such as `snom`, `yealink` or `poly`.
///
/// The vendor decides which provisioning service registers the phone. It comes from the brand the PBX gives
/// (`init(brand:)`), else from the MAC's prefix (`VendorPrefixes`); `resolve(brand:mac:prefixes:)` does both.
///
/// A brand that is well formed but names none of the `known` vendors (for example `cisco`) is kept as a vendor of its
/// own rather than dropped: the device can then be shown with its brand and reported as having no account for it,
/// instead of silently falling back to whatever its MAC prefix says.
public struct Vendor: RawRepresentable, Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The slug: 1 to 32 characters of `a-z`, `0-9` and `-`, starting with a letter or digit.
    public let rawValue: String

    /// The longest slug accepted, so that a brand cannot fill a log line or a metric label.
    public static let maximumSlugLength = 32

    /// Accepts a slug that is already in its canonical form; use `init(brand:)` for what a PBX sends.
    public init?(rawValue: String) {
        guard Self.isSlug(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// Snom, and the Snom-made Gigaset IP PRO phones whose PBX says `snom`.
    public static let snom = Vendor(known: "snom")
    /// Yealink.
    public static let yealink = Vendor(known: "yealink")
    /// Poly, formerly Polycom.
    public static let poly = Vendor(known: "poly")
    /// Gigaset.
    public static let gigaset = Vendor(known: "gigaset")
    /// Fanvil.
    public static let fanvil = Vendor(known: "fanvil")
    /// Panasonic's phone business.
    public static let panasonic = Vendor(known: "panasonic")
    /// Htek, whose registry name is Hanlong Technology.
    public static let htek = Vendor(known: "htek")
    /// Akuvox.
    public static let akuvox = Vendor(known: "akuvox")
    /// Grandstream.
    public static let grandstream = Vendor(known: "grandstream")

    /// The vendors whose redirection services the reference describes, in a stable order.
    public static let known: [Vendor] = [
        .snom, .yealink, .poly, .gigaset, .fanvil, .panasonic, .htek, .akuvox, .grandstream,
    ]

    /// The brand a PBX sends, for the aliases that are not simply the slug, lowercase with single spaces.
    ///
    /// Kazoo's `endpoint_brand` and FusionPBX's `device_vendor` are lowercase (`polycom`, `poly`, `htek`), Wazo's
    /// plugin `VENDOR` is capitalised (`Polycom`, `Htek`); the registry's organisation names are accepted too.
    static let aliases: [String: Vendor] = [
        "snom technology": .snom, "snom technology gmbh": .snom, "snom technology ag": .snom,
        "polycom": .poly, "poly (polycom)": .poly, "hp poly": .poly,
        "hanlong": .htek, "hanlong technology": .htek,
        "gigaset communications": .gigaset, "gigaset communications gmbh": .gigaset, "gigaset pro": .gigaset,
        "yealink network": .yealink, "xiamen yealink": .yealink,
        "fanvil technology": .fanvil, "grandstream networks": .grandstream,
    ]

    /// Maps the brand a PBX gives to a vendor: case and surrounding whitespace are ignored, aliases such as
    /// `polycom` (→ `poly`), `hanlong` (→ `htek`) and `snom technology` (→ `snom`) are recognised, and any other
    /// well-formed brand becomes a vendor of its own.
    ///
    /// Returns nil for an empty brand (the PBX gave none, so the MAC prefix decides) and for a malformed one: longer
    /// than `maximumSlugLength` or holding characters other than letters, digits and `-` once lowercased.
    public init?(brand: String) {
        let words = brand.lowercased().split(whereSeparator: \.isWhitespace)
        guard !words.isEmpty else { return nil }
        let normalised = words.joined(separator: " ")
        if let alias = Self.aliases[normalised] {
            self = alias
        } else {
            self.init(rawValue: normalised)
        }
    }

    /// A name for people: the vendor's own spelling for the known ones, the slug for the others.
    public var displayName: String {
        switch self {
        case .snom: "Snom"
        case .yealink: "Yealink"
        case .poly: "Poly"
        case .gigaset: "Gigaset"
        case .fanvil: "Fanvil"
        case .panasonic: "Panasonic"
        case .htek: "Htek"
        case .akuvox: "Akuvox"
        case .grandstream: "Grandstream"
        default: self.rawValue
        }
    }

    /// Whether the vendor is one of `known`.
    public var isKnown: Bool { Self.known.contains(self) }

    /// The slug, as logs, metrics and the journal show it.
    public var description: String { self.rawValue }

    public static func < (lhs: Vendor, rhs: Vendor) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Whether `text` is a slug; ASCII only, so that lowercasing cannot change what was checked.
    static func isSlug(_ text: String) -> Bool {
        let scalars = text.unicodeScalars
        guard let first = scalars.first, scalars.count <= Self.maximumSlugLength, first != "-" else { return false }
        return scalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    /// A constant whose slug is known to be valid.
    private init(known slug: String) {
        self.rawValue = slug
    }
}

extension Vendor {
    /// The vendor of a device: the brand the PBX gives wins, else the vendor of the MAC's prefix.
    ///
    /// The brand wins because an OUI names who made the network card, which is not always the brand on the phone
    /// (`589EC6` is both a Gigaset range and a Snom-made model). A nil, empty or malformed brand falls back to the
    /// prefix; nil means neither says anything.
    public static func resolve(brand: String?, mac: MACAddress, prefixes: VendorPrefixes) -> Vendor? {
        if let brand, let vendor = Vendor(brand: brand) {
            return vendor
        }
        return prefixes.vendor(of: mac)
    }
}
