import Foundation
import XCTest

@testable import Reporting

final class ReportHistoryTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try Fixtures.temporaryDirectory()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func listing(_ url: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }

    func testNamesCarryTheRunTime() throws {
        XCTAssertEqual(ReportHistory.fileName(for: Fixtures.generatedAt), "findings-2026-11-24T000000Z.json")
        XCTAssertEqual(ReportHistory.date(fromFileName: "findings-2026-11-24T000000Z.json"), Fixtures.generatedAt)
        XCTAssertEqual(
            ReportHistory.date(fromFileName: "findings-2026-11-24T133005Z.json"),
            Fixtures.generatedAt.addingTimeInterval(13 * 3600 + 30 * 60 + 5))
        for other in [
            "findings.json", "findings-2026-11-24.json", "findings-2026-13-24T000000Z.json",
            "notes-2026-11-24T000000Z.json",
            "findings-2026-11-24T000000Z.json.bak", ".findings-2026-11-24T000000Z.json.tmp-1",
        ] {
            XCTAssertNil(ReportHistory.date(fromFileName: other), other)
        }
    }

    func testKeepCopiesAndPrunesByTheDateInTheName() throws {
        let findings = directory.appendingPathComponent("findings.json")
        try Data("{\"run\": \"today\"}\n".utf8).write(to: findings)
        let history = directory.appendingPathComponent("history")
        try FileManager.default.createDirectory(at: history, withIntermediateDirectories: true)
        let day: TimeInterval = 86_400
        for (name, age) in [
            ("findings-2026-11-17T000000Z.json", 7.0), ("findings-2026-11-16T235959Z.json", 7.00001),
            ("findings-2026-10-01T000000Z.json", 54.0), ("findings-2026-11-23T000000Z.json", 1.0),
        ] {
            let url = history.appendingPathComponent(name)
            try Data("{}".utf8).write(to: url)
            // mtimes say the opposite of the names: pruning must not look at them.
            let modified = age > 5 ? Date() : Date().addingTimeInterval(-1000 * day)
            try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: url.path)
        }
        try Data("mine".utf8).write(to: history.appendingPathComponent("README.txt"))

        let kept = try ReportHistory.keep(findings, generatedAt: Fixtures.generatedAt, in: directory, keepDays: 7)
        XCTAssertEqual(kept.copy.lastPathComponent, "findings-2026-11-24T000000Z.json")
        XCTAssertEqual(
            kept.removed.map(\.lastPathComponent),
            ["findings-2026-10-01T000000Z.json", "findings-2026-11-16T235959Z.json"])
        XCTAssertEqual(
            try listing(history),
            [
                "README.txt", "findings-2026-11-17T000000Z.json", "findings-2026-11-23T000000Z.json",
                "findings-2026-11-24T000000Z.json",
            ])
        XCTAssertEqual(try Data(contentsOf: kept.copy), try Data(contentsOf: findings))

        // The next run replaces findings.json by rename, as ReportWriter does: the copy keeps today's bytes.
        let next = directory.appendingPathComponent(".findings.json.tmp")
        try Data("{\"run\": \"tomorrow\"}\n".utf8).write(to: next)
        XCTAssertEqual(rename(next.path, findings.path), 0)
        XCTAssertEqual(try String(contentsOf: kept.copy, encoding: .utf8), "{\"run\": \"today\"}\n")
    }

    func testSameSecondReplacesTheCopy() throws {
        let findings = directory.appendingPathComponent("findings.json")
        try Data("one".utf8).write(to: findings)
        try ReportHistory.keep(findings, generatedAt: Fixtures.generatedAt, in: directory, keepDays: 1)
        try FileManager.default.removeItem(at: findings)
        try Data("two".utf8).write(to: findings)
        let kept = try ReportHistory.keep(findings, generatedAt: Fixtures.generatedAt, in: directory, keepDays: 1)
        XCTAssertEqual(try String(contentsOf: kept.copy, encoding: .utf8), "two")
        XCTAssertEqual(try listing(directory.appendingPathComponent("history")), ["findings-2026-11-24T000000Z.json"])
    }

    func testUnusableHistoryIsAReportError() throws {
        let findings = directory.appendingPathComponent("findings.json")
        try Data("{}".utf8).write(to: findings)
        try Data("a file".utf8).write(to: directory.appendingPathComponent("history"))
        XCTAssertThrowsError(
            try ReportHistory.keep(findings, generatedAt: Fixtures.generatedAt, in: directory, keepDays: 3)
        ) { error in
            XCTAssertEqual((error as? ReportError)?.code, .outputDirectoryUnusable, "\(error)")
        }
    }
}
