import Foundation

/// Calendar arithmetic in UTC with integers only, for every date TrustAudit reads or writes.
///
/// Reports, history names, mail headers and the generator's exports must not depend on the host's
/// time zone, locale or Foundation version, and report dates are written once per account with
/// findings (hundreds of thousands of times), so nothing here uses `Calendar` or a formatter. Times
/// are Unix seconds (`Int64`); the epoch constants are `FileTime`'s. The calendar is the proleptic
/// Gregorian one (ISO 8601's), computed with Howard Hinnant's `days_from_civil`/`civil_from_days`.
public enum UTCTime {
    public static let secondsPerDay: Int64 = 86_400

    // MARK: Civil dates

    /// Days from 1970-01-01 to `year-month-day` (negative before); the date is not checked.
    @inlinable
    public static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * Int64(month > 2 ? month - 3 : month + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `days` after 1970-01-01.
    @inlinable
    public static func civil(days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0)), Int(month), Int(day))
    }

    /// The day of `unixSeconds` and the second within it (0..<86400), rounding down before 1970 too.
    @inlinable
    public static func split(_ unixSeconds: Int64) -> (days: Int64, secondOfDay: Int) {
        let (days, rest) = unixSeconds.quotientAndRemainder(dividingBy: secondsPerDay)
        return rest < 0 ? (days - 1, Int(rest + secondsPerDay)) : (days, Int(rest))
    }

    /// Days in `month` of `year`: 28 to 31.
    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// The Unix seconds of a UTC date and time; nil for one that does not exist (2026-02-30, 24:00,
    /// a 60th second), rather than rolling it over into another as `Calendar` would.
    public static func unixSeconds(
        year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0
    ) -> Int64? {
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day), (0..<24).contains(hour),
            (0..<60).contains(minute), (0..<60).contains(second)
        else { return nil }
        return days(year: year, month: month, day: day) * secondsPerDay + Int64(hour * 3600 + minute * 60 + second)
    }

    // MARK: Conversions

    /// `date` in whole Unix seconds, rounded down (as `Calendar` and formatters show it); clamped to
    /// the Int64 range, and 0 for NaN, so no `Date` traps.
    public static func unixSeconds(_ date: Date) -> Int64 {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        guard seconds.isFinite else { return seconds.isNaN ? 0 : (seconds > 0 ? Int64.max : Int64.min) }
        // 2^63 is exactly representable as a Double; anything at or above it is not an Int64.
        guard seconds < 9_223_372_036_854_775_808.0 else { return Int64.max }
        guard seconds >= -9_223_372_036_854_775_808.0 else { return Int64.min }
        return Int64(seconds)
    }

    /// `time` in whole Unix seconds, rounded down; defined for every tick count, valid or not.
    public static func unixSeconds(_ time: FileTime) -> Int64 {
        let (seconds, rest) = time.ticks.quotientAndRemainder(dividingBy: FileTime.ticksPerSecond)
        return (rest < 0 ? seconds - 1 : seconds) - FileTime.epochOffsetSeconds
    }

    /// The FILETIME of `unixSeconds` plus `subTicks` (100 ns units within the second), clamped to
    /// `FileTime.validTicks` like `FileTime(date:)`.
    public static func fileTime(unixSeconds: Int64, subTicks: Int64 = 0) -> FileTime {
        let (sinceFileTimeEpoch, overflow1) = unixSeconds.addingReportingOverflow(FileTime.epochOffsetSeconds)
        let (ticks, overflow2) = sinceFileTimeEpoch.multipliedReportingOverflow(by: FileTime.ticksPerSecond)
        let (total, overflow3) = ticks.addingReportingOverflow(subTicks)
        if overflow1 || overflow2 || overflow3 { return FileTime(ticks: unixSeconds > 0 ? Int64.max : 0) }
        return FileTime(ticks: max(0, total))
    }

    public static func date(unixSeconds: Int64) -> Date { Date(timeIntervalSince1970: Double(unixSeconds)) }

    // MARK: ISO 8601 out

    /// Appends `2026-05-28`, the day of `unixSeconds`.
    public static func appendDay(_ unixSeconds: Int64, to bytes: inout [UInt8]) {
        let (year, month, day) = civil(days: split(unixSeconds).days)
        appendDecimal(year, width: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDecimal(month, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDecimal(day, width: 2, to: &bytes)
    }

    /// Appends `2026-05-28T10:15:02Z`, or `2026-05-28T101502Z` without the colons (for file names,
    /// which may not hold colons on Windows shares).
    public static func appendTimestamp(_ unixSeconds: Int64, to bytes: inout [UInt8], colons: Bool = true) {
        appendDay(unixSeconds, to: &bytes)
        let second = split(unixSeconds).secondOfDay
        bytes.append(UInt8(ascii: "T"))
        appendDecimal(second / 3600, width: 2, to: &bytes)
        if colons { bytes.append(UInt8(ascii: ":")) }
        appendDecimal(second / 60 % 60, width: 2, to: &bytes)
        if colons { bytes.append(UInt8(ascii: ":")) }
        appendDecimal(second % 60, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// `2026-05-28`.
    public static func day(_ unixSeconds: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(10)
        appendDay(unixSeconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `2026-05-28T10:15:02Z` (`colons: false`: `2026-05-28T101502Z`).
    public static func timestamp(_ unixSeconds: Int64, colons: Bool = true) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(20)
        appendTimestamp(unixSeconds, to: &bytes, colons: colons)
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func day(_ date: Date) -> String { day(unixSeconds(date)) }
    public static func timestamp(_ date: Date) -> String { timestamp(unixSeconds(date)) }
    public static func day(_ time: FileTime) -> String { day(unixSeconds(time)) }
    public static func timestamp(_ time: FileTime) -> String { timestamp(unixSeconds(time)) }

    /// Appends `value` in decimal, zero-padded on the left to at least `width` digits (year 30828
    /// takes five); a negative value as `-` and its padded magnitude.
    public static func appendDecimal(_ value: Int, width: Int, to bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits = 1
        var scale: UInt = 1
        while magnitude / scale >= 10 {
            scale *= 10
            digits += 1
        }
        if digits < width { bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - digits)) }
        while scale > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude / scale))
            magnitude %= scale
            scale /= 10
        }
    }

    // MARK: ISO 8601 in

    /// Parses `2026-11-24T00:00:00Z` exactly (UTC, to the second, the form reports write); nil for
    /// anything else, including a date that does not exist.
    public static func unixSeconds(iso8601 text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            bytes[19] == UInt8(ascii: "Z")
        else { return nil }
        let reader = DigitReader(bytes: bytes)
        guard let year = reader.number(at: 0, 4), let month = reader.number(at: 5, 2),
            let day = reader.number(at: 8, 2),
            let hour = reader.number(at: 11, 2), let minute = reader.number(at: 14, 2),
            let second = reader.number(at: 17, 2)
        else { return nil }
        return unixSeconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    /// Parses the RFC 3339 forms a user types for `--now`: `2026-11-24` (midnight UTC),
    /// `2026-11-24T00:00:00Z`, `2026-11-24T01:00:00+01:00` and either with a fraction of a second
    /// (`2026-11-24T00:00:00.250Z`); nil for anything else, including a date that does not exist.
    public static func date(iso8601 text: String) -> Date? {
        var reader = DigitReader(bytes: Array(text.utf8))
        guard let year = reader.digits(4), reader.skip(UInt8(ascii: "-")), let month = reader.digits(2),
            reader.skip(UInt8(ascii: "-")), let day = reader.digits(2)
        else { return nil }
        if reader.index == reader.bytes.count {
            return unixSeconds(year: year, month: month, day: day).map(date(unixSeconds:))
        }
        guard reader.skip(UInt8(ascii: "T")), let hour = reader.digits(2), reader.skip(UInt8(ascii: ":")),
            let minute = reader.digits(2), reader.skip(UInt8(ascii: ":")), let second = reader.digits(2)
        else { return nil }
        var fraction = 0.0
        if reader.skip(UInt8(ascii: ".")) {
            guard let value = reader.fraction() else { return nil }
            fraction = value
        }
        guard let offsetSeconds = reader.zoneOffset(iso8601: true), reader.index == reader.bytes.count,
            let seconds = unixSeconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        else { return nil }
        return Date(timeIntervalSince1970: Double(seconds - Int64(offsetSeconds)) + fraction)
    }

    // MARK: GeneralizedTime in

    /// Parses LDAP's GeneralizedTime (RFC 4517 3.3.13), as AD's rootDSE `currentTime` and
    /// `whenCreated` carry it: `YYYYMMDDHH[MM[SS]][(.|,)fraction](Z|+hhmm|-hhmm)`, e.g.
    /// `20261124120000.0Z`; nil for anything else. A 60th second (a leap second) is accepted, as the
    /// syntax allows, and counts as the next minute's first.
    public static func date(generalizedTime text: String) -> Date? {
        var reader = DigitReader(bytes: Array(text.utf8))
        guard let year = reader.digits(4), let month = reader.digits(2), let day = reader.digits(2),
            let hour = reader.digits(2)
        else { return nil }
        var minute = 0
        var second = 0
        if reader.peekDigit() {
            guard let value = reader.digits(2) else { return nil }
            minute = value
            if reader.peekDigit() {
                guard let value = reader.digits(2) else { return nil }
                second = value
            }
        }
        var fraction = 0.0
        if reader.skip(UInt8(ascii: ".")) || reader.skip(UInt8(ascii: ",")) {
            guard let value = reader.fraction() else { return nil }
            fraction = value
        }
        guard let offsetSeconds = reader.zoneOffset(iso8601: false), reader.index == reader.bytes.count, second < 61,
            let start = unixSeconds(year: year, month: month, day: day, hour: hour, minute: minute)
        else { return nil }
        return Date(timeIntervalSince1970: Double(start + Int64(second - offsetSeconds)) + fraction)
    }

    // MARK: RFC 5322 out

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Wed, 25 Nov 2026 06:00:00 +0000` (RFC 5322 section 3.3): `date` as seen `offsetSeconds` east
    /// of UTC, the offset written in whole minutes.
    public static func rfc5322(_ date: Date, offsetSeconds: Int = 0) -> String {
        let local = unixSeconds(date) + Int64(offsetSeconds)
        let (days, second) = split(local)
        let (year, month, day) = civil(days: days)
        // 1970-01-01 was a Thursday.
        let weekday = Int(((days % 7) + 11) % 7)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        bytes += weekdays[weekday].utf8
        bytes += ", ".utf8
        appendDecimal(day, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: " "))
        bytes += months[month - 1].utf8
        bytes.append(UInt8(ascii: " "))
        appendDecimal(year, width: 4, to: &bytes)
        bytes.append(UInt8(ascii: " "))
        appendDecimal(second / 3600, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDecimal(second / 60 % 60, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDecimal(second % 60, width: 2, to: &bytes)
        let offsetMinutes = offsetSeconds / 60
        bytes.append(UInt8(ascii: " "))
        bytes.append(offsetMinutes < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
        appendDecimal(abs(offsetMinutes) / 60, width: 2, to: &bytes)
        appendDecimal(abs(offsetMinutes) % 60, width: 2, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Reads fixed-width decimal fields out of ASCII text.
private struct DigitReader {
    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// The next `count` bytes as a decimal number, advancing past them; nil (not advancing) unless all are digits.
    mutating func digits(_ count: Int) -> Int? {
        guard let value = number(at: index, count) else { return nil }
        index += count
        return value
    }

    func number(at start: Int, _ count: Int) -> Int? {
        guard start + count <= bytes.count else { return nil }
        var value = 0
        for byte in bytes[start..<start + count] {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int(digit)
        }
        return value
    }

    func peekDigit() -> Bool { index < bytes.count && bytes[index] &- UInt8(ascii: "0") < 10 }

    /// The digits after a decimal separator as a fraction of a second; nil (not advancing) when no
    /// digit follows, as both ISO 8601 and GeneralizedTime require one.
    mutating func fraction() -> Double? {
        guard peekDigit() else { return nil }
        var fraction = 0.0
        var scale = 0.1
        while let digit = digits(1) {
            fraction += Double(digit) * scale
            scale /= 10
        }
        return fraction
    }

    /// The zone that ends a time, as seconds east of UTC: `Z`, or a sign, two digits of hours and two
    /// of minutes, which ISO 8601 separates by `:` and requires, and GeneralizedTime joins and may
    /// leave out (`+01`, `+0100`). Nil for anything else.
    mutating func zoneOffset(iso8601: Bool) -> Int? {
        if skip(UInt8(ascii: "Z")) { return 0 }
        guard skip(UInt8(ascii: "+")) || skip(UInt8(ascii: "-")) else { return nil }
        let sign = bytes[index - 1] == UInt8(ascii: "-") ? -1 : 1
        guard let hours = digits(2), hours < 24 else { return nil }
        let minutes: Int?
        if iso8601 {
            minutes = skip(UInt8(ascii: ":")) ? digits(2) : nil
        } else {
            minutes = peekDigit() ? digits(2) : 0
        }
        guard let minutes, minutes < 60 else { return nil }
        return sign * (hours * 3600 + minutes * 60)
    }

    /// Advances past `byte` when it is next.
    mutating func skip(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }
}
