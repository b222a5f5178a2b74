import Audit
import Foundation
import XCTest

@testable import Reporting

final class BaselineTests: XCTestCase {
    func testMarksNewAndPersistingAndListsResolved() throws {
        let result = Fixtures.result()
        let changes = FindingChanges(result: result, baseline: try NightlyFixtures.baseline())
        let byAccount = Dictionary(
            zip(result.findings, changes.changes).map { ("\($0.rule) \($0.account)", $1) },
            uniquingKeysWith: { first, _ in first })
        XCTAssertEqual(byAccount["disabled-account WKS-0007$"], .persisting, "accounts compare case-insensitively")
        XCTAssertEqual(
            byAccount["stale-password WKS-0042$"], .persisting, "a changed message and severity is the same finding")
        XCTAssertEqual(byAccount["missing-spn \(Fixtures.hostileAccount)"], .new)
        XCTAssertEqual(
            byAccount["duplicate-spn \(Fixtures.formulaAccount)"], .new,
            "another SPN on the same account is another finding")
        XCTAssertEqual(byAccount["missing-account LAB-PC-Ü1"], .new)
        XCTAssertEqual(changes.newCount, 3)
        XCTAssertEqual(changes.persistingCount, 2)
        XCTAssertEqual(changes.resolved.map(\.account), ["WKS-0100$", Fixtures.formulaAccount])
        XCTAssertEqual(changes.resolved.first?.severity, .high, "the severity the baseline reported")
        XCTAssertEqual(changes.resolved.first?.message, "Dormant <b>since</b> 2025.")
        XCTAssertEqual(changes.baselineGeneratedAt, "2026-11-23T00:00:00Z")
        XCTAssertEqual(changes.baselineSource, "previous/findings.json")
    }

    func testIdentityIgnoresMessageSeverityAndSPNCase() {
        let old = Finding(
            rule: "duplicate-spn", severity: .high, account: "SRV-A$", distinguishedName: "CN=SRV-A,DC=corp,DC=example",
            message: "old", remediation: "", details: [("spn", .string("HTTP/App.corp.example"))])
        var new = old
        new.message = "new wording"
        new.severity = .critical
        new.distinguishedName = "cn=srv-a,dc=corp,dc=example"
        new.details = [("spn", .string("http/app.corp.example")), ("otherHolders", .strings(["X$"]))]
        XCTAssertEqual(FindingIdentity(old), FindingIdentity(new))
        new.details = [("spn", .string("HTTP/other"))]
        XCTAssertNotEqual(FindingIdentity(old), FindingIdentity(new))
    }

    func testRoundTripThroughFindingsJSONInBothLayouts() throws {
        let result = Fixtures.result()
        let output = ReportOutput()
        try FindingsJSON.write(
            result, changes: FindingChanges(result: result, baseline: try NightlyFixtures.baseline()), to: output)
        let written = Data(output.bytes)

        let lines = try Baseline.parse(written, source: "a.json")
        XCTAssertEqual(lines.generatedAt, "2026-11-24T00:00:00Z")
        XCTAssertEqual(lines.findings.count, result.findings.count, "the resolved list is not read as findings")
        XCTAssertEqual(lines.findings.map(\.account), result.findings.map(\.account))

        // The same document re-laid out (as `jq .` or a minifier would) goes through the full parser.
        let object = try JSONSerialization.jsonObject(with: written)
        let minified = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        let whole = try Baseline.parse(minified, source: "b.json")
        XCTAssertEqual(whole.findings, lines.findings)
        XCTAssertEqual(whole.identities, lines.identities)

        // Against itself nothing is new and nothing is resolved.
        let again = FindingChanges(result: result, baseline: lines)
        XCTAssertEqual(again.newCount, 0)
        XCTAssertEqual(again.persistingCount, result.findings.count)
        XCTAssertEqual(again.resolved, [])
    }

    func testEmptyFindingsBaseline() throws {
        let output = ReportOutput()
        try FindingsJSON.write(Fixtures.result([]), to: output)
        let baseline = try Baseline.parse(Data(output.bytes), source: "empty.json")
        XCTAssertEqual(baseline.findings, [])
        let changes = FindingChanges(result: Fixtures.result(), baseline: baseline)
        XCTAssertEqual(changes.newCount, Fixtures.findings.count)
    }

