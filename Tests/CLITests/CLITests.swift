import Foundation
import TestSupport
import XCTest

/// Runs the built `trustaudit` executable the way a user or cron would, on the LDIF fixtures beside
/// this file, and checks exit codes, stderr and the files left in the output directory.
final class CLITests: XCTestCase {
    var workDirectory: URL!

    override func setUpWithError() throws {
        workDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("trustaudit-cli-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: workDirectory)
    }

    func testVersionAndHelp() throws {
        let version = try run(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertTrue(version.stdout.hasPrefix("trustaudit "), version.stdout)

        let help = try run(["--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("audit"), help.stdout)

        let auditHelp = try run(["audit", "--help"])
        XCTAssertEqual(auditHelp.status, 0)
        for option in ["--ldif", "--inventory", "--now", "--output", "--format", "--config", "--fail-on", "--uri"] {
            XCTAssertTrue(auditHelp.stdout.contains(option), "audit --help does not mention \(option)")
        }
    }

    func testUnknownOptionIsAUsageErrorWithASuggestion() throws {
        let result = try run(["audit", "--ldfi", fixture("small-domain.ldif")])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("--ldfi"), result.stderr)
        XCTAssertTrue(result.stderr.contains("--ldif"), "no suggestion in: \(result.stderr)")
        XCTAssertEqual(result.stdout, "")
    }

    func testAuditWritesAllThreeReportsWithEveryRule() throws {
        let output = workDirectory.appendingPathComponent("Reports")
        let result = try audit(output: output)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("6 computer accounts audited in corp.example"), result.stdout)

        let names = try FileManager.default.contentsOfDirectory(atPath: output.path).sorted()
        for name in ["findings.csv", "findings.json", "report.html"] {
            XCTAssertTrue(names.contains(name), "\(name) not written; the output directory holds \(names)")
        }
        XCTAssertFalse(names.contains { $0.contains(".tmp") }, "temporary files left: \(names)")

        let json = try findingsJSON(output)
        XCTAssertEqual(json["generatedAt"] as? String, "2026-11-24T00:00:00Z")
        XCTAssertEqual(json["domain"] as? String, "corp.example")
        let findings = try XCTUnwrap(json["findings"] as? [[String: Any]])
        func accounts(_ rule: String) -> Set<String> {
            Set(findings.filter { $0["rule"] as? String == rule }.compactMap { $0["account"] as? String })
        }
        XCTAssertEqual(accounts("disabled-account"), ["WKS-0002$"])
        XCTAssertEqual(accounts("stale-password"), ["WKS-0002$", "ALIVE-01$", "PRE-01$"])
        XCTAssertEqual(accounts("duplicate-spn"), ["SRV-SQL01$", "svc-sql"])
        XCTAssertEqual(accounts("missing-spn"), ["PRE-01$", "SRV-SQL01$", "HOSTILE-01$"])
        XCTAssertEqual(accounts("missing-account"), ["GHOST-PC", "=cmd|' /C calc'!A0"])

        let alive = try XCTUnwrap(
            findings.first { $0["rule"] as? String == "stale-password" && $0["account"] as? String == "ALIVE-01$" })
        XCTAssertEqual(alive["severity"] as? String, "high")
        XCTAssertEqual(alive["dn"] as? String, "CN=ALIVE-01,OU=Workstations,DC=corp,DC=example")
        XCTAssertTrue((alive["remediation"] as? String ?? "").contains("Test-ComputerSecureChannel -Repair"))
        let ghost = try XCTUnwrap(findings.first { $0["account"] as? String == "GHOST-PC" })
        XCTAssertTrue(ghost["dn"] is NSNull, "a missing account has a null dn")

        let summary = try XCTUnwrap(json["summary"] as? [String: Any])
        XCTAssertEqual(summary["computers"] as? Int, 6)
        XCTAssertEqual(summary["groupManagedServiceAccounts"] as? Int, 1)
        XCTAssertEqual(summary["findings"] as? Int, findings.count)

        // Hostile values: escaped in HTML, neutralised in CSV.
        let html = try String(contentsOf: output.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertFalse(html.contains("<script>alert(1)</script>"))
        XCTAssertFalse(html.lowercased().contains("<script"))
        let csv = try String(contentsOf: output.appendingPathComponent("findings.csv"), encoding: .utf8)
        XCTAssertTrue(csv.contains("'=cmd|"), "formula not neutralised in findings.csv")
        XCTAssertFalse(csv.contains(",=cmd|"))
    }

    func testSameInputGivesByteIdenticalReports() throws {
        let first = workDirectory.appendingPathComponent("a"), second = workDirectory.appendingPathComponent("b")
        XCTAssertEqual(try audit(output: first).status, 0)
        XCTAssertEqual(try audit(output: second).status, 0)
        for name in ["findings.json", "findings.csv", "report.html"] {
            XCTAssertEqual(
                try Data(contentsOf: first.appendingPathComponent(name)),
                try Data(contentsOf: second.appendingPathComponent(name)), "\(name) differs between two runs")
        }
    }

    func testFailOnThreshold() throws {
        XCTAssertEqual(try audit(extra: ["--fail-on", "high"]).status, 1)
        XCTAssertEqual(try audit(extra: ["--fail-on", "critical"]).status, 0)
        let bad = try audit(extra: ["--fail-on", "severe"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("severe"), bad.stderr)
    }

    func testQuietPrintsNothingOnSuccess() throws {
        let result = try audit(extra: ["--quiet"])
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.stdout, "")
        XCTAssertEqual(result.stderr, "")
    }

    func testFormatSelectsTheReports() throws {
        let output = workDirectory.appendingPathComponent("json-only")
        XCTAssertEqual(try audit(output: output, extra: ["--format", "json"]).status, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: output.path), ["findings.json"])
        XCTAssertEqual(try audit(extra: ["--format", "pdf"]).status, 2)
    }

    func testMalformedLDIFNamesTheLineAndKeepsThePreviousReports() throws {
        let output = workDirectory.appendingPathComponent("Reports")
        XCTAssertEqual(try audit(output: output).status, 0)
        let before = try Data(contentsOf: output.appendingPathComponent("findings.json"))

        let result = try run([
            "audit", "--ldif", fixture("malformed.ldif"), "--output", output.path, "--now", "2026-11-24T00:00:00Z",
        ])
        XCTAssertEqual(result.status, 3)
        XCTAssertTrue(result.stderr.contains("malformed.ldif:24"), result.stderr)
        XCTAssertTrue(result.stderr.lowercased().contains("base64"), result.stderr)
        XCTAssertEqual(try Data(contentsOf: output.appendingPathComponent("findings.json")), before)
    }

    func testMissingFileIsExitCodeThree() throws {
        let result = try run(["audit", "--ldif", workDirectory.appendingPathComponent("nope.ldif").path])
        XCTAssertEqual(result.status, 3)
        XCTAssertTrue(result.stderr.contains("nope.ldif"), result.stderr)
    }

    func testBadConfigurationIsAUsageError() throws {
        let config = workDirectory.appendingPathComponent("trustaudit.json")
        try Data(#"{"stalePasswordDays": 60, "stalePaswordDays": 90}"#.utf8).write(to: config)
        let result = try audit(extra: ["--config", config.path])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("stalePaswordDays"), result.stderr)
        XCTAssertTrue(result.stderr.contains("trustaudit.json"), result.stderr)
    }

    func testConfigurationChangesTheAudit() throws {
        let config = workDirectory.appendingPathComponent("trustaudit.json")
        try Data(#"{"exclude": {"accounts": ["WKS-0002$"]}, "severities": {"disabled-account": "low"}}"#.utf8).write(
            to: config)
        let output = workDirectory.appendingPathComponent("Reports")
        let result = try audit(output: output, extra: ["--config", config.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let findings = try XCTUnwrap(try findingsJSON(output)["findings"] as? [[String: Any]])
        XCTAssertFalse(findings.contains { $0["account"] as? String == "WKS-0002$" }, "excluded account still audited")
    }

    func testUnwritableOutputIsExitCodeFour() throws {
        let blocker = workDirectory.appendingPathComponent("file-not-dir")
        try Data("x".utf8).write(to: blocker)
        let result = try audit(output: blocker)
        XCTAssertEqual(result.status, 4, result.stderr)
        XCTAssertTrue(result.stderr.contains("file-not-dir"), result.stderr)
        XCTAssertEqual(try String(contentsOf: blocker, encoding: .utf8), "x")
    }

    // MARK: - Running the executable

    typealias Outcome = ProcessOutcome

    func audit(output: URL? = nil, extra: [String] = []) throws -> Outcome {
        let output = output ?? workDirectory.appendingPathComponent("Reports")
        return try run(
            [
                "audit", "--ldif", fixture("small-domain.ldif"), "--inventory", fixture("inventory.txt"),
                "--now", "2026-11-24T00:00:00Z", "--output", output.path,
            ] + extra)
    }

    func findingsJSON(_ output: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: output.appendingPathComponent("findings.json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
    }

    func run(_ arguments: [String], environment: [String: String?] = [:]) throws -> Outcome {
        try ExecutableRunner.run(ExecutableRunner.trustaudit, arguments, environment: environment)
    }
}
