import Audit
import Foundation
import XCTest

@testable import Reporting

/// The registry a run stopped by a signal empties: every temporary and backup the writer makes is
/// in it while it exists, and out of it once renamed into place or removed.
final class TemporaryFilesTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try Fixtures.temporaryDirectory()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func snapshot() throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            files[name] = try Data(contentsOf: directory.appendingPathComponent(name))
        }
        return files
    }

    private func writer(_ registry: TemporaryFiles) throws -> ReportWriter {
        var writer = try ReportWriter(templatesDirectory: Fixtures.templatesDirectory)
        writer.temporaries = registry
        return writer
    }

    func testStreamedTemporaryIsRegisteredUntilItIsCommitted() throws {
        let registry = TemporaryFiles()
        let writer = try writer(registry)
        let report = try writer.beginStreamedReport(named: ComputersCSV.fileName, in: directory)
        report.write("sAMAccountName,dn\r\nWKS-0001$,\"CN=WKS-0001,OU=Workstations,DC=corp,DC=example\"\r\n")
        let temporary = directory.appendingPathComponent(".computers.csv.tmp-\(getpid())").path
        XCTAssertEqual(registry.registered, [temporary], "registered while the audit streams into it")

        _ = try writer.write(
            Fixtures.result(), formats: Set(ReportFormat.allCases), to: directory, streamed: [report])
        XCTAssertEqual(registry.registered, [], "renamed into place: nothing left for a signal to remove")
        XCTAssertFalse(try snapshot().keys.contains { $0.hasPrefix(".") })
    }

    func testDiscardAndFailedSetsForgetTheirTemporaries() throws {
        let registry = TemporaryFiles()
        let writer = try writer(registry)
        try writer.beginStreamedReport(named: ComputersCSV.fileName, in: directory).discard()
        XCTAssertEqual(registry.registered, [])

        // report.html is a directory, so its rename fails and the set is rolled back.
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("report.html/keep", isDirectory: true),
            withIntermediateDirectories: true)
        let report = try writer.beginStreamedReport(named: ComputersCSV.fileName, in: directory)
        XCTAssertThrowsError(
            try writer.write(
                Fixtures.result(), formats: Set(ReportFormat.allCases), to: directory, streamed: [report]))
        XCTAssertEqual(registry.registered, [], "every temporary and backup of the failed set is forgotten")
    }

    func testRemoveAllForExitDeletesTheTemporariesAndKeepsThePreviousReports() throws {
        let registry = TemporaryFiles()
        let writer = try writer(registry)
        _ = try writer.write(Fixtures.result(), formats: Set(ReportFormat.allCases), to: directory)
        let before = try snapshot()

        let report = try writer.beginStreamedReport(named: ComputersCSV.fileName, in: directory)
        report.write(String(repeating: "WKS-0042$,\"CN=WKS-0042,OU=Workstations,DC=corp,DC=example\"\r\n", count: 5000))
        XCTAssertNotEqual(try snapshot().keys.sorted(), before.keys.sorted(), "the temporary is on disk")

        let removed = registry.removeAllForExit()
        XCTAssertEqual(removed, [directory.appendingPathComponent(".computers.csv.tmp-\(getpid())").path])
        XCTAssertEqual(try snapshot(), before, "the previous reports, byte for byte, and nothing else")
    }

    func testRemoveAllForExitWaitsForACommitInProgress() throws {
        let registry = TemporaryFiles()
        let temporary = directory.appendingPathComponent(".findings.json.tmp-\(getpid())").path
        let final = directory.appendingPathComponent("findings.json").path
        _ = registry.create(temporary) {
            (FileManager.default.createFile(atPath: temporary, contents: Data("{}".utf8)), ())
        }

        let stopped = expectation(description: "removeAllForExit returned")
        let finishedFirst = LockedFlag()
        registry.withCommitLock {
            Thread.detachNewThread {
                registry.removeAllForExit()
                XCTAssertTrue(finishedFirst.value, "removeAllForExit ran in the middle of a commit")
                stopped.fulfill()
            }
            // Give the stopping thread every chance to run now, were it not made to wait.
            Thread.sleep(forTimeInterval: 0.3)
            XCTAssertEqual(rename(temporary, final), 0)
            registry.unregister(temporary)
            finishedFirst.value = true
        }
        wait(for: [stopped], timeout: 10)
        XCTAssertTrue(FileManager.default.fileExists(atPath: final), "a committed report is not removed")
    }

    func testHistoryCopyLeavesNothingRegistered() throws {
        let registry = TemporaryFiles()
        let findings = directory.appendingPathComponent("findings.json")
        try Data(#"{"generatedAt": "2026-11-24T00:00:00Z"}"#.utf8).write(to: findings)
        let kept = try ReportHistory.keep(
            findings, generatedAt: Fixtures.generatedAt, in: directory, keepDays: 30, registry: registry)
        XCTAssertEqual(kept.copy.lastPathComponent, "findings-2026-11-24T000000Z.json")
        XCTAssertEqual(registry.registered, [])
    }
}

/// A Bool shared between the test thread and the one it starts.
private final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = false
    var value: Bool {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
