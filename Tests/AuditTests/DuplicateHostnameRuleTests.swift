import XCTest

@testable import Audit
@testable import Directory

/// LDIF lines added to a fixture entry, before the blank line that ends it.
func adding(_ entry: String, _ lines: String...) -> String {
    String(entry.dropLast(1)) + lines.joined(separator: "\n") + "\n\n"
}

final class DuplicateHostnameRuleTests: XCTestCase {
    private func findings(_ ldif: String, excluding excluded: Set<String> = []) throws -> [Finding] {
        var rule = DuplicateHostnameRule()
        for object in try Fixture.objects(ldif) {
            rule.add(object, excluded: excluded.contains(object.accountName))
        }
        return rule.findings(in: Fixture.context()).sorted(by: AuditRunner.reportOrder)
    }

    /// APP01 was rebuilt and joined again; the old account was renamed but kept its dNSHostName.
    private static let app01 = adding(
        Fixture.computer(
            "APP01", container: "OU=Servers,DC=corp,DC=example", lastLogonTimestamp: Fixture.ticks(daysAgo: 2),
            operatingSystem: "Windows Server 2022 Standard"),
        "whenCreated: 20260903101500.0Z")
    private static let app01Old = adding(
        Fixture.computer(
            "APP01-OLD", container: "OU=Servers,DC=corp,DC=example", pwdLastSet: Fixture.ticks(daysAgo: 320),
            lastLogonTimestamp: Fixture.ticks(daysAgo: 300), operatingSystem: "Windows Server 2016 Standard",
            dnsHostName: "app01.corp.example"),
        "whenCreated: 20190312084500.0Z")

    func testARebuiltServerBesideItsOldAccount() throws {
        let result = try findings(Self.app01 + Self.app01Old)
        XCTAssertEqual(result.map(\.account), ["APP01$", "APP01-OLD$"])
        XCTAssertEqual(result.map(\.severity), [.high, .high], "both enabled")
        let old = result[1]
        XCTAssertEqual(old.rule, "duplicate-hostname")
        XCTAssertEqual(old.distinguishedName, "CN=APP01-OLD,OU=Servers,DC=corp,DC=example")
        XCTAssertEqual(
            old.message,
            "APP01-OLD$ (created 2019-03-12, last logon 2026-01-28) claims the host name of another live computer account: APP01$ (CN=APP01,OU=Servers,DC=corp,DC=example; both answer to app01.corp.example, its dNSHostName app01.corp.example names APP01$; created 2026-09-03, last logon 2026-11-22). The machine most likely uses APP01$ (the most recent lastLogonTimestamp, 2026-11-22). Tickets for the host go to whichever account holds its SPNs, and removing the wrong account breaks the machine's trust relationship."
        )
        XCTAssertEqual(
            old.remediation,
            """
            The machine most likely uses APP01$. Confirm on app01.corp.example: $env:COMPUTERNAME is the name of the account it uses, without the $.
            Keep the account it uses; remove the others:
              Remove-ADComputer -Identity 'CN=APP01-OLD,OU=Servers,DC=corp,DC=example' -Server corp.example   (if it does not use APP01-OLD$)
              Remove-ADComputer -Identity 'CN=APP01,OU=Servers,DC=corp,DC=example' -Server corp.example   (if it does not use APP01$)
            If two machines answer to the name, rename one of them instead: on it, Rename-Computer -NewName <new name> -DomainCredential (Get-Credential) -Restart
            Then repair the machine's secure channel against the account it kept:
            \(Fixture.windowsRepair(host: "app01.corp.example"))
            """)
        XCTAssertEqual(
            old.detailKeys,
            ["hostNames", "otherAccounts", "otherDNs", "likelyInUse", "whenCreated", "lastLogonTimestamp"])
        XCTAssertEqual(old.detail("hostNames"), .strings(["app01", "app01.corp.example"]))
        XCTAssertEqual(old.detail("otherAccounts"), .strings(["APP01$"]))
        XCTAssertEqual(old.detail("otherDNs"), .strings(["CN=APP01,OU=Servers,DC=corp,DC=example"]))
        XCTAssertEqual(old.detail("likelyInUse"), .string("APP01$"))
        XCTAssertEqual(old.detail("whenCreated"), .string("2019-03-12T08:45:00Z"))
        XCTAssertEqual(result[0].detail("likelyInUse"), .string("APP01$"), "both findings agree")
        XCTAssertTrue(result[0].message.contains("APP01-OLD$ (CN=APP01-OLD,OU=Servers,DC=corp,DC=example; "))
    }

