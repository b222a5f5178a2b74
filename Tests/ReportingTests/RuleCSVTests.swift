import Audit
import Directory
import Foundation
import XCTest

@testable import Reporting

final class RuleCSVTests: XCTestCase {
    /// Rows split at CRLF outside quotes, cells split at commas outside quotes (enough for these files).
    private func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var cell = ""
        var quoted = false
        var scalars = Array(text.unicodeScalars)[...]
        while let scalar = scalars.popFirst() {
            if quoted {
                if scalar == "\"" {
                    if scalars.first == "\"" {
                        cell.unicodeScalars.append("\""); scalars.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    cell.unicodeScalars.append(scalar)
                }
            } else if scalar == "\"" {
                quoted = true
            } else if scalar == "," {
                row.append(cell)
                cell = ""
            } else if scalar == "\r" && scalars.first == "\n" {
                scalars.removeFirst()
                row.append(cell)
                rows.append(row)
                row = []
                cell = ""
            } else {
                cell.unicodeScalars.append(scalar)
            }
        }
        XCTAssertTrue(row.isEmpty && cell.isEmpty, "the file ends with CRLF")
        return rows
    }

    private func csv(_ rule: String, _ result: AuditResult, changes: FindingChanges? = nil) throws -> [[String: String]]
    {
        let output = ReportOutput()
        try RuleCSV.write(rule: rule, findings: result.findings, changes: changes, to: output)
        let rows = parse(output.text)
        let header = try XCTUnwrap(rows.first)
        XCTAssertEqual(header, RuleCSV.header(for: rule))
        XCTAssertEqual(header.last, "change", "change is the last column of every rule CSV")
        return rows.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }

    func testEachRuleHasItsOwnColumns() {
        XCTAssertEqual(
            RuleCSV.header(for: "stale-password"),
            [
                "account", "dn", "severity", "story", "pwdLastSet", "passwordAgeDays", "lastLogonTimestamp",
                "lastLogonAgeDays", "message", "fix", "change",
            ])
        XCTAssertEqual(
            RuleCSV.header(for: "missing-spn"),
            ["account", "dn", "severity", "dNSHostName", "operatingSystem", "missingSPNs", "message", "fix", "change"])
        XCTAssertEqual(
            RuleCSV.header(for: "duplicate-spn"),
            ["spn", "account", "dn", "severity", "otherHolders", "otherHolderDNs", "message", "fix", "change"])
        XCTAssertEqual(
            RuleCSV.header(for: "disabled-account"),
            ["account", "dn", "severity", "userAccountControl", "lastLogonTimestamp", "message", "fix", "change"])
        XCTAssertEqual(
            RuleCSV.header(for: "missing-account"),
            ["inventoryName", "inventoryFile", "inventoryLine", "severity", "message", "fix", "change"])
        XCTAssertEqual(
            RuleCSV.header(for: "custom-rule"), ["account", "dn", "severity", "details", "message", "fix", "change"])
        XCTAssertEqual(RuleCSV.fileName(for: "stale-password"), "stale-password.csv")
        XCTAssertNil(RuleCSV.fileName(for: "../etc/passwd"))
        XCTAssertNil(RuleCSV.fileName(for: "computers"), "would replace computers.csv")
        XCTAssertNil(RuleCSV.fileName(for: "findings"))
    }

