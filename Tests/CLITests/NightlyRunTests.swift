import Foundation
import TestSupport
import XCTest

/// The nightly run as cron does it: the same output directory every night, compared with the night
/// before, with dated history and a CSV of every computer.
final class NightlyRunTests: XCTestCase {
    var workDirectory: URL!
    var output: URL { workDirectory.appendingPathComponent("Reports", isDirectory: true) }

    override func setUpWithError() throws {
        workDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("trustaudit-nightly-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: workDirectory)
    }

    func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
    }

    func audit(ldif: String? = nil, now: String = "2026-11-24T00:00:00Z", extra: [String] = []) throws
        -> ProcessOutcome
    {
        try ExecutableRunner.run(
            ExecutableRunner.trustaudit,
            [
                "audit", "--ldif", ldif ?? fixture("small-domain.ldif"), "--inventory", fixture("inventory.txt"),
                "--now", now,
                "--output", output.path,
            ] + extra)
    }

    func json(_ name: String = "findings.json", in directory: URL? = nil) throws -> [String: Any] {
        let data = try Data(contentsOf: (directory ?? output).appendingPathComponent(name))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The fixture the next night: HOSTILE-01 got its RestrictedKrbHost SPNs (one problem fixed) and
    /// WKS-0001 lost its FQDN HOST SPN (one new problem).
    func nextNightFixture() throws -> String {
        var text = try String(contentsOfFile: fixture("small-domain.ldif"), encoding: .utf8)
        let fixed = "servicePrincipalName: HOST/hostile-01.corp.example\n"
        XCTAssertTrue(text.contains(fixed))
        text = text.replacingOccurrences(
            of: fixed,
            with: fixed
                + "servicePrincipalName: RestrictedKrbHost/HOSTILE-01\nservicePrincipalName: RestrictedKrbHost/hostile-01.corp.example\n"
        )
        let broken = "servicePrincipalName: HOST/wks-0001.corp.example\n"
        XCTAssertTrue(text.contains(broken))
        text = text.replacingOccurrences(of: broken, with: "")
        let url = workDirectory.appendingPathComponent("next-night.ldif")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func testSecondRunReportsWhatChanged() throws {
        let first = try audit()
        XCTAssertEqual(first.status, 0, first.stderr)
        let firstJSON = try json()
        XCTAssertTrue(firstJSON["baseline"] is NSNull, "a first run has nothing to compare with")
        XCTAssertTrue(firstJSON["resolved"] is NSNull)
        XCTAssertTrue((firstJSON["summary"] as? [String: Any])?["changes"] is NSNull)
        let firstCount = try XCTUnwrap(firstJSON["findings"] as? [[String: Any]]).count

        // A day later: every age in every message moved by a day, yet those findings persist.
        let second = try audit(ldif: try nextNightFixture(), now: "2026-11-25T00:00:00Z")
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertEqual(second.stderr, "")
        XCTAssertTrue(second.stdout.contains("; 1 new, 1 resolved since 2026-11-24T00:00:00Z"), second.stdout)

        let report = try json()
        let baseline = try XCTUnwrap(report["baseline"] as? [String: Any])
        XCTAssertEqual(baseline["generatedAt"] as? String, "2026-11-24T00:00:00Z")
        XCTAssertEqual(baseline["source"] as? String, output.appendingPathComponent("findings.json").path)
        let summary = try XCTUnwrap(report["summary"] as? [String: Any])
        XCTAssertEqual(summary["changes"] as? [String: Int], ["new": 1, "persisting": firstCount - 1, "resolved": 1])

        let findings = try XCTUnwrap(report["findings"] as? [[String: Any]])
        let new = findings.filter { $0["change"] as? String == "new" }
        XCTAssertEqual(new.map { "\($0["rule"] ?? "") \($0["account"] ?? "")" }, ["missing-spn WKS-0001$"])
        XCTAssertEqual(findings.filter { $0["change"] as? String == "persisting" }.count, firstCount - 1)
        let alive = try XCTUnwrap(
            findings.first { $0["account"] as? String == "ALIVE-01$" && $0["rule"] as? String == "stale-password" })
        XCTAssertEqual(
            alive["change"] as? String, "persisting", "its message changed (one day older), its identity did not")

        let resolved = try XCTUnwrap(report["resolved"] as? [[String: Any]])
        XCTAssertEqual(resolved.count, 1)
        XCTAssertEqual(resolved.first?["rule"] as? String, "missing-spn")
        XCTAssertEqual(resolved.first?["account"] as? String, "HOSTILE-01$")
        XCTAssertEqual(resolved.first?["dn"] as? String, "CN=HOSTILE-01,OU=Workstations,DC=corp,DC=example")

        let html = try String(contentsOf: output.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(
            html.contains("Since the run of 2026-11-24T00:00:00Z: 1 new, 1 resolved, \(firstCount - 1) still open."))
        XCTAssertTrue(html.contains("Resolved since 2026-11-24T00:00:00Z"))
        XCTAssertTrue(html.contains("HOSTILE-01$"))
        XCTAssertEqual(html.components(separatedBy: ">NEW</span>").count - 1, 1)

        let csv = try String(contentsOf: output.appendingPathComponent("findings.csv"), encoding: .utf8)
        XCTAssertTrue(csv.hasPrefix("rule,severity,account,dn,message,remediation,details,change\r\n"))
        XCTAssertEqual(csv.components(separatedBy: ",new\r\n").count - 1, 1)
        let missingSPN = try String(contentsOf: output.appendingPathComponent("missing-spn.csv"), encoding: .utf8)
        XCTAssertTrue(missingSPN.contains("WKS-0001$"))

        // The third night, unchanged: nothing new, nothing resolved.
        let third = try audit(ldif: try nextNightFixture(), now: "2026-11-26T00:00:00Z")
        XCTAssertEqual(third.status, 0, third.stderr)
        XCTAssertEqual(
            (try json()["summary"] as? [String: Any])?["changes"] as? [String: Int],
            ["new": 0, "persisting": firstCount, "resolved": 0])
    }

    func testExplicitBaseline() throws {
        XCTAssertEqual(try audit().status, 0)
        let saved = workDirectory.appendingPathComponent("last-week.json")
        try FileManager.default.copyItem(at: output.appendingPathComponent("findings.json"), to: saved)
        let elsewhere = workDirectory.appendingPathComponent("Other")
        let result = try ExecutableRunner.run(
            ExecutableRunner.trustaudit,
            [
                "audit", "--ldif", try nextNightFixture(), "--inventory", fixture("inventory.txt"), "--now",
                "2026-11-25T00:00:00Z",
                "--output", elsewhere.path, "--baseline", saved.path, "--format", "json",
            ])
        XCTAssertEqual(result.status, 0, result.stderr)
        let report = try json(in: elsewhere)
        XCTAssertEqual((report["baseline"] as? [String: Any])?["source"] as? String, saved.path)
        XCTAssertEqual(
            (report["summary"] as? [String: Any])?["changes"] as? [String: Int],
            ["new": 1, "persisting": 10, "resolved": 1])
    }

    func testBadBaselines() throws {
        let missing = try audit(extra: ["--baseline", workDirectory.appendingPathComponent("nope.json").path])
        XCTAssertEqual(missing.status, 2, "an explicit baseline must exist")
        XCTAssertTrue(missing.stderr.contains("nope.json"), missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.path), "nothing written")

        let garbage = workDirectory.appendingPathComponent("garbage.json")
        try Data("{\"name\": \"not a report\"}".utf8).write(to: garbage)
        let wrong = try audit(extra: ["--baseline", garbage.path])
        XCTAssertEqual(wrong.status, 2)
        XCTAssertTrue(
            wrong.stderr.contains("garbage.json") && wrong.stderr.contains("not a TrustAudit findings.json"),
            wrong.stderr)

        // Cut short in its findings: the header passes the check before the read, and the findings,
        // read after it, fail it; still exit 2, and the read's reports are not kept.
        XCTAssertEqual(try audit().status, 0)
        let whole = try String(contentsOf: output.appendingPathComponent("findings.json"), encoding: .utf8)
        let findingsStart = try XCTUnwrap(whole.range(of: "  \"findings\": [\n    {"))
        let cut = workDirectory.appendingPathComponent("cut.json")
        try Data(whole[..<whole.index(findingsStart.upperBound, offsetBy: 40)].utf8).write(to: cut)
        try FileManager.default.removeItem(at: output)
        let cutShort = try audit(extra: ["--baseline", cut.path])
        XCTAssertEqual(cutShort.status, 2, cutShort.stderr)
        XCTAssertTrue(cutShort.stderr.contains("cut.json"), cutShort.stderr)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []
        XCTAssertFalse(left.contains { $0.hasSuffix(".csv") || $0.hasSuffix(".json") }, "\(left)")

        // A damaged previous findings.json must not stop every night after it: warn, and replace it.
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        try Data("{\"schemaVersion\": 1, \"gen".utf8).write(to: output.appendingPathComponent("findings.json"))
        let damaged = try audit(extra: ["--quiet"])
        XCTAssertEqual(damaged.status, 0, damaged.stderr)
        XCTAssertTrue(damaged.stderr.contains("warning: not comparing with the previous run"), damaged.stderr)
        XCTAssertTrue(try json()["baseline"] is NSNull)
        XCTAssertEqual(try audit(extra: ["--quiet"]).stderr, "", "the next night compares again")

        // The same when only the findings are damaged, which the check before the read cannot see.
        try Data(whole[..<whole.index(findingsStart.upperBound, offsetBy: 40)].utf8).write(
            to: output.appendingPathComponent("findings.json"))
        let damagedFindings = try audit(extra: ["--quiet"])
        XCTAssertEqual(damagedFindings.status, 0, damagedFindings.stderr)
        XCTAssertTrue(
            damagedFindings.stderr.contains("warning: not comparing with the previous run"), damagedFindings.stderr)
        XCTAssertTrue(try json()["baseline"] is NSNull)
    }

    func testKeepMakesDatedCopiesAndPrunesByName() throws {
        let history = output.appendingPathComponent("history")
        XCTAssertEqual(try audit(now: "2026-11-01T00:00:00Z").status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: history.path), "no history unless --keep is given")

        XCTAssertEqual(try audit(now: "2026-11-12T06:30:00Z", extra: ["--keep", "7"]).status, 0)
        XCTAssertEqual(try audit(now: "2026-11-18T00:00:00Z", extra: ["--keep", "7"]).status, 0)
        try Data("notes".utf8).write(to: history.appendingPathComponent("notes.txt"))
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: history.path).sorted(),
            ["findings-2026-11-12T063000Z.json", "findings-2026-11-18T000000Z.json", "notes.txt"])
        XCTAssertEqual(
            try json("findings-2026-11-12T063000Z.json", in: history)["generatedAt"] as? String, "2026-11-12T06:30:00Z")

