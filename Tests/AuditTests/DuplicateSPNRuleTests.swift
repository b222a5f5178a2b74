import XCTest

@testable import Audit
@testable import Directory

final class DuplicateSPNRuleTests: XCTestCase {
    private func findings(_ ldif: String, excluding excluded: Set<String> = []) throws -> [Finding] {
        var index = DuplicateSPNRule()
        for object in try Fixture.objects(ldif) {
            index.add(object, excluded: excluded.contains(object.accountName))
        }
        return index.findings(in: Fixture.context()).sorted(by: AuditRunner.reportOrder)
    }

    private static let sql01 = Fixture.computer(
        "SQL01", container: "OU=Servers,DC=corp,DC=example", operatingSystem: "Windows Server 2019 Datacenter",
        spns: Fixture.joinSPNs("SQL01") + ["MSSQLSvc/sql01.corp.example:1433"])
    private static let svcSQL = Fixture.user(
        "svc-sql", spns: ["MSSQLSvc/sql01.corp.example:1433", "MSSQLSvc/sql01.corp.example"])

    func testComputerAndUserServiceAccount() throws {
        let result = try findings(Self.sql01 + Self.svcSQL)
        XCTAssertEqual(result.map(\.account), ["SQL01$", "svc-sql"])
        let computer = result[0]
        XCTAssertEqual(computer.rule, "duplicate-spn")
        XCTAssertEqual(computer.severity, .high)
        XCTAssertEqual(computer.distinguishedName, "CN=SQL01,OU=Servers,DC=corp,DC=example")
        XCTAssertEqual(
            computer.message,
            "SPN MSSQLSvc/sql01.corp.example:1433 on SQL01$ is also registered on svc-sql (CN=svc-sql,OU=Service Accounts,DC=corp,DC=example): Kerberos to this service fails (Event 2974)."
        )
        XCTAssertEqual(
            computer.remediation,
            """
            Confirm every holder: setspn -Q MSSQLSvc/sql01.corp.example:1433   (forest-wide: setspn -X -F)
            Keep the SPN only on the account that runs the service; remove it from the others:
              setspn -D MSSQLSvc/sql01.corp.example:1433 SQL01   (if SQL01 should not hold it)
              setspn -D MSSQLSvc/sql01.corp.example:1433 svc-sql   (if svc-sql should not hold it)
            """)
        XCTAssertEqual(computer.detailKeys, ["spn", "otherHolders", "otherHolderDNs"])
        XCTAssertEqual(computer.detail("otherHolders"), .strings(["svc-sql"]))
        XCTAssertEqual(
            computer.detail("otherHolderDNs"), .strings(["CN=svc-sql,OU=Service Accounts,DC=corp,DC=example"]))

        let user = result[1]
        XCTAssertEqual(
            user.message,
            "SPN MSSQLSvc/sql01.corp.example:1433 on svc-sql is also registered on SQL01$ (CN=SQL01,OU=Servers,DC=corp,DC=example): Kerberos to this service fails (Event 2974)."
        )
        XCTAssertTrue(
            user.remediation.contains(
                "  setspn -D MSSQLSvc/sql01.corp.example:1433 svc-sql   (if svc-sql should not hold it)\n"))
        XCTAssertTrue(
            user.remediation.hasSuffix(
                "  setspn -D MSSQLSvc/sql01.corp.example:1433 SQL01   (if SQL01 should not hold it)"))
    }

    func testCaseDifferingSpellingsAreOneSPN() throws {
        let app01 = Fixture.computer("APP01", container: "OU=Servers,DC=corp,DC=example")
        let old = Fixture.computer(
            "APP01-OLD", container: "OU=Servers,DC=corp,DC=example", userAccountControl: "4098",
            spns: Fixture.joinSPNs("APP01-OLD") + ["host/APP01.CORP.EXAMPLE"])
        let result = try findings(app01 + old)
        XCTAssertEqual(result.map(\.account), ["APP01$", "APP01-OLD$"])
        for finding in result {
            guard case .string(let spn)? = finding.detail("spn") else { return XCTFail("no spn detail") }
            XCTAssertEqual(spn.lowercased(), "host/app01.corp.example")
        }
        // The holder found second is named with its own spelling, which is what setspn -D is given.
        XCTAssertEqual(result[1].detail("spn"), .string("host/APP01.CORP.EXAMPLE"))
        XCTAssertTrue(result[1].remediation.contains("setspn -D host/APP01.CORP.EXAMPLE APP01-OLD "))
    }

