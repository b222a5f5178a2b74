import XCTest

@testable import Audit
@testable import Directory

/// Two DCs' exports of one domain: each account is audited once, on a view that keeps both DCs' values.
final class SeveralSourcesTests: XCTestCase {
    private static let dc01 = "dc01-corp.ldif"
    private static let dc02 = "dc02-corp.ldif"
    /// The same computer (one objectGUID) as two DCs saw it: pwdLastSet differs until replication.
    static func web(pwdLastSetDaysAgo days: Int64) -> String {
        Fixture.computer(
            "WEB-0001", container: "OU=Servers,DC=corp,DC=example", pwdLastSet: Fixture.ticks(daysAgo: days),
            operatingSystem: "Windows Server 2022 Standard",
            spns: Fixture.joinSPNs("WEB-0001") + ["HTTP/intranet.corp.example"])
    }
    private static let app = Fixture.computer(
        "APP-0002", container: "OU=Servers,DC=corp,DC=example", operatingSystem: "Windows Server 2019 Standard",
        spns: Fixture.joinSPNs("APP-0002"))

    private struct Run {
        var result: AuditResult
        var facts: [ComputerFacts]
    }

    /// Reads both exports through `MergedSource` into one several-source runner.
    private func audit(_ first: String, _ second: String) throws -> Run {
        var facts: [ComputerFacts] = []
        let merged = MergedSource([
            LDIFReader(bytes: Array(first.utf8), name: Self.dc01),
            LDIFReader(bytes: Array(second.utf8), name: Self.dc02),
        ])
        var runner = AuditRunner(
            configuration: AuditConfiguration(), now: Fixture.now, sources: [Self.dc01, Self.dc02],
            computerSink: { facts.append($0) })
        XCTAssertTrue(runner.mergesSources)
        try merged.forEachEntry { origin, entry in runner.add(entry, origin: origin) }
        return Run(result: runner.finish(), facts: facts)
    }

    func testOneComputerSeenByTwoDCsIsOneComputerWithoutADuplicateOfItself() throws {
        let run = try audit(Self.web(pwdLastSetDaysAgo: 10), Self.web(pwdLastSetDaysAgo: 12) + Self.app)
        XCTAssertEqual(run.result.summary.computers, 2)
        XCTAssertEqual(run.result.summary.enabledComputers, 2)
        XCTAssertEqual(run.result.summary.objectsRead, 2)
        XCTAssertEqual(run.result.summary.repeatedObjects, 0)
        XCTAssertEqual(run.result.summary.passwordAge.counts.reduce(0, +), 2)
        XCTAssertEqual(run.result.summary.source, "\(Self.dc01) + \(Self.dc02)")
        XCTAssertEqual(run.facts.map(\.computer.samAccountName).sorted(), ["APP-0002$", "WEB-0001$"])
        XCTAssertEqual(run.result.findings.filter { $0.rule == "duplicate-spn" }, [])
    }

    func testTheMergedViewKeepsEachDCsValuesAndWhereTheyCameFrom() throws {
        // A third source that has not given the account yet keeps it held, views and all.
        var runner = AuditRunner(
            configuration: AuditConfiguration(), now: Fixture.now, sources: [Self.dc01, Self.dc02, "dc03-corp.ldif"])
        let first = try Fixture.object(Self.web(pwdLastSetDaysAgo: 10))
        let second = try Fixture.object(Self.web(pwdLastSetDaysAgo: 12))
        runner.add(second, origin: 1)
        runner.add(first, origin: 0)
        let views = runner.heldAccounts
        XCTAssertEqual(views.count, 1)
        let account = try XCTUnwrap(views.first)
        XCTAssertEqual(account.views.map(\.origin), [Self.dc02, Self.dc01])
        XCTAssertEqual(
            account.views.map(\.object.passwordLastSet),
            [FileTime(ticks: Fixture.ticks(daysAgo: 12)), FileTime(ticks: Fixture.ticks(daysAgo: 10))])
        // Rules read the first view.
        XCTAssertEqual(account.object.passwordLastSet, FileTime(ticks: Fixture.ticks(daysAgo: 12)))
    }

    func testAnAccountEverySourceGaveIsAuditedThenWhileTheRestWaitForFinish() throws {
        var facts: [String] = []
        var runner = AuditRunner(
            configuration: AuditConfiguration(), now: Fixture.now, sources: [Self.dc01, Self.dc02],
            computerSink: { facts.append($0.computer.samAccountName) })
        runner.add(try Fixture.object(Self.web(pwdLastSetDaysAgo: 10)), origin: 0)
        runner.add(try Fixture.object(Self.app), origin: 1)
        XCTAssertEqual(facts, [])
        runner.add(try Fixture.object(Self.web(pwdLastSetDaysAgo: 12)), origin: 1)
        XCTAssertEqual(facts, ["WEB-0001$"], "both DCs gave WEB-0001: audited before the read ends")
        XCTAssertEqual(runner.heldAccounts.map(\.object.samAccountName), ["APP-0002$"])
        // A repeat after the account was audited is a repeat, not a new account.
        runner.add(try Fixture.object(Self.web(pwdLastSetDaysAgo: 12)), origin: 1)
        let result = runner.finish()
        XCTAssertEqual(facts, ["WEB-0001$", "APP-0002$"])
        XCTAssertEqual(result.summary.computers, 2)
        XCTAssertEqual(result.summary.objectsRead, 2)
        XCTAssertEqual(result.summary.repeatedObjects, 1)
    }

    func testARepeatWithinOneSourceIsStillCountedAndDropped() throws {
        let web = Self.web(pwdLastSetDaysAgo: 10)
        let run = try audit(web + web, Self.web(pwdLastSetDaysAgo: 12))
        XCTAssertEqual(run.result.summary.computers, 1)
        XCTAssertEqual(run.result.summary.repeatedObjects, 1)
        XCTAssertEqual(run.facts.count, 1)
        XCTAssertEqual(run.result.findings.filter { $0.rule == "duplicate-spn" }, [])
    }

    func testTwoAccountsSharingAnSPNAcrossSourcesStillDuplicateIt() throws {
        let clone = Fixture.computer(
            "WEB-0002", container: "OU=Servers,DC=corp,DC=example", operatingSystem: "Windows Server 2022 Standard",
            spns: Fixture.joinSPNs("WEB-0002") + ["HTTP/intranet.corp.example"])
        let run = try audit(Self.web(pwdLastSetDaysAgo: 10), clone)
        XCTAssertEqual(run.result.summary.computers, 2)
        let duplicates = run.result.findings.filter { $0.rule == "duplicate-spn" }
        XCTAssertEqual(duplicates.map(\.account), ["WEB-0001$", "WEB-0002$"])
    }

    func testOneSourceStreamsAsBefore() throws {
        var runner = AuditRunner(configuration: AuditConfiguration(), now: Fixture.now, sources: [Self.dc01])
        XCTAssertFalse(runner.mergesSources)
        runner.add(try Fixture.object(Self.web(pwdLastSetDaysAgo: 10)), origin: 0)
        XCTAssertEqual(runner.heldAccounts.count, 0)
        let result = runner.finish()
        XCTAssertEqual(result.summary.computers, 1)
        XCTAssertEqual(result.summary.source, Self.dc01)
    }
}
