import Directory
import Foundation

/// What every rule needs besides the account: the clock, the settings, and the names used in fix commands.
public struct AuditContext: Sendable {
    public let now: Date
    public let nowFileTime: FileTime
    public let configuration: AuditConfiguration
    /// The audited domain's DNS name, used in fix commands when no DC is known.
    public var domain: String?
    /// The DC the data came from (live audits), used in fix commands.
    public var domainController: String?
    /// Whether the AD Recycle Bin is enabled, when a live read of deleted objects could tell
    /// (`msDS-EnabledFeature`); nil for an export, which cannot say. Decides how a deleted
    /// account is brought back.
    public var recycleBinEnabled: Bool?
    /// In a multi-DC audit, what each DC of the domain answered (or why it did not); empty for an
    /// audit of one source. Each DC's view of an account carries that DC as its origin (its host
    /// name or the URI it was read from; see `reading(forOrigin:)`).
    public var domainControllers: [DomainControllerReading] = []

    /// A `now` outside the FILETIME range is clamped into it (see `FileTime(date:)`), so nothing traps;
    /// a caller taking `now` from a user refuses such a date first with `FileTime.isRepresentable`.
    public init(now: Date, configuration: AuditConfiguration, domain: String? = nil, domainController: String? = nil) {
        self.now = now
        self.nowFileTime = FileTime(date: now)
        self.configuration = configuration
        self.domain = domain
        self.domainController = domainController
    }

    /// The `-Server` argument for fix commands: the configured DC, the audited DC, the domain, or a placeholder.
    public var server: String { knownServer ?? "<DC>" }

    /// The configured DC, the audited DC or the domain; nil when none is known.
    public var knownServer: String? {
        configuration.remediationServer ?? domainController ?? domain
    }

    /// The `-Server` argument for fix commands about `object`: the configured DC; else, for an object
    /// of the audited domain, the audited DC or the domain; else (a child domain's computer in a
    /// forest-wide export) the object's own domain, from its DN, so the command reaches a DC that
    /// holds it; a placeholder when nothing is known.
    public func server(for object: DirectoryObject) -> String { knownServer(for: object) ?? "<DC>" }

    /// `server(for:)`, nil when nothing is known.
    public func knownServer(for object: DirectoryObject) -> String? {
        if let configured = configuration.remediationServer { return configured }
        if isOutsideAuditedDomain(object), let own = object.domainDNSName { return own }
        return domainController ?? domain ?? object.domainDNSName
    }

    /// Whether `object` lives in another domain than the audited one (a child domain's account in a
    /// forest-wide export). setspn works in the current domain and cannot reach it, so its fixes are
    /// PowerShell with that domain's `-Server` (`server(for:)`).
    func isOutsideAuditedDomain(_ object: DirectoryObject) -> Bool {
        guard let own = object.domainDNSName, let domain else { return false }
        return own != domain.lowercased()
    }

    /// The DNS name of the domain `object` belongs to: its DN's, else the audited domain.
    public func domain(of object: DirectoryObject) -> String? { object.domainDNSName ?? domain }

    /// Clocks in a domain may drift apart by up to Kerberos' 5 minutes; a timestamp that little
    /// ahead of the audit host is "now", not a clock problem.
    public static let clockToleranceTicks: Int64 = Int64(clockToleranceSeconds) * FileTime.ticksPerSecond
    /// Kerberos' default maximum clock skew: a DC further off than this from the audit host is warned
    /// about (AuditJob) and flagged in the report (HTMLReport).
    public static let clockToleranceSeconds: Double = 300
    static let dayTicks: Int64 = FileTime.ticksPerDay

    /// Whether `time` lies beyond the clock tolerance in the future: a clock problem, not an age.
    /// False for a value that is not a valid time.
    public func isInFuture(_ time: FileTime) -> Bool {
        guard time.isValid, let ticks = ticksSince(time) else { return false }
        return ticks < -Self.clockToleranceTicks
    }

    /// Whole days from `time` to now; 0 within the clock tolerance, negative beyond it.
    ///
    /// Nil when `time` is not a valid time (negative ticks, see `FileTime.validTicks`): its age is
    /// unknown, which is neither "never" nor any number of days.
    public func ageInDays(_ time: FileTime) -> Int? {
        guard time.isValid, var ticks = ticksSince(time) else { return nil }
        if ticks < 0 && ticks >= -Self.clockToleranceTicks { ticks = 0 }
        // Floor division so that one hour beyond the tolerance is day -1, not day 0 (with the
        // remainder, not by negating, which overflows for a time 29,000 years ahead).
        let (days, rest) = ticks.quotientAndRemainder(dividingBy: Self.dayTicks)
        return Int(rest < 0 ? days - 1 : days)
    }

    /// Whole days `time` lies ahead of now, counted as the dates in messages are: 10 days and an hour is
    /// 10; 0 for a time in the past or one that is not valid.
    public func daysAhead(_ time: FileTime) -> Int {
        guard time.isValid, let ticks = ticksSince(time) else { return 0 }
        // -ticks cannot overflow: both times are valid, so ticks > Int64.min.
        return Int(max(0, -ticks) / Self.dayTicks)
    }

    /// Now minus `time` in ticks; nil when the difference does not fit in an Int64 (only possible for
    /// a time that is not valid, whatever `now` is: both clamped and valid ticks are non-negative).
    private func ticksSince(_ time: FileTime) -> Int64? {
        let (difference, overflow) = nowFileTime.ticks.subtractingReportingOverflow(time.ticks)
        return overflow ? nil : difference
    }

    /// `time` plus `days` whole days in ticks, saturating at Int64.max rather than trapping.
    static func adding(days: Int, to time: FileTime) -> Int64 {
        let (span, overflow) = Int64(clamping: days).multipliedReportingOverflow(by: dayTicks)
        if overflow { return days < 0 ? Int64.min : Int64.max }
        let (sum, sumOverflow) = time.ticks.addingReportingOverflow(span)
        if sumOverflow { return span < 0 ? Int64.min : Int64.max }
        return sum
    }

    /// A timestamp as a finding detail: the ISO 8601 time, or the raw ticks when it is not a valid time.
    static func timeDetail(_ time: FileTime) -> DetailValue {
        time.isValid ? .string(timestamp(time)) : .integer(time.ticks)
    }

    /// How a value that is not a valid time is shown wherever a date would be: its raw ticks, said plainly.
    public static func notATime(_ time: FileTime) -> String {
        "\(time.ticks) (not a valid time)"
    }

    /// `2026-05-28` in UTC: dates in messages are days, the precision an admin acts on; a value that is
    /// not a valid time is shown as `notATime` gives it.
    public static func day(_ time: FileTime) -> String {
        time.isValid ? UTCTime.day(time) : notATime(time)
    }

    /// `2026-05-28T10:15:02Z`, for details an admin may correlate with event logs (`notATime` for a
    /// value that is not a valid time).
    public static func timestamp(_ time: FileTime) -> String {
        time.isValid ? UTCTime.timestamp(time) : notATime(time)
    }
}
