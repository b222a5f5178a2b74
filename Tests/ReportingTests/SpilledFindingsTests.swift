import Audit
import Directory
import Foundation
import XCTest

@testable import Reporting

/// A first audit of a neglected domain (a strict policy: nearly every account a finding), its
/// findings spilled to disk in many small sorted runs: every report must be byte for byte the
/// in-memory path's, with a baseline too (the change columns are indexed by position).
final class SpilledFindingsTests: XCTestCase {
    private static let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Samples")
    /// `make demo`'s --now (SAMPLE_NOW), 2026-11-24T00:00:00Z.
    private static let now = Date(timeIntervalSince1970: 1_795_478_400)
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try Fixtures.temporaryDirectory()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func audit(staleAfterDays days: Int, spillAfter: Int?) throws -> AuditResult {
        var configuration = AuditConfiguration()
        configuration.stalePasswordDays = days
        let inventory = try Inventory.load(path: Self.samples.appendingPathComponent("inventory.txt").path)
        var runner = AuditRunner(
            configuration: configuration, now: Self.now, source: "corp.example.ldif", inventory: inventory,
            spillFindingsAfter: spillAfter)
        try LDIFReader(path: Self.samples.appendingPathComponent("corp.example.ldif").path).forEachEntry {
            runner.add($0)
        }
        return runner.finish()
    }

    /// Writes every report of `result` into `name` and returns each file's bytes by name.
    private func reports(_ result: AuditResult, changes: FindingChanges?, into name: String) throws -> [String: Data] {
        let output = directory.appendingPathComponent(name, isDirectory: true)
        let written = try ReportWriter(templatesDirectory: Fixtures.templatesDirectory).write(
            result, formats: Set(ReportFormat.allCases), to: output, changes: changes)
        var files: [String: Data] = [:]
        for url in written { files[url.lastPathComponent] = try Data(contentsOf: url) }
        let mail = try MailReport(
            result: result, changes: changes, files: [], outputDirectory: "/srv/trustaudit/reports", template: nil,
            formats: [])
        files["mail.txt"] = Data(mail.textBody.utf8)
        files["mail.subject"] = Data(mail.subject.utf8)
        return files
    }

    func testSpilledReportsAreByteForByteTheInMemoryOnes() throws {
        // Last night under the default policy, tonight under a strict one: new and persisting findings.
        let lastNight = try audit(staleAfterDays: 60, spillAfter: nil)
        let lastNightJSON = try XCTUnwrap(try reports(lastNight, changes: nil, into: "last")["findings.json"])
        let baseline = try Baseline.parse(lastNightJSON, source: "last/findings.json")

        let held = try audit(staleAfterDays: 1, spillAfter: nil)
        // Seven findings a run: runs end inside one rule's findings and hold several rules' findings.
        let spilled = try audit(staleAfterDays: 1, spillAfter: 7)
        XCTAssertFalse(held.findingStore.isSpilled)
        XCTAssertTrue(spilled.findingStore.isSpilled)
        XCTAssertGreaterThan(held.findings.count, 250, "a strict policy: a finding for nearly every account")
        XCTAssertGreaterThan(
            Double(held.summary.computersWithFindings), 0.9 * Double(held.summary.computers),
            "nearly every computer has a finding")
        XCTAssertEqual(spilled.findingStore.count, held.findingStore.count)
        XCTAssertEqual(spilled.summary.findingsBySeverity, held.summary.findingsBySeverity)
        XCTAssertEqual(spilled.summary.findingsByRule, held.summary.findingsByRule)
        XCTAssertEqual(spilled.summary.computersWithFindings, held.summary.computersWithFindings)
        XCTAssertEqual(spilled.summary.otherAccountsWithFindings, held.summary.otherAccountsWithFindings)
        XCTAssertEqual(spilled.findings, held.findings, "the merge gives the in-memory order")

        let heldChanges = FindingChanges(result: held, baseline: baseline)
        let spilledChanges = FindingChanges(result: spilled, baseline: baseline)
        XCTAssertGreaterThan(heldChanges.newCount, 0)
        XCTAssertGreaterThan(heldChanges.persistingCount, 0)
        let expected = try reports(held, changes: heldChanges, into: "held")
        let actual = try reports(spilled, changes: spilledChanges, into: "spilled")
        XCTAssertEqual(actual.keys.sorted(), expected.keys.sorted())
        XCTAssertGreaterThanOrEqual(
            expected.count, 12, "findings.json, findings.csv, a CSV per rule, report.html, the mail")
        for (name, bytes) in expected.sorted(by: { $0.key < $1.key }) {
            XCTAssertTrue(actual[name] == bytes, "\(name) differs between the spilled and the in-memory path")
        }
        XCTAssertTrue(expected["findings.csv"].map { $0.count > 100_000 } ?? false)
    }

    /// One rule's CSV reads only that rule's findings, with each one's position among all findings.
    func testOneRulesFindingsKeepTheirPositionAmongAll() throws {
        let spilled = try audit(staleAfterDays: 1, spillAfter: 5)
        let all = spilled.findings
        for rule in Set(all.map(\.rule)) {
            let expected = all.enumerated().filter { $0.element.rule == rule }.map { $0.offset }
            XCTAssertEqual(spilled.findingStore.enumerated(ofRule: rule).map(\.offset), expected, rule)
        }
        XCTAssertEqual(Array(spilled.findingStore.enumerated(ofRule: "no-such-rule")).count, 0)
    }

    /// With nowhere to write (TMPDIR a file, not a directory) the findings stay in memory and the
    /// reports are still right.
    func testAnUnwritableTemporaryDirectoryKeepsTheFindingsInMemory() throws {
        let notADirectory = directory.appendingPathComponent("file")
        try Data("x".utf8).write(to: notADirectory)
        let before = ProcessInfo.processInfo.environment["TMPDIR"]
        setenv("TMPDIR", notADirectory.path, 1)
        defer {
            if let before { setenv("TMPDIR", before, 1) } else { unsetenv("TMPDIR") }
        }
        let spilled = try audit(staleAfterDays: 1, spillAfter: 7)
        let held = try audit(staleAfterDays: 1, spillAfter: nil)
        XCTAssertEqual(spilled.findings, held.findings)
        XCTAssertEqual(spilled.summary.findingsByRule, held.summary.findingsByRule)
    }
}
