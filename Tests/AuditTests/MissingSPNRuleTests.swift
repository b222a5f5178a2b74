import XCTest

@testable import Audit
@testable import Directory

final class MissingSPNRuleTests: XCTestCase {
    private static let duplicateHint =
        "setspn -S refuses an SPN another account already holds; if it does, resolve that duplicate first (setspn -X)."

    private func findings(_ ldif: String, configuration: AuditConfiguration = AuditConfiguration()) throws -> [Finding]
    {
        try Fixture.evaluate(MissingSPNRule(), ldif, configuration: configuration)
    }

    private func server(_ name: String = "SRV-0001", spns: [String], dnsHostName: String? = nil) -> String {
        Fixture.computer(
            name, container: "OU=Servers,DC=corp,DC=example", operatingSystem: "Windows Server 2022 Standard",
            dnsHostName: dnsHostName,
            spns: spns)
    }

    func testHealthyWindowsWorkstationWithoutTermsrv() throws {
        XCTAssertEqual(try findings(Fixture.computer("WKS-0042")), [])
    }

    func testMatchingIsCaseInsensitive() throws {
        let spns = [
            "host/wks-0042", "HOST/WKS-0042.CORP.EXAMPLE", "restrictedkrbhost/Wks-0042",
            "RESTRICTEDKRBHOST/wks-0042.Corp.Example",
        ]
        XCTAssertEqual(try findings(Fixture.computer("WKS-0042", spns: spns)), [])
    }

    func testHealthyServerWithBothTermsrvForms() throws {
        let spns =
            ["WSMAN/SRV-0001", "WSMAN/srv-0001.corp.example", "TERMSRV/SRV-0001", "TERMSRV/srv-0001.corp.example"]
            + Fixture.joinSPNs("SRV-0001")
        XCTAssertEqual(try findings(server(spns: spns)), [])
    }

    func testServerWithoutTermsrv() throws {
        let result = try findings(server(spns: Fixture.joinSPNs("SRV-0001")))
        XCTAssertEqual(result.count, 1)
        let finding = try XCTUnwrap(result.first)
        XCTAssertEqual(finding.rule, "missing-spn")
        XCTAssertEqual(finding.severity, .low)
        XCTAssertEqual(finding.account, "SRV-0001$")
        XCTAssertEqual(
            finding.message,
            "Missing SPNs: TERMSRV/SRV-0001, TERMSRV/srv-0001.corp.example; Kerberos to SRV-0001 by these names fails or falls back to NTLM."
        )
        XCTAssertEqual(
            finding.remediation,
            """
            setspn -S TERMSRV/SRV-0001 SRV-0001
            setspn -S TERMSRV/srv-0001.corp.example SRV-0001
            \(Self.duplicateHint)
            """)
        XCTAssertEqual(finding.detailKeys, ["missingSPNs", "dNSHostName", "operatingSystem"])
        XCTAssertEqual(finding.detail("missingSPNs"), .strings(["TERMSRV/SRV-0001", "TERMSRV/srv-0001.corp.example"]))
        XCTAssertEqual(finding.detail("dNSHostName"), .string("srv-0001.corp.example"))
        XCTAssertEqual(finding.detail("operatingSystem"), .string("Windows Server 2022 Standard"))
    }

    func testHalfATermsrvPairOnAWorkstation() throws {
        let result = try findings(
            Fixture.computer("WKS-0042", spns: ["TERMSRV/WKS-0042"] + Fixture.joinSPNs("WKS-0042")))
        XCTAssertEqual(result.first?.severity, .low)
        XCTAssertEqual(result.first?.detail("missingSPNs"), .strings(["TERMSRV/wks-0042.corp.example"]))
        let other = try findings(
            Fixture.computer("WKS-0042", spns: ["TERMSRV/wks-0042.corp.example"] + Fixture.joinSPNs("WKS-0042")))
        XCTAssertEqual(other.first?.detail("missingSPNs"), .strings(["TERMSRV/WKS-0042"]))
    }

    func testPortsDoNotCount() throws {
        // A port-qualified SPN is another service; it neither satisfies nor triggers a requirement.
        let spns =
            ["HOST/WKS-0042:445", "TERMSRV/wks-0042.corp.example:3389"]
            + Fixture.joinSPNs("WKS-0042").filter { $0 != "HOST/WKS-0042" }
        let result = try findings(Fixture.computer("WKS-0042", spns: spns))
        XCTAssertEqual(result.count, 1)
        XCTAssertEqual(result.first?.severity, .high)
        XCTAssertEqual(result.first?.detail("missingSPNs"), .strings(["HOST/WKS-0042"]))
        XCTAssertEqual(
            result.first?.message,
            "Missing SPNs: HOST/WKS-0042; Kerberos to WKS-0042 by these names fails or falls back to NTLM.")
    }

    func testSeverityIsTheHighestMissingClassAndOrderFollowsTheConfiguration() throws {
        let spns = ["RestrictedKrbHost/WKS-0042", "HOST/wks-0042.corp.example"]
        let finding = try XCTUnwrap(try findings(Fixture.computer("WKS-0042", spns: spns)).first)
        XCTAssertEqual(finding.severity, .high)
        XCTAssertEqual(
            finding.detail("missingSPNs"), .strings(["HOST/WKS-0042", "RestrictedKrbHost/wks-0042.corp.example"]))
        XCTAssertEqual(
            finding.remediation,
            """
            setspn -S HOST/WKS-0042 WKS-0042
            setspn -S RestrictedKrbHost/wks-0042.corp.example WKS-0042
            \(Self.duplicateHint)
            """)
        let onlyRestricted = try findings(
            Fixture.computer("WKS-0042", spns: ["HOST/WKS-0042", "HOST/wks-0042.corp.example"]))
        XCTAssertEqual(onlyRestricted.first?.severity, .medium)
    }

