import Foundation
import XCTest

@testable import Audit
@testable import Directory

/// The bundled demo export (`Samples/`, written by trustaudit-sample): it must parse, keep its
/// promises about form, and produce the findings `Samples/README.md` lists.
final class SampleExportTests: XCTestCase {
    private static let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Samples")
    private static let exportPath = samples.appendingPathComponent("corp.example.ldif").path
    private static let inventoryPath = samples.appendingPathComponent("inventory.txt").path

    private func audit() throws -> AuditResult {
        let inventory = try Inventory.load(path: Self.inventoryPath)
        var runner = AuditRunner(
            configuration: AuditConfiguration(), now: Fixture.now, source: "corp.example.ldif", inventory: inventory)
        try LDIFReader(path: Self.exportPath).forEachEntry { runner.add($0) }
        return runner.finish()
    }

    /// The collecting rules on their own thread (what a domain past a few thousand accounts gets)
    /// see the accounts in the same order and give the same findings and counts as inline.
    func testCollectingRulesOnTheirOwnThreadGiveTheSameResult() throws {
        let inventory = try Inventory.load(path: Self.inventoryPath)
        func audit(threadAfter accounts: Int) throws -> AuditResult {
            var runner = AuditRunner(
                configuration: AuditConfiguration(), now: Fixture.now, source: "corp.example.ldif", inventory: inventory
            )
            runner.accountsBeforeCollectingThread = accounts
            try LDIFReader(path: Self.exportPath).forEachEntry { runner.add($0) }
            return runner.finish()
        }
        let inline = try audit(threadAfter: .max)
        for threadAfter in [1, 2, 150] {
            let threaded = try audit(threadAfter: threadAfter)
            XCTAssertEqual(threaded.findings, inline.findings, "thread after \(threadAfter) accounts")
            XCTAssertEqual(threaded.summary.findingsByRule, inline.summary.findingsByRule)
        }
        let collected = Set(inline.findings.map(\.rule))
        for rule in ["duplicate-spn", "duplicate-hostname", "missing-account", "conflict-object", "deleted-account"] {
            XCTAssertTrue(collected.contains(rule), "the sample exercises \(rule)")
        }
    }

    /// A runner dropped without `finish()` ends its collecting thread (no thread is left blocked).
    func testARunnerDroppedMidAuditEndsItsCollectingThread() throws {
        for _ in 0..<20 {
            var runner = AuditRunner(configuration: AuditConfiguration(), now: Fixture.now, source: "x")
            runner.accountsBeforeCollectingThread = 1
            try LDIFReader(path: Self.exportPath).forEachEntry { runner.add($0) }
        }
    }

