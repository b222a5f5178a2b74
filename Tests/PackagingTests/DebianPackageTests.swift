import Foundation
import TestSupport
import XCTest

@testable import trustaudit

#if canImport(Glibc)
    import Glibc
#endif

/// `make deb`, lintian on it, and the package installed on this machine with `dpkg -i`, used, and
/// removed with `dpkg -r`.
///
/// It changes the machine (it installs /usr/bin/trustaudit for the length of the test), so it needs
/// root and refuses to replace a trustaudit package that is already installed. Skipped without
/// root, dpkg or lintian, unless CI=true.
final class DebianPackageTests: XCTestCase {
    func dpkgStatus(_ tools: [String: String]) throws -> ProcessOutcome {
        try ExecutableRunner.run(
            URL(fileURLWithPath: tools["dpkg-query"]!), ["-W", "-f=${Status}", "trustaudit"])
    }

    func testBuildLintInstallAuditAndRemove() throws {
        guard geteuid() == 0 else { throw RequiredTool.unavailable("dpkg -i needs root") }
        var tools: [String: String] = [:]
        for (tool, package) in [
            ("dpkg", "dpkg"), ("dpkg-query", "dpkg"), ("dpkg-deb", "dpkg"), ("dpkg-shlibdeps", "dpkg-dev"),
            ("lintian", "lintian"), ("readelf", "binutils"),
        ] {
            tools[tool] = try RequiredTool.path(tool, package: package)
        }
        if try dpkgStatus(tools).stdout.hasSuffix(" installed") {
            throw RequiredTool.unavailable(
                "a trustaudit package is already installed here; not replacing it (dpkg -r trustaudit to let this test run)"
            )
        }
        try ReleaseBuild.require()

        let built = try ReleaseBuild.make(["deb"])
        XCTAssertEqual(built.status, 0, built.stdout + built.stderr)
        guard built.status == 0 else { return }
        let arch = try ExecutableRunner.run(URL(fileURLWithPath: tools["dpkg"]!), ["--print-architecture"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let deb = ReleaseBuild.scratch.appendingPathComponent("deb/trustaudit_\(trustaudit.version)-1_\(arch).deb").path
        XCTAssertTrue(FileManager.default.fileExists(atPath: deb), deb)

        // lintian: no error. Its whole output is printed, for the record.
        let lintian = try ExecutableRunner.run(URL(fileURLWithPath: tools["lintian"]!), [deb])
        print("lintian \(deb):\n\(lintian.stdout)\(lintian.stderr)")
        let errors = lintian.stdout.split(separator: "\n").filter { $0.hasPrefix("E:") }
        XCTAssertEqual(errors, [], "lintian reports errors")

        // Depends: computed from what the binary links, plus the plugin libldap loads at run time;
        // nothing of Swift's own.
        let fields = try ExecutableRunner.run(URL(fileURLWithPath: tools["dpkg-deb"]!), ["-f", deb, "Depends"]).stdout
        for needed in ["libc6", "libldap", "libssl3", "libsasl2-modules-gssapi-mit"] {
            XCTAssertTrue(fields.contains(needed), "Depends lacks \(needed): \(fields)")
        }
        let contents = try ExecutableRunner.run(URL(fileURLWithPath: tools["dpkg-deb"]!), ["-c", deb]).stdout
        for path in [
            "./usr/bin/trustaudit", "./usr/share/man/man1/trustaudit.1.gz", "./usr/share/doc/trustaudit/copyright",
            "./usr/share/doc/trustaudit/changelog.Debian.gz", "./usr/share/trustaudit/Templates/report.html",
        ] {
            XCTAssertTrue(contents.contains(" \(path)\n"), "the package lacks \(path)")
        }

        let dpkg = URL(fileURLWithPath: tools["dpkg"]!)
        let installed = try ExecutableRunner.run(dpkg, ["-i", deb])
        XCTAssertEqual(installed.status, 0, installed.stdout + installed.stderr)
        defer { _ = try? ExecutableRunner.run(dpkg, ["-r", "trustaudit"]) }
        print("dpkg -i \(deb): status \(installed.status)\n\(installed.stdout)\(installed.stderr)")

        // The Swift runtime is in the binary, not looked for in a toolchain.
        let dynamic = try ExecutableRunner.run(URL(fileURLWithPath: tools["readelf"]!), ["-d", "/usr/bin/trustaudit"])
        XCTAssertFalse(dynamic.stdout.contains("libswift"), "links a Swift runtime library:\n\(dynamic.stdout)")
        XCTAssertFalse(dynamic.stdout.contains("libFoundation"), "links Foundation dynamically:\n\(dynamic.stdout)")
        XCTAssertFalse(dynamic.stdout.contains("RUNPATH") || dynamic.stdout.contains("RPATH"), dynamic.stdout)
        XCTAssertTrue(dynamic.stdout.contains("BIND_NOW"), "not linked with -z now:\n\(dynamic.stdout)")

        let work = FileManager.default.temporaryDirectory.appendingPathComponent("trustaudit-deb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let environment = ["PATH=/usr/bin:/bin", "HOME=\(work.path)"]
        let version = try ReleaseBuild.runClean(
            ["/usr/bin/trustaudit", "--version"], in: work, environment: environment)
        XCTAssertEqual(version.stdout, "trustaudit \(trustaudit.version)\n", version.stderr)
        print("$ /usr/bin/trustaudit --version\n\(version.stdout)")

        let sample = "/usr/share/doc/trustaudit/examples/corp.example.ldif"
        let audit = [
            "trustaudit", "audit", "--ldif", sample, "--inventory", "/usr/share/doc/trustaudit/examples/inventory.txt",
            "--now", "2026-11-24T00:00:00Z", "--output", "reports",
        ]
        let audited = try ReleaseBuild.runClean(audit, in: work, environment: environment)
        XCTAssertEqual(audited.status, 0, audited.stderr)
        print("$ \(audit.joined(separator: " "))\n\(audited.stdout)\(audited.stderr)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: work.appendingPathComponent("reports/report.html").path))
        XCTAssertGreaterThan(try ReleaseBuild.findings(in: work.appendingPathComponent("reports")).count, 0)

        // man finds the page by name.
        if let man = try? RequiredTool.path("man", package: "man-db") {
            let found = try ExecutableRunner.run(URL(fileURLWithPath: man), ["-w", "trustaudit"])
            XCTAssertEqual(found.stdout, "/usr/share/man/man1/trustaudit.1.gz\n", found.stderr)
        }
        // The installed units, unchanged, now that the binary they name exists.
        if let analyze = try? RequiredTool.path("systemd-analyze", package: "systemd") {
            let units = ["trustaudit.service", "trustaudit.timer", "trustaudit-failure@.service"].map {
                "/usr/share/doc/trustaudit/examples/\($0)"
            }
            let verified = try ExecutableRunner.run(URL(fileURLWithPath: analyze), ["verify"] + units)
            XCTAssertEqual(verified.status, 0, verified.stderr)
            XCTAssertEqual(verified.stderr, "")
        }

        let removed = try ExecutableRunner.run(dpkg, ["-r", "trustaudit"])
        XCTAssertEqual(removed.status, 0, removed.stdout + removed.stderr)
        print("dpkg -r trustaudit: status \(removed.status)\n\(removed.stdout)\(removed.stderr)")
        for path in ["/usr/bin/trustaudit", "/usr/share/trustaudit", "/usr/share/man/man1/trustaudit.1.gz"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: path), "\(path) is still there after dpkg -r")
        }
        XCTAssertFalse(try dpkgStatus(tools).stdout.hasSuffix(" installed"))
    }
}