    func testLinuxJoinRegistersHostAndRestrictedKrbHostOnly() throws {
        let linux = Fixture.computer(
            "LNX-0007", container: "OU=Linux,OU=Servers,DC=corp,DC=example", operatingSystem: "Ubuntu 22.04",
            spns: [
                "HOST/LNX-0007", "HOST/lnx-0007.corp.example", "RestrictedKrbHost/LNX-0007",
                "RestrictedKrbHost/lnx-0007.corp.example",
            ])
        XCTAssertEqual(try findings(linux), [], "no TERMSRV is needed on a Linux server")
        let oldAdcli = Fixture.computer(
            "LNX-0008", container: "OU=Linux,OU=Servers,DC=corp,DC=example",
            operatingSystem: "Red Hat Enterprise Linux",
            spns: ["HOST/LNX-0008", "HOST/lnx-0008.corp.example"])
        let finding = try XCTUnwrap(try findings(oldAdcli).first)
        XCTAssertEqual(finding.severity, .medium)
        XCTAssertEqual(
            finding.detail("missingSPNs"),
            .strings(["RestrictedKrbHost/LNX-0008", "RestrictedKrbHost/lnx-0008.corp.example"]))
    }

    func testNoDNSHostName() throws {
        let ldif = Fixture.computer("WKS-0042", dnsHostName: "", spns: ["RestrictedKrbHost/WKS-0042", "HOST/WKS-0042"])
        let finding = try XCTUnwrap(try findings(ldif).first)
        XCTAssertEqual(finding.severity, .high)
        XCTAssertEqual(
            finding.message,
            "It has no dNSHostName, so its FQDN SPNs (HOST/<fqdn>, RestrictedKrbHost/<fqdn>) cannot exist and Kerberos by FQDN fails."
        )
        XCTAssertEqual(
            finding.remediation,
            """
            Set its DNS name (or rejoin the machine, which sets it): Set-ADComputer -Identity 'WKS-0042$' -DNSHostName wks-0042.corp.example -Server corp.example
            setspn -S HOST/wks-0042.corp.example WKS-0042
            setspn -S RestrictedKrbHost/wks-0042.corp.example WKS-0042
            \(Self.duplicateHint)
            """)
        XCTAssertEqual(finding.detail("missingSPNs"), .strings([]))
        XCTAssertEqual(finding.detail("dNSHostName"), .null)
    }

    /// No operatingSystem and no SPN: no machine ever joined it, and the join is what registers the
    /// SPNs, so there are none to miss (stale-password tells its story); computers.csv says not-checked.
    func testPreStagedAccountWithNothingRegisteredIsNotJudged() throws {
        let ldif = Fixture.computer(
            "WKS-0099", userAccountControl: "4128", pwdLastSet: 0, operatingSystem: nil, dnsHostName: "", spns: [])
        XCTAssertEqual(try findings(ldif), [])
        XCTAssertFalse(MissingSPNRule.judges(try Fixture.object(ldif)))
        // A DNS name set by whoever pre-staged it (New-ADComputer -DNSHostName) changes nothing.
        let named = Fixture.computer("WKS-0099", operatingSystem: nil, spns: [])
        XCTAssertEqual(try findings(named), [])
        // An operatingSystem without any SPN is a joined machine that lost them: judged.
        let lost = Fixture.computer("WKS-0098", spns: [])
        XCTAssertTrue(MissingSPNRule.judges(try Fixture.object(lost)))
        XCTAssertEqual(try findings(lost).first?.severity, .high)
    }

    func testDisabledComputersAndServiceAccountsAreSkipped() throws {
        XCTAssertEqual(try findings(Fixture.computer("WKS-0042", userAccountControl: "4098", spns: [])), [])
        XCTAssertEqual(try findings(Fixture.groupManagedServiceAccount), [])
        XCTAssertEqual(try findings(Fixture.user("svc-sql", spns: ["MSSQLSvc/sql01.corp.example:1433"])), [])
    }

    func testNamesThatNeedQuotingForCmd() throws {
        var configuration = AuditConfiguration()
        configuration.requiredSPNs = [SPNRequirement(serviceClass: "HTTP", scope: .all, severity: .medium)]
        let finding = try XCTUnwrap(
            try findings(Fixture.computer("WEB&APP", dnsHostName: "web-app.corp.example"), configuration: configuration)
                .first)
        XCTAssertEqual(
            finding.remediation,
            """
            setspn -S "HTTP/WEB&APP" "WEB&APP"
            setspn -S HTTP/web-app.corp.example "WEB&APP"
            \(Self.duplicateHint)
            """)
    }

    func testConfiguredScopes() throws {
        var configuration = AuditConfiguration()
        configuration.requiredSPNs = [
            SPNRequirement(serviceClass: "HOST", scope: .none, severity: .high),
            SPNRequirement(serviceClass: "TERMSRV", scope: .all, severity: .info),
            SPNRequirement(serviceClass: "WSMAN", scope: .paired, severity: .critical),
        ]
        let workstation = Fixture.computer("WKS-0042", spns: ["WSMAN/WKS-0042"])
        let finding = try XCTUnwrap(try findings(workstation, configuration: configuration).first)
        XCTAssertEqual(
            finding.detail("missingSPNs"),
            .strings(["TERMSRV/WKS-0042", "TERMSRV/wks-0042.corp.example", "WSMAN/wks-0042.corp.example"]))
        XCTAssertEqual(finding.severity, .critical)
        configuration.severities["missing-spn"] = .low
        XCTAssertEqual(try findings(workstation, configuration: configuration).first?.severity, .low)
    }
}
