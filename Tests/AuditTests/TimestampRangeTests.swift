import Foundation
import XCTest

@testable import Audit
@testable import Directory

/// Timestamps no FILETIME can hold (negative ticks), the top of the range, and a `now` before 1601:
/// reported plainly, never a trap.
final class TimestampRangeTests: XCTestCase {
    /// Below about -9.09e18 `now - pwdLastSet` overflowed and killed the whole audit.
    private static let notTimes: [Int64] = [-9_223_372_036_854_775_807, -9_200_000_000_000_000_000, -1]

    func testNegativePwdLastSetIsReportedAsNotATime() throws {
        for raw in Self.notTimes {
            let findings = try Fixture.evaluate(
                StalePasswordRule(),
                Fixture.computer("WKS-0042", pwdLastSet: raw, lastLogonTimestamp: Fixture.ticks(daysAgo: 3)))
            XCTAssertEqual(findings.count, 1)
            let finding = try XCTUnwrap(findings.first)
            XCTAssertEqual(finding.severity, .medium)
            XCTAssertEqual(finding.detail("story"), .string("password-not-a-time"))
            XCTAssertEqual(finding.detail("pwdLastSet"), .integer(raw))
            XCTAssertEqual(finding.detailKeys, ["story", "pwdLastSet"])
            XCTAssertEqual(
                finding.message,
                "pwdLastSet \(raw) is not a valid time (a FILETIME is never negative, and AD never stores one): the export or the object is damaged, and whether WKS-0042 still rotates its password is unknown."
            )
            XCTAssertTrue(
                finding.remediation.hasPrefix(
                    "AD never stores such a pwdLastSet; read it from a DC to tell a damaged export from a damaged object: Get-ADComputer -Identity 'WKS-0042$' -Properties pwdLastSet -Server corp.example\n"
                ), finding.remediation)
        }
    }

    func testNegativeTimestampsCountInNoAgeBucketAndAreNotNever() throws {
        for raw in Self.notTimes {
            var facts: [ComputerFacts] = []
            var runner = AuditRunner(
                configuration: AuditConfiguration(), now: Fixture.now, source: "fixture.ldif",
                computerSink: { facts.append($0) })
            try LDIFReader(
                bytes: Array(Fixture.computer("WKS-0042", pwdLastSet: raw, lastLogonTimestamp: raw).utf8),
                name: "fixture.ldif"
            ).forEachEntry { runner.add($0) }
            let result = runner.finish()
            for histogram in [result.summary.passwordAge, result.summary.lastLogonAge] {
                XCTAssertEqual(histogram.notATime, 1, String(raw))
                XCTAssertEqual(histogram.counts.reduce(0, +), 0)
                XCTAssertEqual(histogram.never, 0)
                XCTAssertEqual(histogram.future, 0)
            }
            XCTAssertNil(facts.first?.passwordAgeDays)
            XCTAssertNil(facts.first?.lastLogonAgeDays)
            XCTAssertEqual(result.findings.map(\.rule), ["stale-password"])
        }
    }

    func testNegativeLastLogonTimestampIsNoProofOfLife() throws {
        let raw: Int64 = -9_223_372_036_854_775_807
        let findings = try Fixture.evaluate(
            StalePasswordRule(),
            Fixture.computer("WKS-0042", pwdLastSet: Fixture.ticks(daysAgo: 97), lastLogonTimestamp: raw))
        let finding = try XCTUnwrap(findings.first)
        XCTAssertEqual(finding.detail("story"), .string("logon-not-a-time"))
        XCTAssertEqual(finding.severity, .medium)
        XCTAssertEqual(finding.detail("lastLogonTimestamp"), .integer(raw))
        XCTAssertEqual(finding.detailKeys, ["story", "pwdLastSet", "passwordAgeDays", "lastLogonTimestamp"])
        XCTAssertEqual(
            finding.message,
            "Machine password last set 2026-08-19 (97 days ago); lastLogonTimestamp -9223372036854775807 is not a valid time, which is no proof of life: whether WKS-0042 is alive is unknown."
        )

        let disabled = try Fixture.evaluate(
            DisabledAccountRule(), Fixture.computer("WKS-0042", userAccountControl: "4098", lastLogonTimestamp: raw))
        XCTAssertEqual(
            disabled.first?.message,
            "Computer account WKS-0042$ is disabled (userAccountControl 4098 has ACCOUNTDISABLE (0x2); lastLogonTimestamp -9223372036854775807 (not a valid time)): WKS-0042 cannot log on to the domain."
        )
        XCTAssertEqual(disabled.first?.detail("lastLogonTimestamp"), .integer(raw))
    }

