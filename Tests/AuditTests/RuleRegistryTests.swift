import XCTest

@testable import Audit
@testable import Directory

/// The registry is the one list: what the sources fetch, what the rules declare and what they report agree.
final class RuleRegistryTests: XCTestCase {
    func testTheRulesAttributesAreWhatTheSourcesFetchInTheSameOrder() {
        XCTAssertEqual(AuditRules.attributes, AuditedAttributes.all, "the LDAP request and the bench stay identical")
        XCTAssertEqual(AuditRules.lowercasedAttributes, AuditedAttributes.lowercased)
        XCTAssertEqual(
            AuditRules.attributes(for: AuditRules.singleSource), AuditedAttributes.singleSource,
            "a single-DC audit's rules read what SourceRequest.audit asks for, no more")
        XCTAssertEqual(
            Array(AuditedAttributes.all.prefix(13)),
            [
                "objectClass", "objectCategory", "sAMAccountName", "cn", "dNSHostName", "userAccountControl",
                "pwdLastSet", "lastLogonTimestamp", "servicePrincipalName", "operatingSystem",
                "operatingSystemVersion", "whenCreated", "objectGUID",
            ], "new attributes go last, so the numbering stays")
        XCTAssertEqual(AuditedAttributes.count, AuditedAttributes.all.count)
    }

    func testAnAttributeNoTableKnowsGoesLastAndEachAttributeOnce() {
        struct EncryptionTypes: AccountRule {
            static let description = RuleDescription(id: "weak-encryption", title: "t", rationale: "r")
            static let attributes = ["msDS-SupportedEncryptionTypes", "USERACCOUNTCONTROL"]
            static let detailColumns: [DetailColumn] = []
            func evaluate(_ account: AccountView, in context: AuditContext, into findings: inout [Finding]) {}
        }
        let attributes = AuditRules.attributes(for: AuditRules.all + [EncryptionTypes.self])
        XCTAssertEqual(attributes, AuditedAttributes.all + ["msDS-SupportedEncryptionTypes"])
        XCTAssertEqual(
            AuditRules.attributes(for: [DisabledAccountRule.self]),
            AuditedAttributes.all.filter {
                ![
                    "pwdLastSet", "servicePrincipalName", "lastLogon", "replPropertyMetaData",
                    "msDS-ReplAttributeMetaData",
                ]
                .contains($0)
            })
    }

    func testTheRegistryIsTheReportOrderAndEveryIdIsUnique() {
        XCTAssertEqual(
            AuditRules.ids,
            [
                "disabled-account", "stale-password", "missing-spn", "duplicate-spn", "missing-account",
                "duplicate-hostname", "conflict-object", "deleted-account", "password-not-replicated",
                "dc-clock-skew", "replication-failure",
            ])
        XCTAssertEqual(
            AuditRules.singleSource.map { $0.description.id }, Array(AuditRules.ids.prefix(8)),
            "the rules that compare DCs are no part of a single-source audit")
        XCTAssertEqual(Set(AuditRules.ids).count, AuditRules.ids.count)
        XCTAssertEqual(AuditRules.rule("duplicate-spn")?.identity?.key, "spn")
        XCTAssertNil(AuditRules.rule("stale-password")?.identity, "one finding per account needs no identity detail")
        XCTAssertNil(AuditRules.rule("no-such-rule"))
    }

