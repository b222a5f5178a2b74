import Foundation
import TestSupport
import XCTest

/// `make demo-dc` prints the command that audits the demo DC live; pasted into a shell as printed,
/// it must work (it once sourced an env.sh that nothing wrote).
final class DemoDCTests: XCTestCase {
    func testTheCommandMakeDemoDCPrintsWorksWhenPasted() throws {
        let dc = try TestConfiguration.requireDC()
        let directory = try XCTUnwrap(dc.directory, "make demo-dc needs a scripts/testdc DC")
        let reports = FileManager.default.temporaryDirectory.appendingPathComponent(
            "trustaudit-demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: reports) }

        // SWIFT=true: the tests already built the binary; the rest of the recipe runs as written.
        let make = try ExecutableRunner.run(
            URL(fileURLWithPath: "/usr/bin/make"),
            [
                "-s", "-C", ExecutableRunner.repositoryRoot.path, "demo-dc", "SWIFT=true",
                "DEMO_DC_DIR=\(directory)", "DEMO_REPORTS=\(reports.path)/",
            ])
        XCTAssertEqual(make.status, 0, make.stderr)
        let printed = make.stdout.components(separatedBy: "Audit it live:").last ?? ""
        let command = printed.replacingOccurrences(of: "\\\n", with: " ").trimmingCharacters(
            in: .whitespacesAndNewlines)
        XCTAssertTrue(command.contains("trustaudit audit --uri ldaps://"), make.stdout)
        XCTAssertFalse(command.contains("$"), "the printed command still holds a variable: \(command)")

        let pasted = try ExecutableRunner.run(URL(fileURLWithPath: "/bin/sh"), ["-c", command])
        XCTAssertEqual(pasted.status, 0, "\(command)\n\(pasted.stderr)")
        XCTAssertTrue(pasted.stdout.contains("computer accounts audited in corp.test"), pasted.stdout)
        for name in ["findings.json", "findings.csv", "report.html", "missing-account.csv"] {
            XCTAssertTrue(
                FileManager.default.fileExists(atPath: reports.appendingPathComponent(name).path), "\(name) missing")
        }
    }
}
