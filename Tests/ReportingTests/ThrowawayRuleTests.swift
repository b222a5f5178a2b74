import Foundation
import XCTest

@testable import Audit
@testable import Directory
@testable import Reporting

/// A rule defined here, in the test target only, and registered by handing the runner a list: it
/// must run and reach findings.json, its own CSV columns and the baseline comparison with no source
/// file naming it. This is what "adding a rule is one file and one registry line" means.
struct NoOperatingSystemRule: AccountRule {
    static let description = RuleDescription(
        id: "no-operating-system", title: "Computer accounts without an operating system",
        rationale:
            "A machine that joined writes operatingSystem and operatingSystemVersion; without them the account was pre-created or joined by hand."
    )
    static let attributes = ["operatingSystem", "operatingSystemVersion"]
    /// The attribute that is missing: one finding per attribute, so it is also what identifies a finding.
    static let attribute = DetailColumn("attribute", .string, header: "missingAttribute")
    static let detailColumns = [attribute]
    static var identity: DetailColumn? { attribute }

    /// Renders lazily, like the built-in per-account rules.
    struct Fix: RemediationRenderer {
        let account: String
        let attribute: String
        var text: String { "Get-ADComputer -Identity '\(account)' -Properties \(attribute)" }
    }

    func evaluate(_ account: AccountView, in context: AuditContext, into findings: inout [Finding]) {
        let computer = account.object
        let missing = [
            ("operatingSystem", computer.operatingSystem), ("operatingSystemVersion", computer.operatingSystemVersion),
        ].filter { $0.1 == nil }.map(\.0)
        for attribute in missing {
            findings.append(
                Finding(
                    rule: Self.description.id, severity: .low, account: computer.accountName,
                    distinguishedName: computer.distinguishedName,
                    message: "\(computer.accountName) has no \(attribute).",
                    renderer: Fix(account: computer.accountName, attribute: attribute),
                    details: [(Self.attribute.key, .string(attribute))]))
        }
    }
}

final class ThrowawayRuleTests: XCTestCase {
    private static let now = Date(timeIntervalSince1970: 1_795_478_400)
    private static let rules = AuditRules.all + [NoOperatingSystemRule.self]

    private func computer(_ name: String, guid: UInt8, operatingSystem: String?, version: String?) -> String {
        var lines = [
            "dn: CN=\(name),OU=Workstations,DC=corp,DC=example", "objectClass: top", "objectClass: computer",
            "cn: \(name)", "sAMAccountName: \(name)$", "userAccountControl: 4096", "pwdLastSet: 134398656000000000",
            "objectGUID:: " + Data((0..<16).map { $0 == 0 ? guid : UInt8($0) }).base64EncodedString(),
            "dNSHostName: \(name.lowercased()).corp.example",
        ]
        for spn in ["HOST/\(name)", "HOST/\(name.lowercased()).corp.example"] {
            lines.append("servicePrincipalName: \(spn)")
            lines.append("servicePrincipalName: Restricted\(spn.replacingOccurrences(of: "HOST/", with: "KrbHost/"))")
        }
        if let operatingSystem { lines.append("operatingSystem: \(operatingSystem)") }
        if let version { lines.append("operatingSystemVersion: \(version)") }
        return lines.joined(separator: "\n") + "\n\n"
    }

    private func audit(_ ldif: String) throws -> AuditResult {
        var runner = AuditRunner(
            configuration: AuditConfiguration(), now: Self.now, source: "corp.ldif", rules: Self.rules)
        try LDIFReader(bytes: Array(ldif.utf8), name: "corp.ldif").forEachEntry { runner.add($0) }
        return runner.finish()
    }

