import XCTest

@testable import Audit
@testable import Directory

/// An export that lacks an attribute for every computer (a Global Catalog has no pwdLastSet, a
/// hand-made ldapsearch may leave out servicePrincipalName) is not a domain where every password is
/// "never" set or every SPN is missing: the summary says what the export lacks and which rules could
/// not judge, and those rules report nothing rather than describe the export.
final class ExportCompletenessTests: XCTestCase {
    private func computers(_ count: Int, dropping attributes: [String] = []) -> String {
        (0..<count).map { index in
            Fixture.computer(
                String(format: "WKS-%04d", index), pwdLastSet: Fixture.ticks(daysAgo: index % 2 == 0 ? 200 : 10),
                lastLogonTimestamp: Fixture.ticks(daysAgo: 3))
        }.joined().split(separator: "\n", omittingEmptySubsequences: false).filter { line in
            !attributes.contains { line.hasPrefix("\($0):") }
        }.joined(separator: "\n")
    }

    func testAGlobalCatalogExportWithoutPwdLastSetJudgesNoPasswordAndChartsNoNever() throws {
        let result = try Fixture.audit(computers(12, dropping: ["pwdLastSet"]))
        let summary = result.summary
        XCTAssertEqual(summary.computers, 12)
        XCTAssertEqual(summary.attributesNotInExport, ["pwdLastSet"])
        XCTAssertEqual(
            summary.unjudged, [UnjudgedRule(rule: "stale-password", missingAttributes: ["pwdLastSet"], accounts: 12)])
        XCTAssertEqual(summary.passwordAge.never, 0, "absent from the export is not never set")
        XCTAssertEqual(summary.passwordAge.notInExport, 12)
        XCTAssertEqual(summary.lastLogonAge.notInExport, 0)
        XCTAssertFalse(result.findings.contains { $0.rule == "stale-password" })
    }

    func testTheSameDomainWithPwdLastSetIsJudged() throws {
        let result = try Fixture.audit(computers(12))
        XCTAssertEqual(result.summary.attributesNotInExport, [])
        XCTAssertEqual(result.summary.unjudged, [])
        XCTAssertEqual(result.findings.filter { $0.rule == "stale-password" }.count, 6, "the six 200-day passwords")
        XCTAssertEqual(result.summary.passwordAge.notInExport, 0)
    }

    func testAnExportWithoutSPNsDoesNotCryMissingSPNOnEveryComputer() throws {
        let result = try Fixture.audit(computers(12, dropping: ["servicePrincipalName"]))
        XCTAssertEqual(result.summary.attributesNotInExport, ["servicePrincipalName"])
        XCTAssertEqual(Set(result.summary.unjudged.map(\.rule)), ["missing-spn", "duplicate-spn"])
        XCTAssertFalse(result.findings.contains { $0.rule == "missing-spn" })
        XCTAssertEqual(result.findings.filter { $0.rule == "stale-password" }.count, 6, "other rules still judge")
    }

    /// A few accounts without SPNs (pre-staged, or a small lab) are what they are, not an export gap.
    func testASmallExportOfAccountsWithoutSPNsIsJudgedAsItIs() throws {
        let result = try Fixture.audit(computers(3, dropping: ["servicePrincipalName"]))
        XCTAssertEqual(result.summary.attributesNotInExport, [])
        XCTAssertEqual(result.findings.filter { $0.rule == "missing-spn" }.count, 3)
    }

    func testLastLogonAbsentEverywhereIsNotInTheExportNotNeverLoggedOn() throws {
        let result = try Fixture.audit(computers(12, dropping: ["lastLogonTimestamp"]))
        XCTAssertEqual(result.summary.attributesNotInExport, ["lastLogonTimestamp"])
        XCTAssertEqual(result.summary.lastLogonAge.never, 0)
        XCTAssertEqual(result.summary.lastLogonAge.notInExport, 12)
        XCTAssertEqual(result.summary.unjudged, [], "no rule needs it to judge")
    }

    func testAccountsWithFindingsAreCountedOnceEach() throws {
        // WKS-0000 is stale and disabled (two findings, one computer); a user holds a duplicate SPN.
        let ldif =
            Fixture.computer("WKS-0000", userAccountControl: "4098", pwdLastSet: Fixture.ticks(daysAgo: 300))
            + Fixture.computer("WKS-0001", spns: Fixture.joinSPNs("WKS-0001") + ["HTTP/app.corp.example"])
            + Fixture.computer("WKS-0002")
            + Fixture.user("svc-app", spns: ["HTTP/app.corp.example"])
        let result = try Fixture.audit(ldif)
        XCTAssertGreaterThanOrEqual(result.findings.filter { $0.account == "WKS-0000$" }.count, 2)
        XCTAssertEqual(result.summary.computersWithFindings, 2, "WKS-0000 and WKS-0001")
        XCTAssertEqual(result.summary.otherAccountsWithFindings, 1, "svc-app")
        XCTAssertEqual(result.summary.findingsWithoutAccount, 0)
    }
}
