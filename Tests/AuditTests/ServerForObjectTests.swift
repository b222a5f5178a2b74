import XCTest

@testable import Audit
@testable import Directory

/// `AuditContext.server(for:)` and `domain(of:)`, and the fix commands that name them: a child
/// domain's computer in a forest-wide export is fixed against its own domain, not the audited one.
final class ServerForObjectTests: XCTestCase {
    private func object(_ dn: String, name: String = "WKS-0042") -> DirectoryObject {
        DirectoryObject(kind: .computer, distinguishedName: dn, samAccountName: name + "$", commonName: name)
    }

    private let rootComputer = "CN=WKS-0042,OU=Workstations,DC=corp,DC=example"
    private let childComputer = "CN=BER-0042,OU=Workstations,DC=emea,DC=corp,DC=example"

    func testServerForAnObjectOfTheAuditedDomain() {
        let live = AuditContext(
            now: Fixture.now, configuration: AuditConfiguration(), domain: "Corp.Example",
            domainController: "dc01.corp.example")
        XCTAssertEqual(live.server(for: object(rootComputer)), "dc01.corp.example", "the audited DC")
        let export = AuditContext(now: Fixture.now, configuration: AuditConfiguration(), domain: "corp.example")
        XCTAssertEqual(export.server(for: object(rootComputer)), "corp.example")
        XCTAssertEqual(export.domain(of: object(rootComputer)), "corp.example")
    }

    func testServerForAChildDomainObjectIsItsOwnDomain() {
        let live = AuditContext(
            now: Fixture.now, configuration: AuditConfiguration(), domain: "corp.example",
            domainController: "dc01.corp.example")
        XCTAssertEqual(live.server(for: object(childComputer)), "emea.corp.example")
        XCTAssertEqual(live.domain(of: object(childComputer)), "emea.corp.example")
        // The configured DC is what the site asked for, whatever the object.
        var configuration = AuditConfiguration()
        configuration.remediationServer = "dc02.corp.example"
        let configured = AuditContext(now: Fixture.now, configuration: configuration, domain: "corp.example")
        XCTAssertEqual(configured.server(for: object(childComputer)), "dc02.corp.example")
    }

    func testServerWhenLittleIsKnown() {
        let nothing = AuditContext(now: Fixture.now, configuration: AuditConfiguration())
        XCTAssertEqual(nothing.server(for: object(childComputer)), "emea.corp.example", "the DN's domain")
        XCTAssertEqual(nothing.server(for: object("CN=WKS-0042,OU=Workstations")), "<DC>")
        XCTAssertNil(nothing.knownServer(for: object("CN=WKS-0042,OU=Workstations")))
        XCTAssertNil(nothing.domain(of: object("CN=WKS-0042,OU=Workstations")))
    }

    // MARK: The rules' fix commands

    /// A root-domain computer first (the audited domain is the first computer's), then the child's.
    private func forestFindings(_ child: String) throws -> [Finding] {
        try Fixture.audit(Fixture.computer("WKS-0001") + child).findings.filter { $0.account == "BER-0042$" }
    }

    func testChildDomainComputerIsRepairedInItsOwnDomain() throws {
        let disabled = Fixture.computer(
            "BER-0042", container: "OU=Workstations,DC=emea,DC=corp,DC=example", userAccountControl: "4098",
            dnsHostName: "ber-0042.emea.corp.example", spns: Fixture.joinSPNs("BER-0042", domain: "emea.corp.example"))
        let finding = try XCTUnwrap(try forestFindings(disabled).first)
        XCTAssertEqual(finding.rule, "disabled-account")
        XCTAssertEqual(
            finding.remediation,
            """
            If BER-0042 is still in use: Enable-ADComputer -Identity 'BER-0042$' -Server emea.corp.example
            \(Fixture.windowsRepair(host: "ber-0042.emea.corp.example", server: "emea.corp.example"))
            If it is retired: Remove-ADComputer -Identity 'CN=BER-0042,OU=Workstations,DC=emea,DC=corp,DC=example' -Server emea.corp.example
            """)
        XCTAssertFalse(finding.remediation.contains("-Server corp.example"))
    }

    func testChildDomainLinuxHostRejoinsItsOwnDomain() throws {
        let linux = Fixture.computer(
            "BER-0042", container: "OU=Workstations,DC=emea,DC=corp,DC=example", userAccountControl: "4098",
            operatingSystem: "Ubuntu 24.04 LTS", dnsHostName: "ber-0042.emea.corp.example",
            spns: Fixture.joinSPNs("BER-0042", domain: "emea.corp.example"))
        let remediation = try XCTUnwrap(try forestFindings(linux).first).remediation
        XCTAssertTrue(remediation.contains("--domain-controller=emea.corp.example"), remediation)
        XCTAssertTrue(remediation.contains("realm leave && realm join emea.corp.example"), remediation)
    }

    func testChildDomainPreStagedAccountJoinsItsOwnDomain() throws {
        let preStaged = Fixture.computer(
            "BER-0042", container: "OU=Workstations,DC=emea,DC=corp,DC=example", pwdLastSet: 0,
            operatingSystem: "Windows 11 Enterprise", dnsHostName: "ber-0042.emea.corp.example",
            spns: Fixture.joinSPNs("BER-0042", domain: "emea.corp.example"))
        let finding = try XCTUnwrap(try forestFindings(preStaged).first { $0.rule == "stale-password" })
        XCTAssertTrue(finding.remediation.contains("Add-Computer -DomainName emea.corp.example "), finding.remediation)
        XCTAssertTrue(finding.remediation.contains("-Server emea.corp.example"), finding.remediation)
    }

    func testChildDomainComputerWithoutDNSNameGetsItsOwnDomainsFQDN() throws {
        let noDNS = Fixture.computer(
            "BER-0042", container: "OU=Workstations,DC=emea,DC=corp,DC=example", dnsHostName: "",
            spns: ["HOST/BER-0042", "RestrictedKrbHost/BER-0042"])
        let finding = try XCTUnwrap(try forestFindings(noDNS).first { $0.rule == "missing-spn" })
        XCTAssertEqual(
            finding.remediation.split(separator: "\n").first.map(String.init),
            "Set its DNS name (or rejoin the machine, which sets it): Set-ADComputer -Identity 'BER-0042$' -DNSHostName ber-0042.emea.corp.example -Server emea.corp.example"
        )
        // setspn works in the current domain: the child's computer gets PowerShell against its own.
        XCTAssertTrue(
            finding.remediation.contains(
                "Set-ADComputer -Identity 'BER-0042$' -ServicePrincipalNames @{Add='HOST/ber-0042.emea.corp.example'} -Server emea.corp.example"
            ), finding.remediation)
        XCTAssertFalse(finding.remediation.contains("setspn -S HOST"), finding.remediation)
    }
}
