import XCTest

@testable import Audit
@testable import Directory

final class DeletedAccountRuleTests: XCTestCase {
    private func findings(_ ldif: String, inventory: String? = nil, excluding excluded: Set<String> = [])
        throws -> [Finding]
    {
        var rule = DeletedAccountRule(inventory: inventory.map { Inventory.parse($0, source: "cmdb.txt") })
        for object in try Fixture.objects(ldif) {
            rule.add(object, excluded: excluded.contains(object.accountName))
        }
        return rule.findings(in: Fixture.context()).sorted(by: AuditRunner.reportOrder)
    }

    static let deletedDN =
        "CN=WKS-0142\\0ADEL:5f1c2e8a-93d4-4b7e-a0c1-3e6f9d2b7a41,CN=Deleted Objects,DC=corp,DC=example"

    /// WKS-0142 as a Windows DC keeps it in the Recycle Bin: most attributes are still there.
    static let recycleBinObject = """
        dn: \(deletedDN)
        objectClass: top
        objectClass: person
        objectClass: organizationalPerson
        objectClass: user
        objectClass: computer
        cn:: V0tTLTAxNDIKREVMOjVmMWMyZThhLTkzZDQtNGI3ZS1hMGMxLTNlNmY5ZDJiN2E0MQ==
        objectGUID:: ii4cX9STfkugwT5vnSt6QQ==
        userAccountControl: 4096
        pwdLastSet: \(Fixture.ticks(daysAgo: 20))
        sAMAccountName: WKS-0142$
        dNSHostName: wks-0142.corp.example
        operatingSystem: Windows 11 Enterprise
        isDeleted: TRUE
        lastKnownParent: OU=Workstations,DC=corp,DC=example
        mS-DS-CreatorSID:: AQUAAAAAAAUVAAAAbQfxS0qklcB5xHtQVgQAAA==
        whenCreated: 20250114093000.0Z
        whenChanged: 20261120093000.0Z


        """

    /// The same account as Samba keeps it without the Recycle Bin: a tombstone, recycled at once.
    static let tombstone = """
        dn: \(deletedDN)
        objectClass: top
        objectClass: computer
        objectGUID:: ii4cX9STfkugwT5vnSt6QQ==
        sAMAccountName: WKS-0142$
        isDeleted: TRUE
        isRecycled: TRUE
        lastKnownParent: OU=Workstations,DC=corp,DC=example
        whenChanged: 20261120093000.0Z


        """

    func testARecycleBinObjectWithNothingInItsPlace() throws {
        let result = try findings(Self.recycleBinObject + Fixture.computer("WKS-0143"))
        XCTAssertEqual(result.count, 1)
        let finding = try XCTUnwrap(result.first)
        XCTAssertEqual(finding.rule, "deleted-account")
        XCTAssertEqual(finding.severity, .high)
        XCTAssertEqual(finding.account, "WKS-0142$")
        XCTAssertEqual(finding.distinguishedName, Self.deletedDN)
        XCTAssertEqual(
            finding.message,
            "Computer account WKS-0142$ was deleted on 2026-11-20 from OU=Workstations,DC=corp,DC=example. No live computer account holds its name: if the machine is still in use, it cannot log on (\"The security database on the server does not have a computer account for this workstation trust relationship\"). It was created by S-1-5-21-1274087277-3231032394-1350288505-1110 (mS-DS-CreatorSID: a user joined it with ms-DS-MachineAccountQuota)."
        )
        XCTAssertEqual(
            finding.remediation,
            """
            If the machine is still in use and the Recycle Bin is enabled: Restore-ADObject -Identity '5f1c2e8a-93d4-4b7e-a0c1-3e6f9d2b7a41' -Server corp.example
              It returns to its lastKnownParent with its password, SID and group memberships (if that OU was deleted too, restore it first, or add -TargetPath '<OU distinguished name>'). Then:
              \(Fixture.windowsRepair(host: "wks-0142.corp.example").replacingOccurrences(of: "\n", with: "\n  "))
            Otherwise (no Recycle Bin), give the machine a new account (a restored tombstone has no password): recreate it and reset the machine's password into it:
              New-ADComputer -Name 'WKS-0142' -SamAccountName 'WKS-0142' -Path 'OU=Workstations,DC=corp,DC=example' -Server corp.example
              then on wks-0142.corp.example, as a local administrator: Test-ComputerSecureChannel -Repair -Credential (Get-Credential)
              or rejoin the machine: move it to a workgroup, restart, then: Add-Computer -DomainName corp.example -Credential (Get-Credential) -Restart
              The new account has a new SID: give it back its group memberships.
            If it was retired, nothing needs doing.
            """)
        XCTAssertEqual(finding.detailKeys, ["deleted", "lastKnownParent", "isRecycled", "creatorSID"])
        XCTAssertEqual(finding.detail("deleted"), .string("2026-11-20T09:30:00Z"))
        XCTAssertEqual(finding.detail("isRecycled"), .bool(false))
        XCTAssertEqual(finding.detail("creatorSID"), .string("S-1-5-21-1274087277-3231032394-1350288505-1110"))
    }

