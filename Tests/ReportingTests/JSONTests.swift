import Audit
import Foundation
import XCTest

@testable import Reporting

final class JSONTests: XCTestCase {
    func testStringEscaping() {
        XCTAssertEqual(JSON.quoted("plain"), "\"plain\"")
        XCTAssertEqual(JSON.quoted("a\"b\\c"), "\"a\\\"b\\\\c\"")
        XCTAssertEqual(JSON.quoted("\n\r\t\u{08}\u{0C}"), "\"\\n\\r\\t\\b\\f\"")
        XCTAssertEqual(JSON.quoted("\u{00}\u{01}\u{1F}\u{7F}"), "\"\\u0000\\u0001\\u001f\\u007f\"")
        XCTAssertEqual(JSON.quoted("a\u{2028}b\u{2029}c"), "\"a\\u2028b\\u2029c\"")
        XCTAssertEqual(JSON.quoted("Zürich 計算機 👍"), "\"Zürich 計算機 👍\"")
        XCTAssertEqual(JSON.quoted("</script>"), "\"</script>\"")
    }

    func testEscapedStringsRoundTrip() throws {
        let nasty = "\"\\\n\r\t\u{00}\u{1F}\u{2028}\u{2029}é\u{301}👍</script>"
        let data = Data("[\(JSON.quoted(nasty))]".utf8)
        let parsed = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String])
        XCTAssertEqual(parsed, [nasty])
    }

    func testWriterLayoutAndTypes() throws {
        let output = ReportOutput()
        let json = JSONWriter(output: output)
        try json.beginObject()
        try json.field("b", 1)
        try json.field("a", nil as String?)
        try json.key("list")
        try json.beginArray(inline: true)
        try json.value(true)
        try json.value(Int64(-5))
        try json.value(1.5)
        try json.value(Double.nan)
        try json.beginObject()
        try json.endObject()
        try json.endArray()
        try json.key("empty")
        try json.beginArray()
        try json.endArray()
        try json.endObject()
        XCTAssertEqual(
            output.text, "{\n  \"b\": 1,\n  \"a\": null,\n  \"list\": [true, -5, 1.5, null, {}],\n  \"empty\": []\n}\n")
    }

    func testFindingsJSONSchema() throws {
        let output = ReportOutput()
        try FindingsJSON.write(Fixtures.result(), to: output)
        let text = output.text
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])

        XCTAssertEqual(root["schemaVersion"] as? Int, 1)
        XCTAssertEqual(root["generatedAt"] as? String, "2026-11-24T00:00:00Z")
        XCTAssertEqual(root["source"] as? String, "corp.ldif")
        XCTAssertEqual(root["domain"] as? String, "corp.example")

        let summary = try XCTUnwrap(root["summary"] as? [String: Any])
        XCTAssertEqual(summary["computers"] as? Int, 1200)
        XCTAssertEqual(summary["stalePasswordDays"] as? Int, 60)
        XCTAssertEqual(summary["clockSkewSeconds"] as? Double, 2.5)
        XCTAssertEqual(summary["findings"] as? Int, 5)
        XCTAssertEqual(
            summary["bySeverity"] as? [String: Int], ["critical": 1, "high": 2, "medium": 1, "low": 1, "info": 0])
        XCTAssertEqual(
            summary["byRule"] as? [String: Int],
            [
                "disabled-account": 1, "stale-password": 1, "missing-spn": 1, "duplicate-spn": 1, "missing-account": 1,
                "duplicate-hostname": 0, "conflict-object": 0, "deleted-account": 0,
            ])
        let passwordAge = try XCTUnwrap(summary["passwordAgeDays"] as? [String: Any])
        let buckets = try XCTUnwrap(passwordAge["buckets"] as? [[String: Any]])
        XCTAssertEqual(
            buckets.map { $0["label"] as? String }, ["0-29", "30-59", "60-89", "90-179", "180-364", "365-729", "730+"])
        XCTAssertEqual(buckets.map { $0["count"] as? Int }, [2, 1, 1, 1, 0, 1, 1])
        XCTAssertEqual(passwordAge["never"] as? Int, 1)
        XCTAssertEqual(passwordAge["future"] as? Int, 1)
        XCTAssertNotNil(summary["lastLogonAgeDays"] as? [String: Any])

        let findings = try XCTUnwrap(root["findings"] as? [[String: Any]])
        XCTAssertEqual(findings.count, 5)
        let stale = findings[1]
        XCTAssertEqual(stale["rule"] as? String, "stale-password")
        XCTAssertEqual(stale["account"] as? String, "WKS-0042$")
        XCTAssertEqual(stale["dn"] as? String, "CN=WKS-0042,OU=Workstations,DC=corp,DC=example")
        let details = try XCTUnwrap(stale["details"] as? [String: Any])
        XCTAssertEqual(details["passwordAgeDays"] as? Int, 97)
        XCTAssertEqual(details["story"] as? String, "alive-not-rotating")
        XCTAssertEqual((findings[0]["details"] as? [String: Any])?["enabled"] as? Bool, false)
        let missingSPN = try XCTUnwrap(findings[2]["details"] as? [String: Any])
        XCTAssertEqual(missingSPN["missingSPNs"] as? [String], ["HOST/WKS-0099", "HOST/WKS-0099.corp.example"])
        XCTAssertTrue(missingSPN["note"] is NSNull)
        XCTAssertTrue(findings[4]["dn"] is NSNull, "missing-account has a null dn")
        XCTAssertEqual(findings[2]["account"] as? String, Fixtures.hostileAccount)

        // Key order, which JSONSerialization does not keep: check it in the text.
        assertOrder(
            [
                "\"schemaVersion\"", "\"generatedAt\"", "\"source\"", "\"domain\"", "\"baseline\": null", "\"summary\"",
                "\"objectsRead\"", "\"computers\"",
                "\"enabledComputers\"", "\"disabledComputers\"", "\"domainControllers\"",
                "\"groupManagedServiceAccounts\"",
                "\"managedServiceAccounts\"", "\"otherSPNHolders\"", "\"excludedComputers\"", "\"inventoryNames\"",
                "\"stalePasswordDays\"", "\"clockSkewSeconds\"", "\"findings\": 5", "\"bySeverity\"", "\"byRule\"",
                "\"passwordAgeDays\"", "\"lastLogonAgeDays\"", "\"changes\": null", "\"findings\": [",
                "\"resolved\": null",
            ],
            in: text)
        XCTAssertTrue(
            text.contains("\"bySeverity\": {\"critical\": 1, \"high\": 2, \"medium\": 1, \"low\": 1, \"info\": 0}"))
        assertOrder(AuditRules.singleSource.map { "\"\($0.description.id)\": " }, in: text)
        XCTAssertTrue(
            text.contains(
                "{\"rule\": \"disabled-account\", \"severity\": \"low\", \"account\": \"WKS-0007$\", \"dn\": \"CN=WKS-0007,OU=Disabled,DC=corp,DC=example\", \"message\": \"The account is disabled; WKS-0007 cannot log on to the domain.\", \"remediation\": \"Enable-ADComputer -Identity 'WKS-0007$' -Server dc01.corp.example\", \"details\": {\"userAccountControl\": 4098, \"enabled\": false}, \"change\": null}"
            ), "one finding per line, keys in schema order")
    }

    func testNullsAndZerosWhenNothingWasFound() throws {
        var result = Fixtures.result([], clockSkew: nil)
        result.summary.domain = nil
        let output = ReportOutput()
        try FindingsJSON.write(result, to: output)
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(output.text.utf8)) as? [String: Any])
        XCTAssertTrue(root["domain"] is NSNull)
        let summary = try XCTUnwrap(root["summary"] as? [String: Any])
        XCTAssertTrue(summary["clockSkewSeconds"] is NSNull)
        XCTAssertEqual((summary["byRule"] as? [String: Int])?.count, AuditRules.singleSource.count)
        XCTAssertEqual((summary["bySeverity"] as? [String: Int])?.values.reduce(0, +), 0)
        XCTAssertEqual((root["findings"] as? [Any])?.count, 0)
    }

    func testRepeatedDetailKeyKeepsTheFirst() throws {
        var finding = Fixtures.stale(1)
        finding.details = [("story", .string("first")), ("story", .string("second"))]
        let output = ReportOutput()
        try FindingsJSON.write(Fixtures.result([finding]), to: output)
        XCTAssertTrue(output.text.contains("\"details\": {\"story\": \"first\"}"))
    }

    private func assertOrder(_ needles: [String], in text: String, file: StaticString = #filePath, line: UInt = #line) {
        var searchStart = text.startIndex
        for needle in needles {
            guard let range = text.range(of: needle, range: searchStart..<text.endIndex) else {
                XCTFail("\(needle) missing or out of order", file: file, line: line)
                return
            }
            searchStart = range.upperBound
        }
    }
}
