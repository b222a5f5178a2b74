import XCTest

@testable import Audit
@testable import Directory

final class ConflictObjectRuleTests: XCTestCase {
    private func findings(_ ldif: String, excluding excluded: Set<String> = []) throws -> [Finding] {
        var rule = ConflictObjectRule()
        for object in try Fixture.objects(ldif) {
            rule.add(object, excluded: excluded.contains(object.accountName))
        }
        return rule.findings(in: Fixture.context()).sorted(by: AuditRunner.reportOrder)
    }

    /// PC7 in OU=Sales, created on two DCs at once: the loser's RDN and sAMAccountName were renamed.
    private static let twin = adding(
        Fixture.computer(
            "PC7", container: "OU=Sales,DC=corp,DC=example", lastLogonTimestamp: Fixture.ticks(daysAgo: 1)),
        "whenCreated: 20261002081500.0Z")
    private static let conflictDN =
        "CN=PC7\\0ACNF:7a1e2f4c-1b2d-4e5f-8a9b-0c1d2e3f4a5b,OU=Sales,DC=corp,DC=example"
    private static let conflict = """
        dn: \(conflictDN)
        objectClass: top
        objectClass: person
        objectClass: organizationalPerson
        objectClass: user
        objectClass: computer
        cn:: UEM3CkNORjo3YTFlMmY0Yy0xYjJkLTRlNWYtOGE5Yi0wYzFkMmUzZjRhNWI=
        objectGUID:: TC8eei0bX06KmwwdLj9KWw==
        userAccountControl: 4096
        pwdLastSet: \(Fixture.ticks(daysAgo: 53))
        sAMAccountName: $DUPLICATE-1f4
        dNSHostName: pc7.corp.example
        servicePrincipalName: HOST/PC7
        servicePrincipalName: HOST/pc7.corp.example
        servicePrincipalName: RestrictedKrbHost/PC7
        servicePrincipalName: RestrictedKrbHost/pc7.corp.example
        whenCreated: 20261002081502.0Z
        objectCategory: CN=Computer,CN=Schema,CN=Configuration,DC=corp,DC=example


        """

    func testAConflictObjectBesideItsTwinInEitherOrder() throws {
        for ldif in [Self.twin + Self.conflict, Self.conflict + Self.twin] {
            let result = try findings(ldif)
            XCTAssertEqual(result.count, 1)
            let finding = try XCTUnwrap(result.first)
            XCTAssertEqual(finding.rule, "conflict-object")
            XCTAssertEqual(finding.severity, .medium)
            XCTAssertEqual(finding.account, "$DUPLICATE-1f4")
            XCTAssertEqual(finding.distinguishedName, Self.conflictDN)
            XCTAssertEqual(
                finding.message,
                "$DUPLICATE-1f4 (created 2026-10-02, pwdLastSet 2026-10-02) is a replication conflict object for PC7: two domain controllers created it at once and AD kept it as the loser; its live twin is CN=PC7,OU=Sales,DC=corp,DC=example. It holds 4 SPN(s) (HOST/PC7, HOST/pc7.corp.example, RestrictedKrbHost/PC7 and 1 more), which duplicate the twin's if it holds them too. If the machine's join wrote its password here, it cannot log on under its own name."
            )
            XCTAssertEqual(
                finding.remediation,
                """
                Compare the conflict object with its twin: Get-ADComputer -Identity '7a1e2f4c-1b2d-4e5f-8a9b-0c1d2e3f4a5b' -Properties whenCreated,pwdLastSet,servicePrincipalName -Server corp.example
                  and the twin: Get-ADComputer -Identity 'CN=PC7,OU=Sales,DC=corp,DC=example' -Properties whenCreated,pwdLastSet,servicePrincipalName -Server corp.example
                If the twin has the newer pwdLastSet (the machine uses it), delete the conflict object: Remove-ADObject -Identity '\(Self.conflictDN)' -Server corp.example
                If the conflict object has the newer pwdLastSet, the machine joined to it: delete it all the same, then reset the machine's password into the twin:
                  \(Fixture.windowsRepair(host: "pc7.corp.example").replacingOccurrences(of: "\n", with: "\n  "))
                """)
            XCTAssertEqual(finding.detailKeys, ["whenCreated", "pwdLastSet", "twin", "spns"])
            XCTAssertEqual(finding.detail("twin"), .string("CN=PC7,OU=Sales,DC=corp,DC=example"))
            XCTAssertEqual(finding.detail("whenCreated"), .string("2026-10-02T08:15:02Z"))
        }
    }

