import XCTest

@testable import Audit
@testable import Directory

final class DisabledAccountRuleTests: XCTestCase {
    private func findings(_ ldif: String, configuration: AuditConfiguration = AuditConfiguration()) throws -> [Finding]
    {
        try Fixture.evaluate(DisabledAccountRule(), ldif, configuration: configuration)
    }

    func testDisabledWorkstationMessageAndRemediation() throws {
        let logon = Fixture.ticks(daysAgo: 200)  // 2026-05-08
        let result = try findings(
            Fixture.computer(
                "WKS-0042", userAccountControl: "4098", pwdLastSet: Fixture.ticks(daysAgo: 210),
                lastLogonTimestamp: logon))
        XCTAssertEqual(result.count, 1)
        let finding = try XCTUnwrap(result.first)
        XCTAssertEqual(finding.rule, "disabled-account")
        XCTAssertEqual(finding.severity, .medium)
        XCTAssertEqual(finding.account, "WKS-0042$")
        XCTAssertEqual(finding.distinguishedName, "CN=WKS-0042,OU=Workstations,DC=corp,DC=example")
        XCTAssertEqual(
            finding.message,
            "Computer account WKS-0042$ is disabled (userAccountControl 4098 has ACCOUNTDISABLE (0x2); last logon 2026-05-08): WKS-0042 cannot log on to the domain."
        )
        XCTAssertEqual(
            finding.remediation,
            """
            If WKS-0042 is still in use: Enable-ADComputer -Identity 'WKS-0042$' -Server corp.example
            \(Fixture.windowsRepair(host: "wks-0042.corp.example"))
            If it is retired: Remove-ADComputer -Identity 'CN=WKS-0042,OU=Workstations,DC=corp,DC=example' -Server corp.example
            """)
        XCTAssertEqual(finding.detailKeys, ["userAccountControl", "lastLogonTimestamp"])
        XCTAssertEqual(finding.detail("userAccountControl"), .integer(4098))
        XCTAssertEqual(finding.detail("lastLogonTimestamp"), .string("2026-05-08T00:00:00Z"))
    }

    func testDisableBitAmongOtherBits() throws {
        // WORKSTATION_TRUST_ACCOUNT | DONT_EXPIRE_PASSWORD | ACCOUNTDISABLE, and a DC that was disabled.
        for value in ["69634", "4130", "532482", "2"] {
            let result = try findings(Fixture.computer("WKS-0042", userAccountControl: value))
            XCTAssertEqual(result.count, 1, value)
            XCTAssertEqual(result.first?.detail("userAccountControl"), .integer(Int64(value)!), value)
        }
    }

    func testEnabledAccountsHaveNoFinding() throws {
        for value in ["4096", "532480", "528384", "4128", "0"] {
            XCTAssertEqual(try findings(Fixture.computer("WKS-0042", userAccountControl: value)), [], value)
        }
    }

    func testNegativeValueAsADSendsIt() throws {
        // AD sends the attribute as a signed 32-bit integer: bit 31 set makes it negative.
        let disabled = try findings(Fixture.computer("WKS-0042", userAccountControl: "-2147479550"))  // 0x80001002
        XCTAssertEqual(disabled.count, 1)
        // 0x80001002, signed, as AD stores it.
        XCTAssertEqual(disabled.first?.detail("userAccountControl"), .integer(-2_147_479_550))
        XCTAssertTrue(disabled.first?.message.contains("userAccountControl -2147479550 has ACCOUNTDISABLE") ?? false)
        XCTAssertEqual(try findings(Fixture.computer("WKS-0042", userAccountControl: "-2147479552")), [])  // 0x80001000
    }

    func testMissingOrUnreadableValueIsNotReportedAsDisabled() throws {
        XCTAssertEqual(try findings(Fixture.computer("WKS-0042", userAccountControl: nil)), [])
        XCTAssertEqual(try findings(Fixture.computer("WKS-0042", userAccountControl: "disabled")), [])
        XCTAssertEqual(
            try findings(Fixture.computer("WKS-0042", userAccountControl: "4294967298")), [], "out of 32-bit range")
    }

    func testNoLogonLeavesTheLogonOut() throws {
        for logon: Int64? in [nil, 0] {
            let finding = try XCTUnwrap(
                try findings(Fixture.computer("WKS-0042", userAccountControl: "4098", lastLogonTimestamp: logon)).first)
            XCTAssertEqual(
                finding.message,
                "Computer account WKS-0042$ is disabled (userAccountControl 4098 has ACCOUNTDISABLE (0x2)): WKS-0042 cannot log on to the domain."
            )
            XCTAssertEqual(finding.detailKeys, ["userAccountControl"])
        }
    }

    func testLinuxHostGetsTheAdcliRepair() throws {
        let finding = try XCTUnwrap(
            try findings(
                Fixture.computer(
                    "LNX-0007", container: "OU=Linux,OU=Servers,DC=corp,DC=example", userAccountControl: "4098",
                    operatingSystem: "Ubuntu 22.04")
            ).first)
        XCTAssertTrue(
            finding.remediation.contains(
                "On lnx-0007.corp.example (not Windows: joined with adcli/realmd or sssd), as root: adcli testjoin; if it fails: adcli update --computer-password-lifetime=0 --domain-controller=corp.example"
            ), finding.remediation)
        XCTAssertTrue(finding.remediation.contains("realm leave && realm join corp.example"), finding.remediation)
        XCTAssertFalse(finding.remediation.contains("Test-ComputerSecureChannel"))
    }

    func testQuotesInNamesAreEscapedForPowerShell() throws {
        let finding = try XCTUnwrap(
            try findings(Fixture.computer("OBRIEN-PC", commonName: "O'Brien, Pat PC", userAccountControl: "4098")).first
        )
        XCTAssertTrue(
            finding.remediation.hasSuffix(
                "If it is retired: Remove-ADComputer -Identity 'CN=O''Brien\\, Pat PC,OU=Workstations,DC=corp,DC=example' -Server corp.example"
            ), finding.remediation)
    }

    func testSeverityOverrideAndRemediationServer() throws {
        var configuration = AuditConfiguration()
        configuration.severities["disabled-account"] = .low
        configuration.remediationServer = "dc02.corp.example"
        let finding = try XCTUnwrap(
            try findings(Fixture.computer("WKS-0042", userAccountControl: "4098"), configuration: configuration).first)
        XCTAssertEqual(finding.severity, .low)
        XCTAssertTrue(
            finding.remediation.hasPrefix(
                "If WKS-0042 is still in use: Enable-ADComputer -Identity 'WKS-0042$' -Server dc02.corp.example\n"))
    }
}
