/// The code printed on a Gigaset phone beside its MAC, which Gigaset's auto-provisioning service takes with the MAC
/// (`MAC-CODE`, the "MAC-ID") as proof that the caller has the phone in hand: 4 ASCII letters or digits, sent in
/// uppercase (falconieri checks `^[A-Z0-9]{4}$`; peoplefone upper-cases the whole MAC-ID). provhook stores it
/// uppercased (`devices.gigaset_code`, sql/0027_gigaset_codes.sql).
public enum GigasetCode {
    /// How many characters a code has.
    public static let length = 4

    /// Why a text is not a code, worded to follow the field's name: `"gigaset_code" must be …`.
    public struct Invalid: Error, Sendable, Hashable, CustomStringConvertible {
        public var reason: String
        public var description: String { self.reason }
    }

    /// `text` without the spaces around it, uppercased, or nil when nothing is left; throws why it is not a code.
    public static func normalized(_ text: String) throws(Invalid) -> String? {
        let scalars = Array(text.unicodeScalars)
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return nil }
        var kept = String.UnicodeScalarView()
        kept.append(contentsOf: scalars[first...last])
        guard let code = Self.valid(String(kept)) else {
            throw Invalid(reason: "must be \(Self.length) ASCII letters or digits, as printed on the phone")
        }
        return code
    }

    /// `value` as a code when it is one; nil for anything else (what a PBX's API gives, where there is no sender to
    /// refuse).
    public static func lenient(_ value: Any?) -> String? {
        guard let text = value as? String else { return nil }
        return try? Self.normalized(text)
    }

    /// `text` uppercased when it is exactly 4 ASCII letters or digits; nil otherwise.
    public static func valid(_ text: String) -> String? {
        let scalars = text.unicodeScalars
        guard scalars.count == Self.length,
            scalars.allSatisfy({ ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) })
        else { return nil }
        return text.uppercased()
    }
}
