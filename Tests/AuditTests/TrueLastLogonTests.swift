import XCTest

@testable import Audit
@testable import Directory

/// stale-password with every DC's lastLogon: the true last logon, exact, without lastLogonTimestamp's lag.
final class TrueLastLogonTests: XCTestCase {
    typealias D = DCFixture

    /// WKS-0142: password set 100 days ago (rotation due 70 days ago), lastLogonTimestamp
    /// `replicatedDaysAgo`, and each DC's own lastLogon.
    private func account(replicatedDaysAgo: Int64, dc01LogonDaysAgo: Int64?, dc02LogonDaysAgo: Int64?) -> AccountView {
        func view(_ logon: Int64?) -> DirectoryObject {
            D.view(
                version: 4, writtenTicksAgo: 100 * D.day, lastLogonTicksAgo: logon.map { $0 * D.day },
                lastLogonTimestampTicksAgo: replicatedDaysAgo * D.day)
        }
        return D.account([(D.dc01, view(dc01LogonDaysAgo)), (D.dc02, view(dc02LogonDaysAgo))])
    }

    private func stale(_ account: AccountView, _ context: AuditContext) throws -> Finding {
        var findings: [Finding] = []
        StalePasswordRule().evaluate(account, in: context, into: &findings)
        return try XCTUnwrap(findings.first)
    }

    private func detail(_ finding: Finding, _ key: String) -> DetailValue? {
        finding.details.first { $0.key == key }?.value
    }

    func testALogonThroughOneDCOnlyChangesTheStory() throws {
        let account = account(replicatedDaysAgo: 50, dc01LogonDaysAgo: 50, dc02LogonDaysAgo: 2)
        let finding = try stale(account, D.context([D.reading(D.dc01), D.reading(D.dc02)]))
        XCTAssertEqual(detail(finding, "story"), .string("alive-not-rotating"))
        XCTAssertEqual(finding.severity, .high)
        XCTAssertEqual(
            finding.message,
            "Alive but not rotating its password: last logon 2026-11-22 (2 days ago, on dc02.corp.example, the newest lastLogon of all 2 DCs) while the machine password was last set 2026-08-16 (100 days ago). Its secure channel is broken or password changes are disabled."
        )
        XCTAssertEqual(
            detail(finding, "lastLogonTimestamp"), .string("2026-10-05T00:00:00Z"),
            "the replicated value, as its name says")
        XCTAssertEqual(detail(finding, "lastLogonAgeDays"), .integer(2), "the age of the logon the story rests on")
    }

    func testLastLogonTimestampAloneWouldTellAnotherStory() throws {
        let account = account(replicatedDaysAgo: 50, dc01LogonDaysAgo: 50, dc02LogonDaysAgo: 2)
        let finding = try stale(AccountView(account.object, origin: "corp.ldif"), Fixture.context())
        XCTAssertEqual(detail(finding, "story"), .string("rotation-stopped"))
        XCTAssertEqual(
            finding.message,
            "Stopped rotating while alive, then went quiet: machine password last set 2026-08-16 (100 days ago), yet it logged on 2026-10-05 (50 days ago), after its 30-day rotation was due. Expect a trust failure if it returns.",
            "a single source reads as it always did")
    }

    func testADCThatDidNotAnswerMeansTheFallBackWithItsAllowance() throws {
        let account = account(replicatedDaysAgo: 50, dc01LogonDaysAgo: 50, dc02LogonDaysAgo: 2)
        let context = D.context([D.reading(D.dc01), D.reading(D.dc02), D.reading(D.dc03, answered: false)])
        let finding = try stale(account, context)
        XCTAssertEqual(detail(finding, "story"), .string("rotation-stopped"), "dc03 may hold a newer logon")
        XCTAssertFalse(finding.message.contains("dc02"), finding.message)
    }

