import Foundation

/// The `Retry-After` header of a 429 or 503 (RFC 9110 §10.2.3): delta-seconds or an HTTP-date.
public enum RetryAfter {
    /// The longest wait the header may ask for: a day. A larger or malformed value is not trusted as it stands.
    public static let maximumSeconds = 86_400

    /// The seconds to wait, from 0 to `maximumSeconds`, or nil when the header is absent or malformed.
    public static func seconds(_ value: String?, now: Date = Date()) -> Int? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            // Any number of digits: one past the maximum is as good as a huge one, and never overflows.
            let significant = value.drop { $0 == "0" }
            guard significant.count <= 6, let seconds = Int(significant.isEmpty ? "0" : String(significant)) else {
                return Self.maximumSeconds
            }
            return min(seconds, Self.maximumSeconds)
        }
        // asctime pads a one-digit day with a space; collapse runs of spaces before matching the formats.
        let date = value.split(separator: " ").joined(separator: " ")
        for format in Self.httpDateFormats {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: date) {
                let seconds = date.timeIntervalSince(now)
                return seconds <= 0 ? 0 : Int(min(seconds, Double(Self.maximumSeconds)).rounded(.up))
            }
        }
        return nil
    }

    /// IMF-fixdate, then the obsolete RFC 850 and asctime forms that recipients must accept.
    private static let httpDateFormats = [
        "EEE, dd MMM yyyy HH:mm:ss 'GMT'", "EEEE, dd-MMM-yy HH:mm:ss 'GMT'", "EEE MMM d HH:mm:ss yyyy",
    ]
}
