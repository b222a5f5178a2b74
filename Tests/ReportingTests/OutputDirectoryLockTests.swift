import Foundation
import XCTest

@testable import Reporting

/// One run at a time per output directory. flock locks belong to an open file description, so two
/// `acquire`s in this one process conflict just as two processes do.
final class OutputDirectoryLockTests: XCTestCase {
    private var directory: URL!
    private var output: URL { directory.appendingPathComponent("Reports", isDirectory: true) }

    override func setUpWithError() throws {
        directory = try Fixtures.temporaryDirectory()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private var start: Date { Fixtures.generatedAt }

    func testSecondAcquireFailsAtOnceNamingTheHolder() throws {
        let first = try OutputLock.acquire(output, startedAt: start, registry: TemporaryFiles())
        XCTAssertEqual(OutputLock.holder(of: output), OutputLock.Holder(pid: getpid(), since: "2026-11-24T00:00:00Z"))

        let began = Date()
        XCTAssertThrowsError(
            try OutputLock.acquire(output, waitingUpTo: 0, startedAt: start, registry: TemporaryFiles())
        ) { error in
            XCTAssertEqual((error as? ReportError)?.code, .outputLocked)
            let text = "\(error)"
            XCTAssertTrue(text.contains("PID \(getpid()), since 2026-11-24T00:00:00Z"), text)
            XCTAssertTrue(text.contains(output.appendingPathComponent(".trustaudit.lock").path), text)
            XCTAssertEqual((error as? ReportError)?.advice, .waitForTheOtherRun, text)
        }
        XCTAssertLessThan(Date().timeIntervalSince(began), 1, "no wait was asked for")
        first.release()
    }

    func testReleaseDeletesTheLockFileAndTheDirectoryItCreatedIfEmpty() throws {
        let registry = TemporaryFiles()
        let lock = try OutputLock.acquire(output, startedAt: start, registry: registry)
        XCTAssertEqual(registry.registered, [output.appendingPathComponent(".trustaudit.lock").path])
        lock.release()
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.path), "a run that wrote nothing leaves no trace")
        XCTAssertEqual(registry.registered, [])

        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: output.appendingPathComponent("findings.json"))
        try OutputLock.acquire(output, startedAt: start, registry: registry).release()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: output.path), ["findings.json"])
    }

    func testWaitingAcquireGetsTheLockOnceItIsReleased() throws {
        let first = try OutputLock.acquire(output, startedAt: start, registry: TemporaryFiles())
        let holder = UncheckedBox(first)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { holder.value.release() }
        let began = Date()
        let second = try OutputLock.acquire(output, waitingUpTo: 10, startedAt: start, registry: TemporaryFiles())
        let waited = Date().timeIntervalSince(began)
        XCTAssertGreaterThanOrEqual(waited, 0.4)
        XCTAssertLessThan(waited, 5)
        XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent(".trustaudit.lock").path))
        second.release()
    }

    func testWaitThatRunsOutSaysSo() throws {
        let first = try OutputLock.acquire(output, startedAt: start, registry: TemporaryFiles())
        let began = Date()
        XCTAssertThrowsError(
            try OutputLock.acquire(output, waitingUpTo: 0.5, startedAt: start, registry: TemporaryFiles())
        ) { error in
            XCTAssertEqual((error as? ReportError)?.code, .outputLocked)
            XCTAssertTrue("\(error)".contains("waited"), "\(error)")
        }
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(began), 0.4)
        first.release()
    }

    func testOutputThatIsAFileIsUnusable() throws {
        try Data("x".utf8).write(to: output)
        XCTAssertThrowsError(try OutputLock.acquire(output, startedAt: start, registry: TemporaryFiles())) { error in
            XCTAssertEqual((error as? ReportError)?.code, .outputDirectoryUnusable)
        }
        XCTAssertEqual(try String(contentsOf: output, encoding: .utf8), "x")
    }

    func testHolderTextFromTheFileIsKeptInert() {
        XCTAssertEqual(
            OutputLock.Holder.parse("4242 2026-12-01T02:00:00Z\n").description, "PID 4242, since 2026-12-01T02:00:00Z")
        XCTAssertEqual(OutputLock.Holder.parse("4242 \u{1b}[2Jrm -rf /\n"), OutputLock.Holder(pid: 4242, since: nil))
        XCTAssertEqual(OutputLock.Holder.parse("").description, "a run that has not recorded its PID yet")
        XCTAssertEqual(OutputLock.Holder.parse("-1 x"), OutputLock.Holder())
    }
}

private final class UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
