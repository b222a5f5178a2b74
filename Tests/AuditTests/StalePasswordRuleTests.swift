import XCTest

@testable import Audit
@testable import Directory

final class StalePasswordRuleTests: XCTestCase {
    private func findings(
        pwdLastSet: Int64?, lastLogonTimestamp: Int64? = nil, name: String = "WKS-0042",
        operatingSystem: String = "Windows 11 Enterprise",
        configuration: AuditConfiguration = AuditConfiguration()
    ) throws -> [Finding] {
        var ldif = Fixture.computer(
            name, pwdLastSet: pwdLastSet ?? 1, lastLogonTimestamp: lastLogonTimestamp, operatingSystem: operatingSystem)
        if pwdLastSet == nil { ldif = ldif.replacingOccurrences(of: "pwdLastSet: 1\n", with: "") }
        return try Fixture.evaluate(StalePasswordRule(), ldif, configuration: configuration)
    }

    private func story(_ findings: [Finding]) -> String? {
        guard findings.count == 1, case .string(let story)? = findings[0].detail("story") else { return nil }
        return story
    }

    private static let whyNotRotating = """
        Then find why it stopped rotating: DisablePasswordChange must not be 1 under HKLM\\SYSTEM\\CurrentControlSet\\Services\\Netlogon\\Parameters, \
        the policy "Domain member: Disable machine account password changes" must be off, the machine must not be \
        restored from a snapshot, and the time must be within 5 minutes of the DC (w32tm /query /source). Check replication: repadmin /showrepl
        """

    // MARK: The threshold

    func testPasswordExactlyAtThresholdIsStaleAndJustUnderIsNot() throws {
        let logon = Fixture.ticks(daysAgo: 1)
        // 59 days, 23 hours and 59 minutes: 59 whole days.
        XCTAssertEqual(
            try findings(
                pwdLastSet: Fixture.ticks(daysAgo: 59, extra: 23 * Fixture.hour + 59 * Fixture.minute),
                lastLogonTimestamp: logon), [])
        // Exactly 60 days: whole days >= stalePasswordDays counts.
        let atThreshold = try findings(pwdLastSet: Fixture.ticks(daysAgo: 60), lastLogonTimestamp: logon)
        XCTAssertEqual(story(atThreshold), "alive-not-rotating")
        XCTAssertEqual(atThreshold.first?.detail("passwordAgeDays"), .integer(60))
        let oneDayOver = try findings(pwdLastSet: Fixture.ticks(daysAgo: 61), lastLogonTimestamp: logon)
        XCTAssertEqual(oneDayOver.first?.detail("passwordAgeDays"), .integer(61))
        XCTAssertEqual(oneDayOver.first?.detail("pwdLastSet"), .string("2026-09-24T00:00:00Z"))
    }

    func testConfiguredThreshold() throws {
        var configuration = AuditConfiguration()
        configuration.stalePasswordDays = 90
        let logon = Fixture.ticks(daysAgo: 1)
        XCTAssertEqual(
            try findings(
                pwdLastSet: Fixture.ticks(daysAgo: 89), lastLogonTimestamp: logon, configuration: configuration), [])
        XCTAssertEqual(
            story(
                try findings(
                    pwdLastSet: Fixture.ticks(daysAgo: 90), lastLogonTimestamp: logon, configuration: configuration)),
            "alive-not-rotating")
    }

    // MARK: Alive or dormant, with the 14-day lastLogonTimestamp lag

    func testAliveNotRotatingAtTheEdgeOfTheLag() throws {
        // 30-day rotation + 14-day lag: a logon 44 days ago still counts as alive.
        let result = try findings(
            pwdLastSet: Fixture.ticks(daysAgo: 100), lastLogonTimestamp: Fixture.ticks(daysAgo: 44))
        XCTAssertEqual(result.count, 1)
        let finding = try XCTUnwrap(result.first)
        XCTAssertEqual(finding.rule, "stale-password")
        XCTAssertEqual(finding.severity, .high)
        XCTAssertEqual(
            finding.message,
            "Alive but not rotating its password: last logon 2026-10-11 (44 days ago, lastLogonTimestamp lags up to 14 days) while the machine password was last set 2026-08-16 (100 days ago). Its secure channel is broken or password changes are disabled."
        )
        XCTAssertEqual(
            finding.detailKeys, ["story", "pwdLastSet", "passwordAgeDays", "lastLogonTimestamp", "lastLogonAgeDays"])
        XCTAssertEqual(finding.detail("story"), .string("alive-not-rotating"))
        XCTAssertEqual(finding.detail("lastLogonAgeDays"), .integer(44))
        XCTAssertEqual(
            finding.remediation, Fixture.windowsRepair(host: "wks-0042.corp.example") + "\n" + Self.whyNotRotating)
    }

