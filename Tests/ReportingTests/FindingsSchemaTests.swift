import Audit
import Directory
import Foundation
import TestSupport
import XCTest

@testable import Reporting

/// docs/findings.schema.json against what FindingsJSON writes: every kind of document it can emit
/// is valid, a document that is not one is rejected, and the schema names the rules the registry has.
final class FindingsSchemaTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try Fixtures.temporaryDirectory()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func write(_ name: String, _ result: AuditResult, changes: FindingChanges? = nil) throws -> URL {
        let output = ReportOutput()
        try FindingsJSON.write(result, changes: changes, to: output)
        let url = directory.appendingPathComponent(name)
        try Data(output.bytes).write(to: url)
        return url
    }

    func testEveryKindOfDocumentMatches() throws {
        let golden = GoldenTests.goldenDirectory.appendingPathComponent("findings.json")
        var documents = [golden]
        let result = Fixtures.result()
        documents.append(try write("first-run.json", result))
        documents.append(
            try write(
                "compared.json", result,
                changes: FindingChanges(result: result, baseline: try NightlyFixtures.baseline())))
        documents.append(try write("no-findings.json", Fixtures.result([], clockSkew: nil)))
        // A run of the real rules over real accounts, compared with a run that had nothing.
        let (audited, _) = NightlyFixtures.audit()
        let nothing = try Baseline.parse(Data(try Data(contentsOf: documents[3])), source: "no-findings.json")
        documents.append(
            try write("audited.json", audited, changes: FindingChanges(result: audited, baseline: nothing)))

        // What an export could not tell, and the three states of the deleted objects.
        var export = Fixtures.result()
        export.summary.attributesNotInExport = ["pwdLastSet"]
        export.summary.unjudged = [UnjudgedRule(rule: "stale-password", missingAttributes: ["pwdLastSet"], accounts: 9)]
        export.summary.deletedObjects = .visible(recycleBin: nil)
        documents.append(try write("unjudged.json", export))
        export.summary.deletedObjects = .visible(recycleBin: true)
        documents.append(try write("recycle-bin.json", export))
        export.summary.deletedObjects = .notVisible(reason: "no rights to CN=Deleted Objects")
        documents.append(try write("not-visible.json", export))

        // A multi-DC audit: its DCs, one answered, one not.
        var multi = Fixtures.result()
        multi.summary.domainControllerReadings = [
            DomainControllerReading(
                domainController: DomainController(
                    hostName: "dc01.corp.example", serverDN: "CN=DC01,CN=Servers,CN=Site-A,CN=Sites,CN=Configuration",
                    site: "Site-A", options: [.isGlobalCatalog], isPDCEmulator: true),
                outcome: .answered, currentTime: Fixtures.generatedAt.addingTimeInterval(2),
                askedAt: Fixtures.generatedAt),
            DomainControllerReading(
                domainController: DomainController(
                    hostName: "dc02.corp.example", serverDN: "CN=DC02", isReadOnly: true),
                outcome: .failed("connection refused")),
        ]
        documents.append(try write("multi-dc.json", multi))
        XCTAssertTrue(
            try String(contentsOf: documents.last!, encoding: .utf8).contains("\"domainControllersRead\""),
            "the multi-DC document lists its DCs")
        try FindingsSchema.assertValid(documents)
    }

    /// The schema would pass anything if it were empty: documents that are not findings.json fail.
    func testADocumentThatIsNotAFindingsJSONIsRejected() throws {
        let golden = try JSONSerialization.jsonObject(
            with: Data(contentsOf: GoldenTests.goldenDirectory.appendingPathComponent("findings.json")))
        let original = try XCTUnwrap(golden as? [String: Any])
        func variant(_ name: String, _ change: (inout [String: Any]) -> Void) throws -> URL {
            var document = original
            change(&document)
            let url = directory.appendingPathComponent(name)
            try JSONSerialization.data(withJSONObject: document).write(to: url)
            return url
        }
        func finding(_ document: inout [String: Any], _ change: (inout [String: Any]) -> Void) {
            var findings = document["findings"] as! [[String: Any]]
            change(&findings[0])
            document["findings"] = findings
        }
        let cases: [(URL, String)] = [
            (
                try variant("string-count.json") {
                    var summary = $0["summary"] as! [String: Any]
                    summary["computers"] = "1200"
                    $0["summary"] = summary
                }, "summary/computers: '1200' is not of type 'integer'"
            ),
            (try variant("extra-key.json") { $0["comment"] = "hand-edited" }, "Additional properties are not allowed"),
            (
                try variant("no-resolved.json") { $0.removeValue(forKey: "resolved") },
                "'resolved' is a required property"
            ),
            (
                try variant("severity.json") { finding(&$0) { $0["severity"] = "severe" } },
                "findings/0/severity: 'severe'"
            ),
            (
                try variant("rule.json") { finding(&$0) { $0["rule"] = "no-such-rule" } },
                "findings/0/rule: 'no-such-rule'"
            ),
            (
                try variant("detail-type.json") {
                    finding(&$0) { $0["details"] = ["userAccountControl": "4098"] }
                }, "findings/0/details/userAccountControl: '4098' is not of type 'integer', 'null'"
            ),
            (try variant("version.json") { $0["schemaVersion"] = 2 }, "schemaVersion: 1 was expected"),
        ]
        let report = try FindingsSchema.errors(in: cases.map(\.0))
        for (url, expected) in cases {
            let errors = report[url.path] ?? []
            XCTAssertTrue(
                errors.contains { $0.contains(expected) }, "\(url.lastPathComponent): \(errors) lacks \(expected)")
        }
    }

    /// The rule ids, severities and detail types the schema fixes are the registry's, so a new rule
    /// or detail cannot ship without the schema saying so.
    func testTheSchemaNamesTheRegistrysRulesAndDetails() throws {
        let schema = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: FindingsSchema.schema)) as? [String: Any])
        XCTAssertEqual(schema["$schema"] as? String, "https://json-schema.org/draft/2020-12/schema")
        let defs = try XCTUnwrap(schema["$defs"] as? [String: Any])
        XCTAssertEqual((defs["ruleId"] as? [String: Any])?["enum"] as? [String], AuditRules.ids)
        XCTAssertEqual(
            (defs["severity"] as? [String: Any])?["enum"] as? [String], Severity.allCases.reversed().map(\.rawValue))
        let findings = try XCTUnwrap((schema["properties"] as? [String: Any])?["findings"] as? [String: Any])
        let item = try XCTUnwrap(findings["items"] as? [String: Any])
        var typed: [String: [String: String]] = [:]
        for clause in try XCTUnwrap(item["allOf"] as? [[String: Any]]) {
            let rule = try XCTUnwrap(
                ((clause["if"] as? [String: Any])?["properties"] as? [String: Any]).flatMap {
                    ($0["rule"] as? [String: Any])?["const"] as? String
                })
            let details =
                (((clause["then"] as? [String: Any])?["properties"] as? [String: Any])?["details"]
                as? [String: Any])?["properties"] as? [String: [String: String]]
            typed[rule] = try XCTUnwrap(details).mapValues { $0["$ref"] ?? "" }
        }
        let reference: [DetailColumn.ValueType: String] = [
            .string: "#/$defs/detailString", .integer: "#/$defs/detailInteger", .bool: "#/$defs/detailBool",
            .strings: "#/$defs/detailStrings", .timestamp: "#/$defs/detailTimestamp",
        ]
        for rule in AuditRules.all {
            let columns = Dictionary(uniqueKeysWithValues: rule.detailColumns.map { ($0.key, reference[$0.type]!) })
            XCTAssertEqual(typed[rule.description.id], columns, rule.description.id)
        }
        XCTAssertEqual(typed.count, AuditRules.all.count)
    }
}
