import Audit
import Directory
import Foundation
import XCTest

@testable import Reporting

/// Computers run through the real runner, and a baseline run, for the change, CSV and golden tests.
enum NightlyFixtures {
    /// 2026-11-24T00:00:00Z as a FILETIME, the same moment as `Fixtures.generatedAt`.
    static let nowTicks: Int64 = 134_399_520_000_000_000
    static let day: Int64 = 864_000_000_000

    static func daysAgo(_ days: Int64) -> FileTime { FileTime(ticks: nowTicks - days * day) }

    static func computer(
        _ name: String, container: String = "OU=Workstations,DC=corp,DC=example", userAccountControl: UInt32? = 4096,
        passwordDaysAgo: Int64? = 10, logonDaysAgo: Int64? = 3, operatingSystem: String? = "Windows 11 Enterprise",
        dnsHostName: String?? = nil, spns: [String]? = nil
    ) -> DirectoryObject {
        let fqdn = dnsHostName ?? "\(name.lowercased()).corp.example"
        let joined =
            ["HOST/\(name)", "RestrictedKrbHost/\(name)"]
            + (fqdn.map { ["HOST/\($0)", "RestrictedKrbHost/\($0)"] } ?? [])
        return DirectoryObject(
            kind: .computer, distinguishedName: "CN=\(name),\(container)", samAccountName: "\(name)$", commonName: name,
            dnsHostName: fqdn, userAccountControl: userAccountControl.map(UserAccountControl.init(rawValue:)),
            passwordLastSet: passwordDaysAgo.map { $0 == .min ? FileTime(ticks: 0) : daysAgo($0) },
            lastLogonTimestamp: logonDaysAgo.map(daysAgo),
            servicePrincipalNames: (spns ?? joined).map(ServicePrincipalName.init), operatingSystem: operatingSystem)
    }

    /// Healthy, disabled, stale (alive, not rotating), a DC, one missing its SPNs, one pre-created and
    /// never joined, one without dNSHostName, one excluded, and one with a formula for a name.
    static var computers: [DirectoryObject] {
        [
            computer("WKS-0001"),
            computer("WKS-0002", userAccountControl: 4098, passwordDaysAgo: 400, logonDaysAgo: 380),
            computer("ALIVE-01", passwordDaysAgo: 97, logonDaysAgo: 4, operatingSystem: "Windows 10 Enterprise"),
            computer(
                "DC01", container: "OU=Domain Controllers,DC=corp,DC=example", userAccountControl: 532_480,
                operatingSystem: "Windows Server 2022 Standard",
                spns: [
                    "HOST/DC01", "HOST/dc01.corp.example", "RestrictedKrbHost/DC01",
                    "RestrictedKrbHost/dc01.corp.example",
                    "TERMSRV/DC01", "TERMSRV/dc01.corp.example", "ldap/dc01.corp.example",
                ]),
            computer(
                "SRV-SQL01", container: "OU=Servers,DC=corp,DC=example",
                operatingSystem: "Windows Server 2019 Standard",
                spns: ["MSSQLSvc/srv-sql01.corp.example:1433", "HOST/SRV-SQL01"]),
            computer("PRE-01", passwordDaysAgo: .min, logonDaysAgo: nil, operatingSystem: nil, spns: []),
            computer("NODNS-01", operatingSystem: "Ubuntu 24.04", dnsHostName: .some(nil)),
            computer("LAB-01", container: "OU=Lab,DC=corp,DC=example", passwordDaysAgo: 900, logonDaysAgo: 800),
            computer("=HYPERLINK(1)", operatingSystem: "-cmd", spns: ["HOST/=HYPERLINK(1)"]),
        ]
    }

    /// Audits `computers` with LAB-01 excluded and returns the result and every computer's facts.
    static func audit(_ objects: [DirectoryObject] = computers) -> (result: AuditResult, facts: [ComputerFacts]) {
        var configuration = AuditConfiguration()
        configuration.excludedAccounts = ["lab-01"]
        var facts: [ComputerFacts] = []
        var runner = AuditRunner(
            configuration: configuration, now: Fixtures.generatedAt, source: "corp.ldif",
            computerSink: { facts.append($0) })
        for object in objects { runner.add(object) }
        return (runner.finish(), facts)
    }

    /// A previous run of `Fixtures.findings`: WKS-0042's stale finding with an older message (still
    /// the same finding), WKS-0007 unchanged, and WKS-0100 which has since been fixed.
    static var baselineJSON: String {
        """
        {
          "schemaVersion": 1,
          "generatedAt": "2026-11-23T00:00:00Z",
          "source": "corp.ldif",
          "domain": "corp.example",
          "summary": {
            "objectsRead": 1, "findings": 3,
            "bySeverity": {"critical": 0, "high": 2, "medium": 0, "low": 1, "info": 0}
          },
          "findings": [
            {"rule": "disabled-account", "severity": "low", "account": "wks-0007$", "dn": "CN=WKS-0007,OU=Disabled,DC=corp,DC=example", "message": "disabled", "remediation": "", "details": {}},
            {"rule": "stale-password", "severity": "medium", "account": "WKS-0042$", "dn": "CN=WKS-0042,OU=Workstations,DC=corp,DC=example", "message": "Alive but not rotating its password: last logon 2026-11-19 (5 days ago) while the machine password was last set 2026-08-19 (96 days ago).", "remediation": "", "details": {"story": "alive-not-rotating"}},
            {"rule": "stale-password", "severity": "high", "account": "WKS-0100$", "dn": "CN=WKS-0100,OU=Workstations,DC=corp,DC=example", "message": "Dormant <b>since</b> 2025.", "remediation": "", "details": {"story": "dormant"}},
            {"rule": "duplicate-spn", "severity": "critical", "account": "=cmd|' /C calc'!A0", "dn": "CN=SRV-APP01,OU=Servers,DC=corp,DC=example", "message": "HTTP/other.corp.example is also held", "remediation": "", "details": {"spn": "HTTP/other.corp.example"}}
          ],
          "resolved": null
        }

        """
    }

    static func baseline() throws -> Baseline {
        try Baseline.parse(Data(baselineJSON.utf8), source: "previous/findings.json")
    }
}