    func testRotationStoppedOneDayPastTheLag() throws {
        let result = try findings(
            pwdLastSet: Fixture.ticks(daysAgo: 100), lastLogonTimestamp: Fixture.ticks(daysAgo: 45))
        XCTAssertEqual(story(result), "rotation-stopped")
        XCTAssertEqual(result.first?.severity, .medium)
        XCTAssertEqual(
            result.first?.message,
            "Stopped rotating while alive, then went quiet: machine password last set 2026-08-16 (100 days ago), yet it logged on 2026-10-10 (45 days ago), after its 30-day rotation was due. Expect a trust failure if it returns."
        )
    }

    func testDormantWhenTheLastLogonCameBeforeARotationWasDue() throws {
        // The logon is exactly when the rotation fell due: not after it, so the machine went quiet in time.
        let result = try findings(
            pwdLastSet: Fixture.ticks(daysAgo: 100), lastLogonTimestamp: Fixture.ticks(daysAgo: 70))
        XCTAssertEqual(story(result), "dormant")
        let finding = try XCTUnwrap(result.first)
        XCTAssertEqual(finding.severity, .low)
        XCTAssertEqual(
            finding.message,
            "Dormant: machine password last set 2026-08-16 (100 days ago) and last logon 2026-09-15 (70 days ago). A cleanup candidate; if it returns it will need its secure channel repaired."
        )
        let indentedRepair = Fixture.windowsRepair(host: "wks-0042.corp.example").replacingOccurrences(
            of: "\n", with: "\n  ")
        XCTAssertEqual(
            finding.remediation,
            """
            Confirm with the owner that WKS-0042 is retired, then: Disable-ADComputer -Identity 'WKS-0042$' -Server corp.example
            After a grace period: Remove-ADComputer -Identity 'CN=WKS-0042,OU=Workstations,DC=corp,DC=example' -Server corp.example
            If it comes back into use instead: \(indentedRepair)
            """)
        // One tick after the rotation was due it was alive past it.
        XCTAssertEqual(
            story(
                try findings(
                    pwdLastSet: Fixture.ticks(daysAgo: 100), lastLogonTimestamp: Fixture.ticks(daysAgo: 70, extra: -1))),
            "rotation-stopped")
    }

    func testBothOldIsDormantEvenLongAgo() throws {
        let result = try findings(
            pwdLastSet: Fixture.ticks(daysAgo: 500), lastLogonTimestamp: Fixture.ticks(daysAgo: 495))
        XCTAssertEqual(story(result), "dormant")
        XCTAssertEqual(result.first?.detail("passwordAgeDays"), .integer(500))
    }

    func testRotationIntervalMovesTheAliveWindow() throws {
        var configuration = AuditConfiguration()
        configuration.passwordRotationDays = 45  // alive window 45 + 14 = 59 days
        let pwd = Fixture.ticks(daysAgo: 200)
        XCTAssertEqual(
            story(
                try findings(
                    pwdLastSet: pwd, lastLogonTimestamp: Fixture.ticks(daysAgo: 59), configuration: configuration)),
            "alive-not-rotating")
        let stopped = try findings(
            pwdLastSet: pwd, lastLogonTimestamp: Fixture.ticks(daysAgo: 60), configuration: configuration)
        XCTAssertEqual(story(stopped), "rotation-stopped")
        XCTAssertTrue(stopped.first?.message.contains("after its 45-day rotation was due") ?? false)
    }

    // MARK: Odd values

