import Foundation

/// The `dateTime.iso8601` text form, `YYYYMMDDThh:mm:ss`, in UTC.
///
/// Parsed by hand: the format is fixed, and `DateFormatter` is neither cheap nor strict.
enum ISO8601Basic {
    /// Formats a date as `YYYYMMDDThh:mm:ss` in UTC, dropping fractional seconds.
    static func format(_ date: Date) -> String {
        let total = Int(date.timeIntervalSince1970.rounded(.down))
        var days = total / 86_400
        var seconds = total % 86_400
        if seconds < 0 {
            seconds += 86_400
            days -= 1
        }
        let (year, month, day) = civil(fromDays: days)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return pad(year, 4) + pad(month, 2) + pad(day, 2) + "T" + pad(seconds / 3600, 2) + ":"
            + pad(seconds / 60 % 60, 2) + ":" + pad(seconds % 60, 2)
    }

    /// Parses `YYYYMMDDThh:mm:ss` or `YYYY-MM-DDThh:mm:ss`, optionally ending in `Z`; nil if malformed.
    static func parse(_ text: String) -> Date? {
        var chars = Array(text.utf8)
        if chars.last == UInt8(ascii: "Z") { chars.removeLast() }
        let dateDigits: [UInt8]
        let rest: ArraySlice<UInt8>
        if chars.count == 17, chars[8] == UInt8(ascii: "T") {
            dateDigits = Array(chars[0..<8])
            rest = chars[9...]
        } else if chars.count == 19, chars[4] == UInt8(ascii: "-"), chars[7] == UInt8(ascii: "-"),
            chars[10] == UInt8(ascii: "T")
        {
            dateDigits = Array(chars[0..<4] + chars[5..<7] + chars[8..<10])
            rest = chars[11...]
        } else {
            return nil
        }
        let time = Array(rest)
        guard time.count == 8, time[2] == UInt8(ascii: ":"), time[5] == UInt8(ascii: ":") else { return nil }
        func number(_ bytes: ArraySlice<UInt8>) -> Int? {
            var value = 0
            for byte in bytes {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(dateDigits[0..<4]), let month = number(dateDigits[4..<6]),
            let day = number(dateDigits[6..<8]), let hour = number(time[0..<2]),
            let minute = number(time[3..<5]), let second = number(time[6..<8])
        else { return nil }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day), hour < 24,
            minute < 60, second < 60
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Date(timeIntervalSince1970: TimeInterval(days * 86_400 + hour * 3600 + minute * 60 + second))
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civil(fromDays days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
