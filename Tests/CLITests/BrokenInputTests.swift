import Foundation
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// Broken and hostile input, end to end through the binary: a clear error and exit code, and the
/// previous reports left byte for byte, never a trap, a hang or an empty report that replaces good ones.
final class BrokenInputTests: XCTestCase {
    var workDirectory: URL!
    var output: URL { workDirectory.appendingPathComponent("Reports") }

    override func setUpWithError() throws {
        workDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("trustaudit-broken-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: workDirectory)
    }

    private func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
    }

    private func run(_ arguments: [String]) throws -> ProcessOutcome {
        try ExecutableRunner.run(ExecutableRunner.trustaudit, arguments)
    }

    private func audit(ldif: String, _ extra: [String] = []) throws -> ProcessOutcome {
        try run(["audit", "--ldif", ldif, "--now", "2026-11-24T00:00:00Z", "--output", output.path] + extra)
    }

    private func write(_ name: String, _ text: String) throws -> String {
        let url = workDirectory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    /// Every file in the output directory with its bytes.
    private func snapshot() throws -> [String: Data] {
        var files: [String: Data] = [:]
        let names = try FileManager.default.contentsOfDirectory(atPath: output.path)
        for name in names {
            files[name] = try Data(contentsOf: output.appendingPathComponent(name))
        }
        return files
    }

    private func goodRun() throws -> [String: Data] {
        let first = try audit(ldif: fixture("small-domain.ldif"))
        XCTAssertEqual(first.status, 0, first.stderr)
        return try snapshot()
    }

    func testExportsWithNoEntryAreExitThreeAndReplaceNothing() throws {
        let before = try goodRun()
        let comments =
            "# extended LDIF\n#\n# LDAPv3\n# filter: (objectClass=computer)\n#\n\n# search result\nsearch: 2\nresult: 0 Success\n"
        let cases = [
            ("empty.ldif", ""),
            ("comments.ldif", comments),
            ("cr-only.ldif", "dn: CN=WKS-1,DC=corp,DC=example\robjectClass: computer\rsAMAccountName: WKS-1$\r"),
        ]
        for (name, text) in cases {
            let result = try audit(ldif: try write(name, text))
            XCTAssertEqual(result.status, 3, "\(name): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(name), "\(name): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("unchanged"), "\(name): \(result.stderr)")
            XCTAssertEqual(result.stdout, "", name)
            XCTAssertEqual(try snapshot(), before, "\(name) changed the previous reports")
        }
    }

    func testAnExportWithoutAComputerIsExitThree() throws {
        let before = try goodRun()
        let users = """
            dn: CN=Alice,OU=Staff,DC=corp,DC=example
            objectClass: top
            objectClass: person
            objectClass: user
            sAMAccountName: alice

            dn: OU=Staff,DC=corp,DC=example
            objectClass: organizationalUnit

            """
        let result = try audit(ldif: try write("users.ldif", users))
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stderr.contains("2 entries but no computer account"), result.stderr)
        XCTAssertEqual(try snapshot(), before)
    }

    func testAConfigurationWithATrailingCommaIsAUsageError() throws {
        let config = try write("trustaudit.json", "{\n  \"stalePasswordDays\": 60,\n}\n")
        let result = try audit(ldif: fixture("small-domain.ldif"), ["--config", config])
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertTrue(result.stderr.contains("line 3, column 1"), result.stderr)
        XCTAssertTrue(result.stderr.contains("trailing comma"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.path), "a report was written")
    }

