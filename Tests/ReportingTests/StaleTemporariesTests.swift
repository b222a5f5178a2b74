import Foundation
import XCTest

@testable import Reporting

/// What a run killed by SIGKILL leaves behind, and what the next run may delete of it.
final class StaleTemporariesTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try Fixtures.temporaryDirectory()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// The PID of a process that has exited and been reaped, so kill(pid, 0) fails with ESRCH.
    static func deadPID() throws -> pid_t {
        var pid = pid_t()
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
        defer { argv.forEach { free($0) } }
        XCTAssertEqual(posix_spawn(&pid, "/bin/true", nil, nil, argv, nil), 0)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        XCTAssertEqual(kill(pid, 0), -1)
        return pid
    }

    private func plant(_ name: String, in folder: URL? = nil) throws {
        let url = (folder ?? directory).appendingPathComponent(name)
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("sAMAccountName,dn\r\n".utf8).write(to: url)
    }

    private func listing(_ url: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }

    func testNamesAreParsedExactly() {
        XCTAssertEqual(ReportWriter.temporaryName(".findings.json.tmp-4242")?.fileName, "findings.json")
        XCTAssertEqual(ReportWriter.temporaryName(".report.html.old-17")?.pid, 17)
        XCTAssertEqual(ReportWriter.temporaryName(".stale-password.csv.tmp-1")?.fileName, "stale-password.csv")
        for name in [
            "findings.json.tmp-4242", ".findings.json.tmp-", ".findings.json.tmp-04242", ".findings.json.tmp--1",
            ".findings.json.tmp-4242.bak", ".findings.json.tmp-99999999999", ".tmp-4242", ".findings.json.new-4242",
            ".findings.json.tmp-４２",
        ] {
            XCTAssertNil(ReportWriter.temporaryName(name), name)
        }
        XCTAssertTrue(ReportWriter.reportFileNames.isSuperset(of: ["findings.json", "computers.csv", "report.html"]))
        XCTAssertTrue(ReportWriter.reportFileNames.contains("missing-spn.csv"))
    }

    func testRemovesWhatDeadRunsLeftAndNothingElse() throws {
        let dead = try Self.deadPID()
        let live = getpid()
        let history = directory.appendingPathComponent(ReportHistory.directoryName, isDirectory: true)
        let stale = [
            ".findings.json.tmp-\(dead)", ".computers.csv.tmp-\(dead)", ".report.html.old-\(dead)",
            ".duplicate-spn.csv.tmp-\(dead)",
        ]
        for name in stale { try plant(name) }
        try plant(".findings-2026-11-24T000000Z.json.tmp-\(dead)", in: history)
        let kept = [
            ".findings.json.tmp-\(live)", ".x.tmp-\(live)", ".x.tmp-\(dead)", ".notes.txt.tmp-\(dead)",
            "findings.json.tmp-\(dead)", ".findings.json.tmp-0\(dead)", "findings.json", ".trustaudit.lock",
        ]
        for name in kept { try plant(name) }
        try plant(".findings-latest.json.tmp-\(dead)", in: history)
        try plant("findings-2026-11-23T000000Z.json", in: history)
        // A directory with our name is not ours to delete.
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent(".findings.csv.tmp-\(dead)"), withIntermediateDirectories: true)

        let removed = ReportWriter.removeStaleTemporaries(in: directory)

        XCTAssertEqual(
            Set(removed.map(\.lastPathComponent)), Set(stale + [".findings-2026-11-24T000000Z.json.tmp-\(dead)"]))
        XCTAssertEqual(try listing(directory), (kept + [".findings.csv.tmp-\(dead)", "history"]).sorted())
        XCTAssertEqual(
            try listing(history), [".findings-latest.json.tmp-\(dead)", "findings-2026-11-23T000000Z.json"])
    }

    func testMissingDirectoryIsNothingToClean() {
        XCTAssertEqual(ReportWriter.removeStaleTemporaries(in: directory.appendingPathComponent("absent")), [])
    }
}
