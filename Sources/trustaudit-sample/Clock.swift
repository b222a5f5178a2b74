/// Time as AD writes it, computed with integers only so the output never depends on the host's
/// time zone, locale or Foundation version.
enum Clock {
    static let secondsPerDay: Int64 = 86_400
    static let ticksPerSecond: Int64 = 10_000_000
    /// Seconds from 1601-01-01 (the FILETIME epoch) to 1970-01-01.
    static let fileTimeEpochOffset: Int64 = 11_644_473_600

    /// A FILETIME (100 ns ticks since 1601) for Unix seconds plus a sub-second part.
    static func fileTime(unixSeconds: Int64, subTicks: Int64 = 0) -> Int64 {
        (unixSeconds + fileTimeEpochOffset) * ticksPerSecond + subTicks
    }

    /// Parses `2026-11-24T00:00:00Z` (UTC only, which is all `--now` accepts).
    static func parseISO8601(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            bytes[19] == UInt8(ascii: "Z")
        else { return nil }
        func number(_ start: Int, _ count: Int) -> Int64? {
            var value: Int64 = 0
            for byte in bytes[start..<start + count] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
            let minute = number(14, 2), let second = number(17, 2), (1...12).contains(month), (1...31).contains(day),
            hour < 24, minute < 60, second < 60, year >= 1970
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let (checkYear, checkMonth, checkDay) = civil(days: days)
        guard checkYear == year, checkMonth == month, checkDay == day else { return nil }  // 2026-02-30
        return days * secondsPerDay + hour * 3600 + minute * 60 + second
    }

    /// Howard Hinnant's days_from_civil: days since 1970-01-01.
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Howard Hinnant's civil_from_days.
    static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
