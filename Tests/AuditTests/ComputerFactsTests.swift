import Foundation
import XCTest

@testable import Audit
@testable import Directory

/// The runner's per-computer sink: every computer once, in order, with its own findings only.
final class ComputerFactsTests: XCTestCase {
    private static let now = Date(timeIntervalSince1970: 1_795_478_400)  // 2026-11-24T00:00:00Z
    private static let nowTicks: Int64 = 134_399_520_000_000_000
    private static let day: Int64 = 864_000_000_000

    private static func computer(
        _ name: String, userAccountControl: UInt32 = 4096, passwordDaysAgo: Int64 = 10, logonDaysAgo: Int64? = 2,
        spns: [String]? = nil, kind: DirectoryObject.Kind = .computer
    ) -> DirectoryObject {
        let fqdn = "\(name.lowercased()).corp.example"
        return DirectoryObject(
            kind: kind, distinguishedName: "CN=\(name),OU=Workstations,DC=corp,DC=example", samAccountName: "\(name)$",
            commonName: name,
            dnsHostName: fqdn, userAccountControl: UserAccountControl(rawValue: userAccountControl),
            passwordLastSet: FileTime(ticks: nowTicks - passwordDaysAgo * day),
            lastLogonTimestamp: logonDaysAgo.map { FileTime(ticks: nowTicks - $0 * day) },
            servicePrincipalNames: (spns ?? [
                "HOST/\(name)", "HOST/\(fqdn)", "RestrictedKrbHost/\(name)", "RestrictedKrbHost/\(fqdn)",
            ])
            .map(ServicePrincipalName.init),
            operatingSystem: "Windows 11 Enterprise")
    }

    private func audit(_ objects: [DirectoryObject], configuration: AuditConfiguration = AuditConfiguration()) -> (
        AuditResult, [ComputerFacts]
    ) {
        var facts: [ComputerFacts] = []
        var runner = AuditRunner(
            configuration: configuration, now: Self.now, source: "test", computerSink: { facts.append($0) })
        for object in objects { runner.add(object) }
        return (runner.finish(), facts)
    }

    func testEveryComputerOnceWithItsOwnFindings() {
        let (result, facts) = audit([
            Self.computer("WKS-0001"),
            Self.computer("WKS-0002", userAccountControl: 4098, passwordDaysAgo: 200, logonDaysAgo: 150),
            Self.computer("gmsa-web", kind: .groupManagedServiceAccount),
            Self.computer("ALIVE-01", passwordDaysAgo: 100, logonDaysAgo: 3, spns: ["HOST/ALIVE-01", "HOST/SHARED"]),
            Self.computer(
                "SRV-02",
                spns: [
                    "HOST/SRV-02", "HOST/srv-02.corp.example", "RestrictedKrbHost/SRV-02",
                    "RestrictedKrbHost/srv-02.corp.example", "HOST/SHARED",
                ]),
        ])
        XCTAssertEqual(
            facts.map(\.computer.samAccountName), ["WKS-0001$", "WKS-0002$", "ALIVE-01$", "SRV-02$"],
            "computers only, in order")
        XCTAssertEqual(facts.count, result.summary.computers)

        XCTAssertEqual(facts[0].findings, [])
        XCTAssertEqual(facts[0].passwordAgeDays, 10)
        XCTAssertEqual(facts[0].lastLogonAgeDays, 2)
        XCTAssertTrue(facts[0].spnsChecked)
        XCTAssertFalse(facts[0].hasMissingSPNFinding)

        XCTAssertEqual(facts[1].findings.map(\.rule), ["disabled-account", "stale-password"])
        XCTAssertFalse(facts[1].spnsChecked, "missing-spn does not judge disabled computers")

        XCTAssertEqual(facts[2].findings.map(\.rule), ["stale-password", "missing-spn"])
        XCTAssertEqual(
            facts[2].missingSPNs,
            ["HOST/alive-01.corp.example", "RestrictedKrbHost/ALIVE-01", "RestrictedKrbHost/alive-01.corp.example"])

        // duplicate-spn is known only at the end: in the result, not in the facts.
        XCTAssertEqual(facts[3].findings, [])
        XCTAssertEqual(
            result.findings.filter { $0.rule == "duplicate-spn" }.map(\.account).sorted(), ["ALIVE-01$", "SRV-02$"])
        let perAccount = result.findings.filter { $0.rule != "duplicate-spn" && $0.rule != "missing-account" }
        XCTAssertEqual(
            perAccount.count, facts.map(\.findings.count).reduce(0, +),
            "every per-account finding reached the sink once")
    }

    func testExcludedComputersAreListedButNotJudged() {
        var configuration = AuditConfiguration()
        configuration.excludedAccounts = ["lab-01"]
        let (result, facts) = audit(
            [Self.computer("LAB-01", userAccountControl: 4098, passwordDaysAgo: 900, logonDaysAgo: nil)],
            configuration: configuration)
        XCTAssertEqual(result.findings, [])
        XCTAssertEqual(facts.count, 1)
        XCTAssertTrue(facts[0].isExcluded)
        XCTAssertEqual(facts[0].findings, [])
        XCTAssertEqual(facts[0].passwordAgeDays, 900)
        XCTAssertNil(facts[0].lastLogonAgeDays)
        XCTAssertFalse(facts[0].spnsChecked)
    }

    func testMissingAccountRunsOnlyWithAnInventory() {
        var without = AuditRunner(configuration: AuditConfiguration(), now: Self.now, source: "test")
        XCTAssertFalse(without.finish().rules.map(\.id).contains("missing-account"))
        var with = AuditRunner(
            configuration: AuditConfiguration(), now: Self.now, source: "test",
            inventory: Inventory(source: "inv.txt", items: []))
        XCTAssertEqual(with.finish().rules.map(\.id), AuditRules.singleSource.map { $0.description.id })
    }
}
