import XCTest

@testable import Audit
@testable import Directory

final class AuditRunnerTests: XCTestCase {
    /// A small domain with one of most things: healthy and broken computers, a DC, a gMSA, a user
    /// holding a duplicate SPN, and objects that must only be counted.
    private static let domain: String = {
        var ldif = """
            dn: DC=corp,DC=example
            objectClass: top
            objectClass: domain
            objectClass: domainDNS

            dn: OU=Workstations,DC=corp,DC=example
            objectClass: top
            objectClass: organizationalUnit
            ou: Workstations

            dn: CN=Domain Computers,CN=Users,DC=corp,DC=example
            objectClass: top
            objectClass: group
            sAMAccountName: Domain Computers

            dn: CN=Jane Doe,CN=Users,DC=corp,DC=example
            objectClass: top
            objectClass: person
            objectClass: organizationalPerson
            objectClass: user
            sAMAccountName: jdoe


            """
        ldif += Fixture.computer(
            "DC01", container: "OU=Domain Controllers,DC=corp,DC=example", userAccountControl: "532480",
            operatingSystem: "Windows Server 2022 Standard",
            spns: Fixture.joinSPNs("DC01") + ["TERMSRV/DC01", "TERMSRV/dc01.corp.example", "ldap/dc01.corp.example"])
        ldif += Fixture.computer(
            "WKS-0001", pwdLastSet: Fixture.ticks(daysAgo: 3), lastLogonTimestamp: Fixture.ticks(daysAgo: 1))
        // Disabled and dormant: two findings on one account.
        ldif += Fixture.computer(
            "wks-0002", userAccountControl: "4098", pwdLastSet: Fixture.ticks(daysAgo: 400),
            lastLogonTimestamp: Fixture.ticks(daysAgo: 395))
        ldif += Fixture.computer(
            "WKS-0003", pwdLastSet: Fixture.ticks(daysAgo: 100), lastLogonTimestamp: Fixture.ticks(daysAgo: 2),
            spns: Fixture.joinSPNs("WKS-0003").filter { $0 != "HOST/WKS-0003" })
        ldif += Fixture.computer(
            "SQL01", container: "OU=Servers,DC=corp,DC=example", operatingSystem: "Windows Server 2019 Datacenter",
            spns: ["TERMSRV/SQL01", "TERMSRV/sql01.corp.example"] + Fixture.joinSPNs("SQL01") + [
                "MSSQLSvc/sql01.corp.example:1433"
            ])
        ldif += Fixture.computer(
            "LAB-PC07", container: "OU=Lab,OU=Workstations,DC=corp,DC=example", userAccountControl: "4098", spns: [])
        ldif += Fixture.user("svc-sql", spns: ["MSSQLSvc/sql01.corp.example:1433"])
        ldif += Fixture.groupManagedServiceAccount
        ldif += "# refldap://corp.example/CN=Configuration,DC=corp,DC=example\n\n"
        return ldif
    }()

    private static let inventory = Inventory.parse(
        "WKS-0001\nwks-0002.corp.example\nWKS-0500\nsql01\n", source: "inventory.txt")

    func testSummaryCounts() throws {
        let result = try Fixture.audit(Self.domain, inventory: Self.inventory)
        let summary = result.summary
        XCTAssertEqual(summary.source, "fixture.ldif")
        XCTAssertEqual(summary.domain, "corp.example")
        XCTAssertEqual(summary.generatedAt, Fixture.now)
        XCTAssertEqual(summary.objectsRead, 12)
        XCTAssertEqual(summary.computers, 6)
        XCTAssertEqual(summary.enabledComputers, 4)
        XCTAssertEqual(summary.disabledComputers, 2)
        XCTAssertEqual(summary.domainControllers, 1)
        XCTAssertEqual(summary.groupManagedServiceAccounts, 1)
        XCTAssertEqual(summary.managedServiceAccounts, 0)
        XCTAssertEqual(summary.otherSPNHolders, 1)
        XCTAssertEqual(summary.excludedComputers, 0)
        XCTAssertEqual(summary.inventoryNames, 4)
        XCTAssertEqual(summary.stalePasswordDays, 60)
        XCTAssertEqual(
            summary.findingsByRule,
            ["disabled-account": 2, "stale-password": 2, "missing-spn": 1, "duplicate-spn": 2, "missing-account": 1])
        XCTAssertEqual(summary.findingsBySeverity, [.high: 5, .medium: 2, .low: 1])
        XCTAssertEqual(summary.totalFindings, 8)
        XCTAssertEqual(result.rules.map(\.id), AuditRules.singleSource.map { $0.description.id })
        // Password ages 10 (the fixtures' default: DC01, SQL01, LAB-PC07), 3, 400 and 100 days; the gMSA is
        // not a computer here.
        XCTAssertEqual(summary.passwordAge.counts, [4, 0, 0, 1, 0, 1, 0])
        XCTAssertEqual(summary.passwordAge.never, 0)
        XCTAssertEqual(summary.lastLogonAge.counts, [2, 0, 0, 0, 0, 1, 0])
        XCTAssertEqual(summary.lastLogonAge.never, 3)
    }