    /// The 14-day allowance is for lastLogonTimestamp's lag: the true last logon has none.
    func testTheLagAllowanceOnlyAppliesToLastLogonTimestamp() throws {
        let account = account(replicatedDaysAgo: 40, dc01LogonDaysAgo: 40, dc02LogonDaysAgo: nil)
        let fallback = try stale(AccountView(account.object, origin: "corp.ldif"), Fixture.context())
        XCTAssertEqual(detail(fallback, "story"), .string("alive-not-rotating"), "40 days is within 30 + 14")
        let exact = try stale(account, D.context([D.reading(D.dc01), D.reading(D.dc02)]))
        XCTAssertEqual(detail(exact, "story"), .string("rotation-stopped"), "exactly 40 days is past 30")
        XCTAssertTrue(exact.message.contains("(40 days ago, on dc01.corp.example)"), exact.message)
    }

    func testTheTrueLastLogonIsTheNewestOverTheViews() {
        let account = account(replicatedDaysAgo: 50, dc01LogonDaysAgo: 9, dc02LogonDaysAgo: 3)
        XCTAssertEqual(account.trueLastLogon?.time, FileTime(ticks: Fixture.nowTicks - 3 * D.day))
        XCTAssertEqual(account.trueLastLogon?.origin, "ldaps://dc02.corp.example:636")
        XCTAssertNil(self.account(replicatedDaysAgo: 5, dc01LogonDaysAgo: nil, dc02LogonDaysAgo: nil).trueLastLogon)
        let context = D.context([D.reading(D.dc01), D.reading(D.dc02)])
        XCTAssertEqual(context.reading(forOrigin: "ldaps://DC02.corp.example:636")?.domainController, D.dc02)
        XCTAssertEqual(context.reading(forOrigin: "dc01.corp.example")?.domainController, D.dc01)
        XCTAssertNil(context.reading(forOrigin: "corp.ldif"))
        XCTAssertTrue(context.allDomainControllersAnswered)
        XCTAssertFalse(Fixture.context().allDomainControllersAnswered, "one source: nothing to be complete about")
    }
}

/// In a multi-DC audit the single-source rules read the view holding the newest machine password,
/// whichever DC answered first.
final class CurrentViewFirstTests: XCTestCase {
    func testTheViewWithTheNewestPasswordComesFirstWhicheverArrivedFirst() {
        // DC02 missed the rotation an hour ago and still holds the password of 200 days ago.
        let behind = DCFixture.view(version: 3, writtenTicksAgo: 200 * DCFixture.day)
        let current = DCFixture.view(version: 4, writtenTicksAgo: DCFixture.hour)
        var account = AccountView(behind, origin: "dc02.corp.example")
        XCTAssertTrue(account.merge(AccountView.View(origin: "dc01.corp.example", object: current)))

        let reordered = account.currentFirst
        XCTAssertEqual(reordered.first.origin, "dc01.corp.example")
        XCTAssertEqual(reordered.object.unicodePwdMetadata?.version, 4)
        XCTAssertEqual(reordered.views.map(\.origin), ["dc01.corp.example", "dc02.corp.example"])
        XCTAssertEqual(account.first.origin, "dc02.corp.example", "the original is left as it was")
    }

    func testStalePasswordJudgesTheNewestPasswordNotTheDCThatAnsweredFirst() {
        let behind = DCFixture.view(version: 3, writtenTicksAgo: 200 * DCFixture.day, lastLogonTicksAgo: DCFixture.day)
        let current = DCFixture.view(version: 4, writtenTicksAgo: DCFixture.hour)
        var runner = AuditRunner(
            configuration: AuditConfiguration(), now: Fixture.now,
            sources: ["dc02.corp.example", "dc01.corp.example"],
            domainControllers: [DCFixture.reading(DCFixture.dc01), DCFixture.reading(DCFixture.dc02)])
        runner.add(behind, origin: 0)
        runner.add(current, origin: 1)
        let result = runner.finish()
        XCTAssertEqual(result.findings.filter { $0.rule == "stale-password" }.map(\.account), [])
        XCTAssertEqual(result.findings.filter { $0.rule == "password-not-replicated" }.map(\.account), ["WKS-0142$"])
    }

    func testOneViewIsItsOwnCurrentView() {
        let account = AccountView(
            DCFixture.view(version: 2, writtenTicksAgo: DCFixture.day), origin: "dc01.corp.example")
        XCTAssertEqual(account.currentFirst.first.origin, "dc01.corp.example")
        XCTAssertTrue(account.currentFirst.others.isEmpty)
    }
}
