import Audit
import Foundation
import XCTest

@testable import Reporting

final class HTMLReportTests: XCTestCase {
    private func render(_ result: AuditResult, formats: Set<ReportFormat> = Set(ReportFormat.allCases)) throws -> String
    {
        let writer = try ReportWriter(templatesDirectory: Fixtures.templatesDirectory)
        return try HTMLReport.render(result, template: try XCTUnwrap(writer.template), formats: formats)
    }

    func testShippedTemplatesParse() throws {
        XCTAssertNotNil(try ReportWriter(templatesDirectory: Fixtures.templatesDirectory).template)
    }

    func testHostileDirectoryValuesAreEscaped() throws {
        var hostile = Fixtures.findings
        hostile.append(
            Finding(
                rule: "stale-password", severity: .medium, account: "\"><img src=x onerror=alert(1)>",
                distinguishedName: "CN=x'\u{301}onmouseover='alert(1),DC=corp,DC=example",
                message: "<iframe src=\"https://evil.example/\"></iframe>",
                remediation: "</pre><script>alert(2)</script>"))
        var result = Fixtures.result(hostile)
        result.summary.source = "<script>src</script>.ldif"
        result.summary.domain = "corp.example<script>"
        let html = try render(result)

        XCTAssertFalse(html.lowercased().contains("<script"), "no script element, whatever the directory holds")
        XCTAssertFalse(html.contains("<img"))
        XCTAssertFalse(html.contains("<iframe"))
        XCTAssertFalse(html.contains("\"onerror="))
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;$"))
        XCTAssertTrue(html.contains("CN=&quot;onerror=alert(1) x=&quot;,OU=Workstations,DC=corp,DC=example"))
        XCTAssertTrue(html.contains("=cmd|&#39; /C calc&#39;!A0"))
        XCTAssertTrue(html.contains("&lt;/pre&gt;&lt;script&gt;alert(2)&lt;/script&gt;"))
        XCTAssertTrue(html.contains("x&#39;\u{301}onmouseover=&#39;alert(1)"))
        XCTAssertTrue(html.contains("corp.example&lt;script&gt;"))
    }

    func testSelfContained() throws {
        // Benign values: the hostile fixtures legitimately show "src=" as escaped text.
        let html = try render(Fixtures.result([Fixtures.findings[0], Fixtures.stale(42), Fixtures.findings[4]]))
        let lower = html.lowercased()
        XCTAssertFalse(lower.contains("http://"))
        XCTAssertFalse(lower.contains("https://"))
        XCTAssertFalse(lower.contains("src="))
        XCTAssertFalse(lower.contains("<link"))
        XCTAssertFalse(lower.contains("@import"))
        XCTAssertFalse(lower.contains("url("))
        XCTAssertFalse(lower.contains("<script"))
        XCTAssertTrue(html.contains("<html lang=\"en\">"))
        XCTAssertTrue(html.contains("<meta charset=\"utf-8\">"))
        XCTAssertTrue(html.contains("<style>"))
    }

    func testStructure() throws {
        let html = try render(Fixtures.result())
        XCTAssertEqual(html.components(separatedBy: "<h1").count, 2, "one h1")
        XCTAssertTrue(html.contains("<th scope=\"col\">Severity</th>"))
        XCTAssertTrue(html.contains("<th scope=\"row\""))
        XCTAssertTrue(html.contains("corp.example"))
        XCTAssertTrue(html.contains("corp.ldif"))
        XCTAssertTrue(html.contains("2026-11-24T00:00:00Z"))
        XCTAssertTrue(html.contains("Clock skew"))
        XCTAssertTrue(html.contains("2.5 s: the domain controller is ahead"))
        XCTAssertTrue(
            html.contains(
                "5 findings on 3 of 1200 computer accounts, 1 other account and 1 inventory name without an account: 1 critical, 2 high, 1 medium, 1 low."
            ))
        // The fixture is a single-source audit: the rules that compare DCs are no part of it.
        for rule in AuditRules.singleSource.map({ $0.description }) {
            XCTAssertTrue(html.contains("<h2 id=\"rule-\(rule.id)\""), rule.id)
            XCTAssertTrue(html.contains("href=\"#rule-\(rule.id)\""), rule.id)
            XCTAssertTrue(html.contains(HTML.escape(rule.rationale)), rule.id)
        }
        XCTAssertEqual(html.components(separatedBy: "<svg role=\"img\"").count, 4, "rule bars and two histograms")
        XCTAssertTrue(html.contains("stale: 60+ days"))
        XCTAssertTrue(html.contains("<pre"))
        XCTAssertTrue(html.contains("(no account)"), "missing-account rows have no DN")
        XCTAssertTrue(html.contains("<footer"))
        XCTAssertFalse(html.contains("{{"), "no tag left unrendered")
    }

    func testNoClockSkewRowWhenNotMeasured() throws {
        let html = try render(Fixtures.result(clockSkew: nil))
        XCTAssertFalse(html.contains("Clock skew"))
    }