    func testFindingsInReportOrder() throws {
        let result = try Fixture.audit(Self.domain, inventory: Self.inventory)
        XCTAssertEqual(
            result.findings.map { "\($0.rule) \($0.severity.rawValue) \($0.account)" },
            [
                "disabled-account medium LAB-PC07$",
                "disabled-account medium wks-0002$",
                "stale-password high WKS-0003$",
                "stale-password low wks-0002$",
                "missing-spn high WKS-0003$",
                "duplicate-spn high SQL01$",
                "duplicate-spn high svc-sql",
                "missing-account high WKS-0500",
            ])
    }

    func testOneDisabledAndStaleAccountCarriesBothFindings() throws {
        let result = try Fixture.audit(Self.domain)
        let findings = result.findings.filter { $0.account == "wks-0002$" }
        XCTAssertEqual(findings.map(\.rule), ["disabled-account", "stale-password"])
        XCTAssertEqual(findings.last?.detail("story"), .string("dormant"))
    }

    func testGroupManagedServiceAccountIsOnlyAnSPNHolder() throws {
        // Disabled, with a 400-day-old password: no rule but duplicate-spn may speak about it.
        let web01 = Fixture.computer("WEB01", spns: Fixture.joinSPNs("WEB01") + ["HTTP/intranet.corp.example"])
        let result = try Fixture.audit(Fixture.groupManagedServiceAccount + web01)
        XCTAssertEqual(result.summary.computers, 1)
        XCTAssertEqual(result.summary.groupManagedServiceAccounts, 1)
        XCTAssertEqual(result.summary.disabledComputers, 0)
        XCTAssertEqual(
            result.findings.map { "\($0.rule) \($0.account)" },
            ["duplicate-spn gmsa-intranet$", "duplicate-spn WEB01$"])
    }

    func testExclusionsSkipRulesButKeepCountsAndInventoryMatches() throws {
        var configuration = AuditConfiguration()
        configuration.excludedAccounts = ["sql01"]
        configuration.excludedContainers = [DistinguishedName.normalized("OU=Lab,OU=Workstations,DC=corp,DC=example")]
        let result = try Fixture.audit(Self.domain, configuration: configuration, inventory: Self.inventory)
        XCTAssertEqual(result.summary.excludedComputers, 2)
        XCTAssertEqual(result.summary.computers, 6)
        XCTAssertEqual(result.summary.disabledComputers, 2, "excluded computers are still counted")
        XCTAssertFalse(result.findings.contains { $0.account == "LAB-PC07$" || $0.account == "SQL01$" })
        // SQL01 still holds the SPN, so svc-sql's duplicate stands; and sql01 is still in the domain.
        XCTAssertEqual(result.findings.filter { $0.rule == "duplicate-spn" }.map(\.account), ["svc-sql"])
        XCTAssertEqual(result.findings.filter { $0.rule == "missing-account" }.map(\.account), ["WKS-0500"])
        XCTAssertEqual(result.summary.passwordAge.counts.reduce(0, +), 4)
    }

    func testDomainComesFromTheFirstComputerUnlessGiven() throws {
        var runner = AuditRunner(
            configuration: AuditConfiguration(), now: Fixture.now, source: "live", domain: "given.example")
        let computer = Fixture.computer(
            "WKS-0001", container: "OU=Workstations,DC=given,DC=example", userAccountControl: "4098")
        for object in try Fixture.objects(computer) {
            runner.add(object)
        }
        let result = runner.finish()
        XCTAssertEqual(result.summary.domain, "given.example")
        XCTAssertTrue(result.findings.first?.remediation.contains("-Server given.example") ?? false)
    }

    func testReportOrderBreaksTiesByAccountThenDN() {
        func finding(_ rule: String, _ severity: Severity, _ account: String, _ dn: String?) -> Finding {
            Finding(
                rule: rule, severity: severity, account: account, distinguishedName: dn, message: "m", remediation: "r")
        }
        let shuffled = [
            finding("missing-account", .critical, "A", nil),
            finding("disabled-account", .low, "a", "CN=a,OU=B"),
            finding("disabled-account", .low, "A", "CN=a,OU=A"),
            finding("disabled-account", .high, "z", "CN=z"),
            finding("unknown-rule", .critical, "a", nil),
        ]
        XCTAssertEqual(
            shuffled.sorted(by: AuditRunner.reportOrder).map {
                "\($0.rule) \($0.account) \($0.distinguishedName ?? "-")"
            },
            [
                "disabled-account z CN=z", "disabled-account A CN=a,OU=A", "disabled-account a CN=a,OU=B",
                "missing-account A -",
                "unknown-rule a -",
            ])
    }

    func testRecordsClockSkew() {
        var runner = AuditRunner(configuration: AuditConfiguration(), now: Fixture.now, source: "live")
        runner.recordClockSkew(seconds: -42)
        XCTAssertEqual(runner.finish().summary.clockSkewSeconds, -42)
    }
}
