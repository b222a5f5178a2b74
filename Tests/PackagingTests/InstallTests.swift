import Foundation
import TestSupport
import XCTest

@testable import trustaudit

/// `make install` into a temporary DESTDIR, the installed binary run through PATH from another
/// directory, and `make uninstall` taking back exactly what was installed.
///
/// One test, because it builds release (once; ReleaseBuild). Skipped where that cannot be done,
/// unless CI=true.
final class InstallTests: XCTestCase {
    /// What `make install PREFIX=/usr` writes, relative to DESTDIR.
    static let expected = [
        "usr/bin/trustaudit",
        "usr/share/doc/trustaudit/examples/corp.example.ldif",
        "usr/share/doc/trustaudit/examples/inventory.txt",
        "usr/share/doc/trustaudit/examples/trustaudit-failure@.service",
        "usr/share/doc/trustaudit/examples/trustaudit.json",
        "usr/share/doc/trustaudit/examples/trustaudit.service",
        "usr/share/doc/trustaudit/examples/trustaudit.timer",
        "usr/share/man/man1/trustaudit.1",
        "usr/share/trustaudit/Templates/report.html",
        "usr/share/trustaudit/Templates/rule-section.html",
        "usr/share/trustaudit/Templates/styles.html",
    ]

    func testInstallRunFromPATHAndUninstall() throws {
        try ReleaseBuild.require()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent(
            "trustaudit-install-\(UUID().uuidString)", isDirectory: true)
        let destdir = work.appendingPathComponent("destdir", isDirectory: true)
        let elsewhere = work.appendingPathComponent("elsewhere", isDirectory: true)
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }

        let installed = try ReleaseBuild.make(["install", "DESTDIR=\(destdir.path)", "PREFIX=/usr"])
        XCTAssertEqual(installed.status, 0, installed.stdout + installed.stderr)
        XCTAssertEqual(ReleaseBuild.files(under: destdir), Self.expected)
        let usr = destdir.appendingPathComponent("usr")
        let binary = usr.appendingPathComponent("bin/trustaudit")
        let mode = try FileManager.default.attributesOfItem(atPath: binary.path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o755)

        // The copies that name paths name the installed ones.
        let manPage = try String(contentsOf: usr.appendingPathComponent("share/man/man1/trustaudit.1"), encoding: .utf8)
        XCTAssertTrue(manPage.contains(".I /usr/share/trustaudit/Templates/\n"))
        XCTAssertFalse(manPage.contains("/usr/local/share"), "the installed man page still names /usr/local/share")
        let service = try String(
            contentsOf: usr.appendingPathComponent("share/doc/trustaudit/examples/trustaudit.service"), encoding: .utf8)
        XCTAssertTrue(service.contains("\nExecStart=/usr/bin/trustaudit audit "))

        // The installed binary finds the installed templates: mark them, and look for the mark.
        let marker = "<!-- the installed templates -->"
        let template = usr.appendingPathComponent("share/trustaudit/Templates/report.html")
        let handle = try FileHandle(forWritingTo: template)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((marker + "\n").utf8))
        try handle.close()

        // Through PATH, with nothing else in the environment, from a directory with no Templates.
        let environment = ["PATH=\(usr.path)/bin:/usr/bin:/bin", "HOME=\(elsewhere.path)"]
        let version = try ReleaseBuild.runClean(["trustaudit", "--version"], in: elsewhere, environment: environment)
        XCTAssertEqual(version.status, 0, version.stderr)
        XCTAssertEqual(version.stdout, "trustaudit \(trustaudit.version)\n")

        let sample = ReleaseBuild.root.appendingPathComponent("Samples/corp.example.ldif").path
        let arguments = ["audit", "--ldif", sample, "--now", "2026-11-24T00:00:00Z", "--output"]
        let audited = try ReleaseBuild.runClean(
            ["trustaudit"] + arguments + ["reports"], in: elsewhere, environment: environment)
        XCTAssertEqual(audited.status, 0, audited.stderr)
        let reports = elsewhere.appendingPathComponent("reports")
        let html = try String(contentsOf: reports.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains(marker), "report.html was not rendered from share/trustaudit/Templates")

        let inTree = work.appendingPathComponent("in-tree")
        let reference = try ExecutableRunner.run(ExecutableRunner.trustaudit, arguments + [inTree.path])
        XCTAssertEqual(reference.status, 0, reference.stderr)
        let (count, findings) = try ReleaseBuild.findings(in: reports)
        let (expectedCount, expectedFindings) = try ReleaseBuild.findings(in: inTree)
        XCTAssertGreaterThan(expectedCount, 0)
        XCTAssertEqual(count, expectedCount, "the installed binary and the in-tree build disagree")
        XCTAssertEqual(findings as NSArray, expectedFindings as NSArray)

        // The installed example configuration is one the installed binary accepts.
        let configured = try ReleaseBuild.runClean(
            ["trustaudit"] + arguments + [
                "configured", "--config", "\(usr.path)/share/doc/trustaudit/examples/trustaudit.json", "--quiet",
            ], in: elsewhere, environment: environment)
        XCTAssertEqual(configured.status, 0, configured.stderr)

        // Files of others in the same directories stay.
        let others = ["usr/bin/other-tool", "usr/share/man/man1/other.1", "usr/share/doc/other/README"]
        for other in others {
            let url = destdir.appendingPathComponent(other)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data("not TrustAudit's\n".utf8).write(to: url)
        }
        let removed = try ReleaseBuild.make(["uninstall", "DESTDIR=\(destdir.path)", "PREFIX=/usr"])
        XCTAssertEqual(removed.status, 0, removed.stdout + removed.stderr)
        XCTAssertEqual(ReleaseBuild.files(under: destdir), others.sorted())
        for own in ["usr/share/trustaudit", "usr/share/doc/trustaudit"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: destdir.appendingPathComponent(own).path), own)
        }
    }
}