    func testNeverLoggedOn() throws {
        for logon: Int64? in [nil, 0] {
            let result = try findings(pwdLastSet: Fixture.ticks(daysAgo: 100), lastLogonTimestamp: logon)
            XCTAssertEqual(story(result), "never-logged-on")
            XCTAssertEqual(result.first?.severity, .low)
            XCTAssertEqual(
                result.first?.message,
                "Machine password last set 2026-08-16 (100 days ago) and no logon ever recorded: pre-created or never used. A cleanup candidate."
            )
            XCTAssertEqual(result.first?.detailKeys, ["story", "pwdLastSet", "passwordAgeDays"])
        }
    }

    func testPwdLastSetZeroWithoutLogonIsPreStaged() throws {
        let result = try findings(pwdLastSet: 0)
        XCTAssertEqual(story(result), "never-set")
        let finding = try XCTUnwrap(result.first)
        XCTAssertEqual(finding.severity, .medium)
        XCTAssertEqual(
            finding.message,
            "pwdLastSet is 0 and no logon is recorded: the account was pre-created and never joined (or reset before first use)."
        )
        XCTAssertEqual(finding.detailKeys, ["story", "pwdLastSet"])
        XCTAssertEqual(finding.detail("pwdLastSet"), .integer(0))
        XCTAssertEqual(
            finding.remediation,
            """
            If the account was pre-staged for a machine not yet joined, join it: Add-Computer -DomainName corp.example -Credential (Get-Credential) -Restart
            If no machine will use it, remove it: Remove-ADComputer -Identity 'CN=WKS-0042,OU=Workstations,DC=corp,DC=example' -Server corp.example
            """)
    }

    func testPwdLastSetZeroAfterALogonIsAReset() throws {
        let result = try findings(pwdLastSet: 0, lastLogonTimestamp: Fixture.ticks(daysAgo: 5))
        XCTAssertEqual(story(result), "reset-pending")
        let finding = try XCTUnwrap(result.first)
        XCTAssertEqual(finding.severity, .high)
        XCTAssertEqual(
            finding.message,
            "pwdLastSet is 0 (the account was reset or must change its password) but WKS-0042 last logged on 2026-11-19: its own machine password no longer matches, so its trust relationship fails."
        )
        XCTAssertEqual(finding.detailKeys, ["story", "pwdLastSet", "lastLogonTimestamp"])
        XCTAssertEqual(
            finding.remediation,
            "The account was reset while WKS-0042 was in use; the machine's own password no longer matches.\n"
                + Fixture.windowsRepair(host: "wks-0042.corp.example"))
    }

    func testPwdLastSetZeroWithAFutureLogonIsStillNeverSet() throws {
        XCTAssertEqual(story(try findings(pwdLastSet: 0, lastLogonTimestamp: Fixture.ticks(daysAgo: -30))), "never-set")
    }

    func testPasswordInTheFuture() throws {
        let result = try findings(
            pwdLastSet: Fixture.ticks(daysAgo: -10), lastLogonTimestamp: Fixture.ticks(daysAgo: 1))
        XCTAssertEqual(story(result), "password-in-future")
        let finding = try XCTUnwrap(result.first)
        XCTAssertEqual(finding.severity, .high)
        XCTAssertEqual(
            finding.message,
            "pwdLastSet 2026-12-04 is 10 day(s) in the future: a domain controller's clock was wrong when it was set.")
        XCTAssertEqual(finding.detailKeys, ["story", "pwdLastSet"])
        XCTAssertTrue(
            finding.remediation.hasPrefix(
                "A domain controller's clock was ahead when this password was written. Check time service on the DCs: w32tm /monitor, and on the PDC emulator: w32tm /query /source\nThen reset the password from the machine: On wks-0042.corp.example,"
            ), finding.remediation)
    }

    func testClockSkewWithinFiveMinutesIsNotTheFuture() throws {
        XCTAssertEqual(
            try findings(
                pwdLastSet: Fixture.nowTicks + 4 * Fixture.minute, lastLogonTimestamp: Fixture.ticks(daysAgo: 1)), [])
        XCTAssertEqual(story(try findings(pwdLastSet: Fixture.nowTicks + 6 * Fixture.minute)), "password-in-future")
    }

