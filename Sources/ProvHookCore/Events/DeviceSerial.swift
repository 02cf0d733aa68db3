/// A phone's serial number as provhook stores it (`devices.serial`, sql/0023_device_serials.sql): 1 to 64 ASCII
/// letters, digits and `-` `.` `_` `:` `/`. Real ones are digits (Yealink), the MAC or a short alphanumeric code
/// (Poly, Snom, Cisco), sometimes dashed or dotted; a PBX that keeps it as free text (Wazo's `sn`, FusionPBX's
/// `device_serial_number`) may surround it with spaces, which say nothing. Anything else is not a serial number, and
/// is refused at the edge (or read as none from a PBX's API) rather than stored: a provisioning service that is
/// later given it would refuse it anyway.
public enum DeviceSerial {
    /// The most characters a serial number has.
    public static let maxLength = 64

    /// Why a text is not a serial number, worded to follow the field's name: `"serial" must be at most 64 …`.
    public struct Invalid: Error, Sendable, Hashable, CustomStringConvertible {
        public var reason: String
        public var description: String { self.reason }
    }

    /// `text` without the white space around it, or nil when nothing is left; throws why it is not a serial number.
    public static func normalized(_ text: String) throws(Invalid) -> String? {
        let trimmed = text.trimmingWhitespace()
        if trimmed.isEmpty { return nil }
        // Counted in code points, as PostgreSQL's length() counts them.
        guard trimmed.unicodeScalars.count <= Self.maxLength else {
            throw Invalid(reason: "must be at most \(Self.maxLength) characters")
        }
        if let odd = trimmed.unicodeScalars.first(where: { !Self.allowed($0) }) {
            throw Invalid(reason: "may hold only ASCII letters, digits and - . _ : /, not \(Self.name(odd))")
        }
        return trimmed
    }

    /// `value` as a serial number when it is one; nil for anything else. For what a PBX's API gives, where there is
    /// no sender to refuse: a phone is provisioned without a serial rather than not at all.
    public static func lenient(_ value: Any?) -> String? {
        guard let text = value as? String else { return nil }
        return try? Self.normalized(text)
    }

    static func allowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "-", ".", "_", ":", "/": true
        default: false
        }
    }

    /// The character as a refusal names it: never raw when it would not print.
    private static func name(_ scalar: Unicode.Scalar) -> String {
        if scalar == " " { return "a space" }
        if scalar.properties.generalCategory == .control || scalar.properties.isWhitespace {
            return "a control or space character (\(Self.codePoint(scalar)))"
        }
        if scalar.isASCII { return "\"\(scalar)\"" }
        return Self.codePoint(scalar)
    }

    /// "U+00E9".
    private static func codePoint(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}

extension String {
    /// Without the white space (and line breaks) at either end.
    fileprivate func trimmingWhitespace() -> String {
        let scalars = self.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