    /// A clone that kept its original's dNSHostName: its first label is the original's account name.
    func testAHostNameThatNamesAnotherAccountAndADisabledClaimant() throws {
        let original = Fixture.computer("WKS-0042", lastLogonTimestamp: Fixture.ticks(daysAgo: 40), dnsHostName: "")
        let clone = Fixture.computer(
            "WKS-0077", userAccountControl: "4098", lastLogonTimestamp: Fixture.ticks(daysAgo: 3),
            dnsHostName: "WKS-0042.corp.example.")
        let result = try findings(original + clone)
        XCTAssertEqual(result.map(\.account), ["WKS-0042$", "WKS-0077$"])
        XCTAssertEqual(result.map(\.severity), [.medium, .medium], "one of them is disabled")
        XCTAssertTrue(
            result[0].message.contains(
                "WKS-0077$ (CN=WKS-0077,OU=Workstations,DC=corp,DC=example; its dNSHostName WKS-0042.corp.example. names WKS-0042$; created "
            ) || result[0].message.contains("whenCreated unknown"), result[0].message)
        XCTAssertTrue(
            result[1].message.contains("its dNSHostName WKS-0042.corp.example. names WKS-0042$"), result[1].message)
        XCTAssertEqual(result[1].detail("hostNames"), .strings(["wks-0042"]))
        XCTAssertTrue(result[1].message.contains("whenCreated unknown, last logon 2026-11-21, disabled"))
        XCTAssertEqual(result[1].detail("likelyInUse"), .string("WKS-0077$"))
        XCTAssertTrue(
            result[1].message.contains(
                "(the most recent lastLogonTimestamp, 2026-11-21)"), result[1].message)
    }

    func testLastLogonsWithinTheLagAreFlagged() throws {
        let first = Fixture.computer("LT-0100", lastLogonTimestamp: Fixture.ticks(daysAgo: 2))
        let second = Fixture.computer(
            "LT-0101", lastLogonTimestamp: Fixture.ticks(daysAgo: 9), dnsHostName: "lt-0100.corp.example")
        let result = try findings(first + second)
        XCTAssertEqual(result.count, 2)
        XCTAssertTrue(
            result[0].message.contains(
                "The machine most likely uses LT-0100$ (the most recent lastLogonTimestamp, 2026-11-22, though within lastLogonTimestamp's 14-day lag of LT-0101$'s: confirm on the machine)."
            ), result[0].message)
    }

    func testAnAlternateNameClaimsTooAndPwdLastSetDecidesWithoutLogons() throws {
        let fs01 = adding(
            Fixture.computer("FS01", container: "OU=Servers,DC=corp,DC=example", pwdLastSet: Fixture.ticks(daysAgo: 5)),
            "msDS-AdditionalDnsHostName: files.corp.example", "msDS-AdditionalSamAccountName: FILES-ALIAS$")
        let files = Fixture.computer(
            "FILES", container: "OU=Servers,DC=corp,DC=example", pwdLastSet: Fixture.ticks(daysAgo: 700))
        let result = try findings(fs01 + files)
        XCTAssertEqual(result.map(\.account), ["FILES$", "FS01$"])
        XCTAssertEqual(result[1].detail("hostNames"), .strings(["files.corp.example"]))
        XCTAssertTrue(result[1].message.contains("both answer to files.corp.example"))
        XCTAssertTrue(
            result[1].message.contains("The machine most likely uses FS01$ (the most recent pwdLastSet, 2026-11-19)."),
            result[1].message)
    }

    func testNeitherTimeCannotTell() throws {
        let a = Fixture.computer("KIOSK-01", pwdLastSet: 0)
        let b = Fixture.computer("KIOSK-02", pwdLastSet: 0, dnsHostName: "kiosk-01.corp.example")
        let result = try findings(a + b)
        XCTAssertEqual(result.map { $0.detail("likelyInUse") }, [.null, .null])
        XCTAssertTrue(
            result[0].message.contains(
                "Which account the machine uses cannot be told (none has a lastLogonTimestamp or pwdLastSet)."))
        XCTAssertTrue(
            result[0].remediation.hasPrefix("Which account the machine uses cannot be told from the directory."))
        XCTAssertFalse(result[0].detailKeys.contains("lastLogonTimestamp"))
    }

