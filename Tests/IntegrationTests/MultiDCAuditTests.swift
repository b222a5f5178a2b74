import Foundation
import TestSupport
import XCTest

/// `trustaudit audit --dcs` end to end against two real Samba DCs (`scripts/testdc-pair`), as a
/// plain domain user: a machine password DC2 did not replicate, the DC that saw a logon, a DC that
/// is down (named in the report, or exit 3 with `--require-all-dcs`), and a DC name that is not one.
final class MultiDCAuditTests: XCTestCase {
    var pair: TestDCPair!
    var output: URL!

    override func setUpWithError() throws {
        pair = try TestDCPair.require()
        output = FileManager.default.temporaryDirectory.appendingPathComponent("multi-dc-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws {
        if let output { try? FileManager.default.removeItem(at: output) }
        guard let pair else { return }
        try? pair.setInboundReplication(true)
        try? pair.start()
        try? pair.sync()
    }

    func audit(_ extra: [String] = ["--dcs", "all"]) throws -> ProcessOutcome {
        try ExecutableRunner.run(
            ExecutableRunner.trustaudit,
            [
                "audit", "--uri", pair.dc1URI, "--ca-file", pair.caFile, "--bind-dn", pair.readerDN,
                "--password-file", pair.readerPasswordFile, "--output", output.path, "--quiet",
            ] + extra)
    }

    func findings() throws -> [String: Any] {
        let data = try Data(contentsOf: output.appendingPathComponent("findings.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func findings(of rule: String) throws -> [[String: Any]] {
        let all = try XCTUnwrap(try findings()["findings"] as? [[String: Any]])
        return all.filter { $0["rule"] as? String == rule }
    }

    func domainControllersRead() throws -> [[String: Any]] {
        let summary = try XCTUnwrap(try findings()["summary"] as? [String: Any])
        return try XCTUnwrap(summary["domainControllersRead"] as? [[String: Any]])
    }

    func testAPasswordDC2DidNotReplicateIsFoundNamingDC2UntilASync() throws {
        try pair.setInboundReplication(false)
        try pair.setMachinePassword(TestDCPair.passwordTestComputer)

        // DC2 records the failed pull in its repsFrom once DC1's change notice reaches it (seconds).
        var outcome = try audit()
        for _ in 0..<15 {
            let partners = try domainControllersRead().last?["inboundPartners"] as? [[String: Any]]
            if partners?.first?["lastResult"] as? Int == 8457 { break }
            Thread.sleep(forTimeInterval: 2)
            outcome = try audit()
        }
        XCTAssertTrue([0, 1].contains(outcome.status), outcome.stderr)
        let notReplicated = try findings(of: "password-not-replicated")
        XCTAssertEqual(notReplicated.map { $0["account"] as? String }, ["MEMBER-PWD01$"], outcome.stdout)
        let details = try XCTUnwrap(notReplicated.first?["details"] as? [String: Any])
        XCTAssertEqual(details["behindDCs"] as? [String], ["dc2.two.test"])
        XCTAssertEqual(details["newestDC"] as? String, "dc1.two.test")
        XCTAssertEqual(details["missedChanges"] as? Int, 1)
        let remediation = try XCTUnwrap(notReplicated.first?["remediation"] as? String)
        XCTAssertTrue(remediation.contains("repadmin /showrepl dc2.two.test"), remediation)

        // DC2's own repsFrom says why: inbound replication is off (8457).
        let dcs = try domainControllersRead()
        XCTAssertEqual(dcs.map { $0["hostName"] as? String }, ["dc1.two.test", "dc2.two.test"])
        XCTAssertEqual(dcs.map { $0["status"] as? String }, ["answered", "answered"])
        XCTAssertEqual(
            dcs.map { $0["inboundReplicationDisabled"] as? Bool }, [false, true],
            "DC2's own NTDS Settings say so, whether or not DC1 has replicated the change yet")
        let dc2Partners = try XCTUnwrap(dcs[1]["inboundPartners"] as? [[String: Any]])
        XCTAssertEqual(dc2Partners.first?["partner"] as? String, "dc1.two.test")
        XCTAssertEqual(dc2Partners.first?["lastResult"] as? Int, 8457)
        XCTAssertEqual(dc2Partners.first?["lastResultName"] as? String, "ERROR_DS_DRA_SINK_DISABLED")
        // replication-failure names DC2 and the result of its failing pull from DC1.
        let failures = try findings(of: "replication-failure").filter { $0["account"] as? String == "dc2.two.test" }
        XCTAssertFalse(failures.isEmpty, "replication-failure for dc2.two.test")
        XCTAssertTrue(
            failures.contains { ($0["message"] as? String ?? "").contains("8457") }
                || failures.contains {
                    ($0["details"] as? [String: Any])?["lastResult"] as? String == "8457 ERROR_DS_DRA_SINK_DISABLED"
                },
            "\(failures)")
        let html = try String(contentsOf: output.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("id=\"domain-controllers\""))
        XCTAssertTrue(html.contains("8457 ERROR_DS_DRA_SINK_DISABLED"), "the HTML names DC2's failing partner")

        try pair.setInboundReplication(true)
        try pair.sync()
        outcome = try audit()
        XCTAssertTrue([0, 1].contains(outcome.status), outcome.stderr)
        XCTAssertEqual(try findings(of: "password-not-replicated").count, 0, "after a sync both DCs agree")
        XCTAssertEqual(try findings(of: "replication-failure").count, 0, "and replicate again")
        let synced = try XCTUnwrap(try domainControllersRead()[1]["inboundPartners"] as? [[String: Any]])
        XCTAssertEqual(synced.first?["lastResult"] as? Int, 0)
    }

    /// Only the DC of `--uri` is read in full; the others give what DCs are compared by. A computer
    /// that only a compared DC has (created there, not yet replicated) is read again from it in full
    /// and audited once, on its own values, not on the absent ones of the comparison read.
    func testAComputerOnlyTheComparedDCHasIsReadThereInFullAndAuditedOnce() throws {
        let name = "ONLY-DC1"
        try pair.setInboundReplication(false)
        try pair.addComputer(name, on: "dc1")
        defer { try? pair.deleteComputer(name, on: "dc1") }

        let outcome = try ExecutableRunner.run(
            ExecutableRunner.trustaudit,
            [
                "audit", "--uri", pair.dc2URI, "--ca-file", pair.caFile, "--bind-dn", pair.readerDN,
                "--password-file", pair.readerPasswordFile, "--output", output.path, "--quiet", "--dcs", "all",
            ])
        XCTAssertTrue([0, 1].contains(outcome.status), outcome.stderr)
        XCTAssertEqual(
            try domainControllersRead().map { $0["status"] as? String }, ["answered", "answered"], outcome.stderr)
        let csv = try String(contentsOf: output.appendingPathComponent("computers.csv"), encoding: .utf8)
        let rows = csv.split(separator: "\r\n").filter { $0.hasPrefix("\(name)$,") }
        XCTAssertEqual(rows.count, 1, "audited once: \(rows)")
        XCTAssertTrue(
            rows.first?.contains("only-dc1.two.test") == true, "its dNSHostName, from DC1's full read: \(rows)")
        let all = try XCTUnwrap(try findings()["findings"] as? [[String: Any]])
        let missingSPN = all.filter { $0["rule"] as? String == "missing-spn" && $0["account"] as? String == "\(name)$" }
        XCTAssertFalse(
            missingSPN.contains { ($0["message"] as? String ?? "").contains("HOST/") },
            "its HOST SPNs were read: \(missingSPN)")
        XCTAssertEqual(all.filter { $0["rule"] as? String == "duplicate-spn" }.count, 0)
    }

    func testTheDCThatSawALogonIsTheTrueLastLogonInComputersCSV() throws {
        try pair.setMachinePassword(TestDCPair.passwordTestComputer)
        try pair.sync()
        try pair.kinitComputer(TestDCPair.passwordTestComputer, on: "dc2")

        let outcome = try audit()
        XCTAssertTrue([0, 1].contains(outcome.status), outcome.stderr)
        let csv = try String(contentsOf: output.appendingPathComponent("computers.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\r\n").map(String.init)
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(Array(header.suffix(2)), ["lastLogon", "lastLogonDC"])
        let row = try XCTUnwrap(lines.first { $0.hasPrefix("MEMBER-PWD01$,") })
        let cells = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(cells.last, "dc2.two.test", row)
        XCTAssertTrue(cells[cells.count - 2].hasPrefix("20"), "an ISO 8601 time: \(row)")
    }

    func testADCThatIsDownIsNamedAndRequireAllDCsStopsBeforeReplacingTheReports() throws {
        try pair.stop("dc2")

        let outcome = try audit()
        XCTAssertTrue([0, 1].contains(outcome.status), outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("domain controller dc2.two.test was not read"), outcome.stderr)
        let dcs = try domainControllersRead()
        XCTAssertEqual(dcs.map { $0["status"] as? String }, ["answered", "not-read"])
        XCTAssertTrue((dcs[1]["reason"] as? String ?? "").contains("Can't contact LDAP server"), "\(dcs[1])")
        let before = try Data(contentsOf: output.appendingPathComponent("findings.json"))

        let required = try audit(["--dcs", "all", "--require-all-dcs"])
        XCTAssertEqual(required.status, 3, required.stderr)
        XCTAssertTrue(required.stderr.contains("dc2.two.test"), required.stderr)
        XCTAssertEqual(
            try Data(contentsOf: output.appendingPathComponent("findings.json")), before,
            "no report is replaced when a required DC is missing")
    }

    func testADCTenMinutesAheadIsADCClockSkewFinding() throws {
        // DC2 under libfaketime (LD_PRELOAD with ldb's DEEPBIND off; see scripts/testdc-pair).
        try pair.stop("dc2")
        try pair.start(clockOffset: "+10m")
        defer {
            try? pair.stop("dc2")
            try? pair.start()
        }
        let outcome = try audit()
        XCTAssertTrue([0, 1].contains(outcome.status), outcome.stderr)
        let skew = try findings(of: "dc-clock-skew")
        XCTAssertEqual(skew.map { $0["account"] as? String }, ["dc2.two.test"], outcome.stderr)
        XCTAssertEqual(skew.first?["severity"] as? String, "high")
        XCTAssertTrue((skew.first?["remediation"] as? String ?? "").contains("w32tm"), "\(skew)")
        XCTAssertTrue(
            outcome.stderr.contains("dc2.two.test is 59") || outcome.stderr.contains("dc2.two.test is 60"),
            "the clock warning on stderr: \(outcome.stderr)")
        let offset = try XCTUnwrap(try domainControllersRead()[1]["clockOffsetSeconds"] as? Double)
        XCTAssertEqual(offset, 600, accuracy: 3)
    }

    func testADCNameThatIsNotOneOfTheDomainsIsRefusedNamingTheDCs() throws {
        let outcome = try audit(["--dcs", "dc1,dc03"])
        XCTAssertEqual(outcome.status, 3, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("'dc03' is not a domain controller of two.test"), outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("dc1.two.test, dc2.two.test"), outcome.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.appendingPathComponent("findings.json").path))
    }
}
