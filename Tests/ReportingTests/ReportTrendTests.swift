import Audit
import Foundation
import XCTest

@testable import Reporting

/// The trend over the kept history: three nights (two kept copies written by FindingsJSON, and the
/// run being reported), read back, charted, tabled and ranked.
final class ReportTrendTests: XCTestCase {
    private var directory: URL!
    private var history: URL { directory.appendingPathComponent("history") }

    override func setUpWithError() throws {
        directory = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: history, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    static let day: TimeInterval = 86_400

    /// A run of `findings` generated `daysAgo` days before `Fixtures.generatedAt`.
    static func run(_ findings: [Finding], daysAgo: Double) -> AuditResult {
        var result = Fixtures.result(findings)
        result.summary.generatedAt = Fixtures.generatedAt.addingTimeInterval(-daysAgo * day)
        return result
    }

    /// 11-22: one stale password (high). 11-23: three stale, one disabled (low). Tonight (11-24):
    /// the fixture's five findings and three more stale ones: 1 critical, 5 high, 1 medium, 1 low.
    static let nights: [[Finding]] = [
        [Fixtures.stale(1)],
        [Fixtures.stale(1), Fixtures.stale(2), Fixtures.stale(3), Fixtures.findings[0]],
        Fixtures.findings + [Fixtures.stale(5), Fixtures.stale(6), Fixtures.stale(7)],
    ]

    /// Writes the first two nights into history/ as `--keep` would, and returns tonight's result.
    func keptHistory() throws -> AuditResult {
        for (index, findings) in Self.nights.dropLast().enumerated() {
            let result = Self.run(findings, daysAgo: Double(2 - index))
            let url = history.appendingPathComponent(ReportHistory.fileName(for: result.summary.generatedAt))
            let output = ReportOutput()
            try FindingsJSON.write(result, to: output)
            try Data(output.bytes).write(to: url)
        }
        return Self.run(Self.nights[2], daysAgo: 0)
    }

    func testThreeNightsAreReadBackFromTheirSummaries() throws {
        let tonight = try keptHistory()
        // Left out: a copy older than --keep, one after this run, this run's own second (it is
        // replaced), and files that are not dated copies. A damaged copy is named.
        for (name, text) in [
            ("findings-2026-11-01T000000Z.json", "{}"), ("findings-2026-11-25T000000Z.json", "{}"),
            ("findings-2026-11-24T000000Z.json", "{}"), ("notes.txt", "x"),
            ("findings-2026-11-23T120000Z.json", "{\"schemaVersion\": 1, \"generatedAt\": 5}"),
        ] {
            try Data(text.utf8).write(to: history.appendingPathComponent(name))
        }
        let trend = try XCTUnwrap(ReportTrend.load(historyIn: directory, current: tonight.summary, keepDays: 7))
        XCTAssertEqual(
            trend.nights.map(\.generatedAt), ["2026-11-22T00:00:00Z", "2026-11-23T00:00:00Z", "2026-11-24T00:00:00Z"])
        XCTAssertEqual(trend.nights.map(\.total), [1, 4, 8])
        XCTAssertEqual(trend.nights[1].bySeverity, [.critical: 0, .high: 3, .medium: 0, .low: 1, .info: 0])
        XCTAssertEqual(trend.nights[2].bySeverity, [.critical: 1, .high: 5, .medium: 1, .low: 1])
        XCTAssertEqual(trend.nights[1].byRule["stale-password"], 3)
        XCTAssertEqual(trend.unreadable, ["findings-2026-11-23T120000Z.json"])
        XCTAssertEqual(trend.labels, ["11-22", "11-23", "11-24"])

        // First night to last: stale-password +3 leads, then the +1s by id.
        XCTAssertEqual(
            trend.movers.map { "\($0.rule) \($0.first)->\($0.last)" },
            [
                "stale-password 1->4", "disabled-account 0->1", "duplicate-spn 0->1", "missing-account 0->1",
                "missing-spn 0->1",
            ])
    }

    func testOneNightIsNoTrend() throws {
        let tonight = Self.run(Self.nights[2], daysAgo: 0)
        XCTAssertNil(ReportTrend.load(historyIn: directory, current: tonight.summary, keepDays: 30))
        try FileManager.default.removeItem(at: history)
        XCTAssertNil(ReportTrend.load(historyIn: directory, current: tonight.summary, keepDays: 30))
        let html = try HTMLReport.render(
            tonight, template: try template(), formats: [.json, .html],
            trend: ReportTrend(nights: [ReportTrend.night(tonight.summary)]))
        XCTAssertFalse(html.contains("Findings per night"), "a single night is not charted")
    }

    func testReportShowsTheChartItsTableAndTheTopMovers() throws {
        let tonight = try keptHistory()
        let trend = try XCTUnwrap(ReportTrend.load(historyIn: directory, current: tonight.summary, keepDays: 30))
        let html = try HTMLReport.render(tonight, template: try template(), formats: [.json, .html], trend: trend)

        XCTAssertEqual(
            Self.rows(ofTableCaptioned: "Findings per night, by severity", in: html),
            [
                ["2026-11-22T00:00:00Z", "0", "1", "0", "0", "0", "1"],
                ["2026-11-23T00:00:00Z", "0", "3", "0", "1", "0", "4"],
                ["2026-11-24T00:00:00Z", "1", "5", "1", "1", "0", "8"],
            ])
        XCTAssertEqual(
            Self.rows(ofTableCaptioned: "Rules that grew most since 2026-11-22T00:00:00Z", in: html),
            [
                ["stale-password", "1", "4", "+3"], ["disabled-account", "0", "1", "+1"],
                ["duplicate-spn", "0", "1", "+1"], ["missing-account", "0", "1", "+1"],
                ["missing-spn", "0", "1", "+1"],
            ])

        // The chart: one titled segment per night and severity with findings, the same numbers.
        let chart = try XCTUnwrap(Self.between("<svg role=\"img\" aria-label=\"Findings per night", "</svg>", in: html))
        XCTAssertEqual(
            Self.matches("<title>([^<]*)</title></rect>", in: chart),
            [
                "2026-11-22T00:00:00Z: 1 high", "2026-11-23T00:00:00Z: 3 high", "2026-11-23T00:00:00Z: 1 low",
                "2026-11-24T00:00:00Z: 1 critical", "2026-11-24T00:00:00Z: 5 high", "2026-11-24T00:00:00Z: 1 medium",
                "2026-11-24T00:00:00Z: 1 low",
            ])
        // Heights on a 160-pixel scale topped by tonight's 8: 20, 60 + 20, and 20 + 100 + 20 + 20.
        XCTAssertEqual(
            Self.matches("height=\"([0-9]+)\" fill=\"#[0-9a-f]+\"><title>", in: chart),
            ["20", "60", "20", "20", "100", "20", "20"])
        for label in ["11-22", "11-23", "11-24"] { XCTAssertTrue(chart.contains(">\(label)</text>"), label) }
        for total in ["1", "4", "8"] {
            XCTAssertTrue(chart.contains("text-anchor=\"middle\" font-size=\"12\" fill=\"#1a1a1a\">\(total)</text>"))
        }
        XCTAssertTrue(html.contains("The last 3 runs kept in the history, from 2026-11-22T00:00:00Z"), html)
    }

    /// A history copy is a file in the output directory: its text is escaped like everything else.
    func testTextFromAHistoryCopyIsEscaped() throws {
        let tonight = Self.run(Self.nights[2], daysAgo: 0)
        let hostile = """
            {
              "schemaVersion": 1,
              "generatedAt": "<img src=x onerror=alert(1)>",
              "summary": {"bySeverity": {"high": 1}, "byRule": {"<b>rule</b>": 0, "stale-password": 1}},
              "findings": [
              ]
            }
            """
        try Data(hostile.utf8).write(to: history.appendingPathComponent("findings-2026-11-23T000000Z.json"))
        let trend = try XCTUnwrap(ReportTrend.load(historyIn: directory, current: tonight.summary, keepDays: 30))
        XCTAssertEqual(trend.nights.first?.generatedAt, "<img src=x onerror=alert(1)>")
        let html = try HTMLReport.render(tonight, template: try template(), formats: [.html], trend: trend)
        XCTAssertFalse(html.contains("<img src=x"), "raw markup from a history copy")
        XCTAssertTrue(html.contains("&lt;img src=x onerror=alert(1)&gt;: 1 high</title>"))
    }

    func testTheMailCarriesTheTrendToo() throws {
        let tonight = try keptHistory()
        let trend = try XCTUnwrap(ReportTrend.load(historyIn: directory, current: tonight.summary, keepDays: 30))
        let mail = try MailReport(
            result: tonight, changes: nil, files: [], outputDirectory: "Reports/", template: try template(),
            formats: [.json, .html], trend: trend)
        XCTAssertEqual(
            Self.rows(ofTableCaptioned: "Findings per night, by severity", in: mail.htmlBody).map(\.last),
            ["1", "4", "8"])
    }

    // MARK: - Helpers

    func template() throws -> Template {
        try Template(contentsOf: Fixtures.templatesDirectory.appendingPathComponent("report.html"))
    }

    /// The cells (tags stripped) of each body row of the table with this caption.
    static func rows(ofTableCaptioned caption: String, in html: String) -> [[String]] {
        guard let table = between("<caption>\(caption)</caption>", "</table>", in: html),
            let body = between("<tbody>", "</tbody>", in: table)
        else { return [] }
        return body.components(separatedBy: "</tr>").compactMap { row in
            let cells = matches("<t[hd][^>]*>(.*?)</t[hd]>", in: row)
            return cells.isEmpty
                ? nil : cells.map { $0.replacingOccurrences(of: "<[^>]+>", with: "", options: .regularExpression) }
        }
    }

    static func between(_ start: String, _ end: String, in text: String) -> String? {
        guard let open = text.range(of: start), let close = text.range(of: end, range: open.upperBound..<text.endIndex)
        else { return nil }
        return String(text[open.lowerBound..<close.upperBound])
    }

    /// The first capture group of every match.
    static func matches(_ pattern: String, in text: String) -> [String] {
        let expression = try! NSRegularExpression(pattern: pattern)
        return expression.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
            Range($0.range(at: 1), in: text).map { String(text[$0]) }
        }
    }
}