        let last = try audit(now: "2026-11-24T00:00:00Z", extra: ["--keep", "7"])
        XCTAssertEqual(last.status, 0, last.stderr)
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: history.path).sorted(),
            ["findings-2026-11-18T000000Z.json", "findings-2026-11-24T000000Z.json", "notes.txt"],
            "the 11-12 copy is more than 7 days older than this run; files of other names are left alone")
        XCTAssertEqual(
            try Data(contentsOf: history.appendingPathComponent("findings-2026-11-24T000000Z.json")),
            try Data(contentsOf: output.appendingPathComponent("findings.json")))
        XCTAssertEqual(
            try json("findings-2026-11-18T000000Z.json", in: history)["generatedAt"] as? String, "2026-11-18T00:00:00Z")

        XCTAssertEqual(try audit(extra: ["--keep", "0"]).status, 2)
        XCTAssertEqual(try audit(extra: ["--keep", "week"]).status, 2)
        let csvOnly = try audit(extra: ["--keep", "7", "--format", "csv"])
        XCTAssertEqual(csvOnly.status, 2)
        XCTAssertTrue(csvOnly.stderr.contains("json"), csvOnly.stderr)
    }

    /// With --keep, report.html charts the kept nights from the second night on; without it, never.
    func testKeptNightsAreChartedInTheReport() throws {
        let report = output.appendingPathComponent("report.html")
        XCTAssertEqual(try audit(now: "2026-11-22T00:00:00Z", extra: ["--keep", "30"]).status, 0)
        XCTAssertFalse(try String(contentsOf: report, encoding: .utf8).contains("Findings per night"), "one night")
        XCTAssertEqual(try audit(now: "2026-11-23T00:00:00Z", extra: ["--keep", "30"]).status, 0)
        let third = try audit(ldif: try nextNightFixture(), now: "2026-11-24T00:00:00Z", extra: ["--keep", "30"])
        XCTAssertEqual(third.status, 0, third.stderr)
        let html = try String(contentsOf: report, encoding: .utf8)
        XCTAssertTrue(html.contains("The last 3 runs kept in the history, from 2026-11-22T00:00:00Z"), html)
        let totals = try (["22", "23", "24"]).map { day -> Int in
            let copy = try json("findings-2026-11-\(day)T000000Z.json", in: output.appendingPathComponent("history"))
            return try XCTUnwrap((copy["summary"] as? [String: Any])?["findings"] as? Int)
        }
        for (day, total) in zip(["22", "23", "24"], totals) {
            let row = try XCTUnwrap(
                html.range(of: "2026-11-\(day)T00:00:00Z</th>[^\n]*</tr>", options: .regularExpression), day)
            XCTAssertTrue(
                html[row].hasSuffix(">\(total)</td></tr>"), "night \(day) should total \(total): \(html[row])")
        }
        // The mail-less run without --keep keeps the chart out, even with a history on disk.
        XCTAssertEqual(try audit(now: "2026-11-25T00:00:00Z").status, 0)
        XCTAssertFalse(try String(contentsOf: report, encoding: .utf8).contains("Findings per night"))
    }

    /// Every findings.json the command writes matches docs/findings.schema.json: the demo's, a first
    /// night, a night compared with it (new, persisting, resolved), its history copies, and a run
    /// against an explicit --baseline.
    func testEveryFindingsJSONItWritesMatchesTheSchema() throws {
        let samples = ExecutableRunner.repositoryRoot.appendingPathComponent("Samples")
        let demo = workDirectory.appendingPathComponent("demo")
        let demoRun = try ExecutableRunner.run(
            ExecutableRunner.trustaudit,
            [
                "audit", "--ldif", samples.appendingPathComponent("corp.example.ldif").path, "--inventory",
                samples.appendingPathComponent("inventory.txt").path, "--now", "2026-11-24T00:00:00Z", "--output",
                demo.path,
            ])
        XCTAssertEqual(demoRun.status, 0, demoRun.stderr)
        XCTAssertEqual(try audit(now: "2026-11-23T00:00:00Z", extra: ["--keep", "7"]).status, 0)
        let second = try audit(ldif: try nextNightFixture(), extra: ["--keep", "7"])
        XCTAssertEqual(second.status, 0, second.stderr)
        let compared = try json()
        XCTAssertNotNil(compared["baseline"] as? [String: Any], "the second night is compared with the first")
        XCTAssertFalse((compared["resolved"] as? [Any] ?? []).isEmpty, "and something was resolved")
        let explicit = workDirectory.appendingPathComponent("explicit")
        let baselineRun = try ExecutableRunner.run(
            ExecutableRunner.trustaudit,
            [
                "audit", "--ldif", fixture("small-domain.ldif"), "--now", "2026-11-25T00:00:00Z", "--output",
                explicit.path, "--baseline", output.appendingPathComponent("findings.json").path,
            ])
        XCTAssertEqual(baselineRun.status, 0, baselineRun.stderr)
        let history = output.appendingPathComponent("history")
        let copies = try FileManager.default.contentsOfDirectory(atPath: history.path).sorted().map {
            history.appendingPathComponent($0)
        }
        XCTAssertEqual(copies.count, 2)
        try FindingsSchema.assertValid(
            [
                demo.appendingPathComponent("findings.json"), output.appendingPathComponent("findings.json"),
                explicit.appendingPathComponent("findings.json"),
            ] + copies)
    }

    func testComputersCSVHasARowPerComputerAndEveryRuleHasACSV() throws {
        let result = try audit(extra: ["--format", "csv"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let names = try FileManager.default.contentsOfDirectory(atPath: output.path).sorted()
        XCTAssertEqual(
            names,
            [
                "computers.csv", "conflict-object.csv", "deleted-account.csv", "disabled-account.csv",
                "duplicate-hostname.csv", "duplicate-spn.csv", "findings.csv", "missing-account.csv", "missing-spn.csv",
                "stale-password.csv",
            ])
        XCTAssertTrue(result.stdout.contains("computers.csv"), result.stdout)

        let computers = try String(contentsOf: output.appendingPathComponent("computers.csv"), encoding: .utf8)
        let rows = computers.components(separatedBy: "\r\n").dropLast()
        XCTAssertEqual(
            rows.first,
            "sAMAccountName,dn,dNSHostName,operatingSystem,enabled,isDomainController,excluded,pwdLastSet,passwordAgeDays,lastLogonTimestamp,lastLogonAgeDays,spnCount,spnStatus,findings"
        )
        XCTAssertEqual(rows.count - 1, 6, "one row per computer account (not the gMSA or the user)")
        XCTAssertTrue(
            rows.contains { $0.hasPrefix("WKS-0002$,") && $0.contains(",false,false,false,") }, "disabled: \(rows)")
        XCTAssertTrue(
            rows.contains { $0.hasPrefix("HOSTILE-01$,") && $0.contains("<script>alert(1)</script>") },
            "text stays text in a CSV")

        // Without an inventory missing-account does not run, and gets no CSV.
        let bare = workDirectory.appendingPathComponent("bare")
        let noInventory = try ExecutableRunner.run(
            ExecutableRunner.trustaudit,
            [
                "audit", "--ldif", fixture("small-domain.ldif"), "--now", "2026-11-24T00:00:00Z", "--output", bare.path,
                "--format", "csv",
            ])
        XCTAssertEqual(noInventory.status, 0, noInventory.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: bare.appendingPathComponent("missing-account.csv").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: bare.appendingPathComponent("computers.csv").path))
    }

    func testFailedReadLeavesNoStreamedTemporary() throws {
        XCTAssertEqual(try audit().status, 0)
        let result = try audit(ldif: fixture("malformed.ldif"))
        XCTAssertEqual(result.status, 3)
        let names = try FileManager.default.contentsOfDirectory(atPath: output.path)
        XCTAssertFalse(names.contains { $0.hasPrefix(".") }, "temporaries left: \(names)")
    }
}
