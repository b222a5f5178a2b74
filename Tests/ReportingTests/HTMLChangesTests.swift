import Audit
import Foundation
import XCTest

@testable import Reporting

final class HTMLChangesTests: XCTestCase {
    private func render(
        _ result: AuditResult, changes: FindingChanges?, formats: Set<ReportFormat> = Set(ReportFormat.allCases)
    ) throws -> String {
        let writer = try ReportWriter(templatesDirectory: Fixtures.templatesDirectory)
        return try HTMLReport.render(
            result, template: try XCTUnwrap(writer.template), formats: formats, changes: changes)
    }

    func testVerdictSaysWhatChangedAndListsResolved() throws {
        let result = Fixtures.result()
        let html = try render(result, changes: FindingChanges(result: result, baseline: try NightlyFixtures.baseline()))
        XCTAssertTrue(html.contains("Since the run of 2026-11-23T00:00:00Z: 3 new, 2 resolved, 2 still open."), html)
        XCTAssertTrue(html.contains("(compared with previous/findings.json)"))
        XCTAssertTrue(html.contains("<h3 id=\"resolved\">Resolved since 2026-11-23T00:00:00Z</h3>"))
        XCTAssertTrue(html.contains("WKS-0100$"))
        XCTAssertTrue(html.contains("Dormant &lt;b&gt;since&lt;/b&gt; 2025."), "resolved messages are escaped")
        XCTAssertEqual(html.components(separatedBy: ">NEW</span>").count - 1, 3, "one NEW badge per new finding")
        XCTAssertTrue(html.contains("1 finding(s), 0 new since the last run."))
        XCTAssertTrue(html.contains("1 finding(s), 1 new since the last run."))
        XCTAssertFalse(html.contains("{{"))
        XCTAssertFalse(html.lowercased().contains("<script"))
        XCTAssertFalse(html.contains("<b>"))
    }

    func testNothingAboutChangesOnAFirstRun() throws {
        let html = try render(Fixtures.result(), changes: nil)
        XCTAssertFalse(html.contains("NEW</span>"))
        XCTAssertFalse(html.contains("Resolved since"))
        XCTAssertFalse(html.contains("new since the last run"))
        XCTAssertFalse(html.contains("compared with"))
    }

    func testNothingResolvedSaysSo() throws {
        let result = Fixtures.result()
        let output = ReportOutput()
        try FindingsJSON.write(result, to: output)
        let html = try render(
            result,
            changes: FindingChanges(result: result, baseline: try Baseline.parse(Data(output.bytes), source: "b")))
        XCTAssertTrue(html.contains("Nothing was resolved"))
        XCTAssertTrue(html.contains(": 0 new, 0 resolved, 5 still open."))
    }

    func testResolvedListIsCapped() throws {
        let many = (0..<(HTMLReport.maximumFindingsPerRule + 12)).map { Fixtures.stale($0) }
        let before = ReportOutput()
        try FindingsJSON.write(Fixtures.result(many), to: before)
        let now = Fixtures.result([])
        let changes = FindingChanges(result: now, baseline: try Baseline.parse(Data(before.bytes), source: "b"))
        XCTAssertEqual(changes.resolved.count, 512)
        let html = try render(now, changes: changes)
        XCTAssertTrue(html.contains("12 more in findings.json"))
        XCTAssertTrue(html.contains("WKS-0499$"))
        XCTAssertFalse(html.contains("WKS-0500$"))
    }

    /// 50,000 findings spread over every rule: the page stays at 500 rows per rule and renders in seconds.
    func testFiftyThousandFindingsRenderQuickly() throws {
        var findings: [Finding] = []
        findings.reserveCapacity(50_000)
        let perRule = 50_000 / AuditRules.ids.count
        for rule in AuditRules.ids {
            for number in 0..<perRule {
                var finding = Fixtures.stale(number)
                finding.rule = rule
                findings.append(finding)
            }
        }
        let result = Fixtures.result(findings)
        let changes = FindingChanges(result: result, baseline: try NightlyFixtures.baseline())
        let start = Date()
        let html = try render(result, changes: changes)
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertLessThan(elapsed, 10, "rendering 50,000 findings took \(elapsed) s")
        XCTAssertEqual(
            html.components(separatedBy: "<tr>\n      <td").count - 1,
            AuditRules.ids.count * HTMLReport.maximumFindingsPerRule)
        XCTAssertEqual(
            html.components(separatedBy: "\(perRule - HTMLReport.maximumFindingsPerRule) more in findings.csv").count
                - 1,
            AuditRules.ids.count)
        XCTAssertLessThan(html.utf8.count, 8_000_000, "a page a mail client can open")
        print("50,000 findings: report.html \(html.utf8.count) bytes in \(String(format: "%.2f", elapsed)) s")
    }
}
