import Foundation

/// LDAP's GeneralizedTime syntax (RFC 4517 3.3.13), as AD's rootDSE `currentTime` and
/// `whenCreated` carry it: `20261124120000.0Z`.
///
/// Superseded by Directory's `UTCTime.date(generalizedTime:)`, which parses the same syntax the
/// same way (DirectoryTests' `testGeneralizedTimeIn` holds every case tested here, and more). It
/// stays only until LDAPSource parses the raw string with UTCTime: LDAPClient does not depend on
/// Directory, so it cannot delegate. Delete this file, and move `LDAPSearchSyntaxTests.
/// testGeneralizedTime`, once nothing calls it.
public enum GeneralizedTime {
    /// Parses `YYYYMMDDHH[MM[SS]][(.|,)fraction](Z|+hhmm|-hhmm)`; nil for anything else.
    public static func date(from text: String) -> Date? {
        let scalars = Array(text.utf8)
        var index = 0
        func digits(_ count: Int) -> Int? {
            guard index + count <= scalars.count else { return nil }
            var value = 0
            for byte in scalars[index..<index + count] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            index += count
            return value
        }
        func peekDigit() -> Bool { index < scalars.count && scalars[index] >= 48 && scalars[index] <= 57 }

        guard let year = digits(4), let month = digits(2), let day = digits(2), let hour = digits(2) else { return nil }
        var minute = 0
        var second = 0
        if peekDigit() {
            guard let value = digits(2) else { return nil }
            minute = value
            if peekDigit() {
                guard let value = digits(2) else { return nil }
                second = value
            }
        }
        var fraction = 0.0
        if index < scalars.count, scalars[index] == UInt8(ascii: ".") || scalars[index] == UInt8(ascii: ",") {
            index += 1
            var scale = 0.1
            guard peekDigit() else { return nil }
            while peekDigit() {
                fraction += Double(scalars[index] - 48) * scale
                scale /= 10
                index += 1
            }
        }
        guard index < scalars.count else { return nil }
        var offsetSeconds = 0
        switch scalars[index] {
        case UInt8(ascii: "Z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = scalars[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let offsetHours = digits(2), offsetHours < 24 else { return nil }
            let offsetMinutes = peekDigit() ? digits(2) : 0
            guard let offsetMinutes, offsetMinutes < 60 else { return nil }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        default:
            return nil
        }
        guard index == scalars.count else { return nil }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day), hour < 24, minute < 60,
            second < 61
        else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        let seconds = Double(days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds) + fraction
        return Date(timeIntervalSince1970: seconds)
    }

    private static func isLeap(_ year: Int) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