    func testARecycledTombstoneCanOnlyBeReplaced() throws {
        let finding = try XCTUnwrap(try findings(Self.tombstone).first)
        XCTAssertEqual(finding.severity, .high)
        XCTAssertEqual(
            finding.message,
            "Computer account WKS-0142$ was deleted on 2026-11-20 from OU=Workstations,DC=corp,DC=example and is already recycled (isRecycled): the Recycle Bin can no longer restore it. No live computer account holds its name: if the machine is still in use, it cannot log on (\"The security database on the server does not have a computer account for this workstation trust relationship\")."
        )
        XCTAssertFalse(finding.remediation.contains("Restore-ADObject"), finding.remediation)
        XCTAssertTrue(
            finding.remediation.hasPrefix(
                "If the machine is still in use, give the machine a new account (a restored tombstone has no password)")
        )
        // No dNSHostName survives on a tombstone: the machine is named by its account.
        XCTAssertTrue(finding.remediation.contains("  then on WKS-0142, as a local administrator: "))
        XCTAssertEqual(finding.detail("isRecycled"), .bool(true))
    }

    func testALiveAccountOfTheSameNameReplacedItInEitherOrder() throws {
        let replacement = Fixture.computer("wks-0142", container: "OU=Laptops,DC=corp,DC=example")
        for ldif in [Self.tombstone + replacement, replacement + Self.tombstone] {
            let finding = try XCTUnwrap(try findings(ldif).first)
            XCTAssertEqual(finding.severity, .low)
            XCTAssertEqual(finding.detail("replacedBy"), .string("wks-0142"))
            XCTAssertTrue(
                finding.message.contains(
                    " A live computer account now holds the name wks-0142: the deleted one is leftover, unless the machine still uses it."
                ), finding.message)
            XCTAssertTrue(
                finding.remediation.hasPrefix("Nothing to restore: the live account named wks-0142 took its place"))
        }
        // The same name in another domain, or on a conflict object, replaces nothing.
        let elsewhere = Fixture.computer("WKS-0142", container: "OU=Workstations,DC=emea,DC=corp,DC=example")
        XCTAssertEqual(try findings(Self.tombstone + elsewhere).map(\.severity), [.high])
    }

    /// A tombstone without its sAMAccountName is named by its RDN, escaped or decoded.
    func testTheNameBeforeTheDeletionMarkReplacesOrIsListed() throws {
        for dn in [Self.deletedDN, Self.deletedDN.replacingOccurrences(of: "\\0ADEL:", with: "\nDEL:")] {
            var tombstone = try Fixture.object(Self.tombstone)
            tombstone.distinguishedName = dn
            tombstone.samAccountName = ""
            XCTAssertEqual(DeletedAccountRule.names(ofDeleted: tombstone), ["wks-0142"], dn.debugDescription)
            var rule = DeletedAccountRule(inventory: Inventory.parse("wks-0142\n", source: "cmdb.txt"))
            rule.add(tombstone, excluded: false)
            rule.add(try Fixture.object(Fixture.computer("WKS-0142")), excluded: false)
            let finding = try XCTUnwrap(rule.findings(in: Fixture.context()).first)
            XCTAssertEqual(finding.severity, .low)
            XCTAssertEqual(finding.detail("inventoryLine"), .integer(1))
        }
    }

    func testTheInventoryStillListingItIsSaid() throws {
        // A tombstone keeps no dNSHostName; the FQDN in the inventory still names it.
        let result = try findings(Self.tombstone, inventory: "# CMDB\nWKS-0141\nwks-0142.corp.example\n")
        let finding = try XCTUnwrap(result.first)
        XCTAssertEqual(finding.severity, .high)
        XCTAssertTrue(finding.message.contains(" The inventory still lists it (cmdb.txt line 3). "), finding.message)
        XCTAssertEqual(finding.detail("inventoryLine"), .integer(3))
        let unlisted = try XCTUnwrap(try findings(Self.tombstone, inventory: "WKS-0141\n").first)
        XCTAssertNil(unlisted.detail("inventoryLine"))
        XCTAssertFalse(unlisted.message.contains("inventory"))
    }

