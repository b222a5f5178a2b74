import Audit
import Foundation
import XCTest

@testable import Reporting

/// Every report rendered for one fixed result, compared byte for byte with the files in Golden/.
///
/// A change to a template or a renderer shows up here as a diff to review. When the change is
/// intended, rewrite the files with `TRUSTAUDIT_UPDATE_GOLDEN=1 swift test --filter GoldenTests`
/// and commit them with it.
final class GoldenTests: XCTestCase {
    static var goldenDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden", isDirectory: true)
    }

    static var updating: Bool { ProcessInfo.processInfo.environment["TRUSTAUDIT_UPDATE_GOLDEN"] == "1" }

    func testReportsMatchTheGoldenFiles() throws {
        let result = Fixtures.result()
        let changes = FindingChanges(result: result, baseline: try NightlyFixtures.baseline())
        let template = try XCTUnwrap(try ReportWriter(templatesDirectory: Fixtures.templatesDirectory).template)
        let formats = Set(ReportFormat.allCases)

        try assertGolden(
            "report.html",
            Array(try HTMLReport.render(result, template: template, formats: formats, changes: changes).utf8))
        try assertGolden(
            "report-first-run.html", Array(try HTMLReport.render(result, template: template, formats: formats).utf8))
        try assertGolden("findings.json") { try FindingsJSON.write(result, changes: changes, to: $0) }
        try assertGolden("findings.csv") { try FindingsCSV.write(result.findings, changes: changes, to: $0) }
        for rule in result.rules {
            try assertGolden(try XCTUnwrap(RuleCSV.fileName(for: rule.id))) {
                try RuleCSV.write(rule: rule.id, findings: result.findings, changes: changes, to: $0)
            }
        }
        let (_, facts) = NightlyFixtures.audit()
        try assertGolden("computers.csv") { try ComputersCSV.write(facts, to: $0) }
    }

    private func assertGolden(
        _ name: String, file: StaticString = #filePath, line: UInt = #line, _ body: (ReportOutput) throws -> Void
    ) throws {
        let output = ReportOutput()
        try body(output)
        try assertGolden(name, output.bytes, file: file, line: line)
    }

    private func assertGolden(_ name: String, _ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line)
        throws
    {
        let url = Self.goldenDirectory.appendingPathComponent(name)
        if Self.updating {
            try FileManager.default.createDirectory(at: Self.goldenDirectory, withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
            return
        }
        guard let expected = FileManager.default.contents(atPath: url.path) else {
            XCTFail("no golden file \(url.path); create it with TRUSTAUDIT_UPDATE_GOLDEN=1", file: file, line: line)
            return
        }
        guard Data(bytes) != expected else { return }
        let actual = FileManager.default.temporaryDirectory.appendingPathComponent("trustaudit-golden-\(name)")
        try Data(bytes).write(to: actual)
        let expectedLines = String(decoding: expected, as: UTF8.self).components(separatedBy: "\n")
        let actualLines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\n")
        let first =
            zip(expectedLines, actualLines).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            ?? min(expectedLines.count, actualLines.count)
        XCTFail(
            """
            \(name) differs from Golden/\(name) at line \(first + 1):
              golden: \(first < expectedLines.count ? expectedLines[first] : "(end of file)")
              actual: \(first < actualLines.count ? actualLines[first] : "(end of file)")
            The whole output is in \(actual.path); diff it, and if the change is intended run with TRUSTAUDIT_UPDATE_GOLDEN=1.
            """, file: file, line: line)
    }
}