    func testRowsFromTheRealRules() throws {
        let (result, _) = NightlyFixtures.audit()
        let stale = try csv("stale-password", result)
        let alive = try XCTUnwrap(stale.first { $0["account"] == "ALIVE-01$" })
        XCTAssertEqual(alive["story"], "alive-not-rotating")
        XCTAssertEqual(alive["passwordAgeDays"], "97")
        XCTAssertEqual(alive["lastLogonAgeDays"], "4")
        XCTAssertEqual(alive["pwdLastSet"], "2026-08-19T00:00:00Z")
        XCTAssertEqual(alive["dn"], "CN=ALIVE-01,OU=Workstations,DC=corp,DC=example")
        XCTAssertTrue(alive["fix"]?.contains("Test-ComputerSecureChannel") ?? false)
        XCTAssertEqual(alive["change"], "")
        let pre = try XCTUnwrap(stale.first { $0["account"] == "PRE-01$" })
        XCTAssertEqual(pre["story"], "never-set")
        XCTAssertEqual(pre["pwdLastSet"], "0")
        XCTAssertEqual(pre["passwordAgeDays"], "")

        let missing = try csv("missing-spn", result)
        let sql = try XCTUnwrap(missing.first { $0["account"] == "SRV-SQL01$" })
        XCTAssertEqual(sql["dNSHostName"], "srv-sql01.corp.example")
        XCTAssertEqual(sql["operatingSystem"], "Windows Server 2019 Standard")
        XCTAssertEqual(
            sql["missingSPNs"],
            "HOST/srv-sql01.corp.example|RestrictedKrbHost/SRV-SQL01|RestrictedKrbHost/srv-sql01.corp.example|TERMSRV/SRV-SQL01|TERMSRV/srv-sql01.corp.example"
        )
        XCTAssertTrue(sql["fix"]?.contains("setspn -S HOST/srv-sql01.corp.example SRV-SQL01") ?? false)
        let formula = try XCTUnwrap(
            missing.first { $0["account"] == "'=HYPERLINK(1)$" }, "formula-safe: \(missing.map { $0["account"] })")
        XCTAssertEqual(formula["operatingSystem"], "'-cmd")

        let disabled = try csv("disabled-account", result)
        XCTAssertEqual(disabled.map { $0["account"] }, ["WKS-0002$"])
        XCTAssertEqual(disabled.first?["userAccountControl"], "4098")
        XCTAssertEqual(disabled.first?["lastLogonTimestamp"], "2025-11-09T00:00:00Z")
    }

    func testDuplicateAndMissingAccountRowsAndChanges() throws {
        let result = Fixtures.result()
        let changes = FindingChanges(result: result, baseline: try NightlyFixtures.baseline())
        let duplicate = try csv("duplicate-spn", result, changes: changes)
        XCTAssertEqual(duplicate.count, 1)
        XCTAssertEqual(duplicate.first?["spn"], "HTTP/app.corp.example")
        XCTAssertEqual(duplicate.first?["account"], "'=cmd|' /C calc'!A0")
        XCTAssertEqual(duplicate.first?["otherHolders"], "SRV-APP02$")
        XCTAssertEqual(duplicate.first?["change"], "new")

        let inventory = try csv("missing-account", result, changes: changes)
        XCTAssertEqual(inventory.first?["inventoryName"], "LAB-PC-Ü1")
        XCTAssertEqual(inventory.first?["change"], "new")

        let stale = try csv("stale-password", result, changes: changes)
        XCTAssertEqual(stale.first?["change"], "persisting")
    }

    func testEmptyRuleStillHasItsHeader() throws {
        let output = ReportOutput()
        try RuleCSV.write(rule: "duplicate-spn", findings: [], to: output)
        XCTAssertEqual(output.text, "spn,account,dn,severity,otherHolders,otherHolderDNs,message,fix,change\r\n")
    }

    func testFindingsCSVGainsChangeAsTheLastColumn() throws {
        let result = Fixtures.result()
        let output = ReportOutput()
        try FindingsCSV.write(
            result.findings, changes: FindingChanges(result: result, baseline: try NightlyFixtures.baseline()),
            to: output)
        let rows = parse(output.text)
        XCTAssertEqual(
            rows.first, ["rule", "severity", "account", "dn", "message", "remediation", "details", "change"])
        XCTAssertEqual(rows.dropFirst().map { $0.last }, ["persisting", "persisting", "new", "new", "new"])

        let plain = ReportOutput()
        try FindingsCSV.write(result.findings, to: plain)
        XCTAssertEqual(parse(plain.text).dropFirst().map { $0.last }, ["", "", "", "", ""])
    }