    func testHealthyDistinctNamesAndOtherDomainsAreNoDuplicates() throws {
        let ldif =
            Fixture.computer("WKS-0042") + Fixture.computer("WKS-0043") + Fixture.computer("WKS-0077", dnsHostName: "")
            // The same short name in a child domain is another machine.
            + Fixture.computer(
                "WKS-0042", container: "OU=Workstations,DC=emea,DC=corp,DC=example",
                dnsHostName: "wks-0042.emea.corp.example")
            // Two host names with one first label in two DNS zones: neither names the other's account.
            + Fixture.computer("WEB-A", dnsHostName: "web.corp.example")
            + Fixture.computer("WEB-B", dnsHostName: "web.lab.corp.example")
        XCTAssertEqual(try findings(ldif), [])
    }

    /// A host name whose first label is another account's name, even in another DNS zone of the domain.
    func testAFirstLabelInAnotherZoneStillNamesTheAccount() throws {
        let result = try findings(
            Fixture.computer("WKS-0043") + Fixture.computer("WKS-0044", dnsHostName: "wks-0043.lab.corp.example"))
        XCTAssertEqual(result.map(\.account), ["WKS-0043$", "WKS-0044$"])
        XCTAssertTrue(result[0].message.contains("its dNSHostName wks-0043.lab.corp.example names WKS-0043$"))
        XCTAssertTrue(result[0].message.contains("cannot be told (their pwdLastSet values are equal)"))
    }

    func testAnExcludedClaimantCountsButGetsNoFinding() throws {
        let result = try findings(Self.app01 + Self.app01Old, excluding: ["APP01$"])
        XCTAssertEqual(result.map(\.account), ["APP01-OLD$"])
        XCTAssertEqual(result.first?.detail("otherAccounts"), .strings(["APP01$"]))
    }

    func testDeletedAndConflictObjectsAndRepeatsClaimNothing() throws {
        let live = try Fixture.object(Fixture.computer("WKS-0142"))
        var tombstone = live
        tombstone.distinguishedName =
            "CN=WKS-0142\\0ADEL:5f1c2e8a-93d4-4b7e-a0c1-3e6f9d2b7a41,CN=Deleted Objects,DC=corp,DC=example"
        tombstone.objectGUID = try Fixture.object(Fixture.computer("WKS-0142-DEL")).objectGUID
        var conflict = live
        conflict.distinguishedName =
            "CN=WKS-0142\\0ACNF:7a1e2f4c-1b2d-4e5f-8a9b-0c1d2e3f4a5b,OU=Workstations,DC=corp,DC=example"
        conflict.samAccountName = "$DUPLICATE-1f4"
        conflict.objectGUID = tombstone.objectGUID.map { ObjectGUID(bytes: $0.bytes.reversed())! }
        var rule = DuplicateHostnameRule()
        for object in [live, tombstone, conflict, live] { rule.add(object, excluded: false) }
        XCTAssertEqual(rule.findings(in: Fixture.context()), [])
    }

    /// The table keeps each container once and a join's usual host name not at all; what it gives
    /// back is what it was given.
    func testTheClaimantTableGivesBackEveryNameExactly() throws {
        let ldif =
            Fixture.computer("SMITHJOHNPC", commonName: "Smith, John PC")
            + Fixture.computer("WKS-0042", dnsHostName: "WKS-0042.corp.example")
            + Fixture.computer("WKS-0077", dnsHostName: "")
            + Fixture.computer(
                "LT-0501", container: "OU=Laptops,DC=emea,DC=corp,DC=example", dnsHostName: "lt-0501.emea.corp.example")
        var table = ClaimantTable()
        let objects = try Fixture.objects(ldif)
        for object in objects { _ = table.append(object, excluded: false) }
        for (index, object) in objects.enumerated() {
            let record = table.record(UInt32(index))
            XCTAssertEqual(record.account, object.accountName)
            XCTAssertEqual(record.distinguishedName, object.distinguishedName)
            XCTAssertEqual(record.dnsHostName, object.dnsHostName)
        }
        XCTAssertEqual(
            ClaimantTable.split("CN=Smith\\, John PC,OU=Workstations,DC=corp,DC=example").rdn, "CN=Smith\\, John PC")
        XCTAssertNil(ClaimantTable.split("CN=PC1").rest)
    }

    func testTheRunnerReportsItAndTheSeverityCanBeOverridden() throws {
        var configuration = AuditConfiguration()
        configuration.severities["duplicate-hostname"] = .low
        let result = try Fixture.audit(Self.app01 + Self.app01Old, configuration: configuration)
        let found = result.findings.filter { $0.rule == "duplicate-hostname" }
        XCTAssertEqual(found.map(\.account), ["APP01$", "APP01-OLD$"])
        XCTAssertEqual(found.map(\.severity), [.low, .low])
    }
}