    func testInputFilesThatAreNotRegularOrTooLargeAreRefusedAtOnce() throws {
        let fifo = workDirectory.appendingPathComponent("inventory.fifo").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        // 200 MB without a single byte on disk: refused by its size before anything is read.
        let huge = workDirectory.appendingPathComponent("huge.txt").path
        XCTAssertTrue(FileManager.default.createFile(atPath: huge, contents: nil))
        XCTAssertEqual(truncate(huge, 200_000_000), 0)
        let cases: [([String], String)] = [
            (["--inventory", fifo], "FIFO"),
            (["--inventory", huge], "more than 128 MiB"),
            (["--config", "/dev/zero"], "character device"),
            (["--config", huge], "more than 4 MiB"),
        ]
        for (extra, words) in cases {
            let started = Date()
            let result = try audit(ldif: fixture("small-domain.ldif"), extra)
            XCTAssertEqual(result.status, 2, "\(extra): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(words), "\(extra): \(result.stderr)")
            XCTAssertLessThan(Date().timeIntervalSince(started), 10, "\(extra) took too long")
        }
    }

    func testABaselineOrTemplateThatIsAFIFOIsRefusedInsteadOfHanging() throws {
        let fifo = workDirectory.appendingPathComponent("findings.fifo").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let templates = workDirectory.appendingPathComponent("Templates")
        try FileManager.default.createDirectory(at: templates, withIntermediateDirectories: true)
        XCTAssertEqual(mkfifo(templates.appendingPathComponent("report.html").path, 0o600), 0)
        for extra in [["--baseline", fifo], ["--templates", templates.path]] {
            let started = Date()
            let result = try audit(ldif: fixture("small-domain.ldif"), extra)
            XCTAssertEqual(result.status, 2, "\(extra): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("FIFO"), "\(extra): \(result.stderr)")
            XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        }
    }

    private let computer = """
        dn: CN=WKS-1,OU=Workstations,DC=corp,DC=example
        objectClass: computer
        sAMAccountName: WKS-1$
        userAccountControl: 4096
        dNSHostName: wks-1.corp.example
        servicePrincipalName: HOST/WKS-1
        servicePrincipalName: HOST/wks-1.corp.example
        servicePrincipalName: RestrictedKrbHost/WKS-1
        servicePrincipalName: RestrictedKrbHost/wks-1.corp.example
        """

    func testATimestampBelowTheFILETIMERangeIsNotATimeNeverATrap() throws {
        let text = computer + "\npwdLastSet: -9223372036854775807\nlastLogonTimestamp: -9200000000000000000\n\n"
        let result = try audit(ldif: try write("negative.ldif", text))
        XCTAssertEqual(result.status, 0, result.stderr)
        let data = try Data(contentsOf: output.appendingPathComponent("findings.json"))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let findings = try XCTUnwrap(json["findings"] as? [[String: Any]])
        let stale = try XCTUnwrap(findings.first { $0["rule"] as? String == "stale-password" }, "\(findings)")
        XCTAssertTrue((stale["message"] as? String ?? "").contains("not a valid time"), "\(stale)")
        let summary = try XCTUnwrap(json["summary"] as? [String: Any])
        let ages = try XCTUnwrap(summary["passwordAgeDays"] as? [String: Any], "\(summary)")
        XCTAssertEqual(ages["notATime"] as? Int, 1)
        XCTAssertEqual(ages["never"] as? Int, 0)
    }

    func testTheSameObjectTwiceIsAuditedOnceWithAWarning() throws {
        let once = computer + "\npwdLastSet: 134050000000000000\n\n"
        let result = try audit(ldif: try write("twice.ldif", once + once))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("1 computer accounts audited"), result.stdout)
        XCTAssertTrue(result.stderr.contains("1 object appeared more than once"), result.stderr)
        let csv = try String(contentsOf: output.appendingPathComponent("duplicate-spn.csv"), encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 1, "an object duplicated its own SPNs:\n\(csv)")
    }

    func testNowBeforeFILETIMEBeginsIsAUsageError() throws {
        let result = try run(
            ["audit", "--ldif", fixture("small-domain.ldif"), "--now", "1600-12-31", "--output", output.path])
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertTrue(result.stderr.contains("outside AD's time range"), result.stderr)
    }

    func testTerminalControlsFromTheDirectoryNeverReachTheTerminal() throws {
        // Anyone who can create a computer can choose its DN; the domain shown is derived from it.
        let hostile =
            computer.replacingOccurrences(of: "DC=corp,DC=example", with: "DC=corp\u{1B}[2J\u{07},DC=ex\u{202E}ample")
            + "\npwdLastSet: 134050000000000000\n\n"
        let result = try audit(ldif: try write("hostile.ldif", hostile))
        XCTAssertEqual(result.status, 0, result.stderr)
        for text in [result.stdout, result.stderr] {
            XCTAssertFalse(text.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" || $0 == "\u{202E}" }, text)
        }
        XCTAssertTrue(result.stdout.contains(#"in corp\e[2j\u{0007}.ex\u{202E}ample from"#), result.stdout)
    }

    /// A Global Catalog export (no pwdLastSet) is said to be one on stderr, in findings.json and in the
    /// verdict, and draws no "never" in the password-age chart.
    func testAnExportWithoutPwdLastSetSaysSoInsteadOfChartingNever() throws {
        let text = try String(contentsOfFile: fixture("small-domain.ldif"), encoding: .utf8)
        let withoutPasswords = text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("pwdLastSet:") }.joined(separator: "\n")
        let result = try audit(ldif: try write("gc.ldif", withoutPasswords))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("warning: "), result.stderr)
        XCTAssertTrue(
            result.stderr.contains("The export has no pwdLastSet for any computer: stale-password could not judge"),
            result.stderr)
        let json =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: output.appendingPathComponent("findings.json"))) as? [String: Any]
        let summary = try XCTUnwrap(json?["summary"] as? [String: Any])
        XCTAssertEqual(summary["attributesNotInExport"] as? [String], ["pwdLastSet"])
        let ages = try XCTUnwrap(summary["passwordAgeDays"] as? [String: Any])
        XCTAssertEqual(ages["never"] as? Int, 0)
        XCTAssertGreaterThan(ages["notInExport"] as? Int ?? 0, 0)
        let html = try String(contentsOf: output.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("stale-password could not judge"), "the verdict says it")
    }

    /// An export that holds a tombstone was made with Show Deleted: deleted objects were visible (the
    /// Recycle Bin unknown); one without says "not requested", never "none".
    func testDeletedObjectsAreVisibleOnlyInAnExportThatHoldsThem() throws {
        let live = computer + "\npwdLastSet: 134050000000000000\n\n"
        let tombstone = """
            dn: CN=WKS-9\\0ADEL:5f1c2e8a-93d4-4b7e-a0c1-3e6f9d2b7a41,CN=Deleted Objects,DC=corp,DC=example
            objectClass: computer
            sAMAccountName: WKS-9$
            isDeleted: TRUE
            lastKnownParent: OU=Workstations,DC=corp,DC=example
            whenChanged: 20261115093000.0Z


            """
        func deletedObjects(_ name: String, _ text: String) throws -> [String: Any] {
            let result = try audit(ldif: try write(name, text))
            XCTAssertEqual(result.status, 0, result.stderr)
            let json =
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: output.appendingPathComponent("findings.json"))) as? [String: Any]
            let summary = try XCTUnwrap(json?["summary"] as? [String: Any])
            XCTAssertEqual(summary["computers"] as? Int, 1, "a tombstone is no computer")
            return try XCTUnwrap(summary["deletedObjects"] as? [String: Any])
        }
        XCTAssertEqual(try deletedObjects("live.ldif", live)["status"] as? String, "not-requested")
        let visible = try deletedObjects("with-deleted.ldif", live + tombstone)
        XCTAssertEqual(visible["status"] as? String, "visible")
        XCTAssertTrue(visible["recycleBin"] is NSNull, "an export cannot say")
    }
}
