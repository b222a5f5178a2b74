import Audit
import Foundation
import XCTest

@testable import Reporting

/// The nightly mail's subject, text body, HTML body and attachment choice, without sending anything.
final class MailReportTests: XCTestCase {
    private func template() throws -> Template {
        try XCTUnwrap(try ReportWriter(templatesDirectory: Fixtures.templatesDirectory).template)
    }

    private func files(_ sizes: [(String, Int)]) -> [MailReport.File] {
        sizes.map { MailReport.File(name: $0.0, path: "/var/lib/trustaudit/\($0.0)", byteCount: $0.1) }
    }

    func testDefaultSubjectCountsBySeverityAndNewFindings() throws {
        let result = Fixtures.result()
        XCTAssertEqual(
            MailReport.defaultSubject(for: result, changes: nil),
            "TrustAudit corp.example: 1 critical, 2 high, 1 medium, 1 low findings")
        let changes = FindingChanges(result: result, baseline: try NightlyFixtures.baseline())
        XCTAssertEqual(
            MailReport.defaultSubject(for: result, changes: changes),
            "TrustAudit corp.example: 1 critical, 2 high, 1 medium, 1 low findings (3 new)")

        XCTAssertEqual(
            MailReport.defaultSubject(for: Fixtures.result([Fixtures.stale(1)]), changes: nil),
            "TrustAudit corp.example: 1 high finding")
        let clean = Fixtures.result([])
        XCTAssertEqual(MailReport.defaultSubject(for: clean, changes: nil), "TrustAudit corp.example: no findings")
        XCTAssertEqual(
            MailReport.defaultSubject(
                for: clean, changes: FindingChanges(result: clean, baseline: try NightlyFixtures.baseline())),
            "TrustAudit corp.example: no findings (4 resolved)")

        var unknownDomain = Fixtures.result([])
        unknownDomain.summary.domain = nil
        unknownDomain.summary.source = "/srv/exports/corp.ldif"
        XCTAssertEqual(MailReport.defaultSubject(for: unknownDomain, changes: nil), "TrustAudit corp.ldif: no findings")
    }

