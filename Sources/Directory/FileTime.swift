import Foundation

/// A Windows FILETIME as AD stores pwdLastSet and lastLogonTimestamp: 100 ns ticks since 1601-01-01 UTC.
///
/// Kept as the raw tick count because two values carry meaning beyond a date: 0 means "never"
/// (pwdLastSet 0 is "must change at next logon" or "never set"), and 0x7FFFFFFFFFFFFFFF means "never expires".
public struct FileTime: Sendable, Hashable, Comparable {
    public var ticks: Int64

    public init(ticks: Int64) { self.ticks = ticks }

    /// Seconds between 1601-01-01 and 1970-01-01.
    static let epochOffsetSeconds: Int64 = 11_644_473_600
    static let ticksPerSecond: Int64 = 10_000_000

    public init(date: Date) {
        let seconds = date.timeIntervalSince1970 + Double(Self.epochOffsetSeconds)
        ticks = Int64((seconds * Double(Self.ticksPerSecond)).rounded())
    }

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