    func testLiveAndExcludedObjectsAreNotReported() throws {
        XCTAssertEqual(try findings(Fixture.computer("WKS-0142") + Fixture.groupManagedServiceAccount), [])
        XCTAssertEqual(try findings(Self.tombstone, excluding: ["WKS-0142$"]), [])
    }

    /// What RuleRegistryTests checks for every rule, for the three collecting rules of issue 12: each
    /// detail a finding carries is a declared column of its declared type.
    func testTheNewRulesDetailsAreTheirDeclaredColumns() throws {
        let conflict = adding(
            Fixture.computer("$DUPLICATE-4e2", container: "OU=HR,DC=corp,DC=example", commonName: "PC9"),
            "whenCreated: 20261002081502.0Z")
        let ldif =
            Self.recycleBinObject + Fixture.computer("PC9", container: "OU=Sales,DC=corp,DC=example") + conflict
            + Fixture.computer("APP01", lastLogonTimestamp: Fixture.ticks(daysAgo: 2))
            + Fixture.computer("APP01-OLD", lastLogonTimestamp: -3, dnsHostName: "app01.corp.example")
        let result = try Fixture.audit(ldif, inventory: Inventory.parse("WKS-0142\n", source: "inv.txt"))
        let ids = ["duplicate-hostname", "conflict-object", "deleted-account"]
        XCTAssertEqual(Set(result.findings.map(\.rule)).intersection(ids), Set(ids))
        for finding in result.findings where ids.contains(finding.rule) {
            let rule = try XCTUnwrap(AuditRules.rule(finding.rule))
            let declared = Dictionary(uniqueKeysWithValues: rule.detailColumns.map { ($0.key, $0.type) })
            for (key, value) in finding.details {
                let type = try XCTUnwrap(declared[key], "\(finding.rule) reports \(key) but does not declare it")
                switch (type, value) {
                case (_, .null), (.string, .string), (.integer, .integer), (.bool, .bool), (.strings, .strings),
                    (.timestamp, .string), (.timestamp, .integer):
                    break
                default:
                    XCTFail("\(finding.rule).\(key) is declared \(type) but holds \(value)")
                }
            }
        }
        XCTAssertEqual(
            result.findings.first { $0.rule == "duplicate-hostname" && $0.account == "APP01-OLD$" }?.detail(
                "lastLogonTimestamp"), .integer(-3), "a lastLogonTimestamp that is no time is shown as its ticks")
    }

    func testTheRunnerCountsItAsDeletedAndNoOtherRuleJudgesIt() throws {
        let result = try Fixture.audit(Self.recycleBinObject)
        XCTAssertEqual(result.summary.computers, 0)
        XCTAssertEqual(result.summary.deletedComputers, 1)
        XCTAssertEqual(result.findings.map(\.rule), ["deleted-account"])
    }

    /// A live read of deleted objects knows whether the Recycle Bin is on: the finding says so and
    /// offers only the way back that applies; an export, which cannot know, gets both.
    func testWhatALiveReadKnowsOfTheRecycleBinChoosesTheWayBack() throws {
        var rule = DeletedAccountRule(inventory: nil)
        for object in try Fixture.objects(Self.recycleBinObject) { rule.add(object, excluded: false) }
        var context = Fixture.context()
        let unknown = try XCTUnwrap(rule.findings(in: context).first)
        XCTAssertTrue(unknown.remediation.contains("Restore-ADObject"))
        XCTAssertTrue(unknown.remediation.contains("Otherwise (no Recycle Bin)"))
        XCTAssertFalse(unknown.message.contains("Recycle Bin is"))

        context.recycleBinEnabled = true
        let enabled = try XCTUnwrap(rule.findings(in: context).first)
        XCTAssertTrue(enabled.message.contains("The Recycle Bin is enabled."), enabled.message)
        XCTAssertTrue(enabled.remediation.hasPrefix("If the machine is still in use: Restore-ADObject"))
        XCTAssertFalse(enabled.remediation.contains("New-ADComputer"))

        context.recycleBinEnabled = false
        let disabled = try XCTUnwrap(rule.findings(in: context).first)
        XCTAssertTrue(disabled.message.contains("The Recycle Bin is not enabled"), disabled.message)
        XCTAssertFalse(disabled.remediation.contains("Restore-ADObject"))
        XCTAssertTrue(disabled.remediation.contains("New-ADComputer"))
    }
}