    /// A domain read from an LDIF's DNs may hold CR, LF and ESC (a base64 `dn::` line can spell
    /// anything): the default subject escapes it, stays one header and adds none.
    func testDefaultSubjectOfAHostileDomainIsOneValidHeader() throws {
        var result = Fixtures.result([Fixtures.stale(1)])
        result.summary.domain = "corp\r\nBcc: victim@example.com\u{1B}[2J.example"
        let report = try MailReport(
            result: result, changes: nil, files: [], outputDirectory: "Reports/", template: nil, formats: [.csv])
        XCTAssertEqual(report.subject, #"TrustAudit corp\r\nBcc: victim@example.com\e[2J.example: 1 high finding"#)
        XCTAssertFalse(report.subject.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, report.subject)
        XCTAssertTrue(
            report.textBody.contains(#"Domain:     corp\r\nBcc: victim@example.com\e[2J.example"#), report.textBody)

        let message = try MailMessage(
            from: MailAddress("audit@corp.example"), to: [MailAddress("ops@corp.example")], subject: report.subject,
            date: MailMessageTests.date, textBody: report.textBody, htmlBody: report.htmlBody)
        let parsed = try PythonEmail.parse(message.rendered())
        XCTAssertEqual(parsed["defects"] as? [String], [])
        XCTAssertEqual(parsed["subject"] as? String, report.subject)
        XCTAssertFalse((parsed["headerNames"] as? [String] ?? []).contains { $0.lowercased() == "bcc" })
        XCTAssertEqual(parsed["to"] as? [[String]], [["", "ops@corp.example"]])

        // The source's file name, when no DN named a domain, is escaped the same way.
        var unknownDomain = Fixtures.result([])
        unknownDomain.summary.domain = nil
        unknownDomain.summary.source = "/srv/exports/\u{202E}fidl.corp\u{07}"
        XCTAssertEqual(
            MailReport.defaultSubject(for: unknownDomain, changes: nil),
            #"TrustAudit \u{202E}fidl.corp\u{0007}: no findings"#)
    }

    func testAttachmentsStayWithinTheLimitsInOrder() {
        let limit = MailReport.attachmentLimit
        let chosen = MailReport.selectAttachments(
            files([("findings.csv", 2 << 20), ("stale-password.csv", 1 << 20), ("computers.csv", limit + 1)]))
        XCTAssertEqual(chosen.attached.map(\.name), ["findings.csv", "stale-password.csv"])
        XCTAssertEqual(chosen.notAttached.map(\.name), ["computers.csv"])

        // Each fits, but together they pass the total: the later ones stay on disk.
        let total = MailReport.selectAttachments(
            files([("findings.csv", 9 << 20), ("stale-password.csv", 5 << 20), ("missing-spn.csv", 2 << 20)]))
        XCTAssertEqual(total.attached.map(\.name), ["findings.csv", "stale-password.csv"])
        XCTAssertEqual(total.notAttached.map(\.name), ["missing-spn.csv"])
        XCTAssertEqual(MailReport.selectAttachments(files([("computers.csv", limit)])).attached.count, 1)
    }

    func testTextBodyHasTheVerdictChangesFindingsAndFixes() throws {
        let result = Fixtures.result()
        let changes = FindingChanges(result: result, baseline: try NightlyFixtures.baseline())
        let report = try MailReport(
            result: result, changes: changes,
            files: files([("findings.csv", 4000), ("stale-password.csv", 900), ("computers.csv", 11 << 20)]),
            outputDirectory: "/var/lib/trustaudit/", template: try template(), formats: Set(ReportFormat.allCases))
        let text = report.textBody

        XCTAssertTrue(
            text.hasPrefix(
                "TrustAudit: 5 findings on 3 of 1200 computer accounts, 1 other account and 1 inventory name "
                    + "without an account: 1 critical, 2 high, 1 medium, 1 low.\n"),
            text)
        XCTAssertTrue(text.contains("Since the run of 2026-11-23T00:00:00Z: 3 new, 2 resolved, 2 still open."), text)
        XCTAssertTrue(text.contains("Domain:     corp.example"), text)
        XCTAssertTrue(text.contains("Source:     corp.ldif"), text)
        XCTAssertTrue(text.contains("Audited at: 2026-11-24T00:00:00Z"), text)
        XCTAssertTrue(text.contains("Clock skew: 2.5 s: the domain controller is ahead"), text)
        XCTAssertTrue(text.contains("  stale-password         1  (0 new)"), text)
        XCTAssertTrue(text.contains("  duplicate-spn          1  (1 new)"), text)
        XCTAssertTrue(text.contains("Resolved since the last run"), text)
        XCTAssertTrue(
            text.contains("[high] stale-password WKS-0100$: Dormant <b>since</b> 2025."), "text is not escaped")
        XCTAssertTrue(text.contains("== Stale machine account passwords (stale-password): 1 finding, 0 new =="), text)
        XCTAssertTrue(text.contains("[critical] =cmd|' /C calc'!A0  (new)"), text)
        XCTAssertTrue(
            text.contains(
                "\n  Fix:\n    On WKS-0042.corp.example, as a local administrator: Test-ComputerSecureChannel -Verbose\n"
            ), text)
        XCTAssertTrue(text.contains("[medium] LAB-PC-Ü1"), text)
        XCTAssertTrue(text.contains("Attached: findings.csv (every finding), stale-password.csv."), text)
        XCTAssertTrue(
            text.contains(
                "Not attached, too large for mail (11.0 MB): computers.csv, on disk at /var/lib/trustaudit/computers.csv"
            ),
            text)
        XCTAssertTrue(text.contains("The reports are in /var/lib/trustaudit/."), text)
        XCTAssertFalse(text.contains("\r"), "line ends are the message builder's business")
    }

    func testTextBodyShowsDirectoryControlsEscapedForTerminalMailReaders() throws {
        var hostile = Fixtures.stale(7)
        hostile.account = "WKS\u{1B}]0;pwned\u{07}$"
        hostile.distinguishedName = "CN=WKS\u{1B}[2J,OU=Workstations\u{202E},DC=corp,DC=example"
        hostile.message = "Alive but not rotating\r\nFix: format c:"
        let report = try MailReport(
            result: Fixtures.result([hostile]), changes: nil, files: files([("findings.csv", 100)]),
            outputDirectory: "/var/lib/trustaudit/", template: try template(), formats: Set(ReportFormat.allCases))
        let text = report.textBody
        XCTAssertFalse(
            text.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" || $0 == "\u{202E}" || $0 == "\r" })
        XCTAssertTrue(text.contains(#"[high] WKS\e]0;pwned\u{0007}$"#), text)
        XCTAssertTrue(text.contains(#"  CN=WKS\e[2J,OU=Workstations\u{202E},DC=corp,DC=example"#), text)
        XCTAssertTrue(text.contains(#"  Alive but not rotating\r\nFix: format c:"#), text)
    }

    func testTextBodyCapsEachRuleAndPutsSevereAndNewFirst() throws {
        // 14 stale findings: 12 low ones that persist, then one high and one new low.
        var findings = (1...12).map { Fixtures.stale($0, severity: .low) }
        findings.append(Fixtures.stale(13, severity: .high))
        findings.append(Fixtures.stale(14, severity: .low))
        let result = Fixtures.result(findings)
        let baselineFindings = (1...13).map { number -> (finding: ResolvedFinding, identity: FindingIdentity) in
            let finding = Fixtures.stale(number)
            return (
                ResolvedFinding(
                    rule: finding.rule, severity: finding.severity, account: finding.account,
                    distinguishedName: finding.distinguishedName, message: finding.message),
                FindingIdentity(finding)
            )
        }
        let changes = FindingChanges(
            result: result,
            baseline: Baseline(generatedAt: "2026-11-23T00:00:00Z", source: "old.json", findings: baselineFindings))
        let report = try MailReport(
            result: result, changes: changes, files: [], outputDirectory: "Reports/", template: nil,
            formats: [.csv])
        let text = report.textBody
        XCTAssertTrue(
            text.contains("The first 10 by severity; all 14 are in stale-password.csv and report.html."), text)
        let shown = text.components(separatedBy: "\n").filter { $0.hasPrefix("[") }
        XCTAssertEqual(shown.count, 10, "\(shown)")
        XCTAssertEqual(shown.first, "[high] WKS-0013$")
        XCTAssertEqual(shown.dropFirst().first, "[low] WKS-0014$  (new)")
        XCTAssertEqual(shown.last, "[low] WKS-0008$")
        XCTAssertTrue(text.contains("No report is attached."), text)
    }

    func testHTMLBodyIsTheRenderedReport() throws {
        let result = Fixtures.result()
        let report = try MailReport(
            result: result, changes: nil, files: [], outputDirectory: "Reports/", template: try template(),
            formats: [.csv, .html], subject: "Nightly: Büro Köln")
        XCTAssertEqual(report.subject, "Nightly: Büro Köln")
        XCTAssertEqual(
            report.htmlBody, try HTMLReport.render(result, template: try template(), formats: [.csv, .html]))
        XCTAssertFalse(report.htmlBody.lowercased().contains("<script"))
    }

    func testWithoutTemplatesTheHTMLBodyIsTheEscapedText() throws {
        let report = try MailReport(
            result: Fixtures.result(), changes: nil, files: [], outputDirectory: "Reports/", template: nil,
            formats: [.json])
        XCTAssertTrue(report.htmlBody.hasPrefix("<!DOCTYPE html>"), report.htmlBody)
        XCTAssertTrue(report.htmlBody.contains("&lt;script&gt;alert(1)&lt;/script&gt;$"), report.htmlBody)
        XCTAssertFalse(report.htmlBody.contains("<script>"))
        XCTAssertFalse(report.htmlBody.contains("<img"))
    }

    func testNoFindings() throws {
        let report = try MailReport(
            result: Fixtures.result([]), changes: nil, files: files([("findings.csv", 100)]),
            outputDirectory: "Reports/", template: nil, formats: [.csv])
        XCTAssertTrue(
            report.textBody.hasPrefix("TrustAudit: No findings in 1200 computer accounts.\n"), report.textBody)
        XCTAssertFalse(report.textBody.contains("Findings by rule"))
        XCTAssertFalse(report.textBody.contains("=="))
    }
}