    /// The evidence a rule reports is exactly what it declares, with the declared types: the CSV
    /// columns and the JSON keys cannot drift from the rule.
    func testEveryDetailAFindingCarriesIsADeclaredColumnOfItsType() throws {
        let stale = Fixture.ticks(daysAgo: 200)
        let ldif =
            Fixture.computer("WKS-0001", userAccountControl: "4098", lastLogonTimestamp: Fixture.ticks(daysAgo: 190))
            + Fixture.computer("WKS-0002", pwdLastSet: stale, lastLogonTimestamp: Fixture.ticks(daysAgo: 3))
            + Fixture.computer("WKS-0003", pwdLastSet: 0) + Fixture.computer("WKS-0004", pwdLastSet: -5)
            + Fixture.computer("WKS-0005", spns: ["HOST/WKS-0005"])
            + Fixture.computer("SQL01", spns: ["MSSQLSvc/sql01.corp.example:1433"] + Fixture.joinSPNs("SQL01"))
            + Fixture.user("svc-sql", spns: ["MSSQLSvc/sql01.corp.example:1433"])
            // Two objects claiming one host name, a replication conflict object, a tombstone.
            + Fixture.computer("FS01", dnsHostName: "files.corp.example")
            + Fixture.computer("FS02", dnsHostName: "files.corp.example")
            + Fixture.computer("PC7", commonName: "PC7\\0ACNF:7a1e2f4c-1b2d-4e5f-8a9b-0c1d2e3f4a5b")
            + Fixture.computer(
                "WS2", container: "CN=Deleted Objects,DC=corp,DC=example",
                commonName: "WS2\\0ADEL:5f1c2e8a-93d4-4b7e-a0c1-3e6f9d2b7a41"
            )
            .replacingOccurrences(of: "\nsAMAccountType:", with: "\nisDeleted: TRUE\nsAMAccountType:")
        let result = try Fixture.audit(ldif, inventory: Inventory.parse("WKS-0001\nGHOST-PC\n", source: "inv.txt"))
        XCTAssertEqual(
            Set(result.findings.map(\.rule)), Set(AuditRules.singleSource.map { $0.description.id }),
            "every rule of a single-source audit fired (the DC rules have their own tests)")
        for finding in result.findings {
            let rule = try XCTUnwrap(AuditRules.rule(finding.rule))
            let declared = Dictionary(uniqueKeysWithValues: rule.detailColumns.map { ($0.key, $0.type) })
            for (key, value) in finding.details {
                let type = try XCTUnwrap(declared[key], "\(finding.rule) reports \(key) but does not declare it")
                switch (type, value) {
                case (_, .null), (.string, .string), (.integer, .integer), (.bool, .bool), (.strings, .strings),
                    (.timestamp, .string), (.timestamp, .integer):
                    break
                default:
                    XCTFail("\(finding.rule).\(key) is declared \(type) but holds \(value)")
                }
            }
        }
    }

    func testComputersCSVsSPNGateIsTheRulesOwn() throws {
        let enabled = try Fixture.object(Fixture.computer("WKS-0001"))
        let disabled = try Fixture.object(Fixture.computer("WKS-0002", userAccountControl: "4098"))
        let unreadable = try Fixture.object(Fixture.computer("WKS-0003", userAccountControl: nil))
        for computer in [enabled, disabled, unreadable] {
            let facts = ComputerFacts(
                computer: computer, isExcluded: false, passwordAgeDays: nil, lastLogonAgeDays: nil, findings: [])
            XCTAssertEqual(facts.spnsChecked, MissingSPNRule.judges(computer), computer.accountName)
        }
        XCTAssertTrue(MissingSPNRule.judges(enabled))
        XCTAssertFalse(MissingSPNRule.judges(disabled))
        XCTAssertFalse(MissingSPNRule.judges(unreadable))
    }

    func testARunnerRunsOnlyTheRulesItIsGiven() throws {
        let ldif = Fixture.computer("WKS-0001", userAccountControl: "4098", pwdLastSet: Fixture.ticks(daysAgo: 400))
        var runner = AuditRunner(
            configuration: AuditConfiguration(), now: Fixture.now, source: "fixture.ldif",
            inventory: Inventory.parse("GHOST-PC\n", source: "inv.txt"), rules: [DisabledAccountRule.self])
        try LDIFReader(bytes: Array(ldif.utf8), name: "fixture.ldif").forEachEntry { runner.add($0) }
        let result = runner.finish()
        XCTAssertEqual(result.findings.map(\.rule), ["disabled-account"])
        XCTAssertEqual(result.rules.map(\.id), ["disabled-account"])
        XCTAssertEqual(result.registry.map { $0.description.id }, ["disabled-account"])
    }

    /// The per-account rules keep what the fix is made from, not the text, until a report reads it.
    func testPerAccountRemediationIsRenderedWhenRead() throws {
        let disabled = try Fixture.evaluate(
            DisabledAccountRule(), Fixture.computer("WKS-0001", userAccountControl: "4098"))
        let stale = try Fixture.evaluate(
            StalePasswordRule(), Fixture.computer("WKS-0002", pwdLastSet: Fixture.ticks(daysAgo: 400)))
        for finding in disabled + stale {
            XCTAssertFalse(finding.renderer is RemediationText, "\(finding.rule) rendered its fix eagerly")
            XCTAssertFalse(finding.remediation.isEmpty)
            XCTAssertEqual(finding.remediation, finding.remediation, "the same text on every read")
        }
        var changed = try XCTUnwrap(disabled.first)
        changed.remediation = "by hand"
        XCTAssertEqual(changed.remediation, "by hand")
        XCTAssertTrue(changed.renderer is RemediationText)
    }
}