    /// One tick below "never": a real date, 30828-09-14, and so a password set in the future.
    func testTheLastDateBeforeNeverIsAPasswordInTheFuture() throws {
        let raw: Int64 = 9_223_372_036_854_775_806
        let finding = try XCTUnwrap(
            try Fixture.evaluate(StalePasswordRule(), Fixture.computer("WKS-0042", pwdLastSet: raw)).first)
        XCTAssertEqual(finding.detail("story"), .string("password-in-future"))
        XCTAssertEqual(finding.detail("pwdLastSet"), .string("30828-09-14T02:48:05Z"))
        XCTAssertEqual(
            finding.message,
            "pwdLastSet 30828-09-14 is 10519644 day(s) in the future: a domain controller's clock was wrong when it was set."
        )
        let result = try Fixture.audit(Fixture.computer("WKS-0042", pwdLastSet: raw))
        XCTAssertEqual(result.summary.passwordAge.future, 1)
        XCTAssertEqual(result.summary.passwordAge.notATime, 0)
    }

    /// A `now` before 1601 has no FILETIME: the failable API refuses it (the CLI's check), and the
    /// clamped context a library caller might still build computes every age without trapping.
    func testNowBefore1601IsRefusedAndNeverTraps() throws {
        let before1601 = Date(timeIntervalSince1970: -11_676_096_000)
        XCTAssertNil(FileTime(validDate: before1601))
        XCTAssertFalse(FileTime.isRepresentable(before1601))

        let context = AuditContext(now: before1601, configuration: AuditConfiguration())
        XCTAssertEqual(context.nowFileTime.ticks, 0)
        for raw in Self.notTimes {
            XCTAssertNil(context.ageInDays(FileTime(ticks: raw)))
            XCTAssertEqual(context.daysAhead(FileTime(ticks: raw)), 0)
            XCTAssertFalse(context.isInFuture(FileTime(ticks: raw)))
        }
        XCTAssertEqual(context.ageInDays(FileTime(ticks: Fixture.nowTicks)), -155_555)
        XCTAssertTrue(context.isInFuture(FileTime(ticks: 9_223_372_036_854_775_806)))

        // The far end: a `now` past 30828 clamps to the top, and the subtraction still cannot overflow.
        let farFuture = AuditContext(now: Date(timeIntervalSince1970: 1e18), configuration: AuditConfiguration())
        XCTAssertEqual(farFuture.nowFileTime.ticks, Int64.max)
        XCTAssertNil(farFuture.ageInDays(FileTime(ticks: -1)))
        XCTAssertEqual(farFuture.ageInDays(FileTime(ticks: 9_223_372_036_854_775_806)), 0)

        var runner = AuditRunner(configuration: AuditConfiguration(), now: before1601, source: "fixture.ldif")
        for raw in Self.notTimes + [0, 9_223_372_036_854_775_806] {
            try LDIFReader(
                bytes: Array(Fixture.computer("WKS-\(raw)", pwdLastSet: raw, lastLogonTimestamp: raw).utf8),
                name: "fixture.ldif"
            ).forEachEntry { runner.add($0) }
        }
        XCTAssertEqual(runner.finish().summary.computers, 5)
    }
}
