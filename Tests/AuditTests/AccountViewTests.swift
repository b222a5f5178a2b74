import XCTest

@testable import Audit
@testable import Directory

/// One account seen twice is one account to every rule and count, whatever its DN says.
final class AccountViewTests: XCTestCase {
    private static let moved = "CN=WKS-0042,OU=Decommission,DC=corp,DC=example"

    /// The same computer (one objectGUID) exported before and after it moved to another OU.
    private func movedComputer() -> String {
        let before = Fixture.computer("WKS-0042", userAccountControl: "4098")
        let guid = Fixture.objectGUID(of: "CN=WKS-0042,OU=Workstations,DC=corp,DC=example")
        let after = Fixture.computer(
            "WKS-0042", container: "OU=Decommission,DC=corp,DC=example", userAccountControl: "4098"
        )
        .replacingOccurrences(of: Fixture.objectGUID(of: Self.moved), with: guid)
        return before + after
    }

    func testOneObjectGUIDUnderTwoDNsIsOneAccount() throws {
        let result = try Fixture.audit(movedComputer())
        XCTAssertEqual(result.summary.computers, 1)
        XCTAssertEqual(result.summary.repeatedObjects, 1)
        XCTAssertEqual(result.summary.disabledComputers, 1)
        XCTAssertEqual(result.findings.map(\.rule), ["disabled-account"], "no duplicate SPNs with itself")
        XCTAssertEqual(
            result.findings.first?.distinguishedName, "CN=WKS-0042,OU=Workstations,DC=corp,DC=example",
            "the first view is the one audited")
    }

    func testComputersCSVSeesEachAccountOnce() throws {
        var facts: [ComputerFacts] = []
        var runner = AuditRunner(
            configuration: AuditConfiguration(), now: Fixture.now, source: "fixture.ldif",
            computerSink: { facts.append($0) })
        try LDIFReader(bytes: Array(movedComputer().utf8), name: "fixture.ldif").forEachEntry { runner.add($0) }
        _ = runner.finish()
        XCTAssertEqual(facts.map(\.computer.samAccountName), ["WKS-0042$"])
    }

    func testTwoComputersWithTheirOwnGUIDsAreTwoAccounts() throws {
        let objects = try Fixture.objects(Fixture.computer("WKS-0001") + Fixture.computer("WKS-0002"))
        XCTAssertEqual(objects.count, 2)
        XCTAssertNotNil(objects[0].objectGUID)
        XCTAssertNotEqual(objects[0].objectGUID, objects[1].objectGUID, "each fixture computer has its own objectGUID")
        XCTAssertNotEqual(AccountKey(objects[0]), AccountKey(objects[1]))
    }

    func testWithoutAGUIDTheDNAsADComparesItIsTheKey() throws {
        let plain = DirectoryObject(
            kind: .computer, distinguishedName: "CN=WKS-0001,OU=Workstations,DC=corp,DC=example",
            samAccountName: "WKS-0001$")
        var spelt = plain
        spelt.distinguishedName = "cn=wks-0001, ou=Workstations,dc=CORP,dc=example"
        XCTAssertEqual(AccountKey(plain), AccountKey(spelt))
        var keys = AccountKeys()
        XCTAssertTrue(keys.insert(plain))
        XCTAssertFalse(keys.insert(spelt))
        var withGUID = plain
        withGUID.objectGUID = ObjectGUID(bytes: Array(0..<16))
        XCTAssertTrue(keys.insert(withGUID), "a GUID key is not a DN key")
        XCTAssertFalse(keys.insert(withGUID))
    }

    /// Holders are told apart by identity: the rule itself, fed one account twice, finds no duplicate.
    func testDuplicateSPNRuleFedOneAccountTwiceReportsNothing() throws {
        let object = try Fixture.object(Fixture.computer("SQL01", spns: ["MSSQLSvc/sql01.corp.example:1433"]))
        var rule = DuplicateSPNRule()
        rule.add(object, excluded: false)
        rule.add(object, excluded: false)
        var moved = object
        moved.distinguishedName = Self.moved
        rule.add(AccountView(moved, origin: "dc02.corp.example"), excluded: false)
        XCTAssertEqual(rule.findings(in: Fixture.context()), [])

        let other = try Fixture.object(Fixture.user("svc-sql", spns: ["MSSQLSvc/sql01.corp.example:1433"]))
        rule.add(other, excluded: false)
        let findings = rule.findings(in: Fixture.context())
        XCTAssertEqual(
            findings.map(\.account).sorted(), ["SQL01$", "svc-sql"], "one finding per account, not per view")
        XCTAssertEqual(findings.first { $0.account == "svc-sql" }?.detail("otherHolders"), .strings(["SQL01$"]))
    }

    func testAViewMergesOnlyTheSameAccount() throws {
        let objects = try Fixture.objects(Fixture.computer("WKS-0001") + Fixture.computer("WKS-0002"))
        var view = AccountView(objects[0], origin: "dc01.corp.example")
        XCTAssertEqual(view.views.count, 1)
        XCTAssertFalse(view.merge(.init(origin: "dc02.corp.example", object: objects[1])))
        var again = objects[0]
        again.lastLogonTimestamp = FileTime(ticks: Fixture.ticks(daysAgo: 1))
        XCTAssertTrue(view.merge(.init(origin: "dc02.corp.example", object: again)))
        XCTAssertEqual(view.views.map(\.origin), ["dc01.corp.example", "dc02.corp.example"])
        XCTAssertEqual(view.object, objects[0], "rules of one source read the first view")
    }
}
