import Audit
import Foundation
import XCTest

@testable import Reporting

final class ReportWriterTests: XCTestCase {
    private var directory: URL!
    /// One CSV per rule of `Fixtures.result()`, in rule order.
    static let ruleCSVs = [
        "disabled-account.csv", "stale-password.csv", "missing-spn.csv", "duplicate-spn.csv", "missing-account.csv",
        "duplicate-hostname.csv", "conflict-object.csv", "deleted-account.csv",
    ]

    override func setUpWithError() throws {
        directory = try Fixtures.temporaryDirectory()
    }

    override func tearDownWithError() throws {
        chmod(directory.path, 0o755)
        try? FileManager.default.removeItem(at: directory)
    }

    private func listing(_ url: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }

    func testWritesAllFormatsInStableOrder() throws {
        let writer = try ReportWriter(templatesDirectory: Fixtures.templatesDirectory)
        let output = directory.appendingPathComponent("Reports/nested", isDirectory: true)
        let written = try writer.write(Fixtures.result(), formats: Set(ReportFormat.allCases), to: output)
        XCTAssertEqual(
            written.map(\.lastPathComponent),
            ["findings.json", "findings.csv"] + Self.ruleCSVs + ["report.html"], "json, csv, one csv per rule, html")
        XCTAssertEqual(
            try listing(output), (Self.ruleCSVs + ["findings.csv", "findings.json", "report.html"]).sorted(),
            "no temporaries left")
        let json = try Data(contentsOf: written[0])
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: json))
        XCTAssertTrue(try String(contentsOf: written[1], encoding: .utf8).hasPrefix("rule,severity"))
        XCTAssertTrue(
            try String(contentsOf: written[2], encoding: .utf8).hasPrefix("account,dn,severity,userAccountControl"))
        XCTAssertTrue(
            try String(contentsOf: try XCTUnwrap(written.last), encoding: .utf8).contains("<html lang=\"en\">"))
    }

    func testWritesOnlyWhatWasAsked() throws {
        let writer = try ReportWriter(templatesDirectory: nil)
        let written = try writer.write(Fixtures.result(), formats: [.csv, .json], to: directory)
        XCTAssertEqual(written.map(\.lastPathComponent), ["findings.json", "findings.csv"] + Self.ruleCSVs)
        XCTAssertEqual(try listing(directory), (Self.ruleCSVs + ["findings.csv", "findings.json"]).sorted())
    }

    func testHTMLWithoutTemplatesIsRefusedBeforeWriting() throws {
        let writer = try ReportWriter(templatesDirectory: nil)
        XCTAssertThrowsError(try writer.write(Fixtures.result(), formats: [.json, .html], to: directory)) { error in
            XCTAssertEqual(error as? ReportError, ReportError(code: .templatesRequired, path: "", reason: ""))
            XCTAssertEqual((error as? ReportError)?.advice, .giveTemplatesOrLeaveOutHTML, "\(error)")
        }
        XCTAssertEqual(try listing(directory), [])
    }

    func testMissingTemplateIsReportedWithWhatToDo() throws {
        XCTAssertThrowsError(try ReportWriter(templatesDirectory: directory)) { error in
            XCTAssertEqual((error as? ReportError)?.code, .templateUnreadable)
            XCTAssertTrue("\(error)".contains("report.html"))
        }
    }

    func testBrokenTemplateThrowsItsLocation() throws {
        try "<p>{{> styles}}</p>\n".write(
            to: directory.appendingPathComponent("report.html"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ReportWriter(templatesDirectory: directory)) { error in
            let error = error as? TemplateError
            XCTAssertEqual(error?.code, .unknownPartial)
            XCTAssertEqual(error?.file, "report.html")
            XCTAssertEqual(error?.line, 1)
            XCTAssertEqual(error?.column, 4)
        }
    }

    func testOutputPathThatIsAFile() throws {
        let file = directory.appendingPathComponent("not-a-dir")
        try Data("x".utf8).write(to: file)
        let writer = try ReportWriter(templatesDirectory: nil)
        XCTAssertThrowsError(try writer.write(Fixtures.result(), formats: [.json], to: file)) { error in
            XCTAssertEqual((error as? ReportError)?.code, .outputDirectoryUnusable)
        }
    }

    func testReadOnlyDirectoryKeepsThePreviousReports() throws {
        try XCTSkipIf(geteuid() == 0, "root ignores directory permissions")
        let writer = try ReportWriter(templatesDirectory: Fixtures.templatesDirectory)
        _ = try writer.write(Fixtures.result(), formats: Set(ReportFormat.allCases), to: directory)
        let before = try snapshot()
        chmod(directory.path, 0o555)
        XCTAssertThrowsError(try writer.write(Fixtures.result([]), formats: Set(ReportFormat.allCases), to: directory))
        { error in
            XCTAssertEqual((error as? ReportError)?.code, .writeFailed)
            XCTAssertTrue("\(error)".contains("check that \(self.directory.path) exists and is writable"), "\(error)")
        }
        chmod(directory.path, 0o755)
        XCTAssertEqual(try snapshot(), before)
    }

    func testFailedWriteRemovesTheTemporariesAndKeepsThePreviousReports() throws {
        // Works as root too: nobody can open a directory for writing.
        let writer = try ReportWriter(templatesDirectory: Fixtures.templatesDirectory)
        _ = try writer.write(Fixtures.result(), formats: Set(ReportFormat.allCases), to: directory)
        let blocker = ".findings.csv.tmp-\(ProcessInfo.processInfo.processIdentifier)"
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent(blocker), withIntermediateDirectories: false)
        let before = try snapshot()
        XCTAssertThrowsError(try writer.write(Fixtures.result([]), formats: Set(ReportFormat.allCases), to: directory))
        { error in
            XCTAssertEqual((error as? ReportError)?.code, .writeFailed)
            XCTAssertTrue("\(error)".contains("check that \(self.directory.path) exists and is writable"), "\(error)")
        }
        XCTAssertEqual(try snapshot(), before, "findings.json's temporary is gone and nothing was replaced")
    }

    func testFailedRenameRestoresTheFilesAlreadyReplaced() throws {
        let writer = try ReportWriter(templatesDirectory: Fixtures.templatesDirectory)
        _ = try writer.write(Fixtures.result(), formats: [.json, .csv], to: directory)
        // A directory where report.html should go: json and csv are renamed first, then html fails.
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("report.html/keep", isDirectory: true),
            withIntermediateDirectories: true)
        let before = try snapshot()

        XCTAssertThrowsError(try writer.write(Fixtures.result([]), formats: Set(ReportFormat.allCases), to: directory))
        { error in
            XCTAssertEqual((error as? ReportError)?.code, .renameFailed, "\(error)")
            XCTAssertTrue("\(error)".contains("report.html"))
        }
        XCTAssertEqual(try snapshot(), before, "old findings.json and findings.csv are back, byte for byte")
        XCTAssertEqual(
            try listing(directory), (Self.ruleCSVs + ["findings.csv", "findings.json", "report.html"]).sorted(),
            "no temporaries or backups left")
    }

    func testFailedRenameRemovesFilesThatDidNotExistBefore() throws {
        let writer = try ReportWriter(templatesDirectory: Fixtures.templatesDirectory)
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("report.html/keep", isDirectory: true),
            withIntermediateDirectories: true)
        XCTAssertThrowsError(try writer.write(Fixtures.result(), formats: Set(ReportFormat.allCases), to: directory))
        XCTAssertEqual(try listing(directory), ["report.html"])
    }

    func testReplacesThePreviousSet() throws {
        let writer = try ReportWriter(templatesDirectory: nil)
        _ = try writer.write(Fixtures.result(), formats: [.json], to: directory)
        _ = try writer.write(Fixtures.result([]), formats: [.json], to: directory)
        let text = try String(contentsOf: directory.appendingPathComponent("findings.json"), encoding: .utf8)
        XCTAssertTrue(text.contains("\"findings\": []"))
        XCTAssertEqual(try listing(directory), ["findings.json"])
    }

    func testStreamedReportIsCommittedWithTheOthers() throws {
        let writer = try ReportWriter(templatesDirectory: nil)
        let report = try writer.beginStreamedReport(named: "computers.csv", in: directory)
        report.write("a,b\r\n")
        XCTAssertEqual(
            try listing(directory), [".computers.csv.tmp-\(ProcessInfo.processInfo.processIdentifier)"],
            "hidden while the audit runs")
        let written = try writer.write(Fixtures.result(), formats: [.json, .csv], to: directory, streamed: [report])
        XCTAssertEqual(
            written.map(\.lastPathComponent), ["findings.json", "findings.csv"] + Self.ruleCSVs + ["computers.csv"])
        XCTAssertEqual(
            try String(contentsOf: directory.appendingPathComponent("computers.csv"), encoding: .utf8), "a,b\r\n")
        XCTAssertFalse(try listing(directory).contains { $0.hasPrefix(".") })
    }

    func testStreamedReportIsRemovedWhenTheSetFails() throws {
        let writer = try ReportWriter(templatesDirectory: Fixtures.templatesDirectory)
        _ = try writer.write(Fixtures.result(), formats: [.json], to: directory)
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("report.html/keep", isDirectory: true),
            withIntermediateDirectories: true)
        let before = try snapshot()
        let report = try writer.beginStreamedReport(named: "computers.csv", in: directory)
        report.write("row\r\n")
        XCTAssertThrowsError(
            try writer.write(
                Fixtures.result([]), formats: Set(ReportFormat.allCases), to: directory, streamed: [report]))
        XCTAssertEqual(try snapshot(), before, "no computers.csv, no temporaries, the old findings.json is back")
    }

    func testDiscardedOrAbandonedStreamedReportLeavesNothing() throws {
        let writer = try ReportWriter(templatesDirectory: nil)
        let report = try writer.beginStreamedReport(named: "computers.csv", in: directory)
        report.write("row\r\n")
        report.discard()
        XCTAssertEqual(try listing(directory), [])
        do {
            let abandoned = try writer.beginStreamedReport(named: "computers.csv", in: directory)
            abandoned.write("row\r\n")
        }
        XCTAssertEqual(try listing(directory), [], "deinit removes a temporary nobody committed")
    }

    func testStreamedReportInAnUnusableDirectoryFailsBeforeTheAudit() throws {
        let file = directory.appendingPathComponent("not-a-dir")
        try Data("x".utf8).write(to: file)
        XCTAssertThrowsError(
            try ReportWriter(templatesDirectory: nil).beginStreamedReport(named: "computers.csv", in: file)
        ) { error in
            XCTAssertEqual((error as? ReportError)?.code, .outputDirectoryUnusable)
        }
    }

    func testChangesReachEveryReport() throws {
        let writer = try ReportWriter(templatesDirectory: Fixtures.templatesDirectory)
        let result = Fixtures.result()
        let changes = FindingChanges(result: result, baseline: try NightlyFixtures.baseline())
        _ = try writer.write(result, formats: Set(ReportFormat.allCases), to: directory, changes: changes)
        let json = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("findings.json")))
                as? [String: Any])
        XCTAssertEqual(
            (json["summary"] as? [String: Any])?["changes"] as? [String: Int],
            ["new": 3, "persisting": 2, "resolved": 2])
        XCTAssertEqual(
            json["baseline"] as? [String: String],
            ["generatedAt": "2026-11-23T00:00:00Z", "source": "previous/findings.json"])
        XCTAssertEqual(
            (json["findings"] as? [[String: Any]])?.compactMap { $0["change"] as? String },
            ["persisting", "persisting", "new", "new", "new"])
        XCTAssertEqual(
            (json["resolved"] as? [[String: Any]])?.compactMap { $0["account"] as? String },
            ["WKS-0100$", Fixtures.formulaAccount])
        XCTAssertTrue(
            try String(contentsOf: directory.appendingPathComponent("findings.csv"), encoding: .utf8).contains(
                ",persisting\r\n"))
        XCTAssertTrue(
            try String(contentsOf: directory.appendingPathComponent("report.html"), encoding: .utf8).contains(
                "3 new, 2 resolved"))

        // Without a baseline the keys are still there, as null.
        _ = try writer.write(result, formats: [.json], to: directory)
        let plain = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("findings.json")))
                as? [String: Any])
        XCTAssertTrue(plain["baseline"] is NSNull)
        XCTAssertTrue(plain["resolved"] is NSNull)
        XCTAssertTrue((plain["summary"] as? [String: Any])?["changes"] is NSNull)
        XCTAssertTrue((plain["findings"] as? [[String: Any]])?.allSatisfy { $0["change"] is NSNull } ?? false)
    }

    private func snapshot() throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try listing(directory) {
            let url = directory.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
            files[name] = isDirectory.boolValue ? Data() : try Data(contentsOf: url)
        }
        return files
    }
}