    func testFutureLogonIsNoProofOfLife() throws {
        let result = try findings(
            pwdLastSet: Fixture.ticks(daysAgo: 100), lastLogonTimestamp: Fixture.ticks(daysAgo: -30))
        XCTAssertEqual(story(result), "logon-in-future")
        let finding = try XCTUnwrap(result.first)
        XCTAssertEqual(finding.severity, .medium)
        XCTAssertEqual(
            finding.message,
            "Machine password last set 2026-08-16 (100 days ago); lastLogonTimestamp 2026-12-24 is in the future, which is no proof of life (a clock problem or a known Windows bug): whether WKS-0042 is alive is unknown."
        )
        XCTAssertEqual(finding.detailKeys, ["story", "pwdLastSet", "passwordAgeDays", "lastLogonTimestamp"])
        XCTAssertTrue(finding.remediation.hasSuffix(Self.whyNotRotating))
        // A fresh password with a future logon is nothing to report.
        XCTAssertEqual(
            try findings(pwdLastSet: Fixture.ticks(daysAgo: 3), lastLogonTimestamp: Fixture.ticks(daysAgo: -30)), [])
    }

    func testLogonWithinClockToleranceCountsAsRecent() throws {
        let result = try findings(
            pwdLastSet: Fixture.ticks(daysAgo: 100), lastLogonTimestamp: Fixture.nowTicks + 2 * Fixture.minute)
        XCTAssertEqual(story(result), "alive-not-rotating")
        // Accepted as "now", so its age is 0 days, not a floored -1.
        let finding = try XCTUnwrap(result.first)
        XCTAssertEqual(finding.detail("lastLogonAgeDays"), .integer(0))
        XCTAssertTrue(finding.message.contains("(0 days ago,"), finding.message)
    }

    func testFutureDistanceAgreesWithTheDateShown() throws {
        // 10 days and 1 hour ahead: the message shows 2026-12-04, ten days after 2026-11-24.
        let finding = try XCTUnwrap(try findings(pwdLastSet: Fixture.ticks(daysAgo: -10, extra: -Fixture.hour)).first)
        XCTAssertTrue(finding.message.hasPrefix("pwdLastSet 2026-12-04 is "), finding.message)
        // Not 11: a floored age negated would round the future distance up.
        XCTAssertTrue(finding.message.contains(" 10 day(s) in the future"), finding.message)
    }

    func testAbsentPwdLastSetIsNotJudged() throws {
        XCTAssertEqual(try findings(pwdLastSet: nil, lastLogonTimestamp: Fixture.ticks(daysAgo: 1)), [])
    }

    func testHealthyPasswordHasNoFinding() throws {
        XCTAssertEqual(
            try findings(pwdLastSet: Fixture.ticks(daysAgo: 12), lastLogonTimestamp: Fixture.ticks(daysAgo: 2)), [])
    }

    func testLinuxHostsAreToldToUseAdcli() throws {
        let result = try findings(
            pwdLastSet: Fixture.ticks(daysAgo: 100), lastLogonTimestamp: Fixture.ticks(daysAgo: 3), name: "LNX-0007",
            operatingSystem: "Red Hat Enterprise Linux")
        XCTAssertEqual(story(result), "alive-not-rotating")
        XCTAssertTrue(
            result.first?.remediation.hasPrefix(
                "On lnx-0007.corp.example (not Windows: joined with adcli/realmd or sssd), as root: adcli testjoin;")
                ?? false)
    }

    func testSeverityOverrideAppliesToEveryStory() throws {
        var configuration = AuditConfiguration()
        configuration.severities["stale-password"] = .critical
        for (pwd, logon) in [
            (Fixture.ticks(daysAgo: 100), Fixture.ticks(daysAgo: 1)),
            (Fixture.ticks(daysAgo: 100), Fixture.ticks(daysAgo: 70)), (0, nil),
        ] as [(Int64, Int64?)] {
            XCTAssertEqual(
                try findings(pwdLastSet: pwd, lastLogonTimestamp: logon, configuration: configuration).first?.severity,
                .critical)
        }
    }
}