    func testLinesAreFoldedAt76ColumnsWithLF() throws {
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: Self.exportPath))
        XCTAssertLessThan(bytes.count, 1_000_000)
        XCTAssertFalse(bytes.contains(0x0D), "ldapsearch writes LF")
        var longest = 0
        var folded = 0
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            longest = max(longest, line.count)
            if line.first == 0x20 { folded += 1 }
            XCTAssertTrue(line.allSatisfy { $0 < 0x80 }, "non-ASCII must be base64")
        }
        XCTAssertEqual(longest, 76)
        // A base64 value folded mid-value (the long description of CN=Smith\, John PC).
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertNotNil(
            text.range(of: "\ndescription:: [A-Za-z0-9+/]{62}\n [A-Za-z0-9+/]", options: .regularExpression))
        XCTAssertGreaterThan(folded, 10)
    }

    func testSummaryAndFindingsPerRule() throws {
        let result = try audit()
        let summary = result.summary
        XCTAssertEqual(summary.domain, "corp.example")
        XCTAssertEqual(summary.computers, 300)
        XCTAssertEqual(summary.domainControllers, 2)
        XCTAssertEqual(summary.groupManagedServiceAccounts, 1)
        XCTAssertEqual(summary.otherSPNHolders, 2, "krbtgt and svc-sql")
        XCTAssertEqual(
            summary.objectsRead, 300 + 1 + 5 + 2 + 10 + 1 + 2,
            "computers, the domain head, users, groups, OUs, the gMSA, a tombstone and a conflict object")
        XCTAssertEqual(summary.computers, 300, "the tombstone and the conflict object are no computers")
        XCTAssertEqual(summary.deletedComputers, 1)
        XCTAssertEqual(summary.conflictComputers, 1)
        XCTAssertEqual(summary.otherAccountsWithFindings, 1, "svc-sql; the conflict object is a computer")
        XCTAssertEqual(summary.computersWithFindings, 75)
        // The numbers Samples/README.md gives; regenerate both together.
        XCTAssertEqual(summary.disabledComputers, 7)
        XCTAssertEqual(
            summary.findingsByRule,
            [
                "disabled-account": 7, "stale-password": 36, "missing-spn": 21, "duplicate-spn": 19,
                "missing-account": 4,
                "duplicate-hostname": 2, "conflict-object": 1, "deleted-account": 1,
            ])
        var stories: [String: Int] = [:]
        for finding in result.findings where finding.rule == "stale-password" {
            if case .string(let story)? = finding.detail("story") { stories[story, default: 0] += 1 }
        }
        XCTAssertEqual(
            stories,
            [
                "alive-not-rotating": 6, "rotation-stopped": 3, "dormant": 13, "never-logged-on": 2, "never-set": 7,
                "reset-pending": 2, "password-in-future": 2, "logon-in-future": 1,
            ])
    }

    func testTheHandWrittenCases() throws {
        let findings = try audit().findings
        func accounts(_ rule: String, spn: String) -> [String] {
            findings.filter { $0.rule == rule && $0.detail("spn").map { $0 == .string(spn) } == true }.map(\.account)
        }
        XCTAssertEqual(accounts("duplicate-spn", spn: "MSSQLSvc/sql01.corp.example:1433"), ["SQL01$", "svc-sql"])
        XCTAssertEqual(
            accounts("duplicate-spn", spn: "HTTP/intranet.corp.example"), ["gmsa-intranet$", "WEB01$", "WEB02$"])
        XCTAssertEqual(accounts("duplicate-spn", spn: "host/APP01.corp.example"), ["APP01$", "APP01-OLD$"])
        XCTAssertEqual(
            findings.filter { $0.account == "APP01-OLD$" }.map(\.rule),
            ["disabled-account", "stale-password", "duplicate-spn", "duplicate-hostname"])
        XCTAssertEqual(
            findings.filter { $0.rule == "duplicate-hostname" }.map(\.account), ["APP01$", "APP01-OLD$"],
            "APP01-OLD kept app01.corp.example as an additional name")
        XCTAssertEqual(findings.filter { $0.rule == "conflict-object" }.map(\.account), ["$DUPLICATE-4e2"])
        XCTAssertEqual(
            findings.filter { $0.rule == "deleted-account" }.map { "\($0.account) \($0.severity)" },
            ["WKS-RETIRED$ high"])
        XCTAssertTrue(findings.contains { $0.rule == "missing-account" && $0.account == "WKS-9999 (retired?)" })
        XCTAssertFalse(
            findings.contains {
                $0.account == "SMITHJOHNPC$" || $0.account == "LAB-PC07$" || $0.account == "KSK-LOBBY$"
            })
    }

    func testHostileAndNonASCIIValuesSurviveTheRoundTrip() throws {
        var byName: [String: DirectoryEntry] = [:]
        try LDIFReader(path: Self.exportPath, keptAttributes: nil).forEachEntry { entry in
            if let name = entry.string("cn") { byName[name] = entry }
        }
        XCTAssertEqual(byName["LAB-PC07"]?.string("operatingSystem"), "<script>alert(1)</script>")
        XCTAssertEqual(byName["KSK-LOBBY"]?.string("description"), "=cmd|' /C calc'!A0")
        XCTAssertEqual(
            byName["Smith, John PC"]?.distinguishedName, "CN=Smith\\, John PC,OU=Workstations,DC=corp,DC=example")
        XCTAssertEqual(byName["Smith, John PC"]?.string("sAMAccountName"), "SMITHJOHNPC$")
        XCTAssertEqual(
            byName["Smith, John PC"]?.string("description"),
            "Büro Köln – Empfang, 3. OG, Raum 3.114 (Schlüssel beim Pförtner)")
        let descriptions = Set(byName.values.compactMap { $0.string("description") })
        XCTAssertFalse(
            descriptions.filter { $0.unicodeScalars.contains { $0.value > 0x7F } }.isEmpty, "\(descriptions)")
        // objectSid is S-1-5-21-x-y-z-RID in its binary layout; objectGUID is 16 bytes.
        let sid = try XCTUnwrap(byName["DC01"]?.firstValue("objectSid"))
        XCTAssertEqual(sid.count, 28)
        XCTAssertEqual(Array(sid[0..<12]), [1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0])
        XCTAssertEqual(byName["DC01"]?.firstValue("objectGUID")?.count, 16)
        XCTAssertEqual(byName["DC01"]?.string("userAccountControl"), "532480")
        XCTAssertEqual(byName["DC01"]?.string("primaryGroupID"), "516")
    }

    func testInventoryShape() throws {
        let inventory = try Inventory.load(path: Self.inventoryPath)
        let names = inventory.items.map(\.name)
        XCTAssertTrue(names.contains("Smith, John PC"))
        XCTAssertTrue(names.contains { $0.hasSuffix(".corp.example") })
        XCTAssertTrue(names.contains { $0.hasSuffix(".CORP.EXAMPLE") })
        XCTAssertTrue(names.contains { $0 != $0.uppercased() && !$0.contains(".") })
        let text = try String(contentsOfFile: Self.inventoryPath, encoding: .utf8)
        XCTAssertTrue(text.contains("\n  WKS-9999 (retired?)\n"))
        XCTAssertTrue(text.split(separator: "\n", omittingEmptySubsequences: false).contains { $0.hasSuffix(" ") })
    }
}
