import Foundation
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs that are stopped, killed or overlap, with real processes: an audit is held in the middle of
/// its read by giving it the LDIF through a FIFO this test keeps open, so computers.csv's temporary
/// is on disk while the test signals it or starts a second run into the same output directory.
final class OutputLockTests: XCTestCase {
    var workDirectory: URL!
    var output: URL { workDirectory.appendingPathComponent("Reports", isDirectory: true) }
    static let now = "2026-11-24T00:00:00Z"

    override func setUpWithError() throws {
        workDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("trustaudit-lock-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: workDirectory)
    }

    func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
    }

    func arguments(ldif: String, extra: [String] = []) -> [String] {
        [
            "audit", "--ldif", ldif, "--inventory", fixture("inventory.txt"), "--now", Self.now, "--output",
            output.path,
        ] + extra
    }

    func audit(extra: [String] = []) throws -> ProcessOutcome {
        try ExecutableRunner.run(
            ExecutableRunner.trustaudit, arguments(ldif: fixture("small-domain.ldif"), extra: extra))
    }

    /// Every file in the output directory (hidden ones included) and its bytes; history/ by listing.
    func snapshot() throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: output.path) {
            let url = output.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
            files[name] =
                isDirectory.boolValue
                ? Data(try FileManager.default.contentsOfDirectory(atPath: url.path).sorted().joined().utf8)
                : try Data(contentsOf: url)
        }
        return files
    }

    /// An audit reading small-domain.ldif through a FIFO: it has read the first entries and waits in
    /// read(2) for the rest, until `finish()` writes it.
    final class HeldRun {
        let running: ExecutableRunner.Running
        let fifo: URL
        private var descriptor: Int32
        private let rest: Data
        /// Reaped: its PID may belong to another process by now, so it is never signalled again.
        private var reaped = false

        init(test: OutputLockTests, extra: [String] = []) throws {
            fifo = test.workDirectory.appendingPathComponent("held-\(UUID().uuidString).ldif")
            XCTAssertEqual(mkfifo(fifo.path, 0o600), 0)
            // O_RDWR never blocks on a FIFO (Linux), and keeps a writer open so the run sees no EOF;
            // close-on-exec, or the run would inherit that writer and never see the end either.
            let descriptor = open(fifo.path, O_RDWR | O_CLOEXEC)
            XCTAssertGreaterThanOrEqual(descriptor, 0)
            self.descriptor = descriptor
            let ldif = try Data(contentsOf: URL(fileURLWithPath: test.fixture("small-domain.ldif")))
            // Cut inside the second computer entry: the reader has one complete entry and waits for more.
            let cut = 1500
            rest = ldif.subdata(in: cut..<ldif.count)
            ldif.subdata(in: 0..<cut).withUnsafeBytes { _ = write(descriptor, $0.baseAddress, $0.count) }
            running = try ExecutableRunner.start(
                ExecutableRunner.trustaudit, test.arguments(ldif: fifo.path, extra: extra))
        }

        deinit {
            if descriptor >= 0 { close(descriptor) }
            if !reaped {
                kill(running.pid, SIGKILL)
                running.waitUntilExit()
            }
        }

        /// Waits for the run to end and reaps it.
        func outcome() throws -> ProcessOutcome {
            reaped = true
            return try running.outcome()
        }

        /// The hidden temporary computers.csv is streamed to while the audit runs.
        func computersTemporary(in output: URL) -> URL {
            output.appendingPathComponent(".computers.csv.tmp-\(running.pid)")
        }

        /// Waits until the run is inside its read, holding the lock with computers.csv's temporary
        /// on disk.
        func waitUntilReading(into output: URL) throws {
            let deadline = Date().addingTimeInterval(30)
            while !FileManager.default.fileExists(atPath: computersTemporary(in: output).path) {
                guard Date() < deadline else {
                    kill(running.pid, SIGKILL)
                    let outcome = try self.outcome()
                    XCTFail("the run never started its read: status \(outcome.status), \(outcome.stderr)")
                    throw CocoaError(.fileNoSuchFile)
                }
                usleep(20_000)
            }
            // The temporary is created just before the source is opened; give the read a moment.
            usleep(200_000)
        }

        /// Writes the rest of the LDIF and closes the FIFO, so the run reads to the end and finishes.
        func finish() throws -> ProcessOutcome {
            rest.withUnsafeBytes { _ = write(descriptor, $0.baseAddress, $0.count) }
            close(descriptor)
            descriptor = -1
            return try outcome()
        }
    }

    func testStopSignalsRemoveTheTemporariesAndKeepThePreviousReports() throws {
        XCTAssertEqual(try audit().status, 0)
        let before = try snapshot()
        for (stopping, status) in [(SIGTERM, Int32(143)), (SIGINT, 130), (SIGHUP, 129)] {
            let held = try HeldRun(test: self)
            try held.waitUntilReading(into: output)
            XCTAssertTrue(
                FileManager.default.fileExists(atPath: output.appendingPathComponent(".trustaudit.lock").path))
            XCTAssertEqual(kill(held.running.pid, stopping), 0)
            let outcome = try held.outcome()
            XCTAssertEqual(outcome.status, status, "signal \(stopping): \(outcome.stderr)")
            XCTAssertTrue(outcome.stderr.contains("1 unfinished report file removed"), outcome.stderr)
            let names = try FileManager.default.contentsOfDirectory(atPath: output.path)
            XCTAssertFalse(names.contains { $0.contains(".tmp-") || $0.contains(".old-") }, "left behind: \(names)")
            XCTAssertEqual(try snapshot(), before, "signal \(stopping): the previous reports, byte for byte")
        }
    }

    func testNextRunRemovesWhatADeadRunLeftAndNothingElse() throws {
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        // A run that was SIGKILLed: its PID is gone (reaped), its temporaries are not.
        let dead = try ExecutableRunner.start(URL(fileURLWithPath: "/bin/true"), [])
        _ = try dead.outcome()
        let live = getpid()
        let stale = [
            ".findings.json.tmp-\(dead.pid)", ".computers.csv.tmp-\(dead.pid)", ".report.html.old-\(dead.pid)",
        ]
        let kept = [".x.tmp-\(live)", ".findings.json.tmp-\(live)", ".x.tmp-\(dead.pid)", "notes.txt"]
        for name in stale + kept {
            try Data("WKS-0001$,CN=WKS-0001,OU=Workstations,DC=corp,DC=example\r\n".utf8).write(
                to: output.appendingPathComponent(name))
        }

        let result = try audit()
        XCTAssertEqual(result.status, 0, result.stderr)
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: output.path))
        for name in stale { XCTAssertFalse(names.contains(name), "\(name) of a dead run was not removed") }
        for name in kept { XCTAssertTrue(names.contains(name), "\(name) was removed") }
        XCTAssertTrue(names.contains("findings.json"))
        XCTAssertFalse(names.contains(".trustaudit.lock"), "a finished run leaves no lock file")
    }

    func testSecondRunExitsFourAtOnceNamingTheFirst() throws {
        let held = try HeldRun(test: self)
        try held.waitUntilReading(into: output)

        let began = Date()
        let second = try audit()
        XCTAssertEqual(second.status, 4, second.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(began), 10, "without --wait-lock the second run does not wait")
        XCTAssertTrue(second.stderr.contains("PID \(held.running.pid), since "), second.stderr)
        XCTAssertTrue(second.stderr.contains(output.appendingPathComponent(".trustaudit.lock").path), second.stderr)
        XCTAssertTrue(second.stderr.contains("--wait-lock"), second.stderr)
        XCTAssertEqual(second.stdout, "")
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: held.computersTemporary(in: output).path),
            "the second run does not touch the first's files")

        let first = try held.finish()
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("6 computer accounts audited"), first.stdout)
    }

    func testWaitLockWaitsForTheFirstRunAndThenSucceeds() throws {
        let held = try HeldRun(test: self)
        try held.waitUntilReading(into: output)

        let began = Date()
        let second = try ExecutableRunner.start(
            ExecutableRunner.trustaudit, arguments(ldif: fixture("small-domain.ldif"), extra: ["--wait-lock", "30"]))
        Thread.sleep(forTimeInterval: 1.5)
        XCTAssertEqual(OutputLockTests.lockHolder(output), held.running.pid, "the first run still holds the lock")
        let first = try held.finish()
        XCTAssertEqual(first.status, 0, first.stderr)

        let outcome = try second.outcome()
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertEqual(outcome.stderr, "")
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(began), 1.5, "it waited for the first run")
        XCTAssertTrue(outcome.stdout.contains("6 computer accounts audited"), outcome.stdout)
        // The second run compared with the first's findings.json: it ran after it, not beside it.
        XCTAssertTrue(outcome.stdout.contains("0 new, 0 resolved since 2026-11-24T00:00:00Z"), outcome.stdout)
        let names = try FileManager.default.contentsOfDirectory(atPath: output.path)
        XCTAssertFalse(names.contains { $0.hasPrefix(".") }, "left behind: \(names)")
    }

    func testLockIsReleasedWhenTheFirstRunIsKilled() throws {
        let held = try HeldRun(test: self)
        try held.waitUntilReading(into: output)
        XCTAssertEqual(kill(held.running.pid, SIGKILL), 0)
        XCTAssertEqual(try held.outcome().status, 137)
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: held.computersTemporary(in: output).path),
            "SIGKILL cannot be caught: the temporary stays for the next run to remove")

        let next = try audit()
        XCTAssertEqual(next.status, 0, next.stderr)
        let names = try FileManager.default.contentsOfDirectory(atPath: output.path)
        XCTAssertFalse(names.contains { $0.hasPrefix(".") }, "left behind: \(names)")
        XCTAssertTrue(names.contains("computers.csv"))
    }

    func testWaitLockIsBoundedAndDocumented() throws {
        for bad in ["86401", "-1", "soon", "1.5"] {
            let result = try audit(extra: ["--wait-lock", bad])
            XCTAssertEqual(result.status, 2, bad)
            XCTAssertTrue(result.stderr.contains("--wait-lock '\(bad)'"), result.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.path), "a usage error touches no output")
        let help = try ExecutableRunner.run(ExecutableRunner.trustaudit, ["audit", "--help"])
        XCTAssertTrue(help.stdout.contains("--wait-lock SECONDS"), help.stdout)
        XCTAssertTrue(help.stdout.contains("exit 4"), help.stdout)
    }

    /// The PID in the output directory's lock file, if any.
    static func lockHolder(_ output: URL) -> pid_t? {
        guard let text = try? String(contentsOf: output.appendingPathComponent(".trustaudit.lock"), encoding: .utf8)
        else { return nil }
        return text.split(separator: " ").first.flatMap { pid_t($0) }
    }
}
