import Foundation

/// A Windows FILETIME as AD stores pwdLastSet and lastLogonTimestamp: 100 ns ticks since 1601-01-01 UTC.
///
/// Kept as the raw tick count because two values carry meaning beyond a date: 0 means "never"
/// (pwdLastSet 0 is "must change at next logon" or "never set"), and 0x7FFFFFFFFFFFFFFF means "never expires".
public struct FileTime: Sendable, Hashable, Comparable {
    public var ticks: Int64

    public init(ticks: Int64) { self.ticks = ticks }

    /// Seconds between 1601-01-01 and 1970-01-01: the one copy of the epoch offset (`UTCTime` and
    /// the audit's day arithmetic use it, not their own).
    public static let epochOffsetSeconds: Int64 = 11_644_473_600
    /// FILETIME counts 100 ns ticks.
    public static let ticksPerSecond: Int64 = 10_000_000
    /// One day of ticks.
    public static let ticksPerDay: Int64 = 864_000_000_000

    /// `date` as a FILETIME, clamped to `validTicks`: a date before 1601 becomes 0 (which reads as
    /// "never"), one after 30828-09-14 (or NaN) the top. Use `init?(validDate:)` where a date
    /// outside the range must be refused rather than moved.
    public init(date: Date) {
        ticks = Self.ticks(of: date) ?? (date.timeIntervalSince1970 > 0 ? Int64.max : 0)
    }

    /// `date` as a FILETIME; nil when it lies outside 1601-01-01 ... 30828-09-14T02:48:05Z or is not finite.
    public init?(validDate date: Date) {
        guard let ticks = Self.ticks(of: date) else { return nil }
        self.ticks = ticks
    }

    /// Whether `date` has a FILETIME (`init?(validDate:)` succeeds); for checking `--now` and the like.
    public static func isRepresentable(_ date: Date) -> Bool { ticks(of: date) != nil }

    /// The ticks of `date`, or nil when they would fall outside `validTicks` (where `Int64(_:)` would trap).
    private static func ticks(of date: Date) -> Int64? {
        let seconds = date.timeIntervalSince1970 + Double(epochOffsetSeconds)
        let ticks = (seconds * Double(ticksPerSecond)).rounded()
        // 2^63 is exactly representable as a Double; anything at or above it is not an Int64.
        guard ticks.isFinite, ticks >= 0, ticks < 9_223_372_036_854_775_808.0 else { return nil }
        return Int64(ticks)
    }

    /// The tick counts that are times: 0 through Int64.max.
    ///
    /// FILETIME is unsigned in Windows, but AD's Large Integer syntax is signed and
    /// `FileTimeToSystemTime` refuses values of 2^63 and more, so a negative value is not a time (AD
    /// never writes one: writing -1 to pwdLastSet stores the current time). The top, Int64.max
    /// (30828-09-14T02:48:05Z), is "never"; every other non-negative value is a date, and no Int64 lies
    /// beyond year 30828.
    public static let validTicks: ClosedRange<Int64> = 0...Int64.max

    /// False for negative ticks, which no FILETIME can hold (a damaged or crafted value).
    public var isValid: Bool { ticks >= 0 }

    /// Parses the decimal text AD sends (`133789152000000000`). Nil for anything else.
    public init?(ldapValue bytes: [UInt8]) {
        guard let value = bytes.withUnsafeBufferPointer(Int64.init(ldapDecimalBytes:)) else { return nil }
        ticks = value
    }

    init?(ldapBytes bytes: UnsafeBufferPointer<UInt8>) {
        guard let value = Int64(ldapDecimalBytes: bytes) else { return nil }
        ticks = value
    }

    public var isNever: Bool { ticks == 0 || ticks == Int64.max }

    public var date: Date {
        Date(timeIntervalSince1970: Double(ticks) / Double(Self.ticksPerSecond) - Double(Self.epochOffsetSeconds))
    }

    public static func < (lhs: FileTime, rhs: FileTime) -> Bool { lhs.ticks < rhs.ticks }
}

extension Int64 {
    /// Parses an LDAP INTEGER syntax value (optional '-', decimal digits) without going through String.
    public init?(ldapDecimal bytes: [UInt8]) {
        guard let value = bytes.withUnsafeBufferPointer(Int64.init(ldapDecimalBytes:)) else { return nil }
        self = value
    }

    init?(ldapDecimalBytes bytes: UnsafeBufferPointer<UInt8>) {
        var index = 0
        var negative = false
        if bytes.first == UInt8(ascii: "-") { negative = true; index = 1 }
        guard index < bytes.count, bytes.count - index <= 19 else { return nil }
        var result: Int64 = 0
        while index < bytes.count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (times10, overflow1) = result.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int64(digit))
            guard !overflow1, !overflow2 else { return nil }
            result = sum
            index += 1
        }
        self = negative ? -result : result
    }
}