    func testThreeHoldersGiveThreeFindingsEachNamingTheOtherTwo() throws {
        let web01 = Fixture.computer(
            "WEB01", container: "OU=Web,OU=Servers,DC=corp,DC=example",
            spns: Fixture.joinSPNs("WEB01") + ["HTTP/intranet.corp.example"])
        let web02 = Fixture.computer(
            "WEB02", container: "OU=Web,OU=Servers,DC=corp,DC=example",
            spns: Fixture.joinSPNs("WEB02") + ["HTTP/intranet.corp.example"])
        let result = try findings(web01 + Fixture.groupManagedServiceAccount + web02)
        XCTAssertEqual(result.map(\.account), ["gmsa-intranet$", "WEB01$", "WEB02$"])
        XCTAssertEqual(result[0].detail("otherHolders"), .strings(["WEB01$", "WEB02$"]))
        XCTAssertEqual(result[1].detail("otherHolders"), .strings(["gmsa-intranet$", "WEB02$"]))
        XCTAssertEqual(result[2].detail("otherHolders"), .strings(["gmsa-intranet$", "WEB01$"]))
        XCTAssertEqual(
            result[1].message,
            "SPN HTTP/intranet.corp.example on WEB01$ is also registered on gmsa-intranet$ (CN=gmsa-intranet,CN=Managed Service Accounts,DC=corp,DC=example), WEB02$ (CN=WEB02,OU=Web,OU=Servers,DC=corp,DC=example): Kerberos to this service fails (Event 2974)."
        )
        // setspn names a plain computer without `$`, a managed service account with it.
        XCTAssertEqual(
            result[1].remediation,
            """
            Confirm every holder: setspn -Q HTTP/intranet.corp.example   (forest-wide: setspn -X -F)
            Keep the SPN only on the account that runs the service; remove it from the others:
              setspn -D HTTP/intranet.corp.example WEB01   (if WEB01 should not hold it)
              setspn -D HTTP/intranet.corp.example gmsa-intranet$   (if gmsa-intranet$ should not hold it)
              setspn -D HTTP/intranet.corp.example WEB02   (if WEB02 should not hold it)
            """)
    }

    func testExcludedHolderCountsButGetsNoFinding() throws {
        let result = try findings(Self.sql01 + Self.svcSQL, excluding: ["SQL01$"])
        XCTAssertEqual(result.map(\.account), ["svc-sql"])
        XCTAssertEqual(result.first?.detail("otherHolders"), .strings(["SQL01$"]))
    }

    func testOneObjectHoldingAnSPNTwiceIsNoDuplicate() throws {
        let ldif = Fixture.computer(
            "WKS-0042", spns: Fixture.joinSPNs("WKS-0042") + ["HOST/WKS-0042", "host/wks-0042"])
        XCTAssertEqual(try findings(ldif), [])
        XCTAssertEqual(try findings(Fixture.computer("WKS-0042") + Fixture.computer("WKS-0043")), [])
    }

    func testTwoSharedSPNsBetweenTheSamePairAreTwoFindingsEach() throws {
        // A clone made without sysprep still answers to its original's HOST names.
        let original = Fixture.computer("WKS-0042")
        let clone = Fixture.computer(
            "WKS-0043", spns: Fixture.joinSPNs("WKS-0043") + ["HOST/WKS-0042", "HOST/wks-0042.corp.example"])
        let result = try findings(original + clone)
        XCTAssertEqual(result.count, 4)
        XCTAssertEqual(
            Set(
                result.compactMap { finding -> String? in
                    guard case .string(let spn)? = finding.detail("spn") else { return nil }
                    return "\(finding.account) \(spn)"
                }),
            [
                "WKS-0042$ HOST/WKS-0042", "WKS-0042$ HOST/wks-0042.corp.example", "WKS-0043$ HOST/WKS-0042",
                "WKS-0043$ HOST/wks-0042.corp.example",
            ])
    }

    func testSeverityOverride() throws {
        var configuration = AuditConfiguration()
        configuration.severities["duplicate-spn"] = .medium
        var index = DuplicateSPNRule()
        for object in try Fixture.objects(Self.sql01 + Self.svcSQL) { index.add(object, excluded: false) }
        XCTAssertEqual(index.findings(in: Fixture.context(configuration)).map(\.severity), [.medium, .medium])
        XCTAssertEqual(index.holderCount, 2)
    }
}
