import Audit
import Foundation
import XCTest

@testable import Reporting

/// Hand-built findings shaped like the real rules' output, plus hostile values from a directory
/// where anyone who may create a computer account chose the names.
enum Fixtures {
    static let hostileAccount = "<script>alert(1)</script>$"
    static let hostileDN = "CN=\"onerror=alert(1) x=\",OU=Workstations,DC=corp,DC=example"
    static let formulaAccount = "=cmd|' /C calc'!A0"

    static var generatedAt: Date { Date(timeIntervalSince1970: 1_795_478_400) }  // 2026-11-24T00:00:00Z

    static func stale(_ number: Int, severity: Severity = .high) -> Finding {
        let name = String(format: "WKS-%04d", number)
        return Finding(
            rule: "stale-password", severity: severity, account: "\(name)$",
            distinguishedName: "CN=\(name),OU=Workstations,DC=corp,DC=example",
            message:
                "Alive but not rotating its password: last logon 2026-11-20 (4 days ago) while the machine password was last set 2026-08-19 (97 days ago).",
            remediation:
                "On \(name).corp.example, as a local administrator: Test-ComputerSecureChannel -Verbose\nIf it reports a broken channel: Test-ComputerSecureChannel -Repair -Credential (Get-Credential)",
            details: [
                ("story", .string("alive-not-rotating")), ("pwdLastSet", .string("2026-08-19T10:15:02Z")),
                ("passwordAgeDays", .integer(97)), ("lastLogonAgeDays", .integer(4)),
            ])
    }

    static var findings: [Finding] {
        [
            Finding(
                rule: "disabled-account", severity: .low, account: "WKS-0007$",
                distinguishedName: "CN=WKS-0007,OU=Disabled,DC=corp,DC=example",
                message: "The account is disabled; WKS-0007 cannot log on to the domain.",
                remediation: "Enable-ADComputer -Identity 'WKS-0007$' -Server dc01.corp.example",
                details: [("userAccountControl", .integer(4098)), ("enabled", .bool(false))]),
            stale(42),
            Finding(
                rule: "missing-spn", severity: .high, account: hostileAccount, distinguishedName: hostileDN,
                message: "Missing HOST/ and RestrictedKrbHost/ SPNs <img src=x onerror=alert(1)>",
                remediation: "setspn -S HOST/WKS-0099 WKS-0099\nsetspn -S HOST/WKS-0099.corp.example WKS-0099",
                details: [("missingSPNs", .strings(["HOST/WKS-0099", "HOST/WKS-0099.corp.example"])), ("note", .null)]),
            Finding(
                rule: "duplicate-spn", severity: .critical, account: formulaAccount,
                distinguishedName: "CN=SRV-APP01,OU=Servers,DC=corp,DC=example",
                message: "HTTP/app.corp.example is also held by SRV-APP02$; Kerberos to it fails.",
                remediation: "setspn -D HTTP/app.corp.example SRV-APP02",
                details: [("spn", .string("HTTP/app.corp.example")), ("otherHolders", .strings(["SRV-APP02$"]))]),
            Finding(
                rule: "missing-account", severity: .medium, account: "LAB-PC-Ü1", distinguishedName: nil,
                message: "LAB-PC-Ü1 is in the inventory but has no computer account.",
                remediation: "Join LAB-PC-Ü1 to the domain: Add-Computer -DomainName corp.example -Restart"),
        ]
    }

    static func result(_ findings: [Finding] = findings, clockSkew: Double? = 2.5) -> AuditResult {
        var summary = AuditSummary(source: "corp.ldif", generatedAt: generatedAt, stalePasswordDays: 60)
        summary.domain = "corp.example"
        summary.objectsRead = 1312
        summary.computers = 1200
        summary.enabledComputers = 1150
        summary.disabledComputers = 50
        summary.domainControllers = 3
        summary.clockSkewSeconds = clockSkew
        for age in [1, 10, 45, 61, 97, 400, 1000] { summary.passwordAge.add(ageDays: age) }
        summary.passwordAge.add(ageDays: nil)
        summary.passwordAge.add(ageDays: -3)
        for age in [2, 4, 200] { summary.lastLogonAge.add(ageDays: age) }
        for finding in findings {
            summary.findingsBySeverity[finding.severity, default: 0] += 1
            summary.findingsByRule[finding.rule, default: 0] += 1
        }
        summary.countAccounts(with: findings)
        return AuditResult(
            summary: summary, findings: findings, rules: AuditRules.singleSource.map { $0.description },
            registry: AuditRules.singleSource)
    }

    /// The checked-in templates, found from this file's path so tests run from any directory.
    static var templatesDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("Templates", isDirectory: true)
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "trustaudit-reporting-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