    /// The nightly run: the baseline is this directory's findings.json, which the run's reports
    /// replace by rename before the resolved findings are written out of it.
    func testResolvedFindingsAreReadBackFromTheFileAfterItIsReplaced() throws {
        // Four thousand findings of about 700 bytes: lines straddle the 1 MiB read window's edges.
        var previous = (0..<4000).map { number -> Finding in
            var finding = Fixtures.stale(number)
            finding.message += " \u{1F600} \"quoted\" back\\slash\ttab \u{0} Ü \(number)"
            if number % 7 == 0 { finding.account = "wks-ü\(number)$" }
            return finding
        }
        previous.append(previous[10])  // one identity twice: resolved once
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("findings.json")
        let output = ReportOutput()
        try FindingsJSON.write(Fixtures.result(previous), to: output)
        let written = Data(output.bytes)
        XCTAssertGreaterThan(written.count, 2 << 20)
        try written.write(to: path)

        let baseline = try Baseline.load(from: path.path)
        XCTAssertEqual(baseline.findings.count, previous.count)
        XCTAssertEqual(baseline.identities, try Baseline.parse(written, source: "copy").identities)
        let replacement = directory.appendingPathComponent("findings.json.new")
        try Data("{}".utf8).write(to: replacement)
        XCTAssertEqual(rename(replacement.path, path.path), 0)

        let current = previous.filter { !$0.account.hasSuffix("0$") }
        let changes = FindingChanges(result: Fixtures.result(current), baseline: baseline)
        XCTAssertEqual(changes.newCount, 0)
        XCTAssertEqual(changes.persistingCount, current.count)

        // What the file said, read by Foundation's parser, is what is listed as resolved.
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: written) as? [String: Any])
        let listed = try XCTUnwrap(root["findings"] as? [[String: Any]])
        var expected: [ResolvedFinding] = []
        for item in listed {
            let account = try XCTUnwrap(item["account"] as? String)
            guard account.hasSuffix("0$"), !expected.contains(where: { $0.account == account }) else { continue }
            expected.append(
                ResolvedFinding(
                    rule: try XCTUnwrap(item["rule"] as? String),
                    severity: try XCTUnwrap(Severity(rawValue: try XCTUnwrap(item["severity"] as? String))),
                    account: account, distinguishedName: item["dn"] as? String,
                    message: try XCTUnwrap(item["message"] as? String)))
        }
        XCTAssertEqual(expected.count, 400)
        XCTAssertEqual(changes.resolved.count, expected.count)
        let mismatch = zip(changes.resolved, expected).enumerated().first { $0.element.0 != $0.element.1 }
        XCTAssertNil(mismatch, "the first resolved finding read back wrong")
        XCTAssertEqual(changes.resolved.last, expected.last)
    }

    /// A line longer than the read window (a hostile or runaway message) grows the window.
    func testAFindingLongerThanTheReadWindowIsReadWholeBothTimes() throws {
        var long = Fixtures.stale(1)
        long.message = String(repeating: "x\u{1F600}\"", count: 600_000)  // 3.6 MB escaped
        let findings = [Fixtures.stale(0), long, Fixtures.stale(2)]
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("findings.json")
        let output = ReportOutput()
        try FindingsJSON.write(Fixtures.result(findings), to: output)
        try Data(output.bytes).write(to: path)

        let baseline = try Baseline.load(from: path.path)
        XCTAssertEqual(baseline.findings.map(\.account), findings.map(\.account))
        let changes = FindingChanges(result: Fixtures.result([findings[0], findings[2]]), baseline: baseline)
        XCTAssertEqual(changes.resolved.count, 1)
        XCTAssertEqual(changes.resolved.first?.message, long.message)
        XCTAssertEqual(changes.persistingCount, 2)
    }

    /// The check before a long audit reads TrustAudit's layout only up to the findings; any other
    /// layout, and every finding, waits for `load`.
    func testTheCheckBeforeTheAuditReadsTheHeaderAndLoadReadsTheRest() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = ReportOutput()
        try FindingsJSON.write(Fixtures.result(), to: output)
        let text = String(decoding: output.bytes, as: UTF8.self)
        let findings = try XCTUnwrap(text.range(of: "  \"findings\": [\n"))

        let cut = directory.appendingPathComponent("cut.json")
        try Data((text[..<findings.upperBound] + "    {\"rule\": ").utf8).write(to: cut)
        XCTAssertNoThrow(try Baseline.check(cut.path))
        XCTAssertThrowsError(try Baseline.load(from: cut.path)) { error in
            XCTAssertEqual((error as? BaselineError)?.code, .notFindingsJSON, "\(error)")
        }

        let future = directory.appendingPathComponent("future.json")
        try Data(text.replacingOccurrences(of: "\"schemaVersion\": 1,", with: "\"schemaVersion\": 7,").utf8).write(
            to: future)
        XCTAssertThrowsError(try Baseline.check(future.path)) { error in
            XCTAssertEqual((error as? BaselineError)?.code, .unsupportedSchemaVersion, "\(error)")
        }
        // Re-laid out as one line: read whole by the check too.
        let minified = directory.appendingPathComponent("minified.json")
        try Data(text.replacingOccurrences(of: "\n", with: "").utf8).write(to: minified)
        XCTAssertNoThrow(try Baseline.check(minified.path))
        try Data(text.replacingOccurrences(of: "\n", with: "").dropLast(3).utf8).write(to: minified)
        XCTAssertThrowsError(try Baseline.check(minified.path))
        XCTAssertThrowsError(try Baseline.check(directory.appendingPathComponent("none.json").path)) { error in
            XCTAssertEqual((error as? BaselineError)?.code, .missing, "\(error)")
        }
    }

    func testABaselineChangedInPlaceDuringTheRunSaysSoInsteadOfInventingAFinding() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("findings.json")
        let output = ReportOutput()
        try FindingsJSON.write(Fixtures.result(), to: output)
        try Data(output.bytes).write(to: path)
        let baseline = try Baseline.load(from: path.path)
        let handle = try FileHandle(forWritingTo: path)
        try handle.truncate(atOffset: 0)
        try handle.close()

        let changes = FindingChanges(result: Fixtures.result([]), baseline: baseline)
        XCTAssertEqual(changes.resolved.count, Fixtures.findings.count)
        let first = try XCTUnwrap(changes.resolved.first)
        XCTAssertEqual(first.account, "")
        XCTAssertTrue(first.message.contains("\(path.path) could not be read again"), first.message)
    }

    func testMalformedBaselinesAreTypedErrors() throws {
        func code(_ text: String) -> BaselineError.Code? {
            do {
                _ = try Baseline.parse(Data(text.utf8), source: "x.json")
                return nil
            } catch let error as BaselineError {
                XCTAssertTrue(error.description.hasPrefix("baseline x.json: "), error.description)
                return error.code
            } catch {
                XCTFail("untyped error \(error)")
                return nil
            }
        }
        XCTAssertEqual(code(""), .notFindingsJSON)
        XCTAssertEqual(code("{\n  \"schemaVersion\": 1,\n"), .notFindingsJSON, "truncated")
        XCTAssertEqual(code("[1, 2]"), .notFindingsJSON)
        XCTAssertEqual(code(#"{"name": "package.json"}"#), .notFindingsJSON)
        XCTAssertEqual(code(#"{"schemaVersion": 1, "generatedAt": "x"}"#), .notFindingsJSON, "no findings array")
        XCTAssertEqual(
            code(#"{"schemaVersion": 1, "generatedAt": "x", "findings": [{"rule": "r"}]}"#), .notFindingsJSON)
        XCTAssertEqual(code(#"{"schemaVersion": 9, "generatedAt": "x", "findings": []}"#), .unsupportedSchemaVersion)
        XCTAssertNil(code(#"{"schemaVersion": 1, "generatedAt": "x", "findings": []}"#))

        XCTAssertThrowsError(try Baseline.load(from: "/nonexistent/findings.json")) { error in
            XCTAssertEqual(error as? BaselineError, BaselineError(code: .missing, path: "", reason: ""))
        }
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        XCTAssertThrowsError(try Baseline.load(from: directory.path)) { error in
            XCTAssertEqual((error as? BaselineError)?.code, .unreadable, "\(error)")
        }
    }
}