    func testComputersCSVHasOneRowPerComputerWithDerivedFacts() throws {
        let (result, facts) = NightlyFixtures.audit()
        XCTAssertEqual(facts.count, result.summary.computers)
        let output = ReportOutput()
        try ComputersCSV.write(facts, to: output)
        let rows = parse(output.text)
        XCTAssertEqual(rows.first, ComputersCSV.header)
        let table = rows.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(ComputersCSV.header, $0)) }
        XCTAssertEqual(table.count, 9)
        func row(_ name: String) throws -> [String: String] {
            try XCTUnwrap(table.first { $0["sAMAccountName"] == name }, name)
        }

        let healthy = try row("WKS-0001$")
        XCTAssertEqual(healthy["enabled"], "true")
        XCTAssertEqual(healthy["isDomainController"], "false")
        XCTAssertEqual(healthy["excluded"], "false")
        XCTAssertEqual(healthy["pwdLastSet"], "2026-11-14T00:00:00Z")
        XCTAssertEqual(healthy["passwordAgeDays"], "10")
        XCTAssertEqual(healthy["lastLogonTimestamp"], "2026-11-21T00:00:00Z")
        XCTAssertEqual(healthy["lastLogonAgeDays"], "3")
        XCTAssertEqual(healthy["spnCount"], "4")
        XCTAssertEqual(healthy["spnStatus"], "ok")
        XCTAssertEqual(healthy["findings"], "")
        XCTAssertEqual(healthy["dNSHostName"], "wks-0001.corp.example")
        XCTAssertEqual(healthy["operatingSystem"], "Windows 11 Enterprise")

        let disabled = try row("WKS-0002$")
        XCTAssertEqual(disabled["enabled"], "false")
        XCTAssertEqual(disabled["spnStatus"], "not-checked")
        XCTAssertEqual(disabled["findings"], "disabled-account|stale-password")
        XCTAssertEqual(disabled["passwordAgeDays"], "400")

        let stale = try row("ALIVE-01$")
        XCTAssertEqual(stale["findings"], "stale-password")
        XCTAssertEqual(stale["passwordAgeDays"], "97")

        XCTAssertEqual(try row("DC01$")["isDomainController"], "true")
        XCTAssertEqual(try row("DC01$")["spnCount"], "7")
        XCTAssertEqual(
            try row("SRV-SQL01$")["spnStatus"],
            "missing: HOST/srv-sql01.corp.example|RestrictedKrbHost/SRV-SQL01|RestrictedKrbHost/srv-sql01.corp.example|TERMSRV/SRV-SQL01|TERMSRV/srv-sql01.corp.example"
        )
        let pre = try row("PRE-01$")
        XCTAssertEqual(pre["pwdLastSet"], "never")
        XCTAssertEqual(pre["passwordAgeDays"], "")
        XCTAssertEqual(pre["lastLogonTimestamp"], "")
        XCTAssertEqual(pre["findings"], "stale-password", "no machine joined it: missing-spn does not judge it")
        XCTAssertEqual(pre["spnStatus"], "not-checked")
        XCTAssertEqual(try row("NODNS-01$")["spnStatus"], "missing: FQDN forms (no dNSHostName)")
        let lab = try row("LAB-01$")
        XCTAssertEqual(lab["excluded"], "true")
        XCTAssertEqual(lab["spnStatus"], "not-checked")
        XCTAssertEqual(lab["findings"], "", "excluded computers are not judged")
        XCTAssertEqual(lab["passwordAgeDays"], "900", "but their facts are still listed")
        XCTAssertNotNil(table.first { $0["sAMAccountName"] == "'=HYPERLINK(1)$" }, "formula-safe")
    }

    func testTheStreamingSinkWritesTheSameBytes() throws {
        let (_, facts) = NightlyFixtures.audit()
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let writer = try ReportWriter(templatesDirectory: nil)
        let report = try writer.beginStreamedReport(named: ComputersCSV.fileName, in: directory)
        let sink = ComputersCSV.sink(writingTo: report)
        for item in facts { sink(item) }
        _ = try writer.write(Fixtures.result(), formats: [], to: directory, streamed: [report])
        let inMemory = ReportOutput()
        try ComputersCSV.write(facts, to: inMemory)
        XCTAssertEqual(try Data(contentsOf: directory.appendingPathComponent("computers.csv")), Data(inMemory.bytes))
    }
}