    func testEmptyRuleSaysSo() throws {
        let html = try render(Fixtures.result([]))
        XCTAssertTrue(html.contains("No findings in 1200 computer accounts."))
        XCTAssertEqual(html.components(separatedBy: "<p>No findings.</p>").count, AuditRules.singleSource.count + 1)
    }

    func testCapsEachRuleAndPointsToTheCSV() throws {
        let findings =
            (0..<(HTMLReport.maximumFindingsPerRule + 37)).map { Fixtures.stale($0) } + [Fixtures.findings[2]]
        let html = try render(Fixtures.result(findings))
        XCTAssertTrue(html.contains("WKS-0499$"))
        XCTAssertFalse(html.contains("WKS-0500$"), "finding 501 is not shown")
        XCTAssertTrue(html.contains("37 more in findings.csv"))
        XCTAssertTrue(html.contains("537 finding(s); the first 500 are shown below."))
        XCTAssertEqual(
            html.components(separatedBy: "more in findings.csv").count, 2, "only the capped rule has a pointer")
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;$"), "the next rule is still shown")

        let withoutCSV = try render(Fixtures.result(findings), formats: [.json, .html])
        XCTAssertTrue(withoutCSV.contains("37 more in findings.json"))
    }

    func testHistogramThresholdFallsInsideItsBucket() {
        var histogram = AgeHistogram()
        histogram.add(ageDays: 10)
        let at60 = SVGChart.histogram(title: "t", histogram: histogram, thresholdDays: 60, thresholdLabel: "L")
        let at75 = SVGChart.histogram(title: "t", histogram: histogram, thresholdDays: 75, thresholdLabel: "L")
        XCTAssertNotEqual(markX(at60), markX(at75))
        XCTAssertLessThan(try XCTUnwrap(markX(at60)), try XCTUnwrap(markX(at75)))
    }

    private func markX(_ svg: String) -> Int? {
        guard let range = svg.range(of: "stroke=\"\(SVGChart.markColor)\"") else { return nil }
        let before = svg[..<range.lowerBound]
        guard let x1 = before.range(of: "<line x1=\"", options: .backwards) else { return nil }
        return Int(before[x1.upperBound...].prefix { $0.isNumber })
    }

    /// The report flags a skew exactly where the job warns about it: beyond Kerberos' 5 minutes.
    func testClockSkewIsFlaggedBeyondTheSameToleranceTheJobWarnsAt() {
        XCTAssertEqual(HTMLReport.describeSkew(300), "300.0 s: the domain controller is ahead")
        XCTAssertEqual(
            HTMLReport.describeSkew(-300.5), "300.5 s: the domain controller is behind; Kerberos fails beyond 5 minutes"
        )
        XCTAssertEqual(AuditContext.clockToleranceSeconds, 300)
    }

    /// What the export could not tell is part of the verdict, never drawn as "never" or "none".
    func testTheVerdictSaysWhatTheExportLacksAndWhatCouldNotBeSeen() {
        var summary = Fixtures.result().summary
        XCTAssertNil(HTMLReport.notInExport(summary))
        summary.attributesNotInExport = ["pwdLastSet", "operatingSystem"]
        summary.unjudged = [UnjudgedRule(rule: "stale-password", missingAttributes: ["pwdLastSet"], accounts: 1200)]
        summary.deletedObjects = .notVisible(reason: "the Deleted Objects container was not returned")
        let verdict = HTMLReport.verdict(summary)
        XCTAssertTrue(
            verdict.contains(
                "The export has no pwdLastSet, operatingSystem for any computer: stale-password could not judge 1200 computer accounts."
            ), verdict)
        XCTAssertTrue(verdict.contains("Deleted objects were asked for but are not visible"), verdict)
        summary.deletedObjects = .visible(recycleBin: true)
        XCTAssertFalse(HTMLReport.verdict(summary).contains("Deleted objects"))
    }

    /// The summary table says whether deleted objects were read, and never "none" for what could not be seen.
    func testTheDeletedObjectsRowSaysWhatWasRead() throws {
        var summary = Fixtures.result().summary
        summary.conflictComputers = 1
        XCTAssertEqual(
            HTMLReport.deletedObjectsText(summary), "not read (neither asked for nor in the export); 1 conflict object")
        summary.deletedComputers = 2
        summary.deletedObjects = .visible(recycleBin: false)
        XCTAssertEqual(
            HTMLReport.deletedObjectsText(summary),
            "read: 2 deleted computers, 1 conflict object; the Recycle Bin is not enabled")
        summary.deletedComputers = 0
        summary.deletedObjects = .notVisible(reason: "the Deleted Objects container was not returned")
        let hidden = HTMLReport.deletedObjectsText(summary)
        XCTAssertTrue(hidden.hasPrefix("asked for but not visible (the Deleted Objects container was not returned)"))
        XCTAssertFalse(hidden.contains("0 deleted"), hidden)
        let html = try render(Fixtures.result())
        XCTAssertTrue(html.contains("Deleted objects</th><td>not read"), "the row is in the report")
    }
}