    private func json(_ result: AuditResult, changes: FindingChanges? = nil) throws -> (
        text: String, root: [String: Any]
    ) {
        let output = ReportOutput()
        try FindingsJSON.write(result, changes: changes, to: output)
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(output.text.utf8)) as? [String: Any])
        return (output.text, root)
    }

    func testAThrowawayRuleRunsAndReachesEveryReport() throws {
        let ldif =
            computer("WKS-0001", guid: 1, operatingSystem: "Windows 11 Enterprise", version: "10.0 (22631)")
            + computer("WKS-0002", guid: 2, operatingSystem: nil, version: nil)
        let result = try audit(ldif)
        XCTAssertEqual(result.rules.last?.id, "no-operating-system", "it ran, last in report order")
        let own = result.findings.filter { $0.rule == "no-operating-system" }
        XCTAssertEqual(
            own.map { $0.detail("attribute") }, [.string("operatingSystem"), .string("operatingSystemVersion")])
        XCTAssertEqual(result.summary.findingsByRule["no-operating-system"], 2)

        // findings.json: counted in byRule after the built-in rules, each finding with its detail and fix.
        let (text, root) = try json(result)
        let byRule = try XCTUnwrap((root["summary"] as? [String: Any])?["byRule"] as? [String: Int])
        XCTAssertEqual(byRule["no-operating-system"], 2)
        XCTAssertLessThan(
            try XCTUnwrap(text.range(of: "\"missing-account\": 0")).lowerBound,
            try XCTUnwrap(text.range(of: "\"no-operating-system\": 2")).lowerBound)
        let findings = try XCTUnwrap(root["findings"] as? [[String: Any]])
        let first = try XCTUnwrap(findings.first { $0["rule"] as? String == "no-operating-system" })
        XCTAssertEqual((first["details"] as? [String: Any])?["attribute"] as? String, "operatingSystem")
        XCTAssertEqual(
            first["remediation"] as? String, "Get-ADComputer -Identity 'WKS-0002$' -Properties operatingSystem")

        // Its own CSV, in the columns it declares (the header says missingAttribute, not the key).
        let output = ReportOutput()
        try RuleCSV.write(rule: "no-operating-system", findings: result.findings, to: output, rules: result.registry)
        XCTAssertEqual(
            output.text,
            "account,dn,severity,missingAttribute,message,fix,change\r\n"
                + "WKS-0002$,\"CN=WKS-0002,OU=Workstations,DC=corp,DC=example\",low,operatingSystem,WKS-0002$ has no operatingSystem.,Get-ADComputer -Identity 'WKS-0002$' -Properties operatingSystem,\r\n"
                + "WKS-0002$,\"CN=WKS-0002,OU=Workstations,DC=corp,DC=example\",low,operatingSystemVersion,WKS-0002$ has no operatingSystemVersion.,Get-ADComputer -Identity 'WKS-0002$' -Properties operatingSystemVersion,\r\n"
        )
        XCTAssertEqual(
            RuleCSV.header(for: "no-operating-system", rules: result.registry),
            ["account", "dn", "severity", "missingAttribute", "message", "fix", "change"])
        XCTAssertEqual(
            RuleCSV.header(for: "no-operating-system"),
            ["account", "dn", "severity", "details", "message", "fix", "change"],
            "outside the registry it was given, it is an unknown rule")

        // Both computers are healthy to the built-in rules: everything found is the new rule's.
        XCTAssertEqual(result.findings.filter { $0.rule != "no-operating-system" }.count, 0)
    }

    /// Two findings for one account, told apart across runs by the detail the rule names as its identity.
    func testTheBaselineTellsItsFindingsApartByTheDeclaredIdentity() throws {
        let before = try audit(computer("WKS-0002", guid: 2, operatingSystem: nil, version: nil))
        let baseline = try Baseline.parse(
            Data(try json(before).text.utf8), source: "yesterday/findings.json", rules: before.registry)
        // Today the machine has written operatingSystem but still no version.
        let after = try audit(computer("WKS-0002", guid: 2, operatingSystem: "Windows 11 Enterprise", version: nil))
        let changes = FindingChanges(result: after, baseline: baseline)
        let own = after.findings.enumerated().filter { $0.element.rule == "no-operating-system" }
        XCTAssertEqual(own.map { changes.change(at: $0.offset) }, [.persisting])
        XCTAssertEqual(changes.resolved.map(\.message), ["WKS-0002$ has no operatingSystem."])

        let (_, root) = try json(after, changes: changes)
        let findings = try XCTUnwrap(root["findings"] as? [[String: Any]])
        XCTAssertEqual(
            findings.first { $0["rule"] as? String == "no-operating-system" }?["change"] as? String, "persisting")

        // Without the rule's identity the two findings of yesterday would be one, and nothing resolved.
        let blind = try Baseline.parse(Data(try json(before).text.utf8), source: "yesterday/findings.json")
        XCTAssertEqual(
            FindingChanges(
                result: AuditResult(summary: after.summary, findings: after.findings, rules: after.rules),
                baseline: blind
            )
            .resolved.count, 0)
    }
}