    func testADuplicateNameWhoseTwinIsInAnotherContainer() throws {
        let loser = Fixture.computer(
            "$DUPLICATE-4e2", container: "OU=HR,DC=corp,DC=example", commonName: "PC9", spns: [])
        let result = try findings(Fixture.computer("PC9", container: "OU=Sales,DC=corp,DC=example") + loser)
        XCTAssertEqual(result.map(\.account), ["$DUPLICATE-4e2$"])
        XCTAssertEqual(result.first?.detail("twin"), .string("PC9"))
        XCTAssertTrue(
            result[0].message.contains(
                "its live twin is the computer named PC9 in another container. It holds no SPNs."),
            result[0].message)
        XCTAssertTrue(
            result[0].remediation.contains(
                "  and the twin: Get-ADComputer -Identity 'PC9' -Properties whenCreated,pwdLastSet,servicePrincipalName -Server corp.example\n"
            ), result[0].remediation)
    }

    func testNoTwinInTheExport() throws {
        // The twin was deleted, or lives in another domain: neither is a live twin.
        let elsewhere = Fixture.computer("PC7", container: "OU=Sales,DC=emea,DC=corp,DC=example")
        let result = try findings(Self.conflict + elsewhere)
        XCTAssertEqual(result.first?.detail("twin"), .null)
        XCTAssertTrue(result[0].message.contains("; no live twin in this export."), result[0].message)
        XCTAssertTrue(
            result[0].remediation.contains(
                "  No twin was in this export; look for it in the domain before deleting anything.\n"))
    }

    /// A source that decoded the RDN's escape holds the line feed itself; the twin is the same.
    func testADecodedLineFeedInTheRDNFindsTheTwinToo() throws {
        var loser = try Fixture.object(Self.conflict)
        loser.distinguishedName = "CN=PC7\nCNF:7a1e2f4c-1b2d-4e5f-8a9b-0c1d2e3f4a5b,OU=Sales,DC=corp,DC=example"
        var rule = ConflictObjectRule()
        rule.add(try Fixture.object(Self.twin), excluded: false)
        rule.add(loser, excluded: false)
        let finding = try XCTUnwrap(rule.findings(in: Fixture.context()).first)
        XCTAssertEqual(finding.detail("twin"), .string("CN=PC7,OU=Sales,DC=corp,DC=example"))
        XCTAssertTrue(
            finding.remediation.contains("no safe Remove-ADObject command: the distinguishedName CN=PC7\\nCNF:"))
    }

    func testOrdinaryComputersAndDeletedConflictsAreNotReported() throws {
        XCTAssertEqual(try findings(Self.twin + Fixture.computer("PC8", container: "OU=Sales,DC=corp,DC=example")), [])
        let deleted = adding(Self.conflict, "isDeleted: TRUE")
        XCTAssertEqual(try findings(deleted + Self.twin), [], "a deleted conflict object is for deleted-account")
        XCTAssertEqual(try findings(Self.conflict, excluding: ["$DUPLICATE-1f4"]), [])
    }

    func testTheRunnerKeepsItFromThePerAccountRules() throws {
        var configuration = AuditConfiguration()
        configuration.severities["conflict-object"] = .high
        let result = try Fixture.audit(Self.twin + Self.conflict, configuration: configuration)
        XCTAssertEqual(result.summary.computers, 1)
        XCTAssertEqual(result.summary.conflictComputers, 1)
        let conflicts = result.findings.filter { $0.distinguishedName == Self.conflictDN }
        // Its SPNs are the twin's, but it is no SPN holder of its own: the conflict-object finding
        // names them, and duplicate-spn does not report the twin against its own shadow.
        XCTAssertEqual(Set(conflicts.map(\.rule)), ["conflict-object"])
        XCTAssertFalse(result.findings.contains { $0.rule == "duplicate-spn" })
        XCTAssertEqual(conflicts.filter { $0.rule == "conflict-object" }.map(\.severity), [.high])
    }
}
