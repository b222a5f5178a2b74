import XCTest

@testable import Audit
@testable import Directory

/// Several DCs' views of one computer: what they hold of its machine password, and of its logons.
enum DCFixture {
    static let day = Fixture.day
    static let hour = Fixture.hour

    static func guid(_ text: String) -> ObjectGUID {
        Array(text.utf8).withUnsafeBufferPointer { ObjectGUID(ldapBytes: $0)! }
    }

    static func server(_ name: String) -> String {
        "CN=\(name),CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=corp,DC=example"
    }

    static let dc01 = DomainController(
        hostName: "dc01.corp.example", serverDN: server("DC01"), site: "Default-First-Site-Name",
        computerDN: "CN=DC01,OU=Domain Controllers,DC=corp,DC=example",
        dsaGUID: guid("5b2e0c7a-91d4-4f3b-8e6a-1c2d3e4f5a6b"),
        invocationID: guid("8b3f1c2e-5d4a-4e7b-9a10-2c3d4e5f6a7b"),
        options: .isGlobalCatalog, isPDCEmulator: true)
    static let dc02 = DomainController(
        hostName: "dc02.corp.example", serverDN: server("DC02"), site: "Default-First-Site-Name",
        computerDN: "CN=DC02,OU=Domain Controllers,DC=corp,DC=example",
        dsaGUID: guid("a7c3e9f1-2b4d-4c6e-8f0a-3b5d7f9e1c2a"),
        invocationID: guid("e41a7c90-3b2d-4f6e-8c5a-9d0e1f2a3b4c"),
        options: [.isGlobalCatalog, .disableInboundReplication])
    static let dc03 = DomainController(
        hostName: "dc03.branch.corp.example", serverDN: server("DC03"), site: "Branch-Lyon",
        dsaGUID: guid("c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"),
        invocationID: guid("2f6d8e1a-7c4b-4a3e-b5d9-0e1f2a3b4c5d"))
    static let rodc = DomainController(
        hostName: "rodc01.branch.corp.example", serverDN: server("RODC01"), site: "Branch-Lyon",
        dsaGUID: guid("d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f7a"),
        invocationID: guid("9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"),
        isReadOnly: true)

    static func reading(_ dc: DomainController, answered: Bool = true) -> DomainControllerReading {
        DomainControllerReading(
            domainController: dc, outcome: answered ? .answered : .failed("Can't contact LDAP server (-1)"),
            currentTime: answered ? Fixture.now : nil, askedAt: answered ? Fixture.now : nil)
    }

    static func context(_ dcs: [DomainControllerReading], configuration: AuditConfiguration = AuditConfiguration())
        -> AuditContext
    {
        var context = AuditContext(now: Fixture.now, configuration: configuration, domain: "corp.example")
        context.domainControllers = dcs
        return context
    }

    static let accountGUID = guid("3c8411a5-92b6-40b2-acef-a14a2b23420e")

    /// WKS-0142 as one DC holds it: `version` of unicodePwd (and pwdLastSet) written `written` ticks
    /// ago by `writer`, and that DC's own lastLogon. `version: nil` leaves the metadata out.
    static func view(
        _ name: String = "WKS-0142", version: UInt32?, writtenTicksAgo written: Int64,
        by writer: DomainController = dc01,
        lastLogonTicksAgo: Int64? = nil, lastLogonTimestampTicksAgo: Int64? = 5 * day, pwdLastSet: Int64? = nil
    ) -> DirectoryObject {
        let time = FileTime(ticks: Fixture.nowTicks - written)
        let stamp = version.map {
            AttributeMetadata(
                attributeID: AttributeID.unicodePwd, version: $0, originatingChangeTime: time,
                originatingInvocationID: writer.invocationID, originatingUSN: 5230, localUSN: 6120)
        }
        return DirectoryObject(
            kind: .computer, distinguishedName: "CN=\(name),OU=Workstations,DC=corp,DC=example",
            samAccountName: "\(name)$", commonName: name, dnsHostName: "\(name.lowercased()).corp.example",
            userAccountControl: UserAccountControl(rawValue: 4096),
            passwordLastSet: FileTime(ticks: pwdLastSet ?? time.ticks),
            lastLogonTimestamp: lastLogonTimestampTicksAgo.map { FileTime(ticks: Fixture.nowTicks - $0) },
            operatingSystem: "Windows 11 Enterprise", objectGUID: accountGUID,
            lastLogon: lastLogonTicksAgo.map { FileTime(ticks: Fixture.nowTicks - $0) }, unicodePwdMetadata: stamp,
            pwdLastSetMetadata: stamp.map {
                var entry = $0
                entry.attributeID = AttributeID.pwdLastSet
                entry.attributeName = "pwdLastSet"
                return entry
            })
    }

    static func account(_ views: [(DomainController, DirectoryObject)]) -> AccountView {
        var account = AccountView(views[0].1, origin: views[0].0.hostName)
        for (dc, object) in views.dropFirst() {
            precondition(account.merge(AccountView.View(origin: "ldaps://\(dc.hostName):636", object: object)))
        }
        return account
    }
}

final class PasswordNotReplicatedRuleTests: XCTestCase {
    typealias D = DCFixture

    private func findings(_ account: AccountView, _ context: AuditContext) -> [Finding] {
        var findings: [Finding] = []
        PasswordNotReplicatedRule().evaluate(account, in: context, into: &findings)
        return findings
    }

    private func detail(_ finding: Finding, _ key: String) -> DetailValue? {
        finding.details.first { $0.key == key }?.value
    }

    /// The two-DC test's fault: DC2's inbound replication off, DC1 takes the machine's new password.
    func testADCThatMissedThePasswordIsNamedWithWhatItMisses() throws {
        let account = D.account([
            (D.dc01, D.view(version: 2, writtenTicksAgo: 2 * D.day, lastLogonTicksAgo: 3 * D.hour)),
            (D.dc02, D.view(version: 1, writtenTicksAgo: 32 * D.day, by: D.dc02, lastLogonTicksAgo: 1 * D.hour)),
        ])
        let found = findings(account, D.context([D.reading(D.dc01), D.reading(D.dc02)]))
        XCTAssertEqual(found.count, 1)
        let finding = try XCTUnwrap(found.first)
        XCTAssertEqual(finding.rule, "password-not-replicated")
        XCTAssertEqual(finding.account, "WKS-0142$")
        XCTAssertEqual(finding.severity, .high, "it logged on an hour ago, through the DC that is behind")
        XCTAssertEqual(detail(finding, "behindDCs"), .strings(["dc02.corp.example"]))
        XCTAssertEqual(detail(finding, "newestDC"), .string("dc01.corp.example"))
        XCTAssertEqual(detail(finding, "comparedBy"), .string("replication-metadata"))
        XCTAssertEqual(detail(finding, "newestVersion"), .integer(2))
        XCTAssertEqual(detail(finding, "oldestVersion"), .integer(1))
        XCTAssertEqual(detail(finding, "missedChanges"), .integer(1))
        XCTAssertEqual(detail(finding, "passwordChanged"), .string("2026-11-22T00:00:00Z"))
        XCTAssertEqual(detail(finding, "behindSince"), .string("2026-11-22T00:00:00Z"))
        XCTAssertEqual(detail(finding, "lastLogon"), .string("2026-11-23T23:00:00Z"))
        XCTAssertEqual(detail(finding, "lastLogonDC"), .string("dc02.corp.example"))
        XCTAssertNil(detail(finding, "notCompared"))
        XCTAssertEqual(
            finding.message,
            "Machine password of WKS-0142 not replicated: dc01.corp.example holds unicodePwd version 2, written 2026-11-22T00:00:00Z by dc01.corp.example; dc02.corp.example holds unicodePwd version 1, written 2026-10-23T00:00:00Z and misses 1 password change (since 2026-11-22T00:00:00Z). Its last logon is 2026-11-23 (0 days ago, on dc02.corp.example): it is in use, and a logon through a DC that is behind fails."
        )
        let fix = finding.remediation
        XCTAssertTrue(fix.contains("repadmin /showrepl dc02.corp.example\n"), fix)
        XCTAssertTrue(fix.contains("repadmin /syncall dc02.corp.example /AdeP\n"), fix)
        XCTAssertTrue(
            fix.contains("samba-tool drs replicate dc02.corp.example dc01.corp.example DC=corp,DC=example\n"), fix)
        XCTAssertTrue(
            fix.contains(
                "on wks-0142.corp.example, as a local administrator: Test-ComputerSecureChannel -Server dc02.corp.example -Verbose"
            ), fix)
        XCTAssertTrue(
            fix.hasSuffix("Test-ComputerSecureChannel -Repair -Server dc02.corp.example -Credential (Get-Credential)"),
            fix)
    }

    func testSeveralDCsBehindAndHowManyChangesTheyMiss() throws {
        let account = D.account([
            (D.dc02, D.view(version: 4, writtenTicksAgo: 95 * D.day, lastLogonTimestampTicksAgo: 40 * D.day)),
            (D.dc01, D.view(version: 7, writtenTicksAgo: 3 * D.day, lastLogonTicksAgo: 2 * D.day)),
            (D.dc03, D.view(version: 5, writtenTicksAgo: 64 * D.day, by: D.dc03)),
        ])
        let finding = try XCTUnwrap(
            findings(account, D.context([D.reading(D.dc01), D.reading(D.dc02), D.reading(D.dc03)])).first)
        XCTAssertEqual(detail(finding, "behindDCs"), .strings(["dc02.corp.example", "dc03.branch.corp.example"]))
        XCTAssertEqual(detail(finding, "missedChanges"), .integer(3), "dc02 holds 4 of 7")
        XCTAssertEqual(
            detail(finding, "behindSince"), .string("2026-09-21T00:00:00Z"),
            "the first change dc02 lacks is version 5, which dc03 holds")
        XCTAssertTrue(finding.message.contains("dc02.corp.example holds unicodePwd version 4"), finding.message)
        XCTAssertTrue(finding.message.contains("misses 3 password changes"), finding.message)
        XCTAssertTrue(finding.message.contains("dc03.branch.corp.example holds unicodePwd version 5"), finding.message)
        XCTAssertTrue(finding.message.contains("misses 2 password changes"), finding.message)
        XCTAssertEqual(finding.severity, .high, "its true last logon is two days old")
        XCTAssertEqual(finding.remediation.components(separatedBy: "repadmin /showrepl ").count - 1, 2)
    }

    func testAgreeingDCsAndASingleViewSayNothing() {
        let same = D.account([
            (D.dc01, D.view(version: 3, writtenTicksAgo: 10 * D.day)),
            (D.dc02, D.view(version: 3, writtenTicksAgo: 10 * D.day)),
        ])
        XCTAssertEqual(findings(same, D.context([D.reading(D.dc01), D.reading(D.dc02)])), [])
        let one = AccountView(D.view(version: 1, writtenTicksAgo: 90 * D.day), origin: D.dc01.hostName)
        XCTAssertEqual(findings(one, D.context([D.reading(D.dc01), D.reading(D.dc02)])), [])
    }

    func testAReadOnlyDCBehindIsExpected() {
        let account = D.account([
            (D.dc01, D.view(version: 9, writtenTicksAgo: 4 * D.day)),
            (D.rodc, D.view(version: 8, writtenTicksAgo: 34 * D.day)),
        ])
        XCTAssertEqual(findings(account, D.context([D.reading(D.dc01), D.reading(D.rodc)])), [])
    }

    func testWithoutMetadataPwdLastSetIsComparedAndSaysAtLeastOne() throws {
        let account = D.account([
            (D.dc01, D.view(version: nil, writtenTicksAgo: 1 * D.day)),
            (D.dc02, D.view(version: nil, writtenTicksAgo: 31 * D.day, lastLogonTimestampTicksAgo: 200 * D.day)),
        ])
        let finding = try XCTUnwrap(findings(account, D.context([D.reading(D.dc01), D.reading(D.dc02)])).first)
        XCTAssertEqual(detail(finding, "comparedBy"), .string("pwdLastSet"))
        XCTAssertNil(detail(finding, "missedChanges"))
        XCTAssertNil(detail(finding, "newestVersion"))
        XCTAssertEqual(detail(finding, "behindDCs"), .strings(["dc02.corp.example"]))
        XCTAssertTrue(finding.message.contains("miss at least one password change"), finding.message)
        XCTAssertEqual(finding.severity, .high, "lastLogonTimestamp 5 days ago on dc01, within 30 + 14 days")
    }

    func testAMachineSilentForMonthsIsMedium() throws {
        let account = D.account([
            (
                D.dc01,
                D.view(
                    version: 2, writtenTicksAgo: 80 * D.day, lastLogonTicksAgo: 79 * D.day,
                    lastLogonTimestampTicksAgo: 79 * D.day)
            ),
            (D.dc02, D.view(version: 1, writtenTicksAgo: 110 * D.day, lastLogonTimestampTicksAgo: 79 * D.day)),
        ])
        let finding = try XCTUnwrap(findings(account, D.context([D.reading(D.dc01), D.reading(D.dc02)])).first)
        XCTAssertEqual(finding.severity, .medium)
        XCTAssertTrue(
            finding.message.hasSuffix("Its last logon is 2026-09-06 (79 days ago, on dc01.corp.example)."),
            finding.message)
    }

    func testAChangeMinutesOldMayStillBeReplicating() throws {
        let account = D.account([
            (D.dc01, D.view(version: 2, writtenTicksAgo: 20 * Fixture.minute, lastLogonTicksAgo: 20 * Fixture.minute)),
            (D.dc02, D.view(version: 1, writtenTicksAgo: 30 * D.day)),
        ])
        let finding = try XCTUnwrap(findings(account, D.context([D.reading(D.dc01), D.reading(D.dc02)])).first)
        XCTAssertEqual(finding.severity, .medium, "not high while it may still arrive")
        XCTAssertTrue(finding.message.contains("may still be replicating"), finding.message)
    }

    func testADCThatDidNotAnswerIsNamedAsNotCompared() throws {
        let account = D.account([
            (D.dc01, D.view(version: 2, writtenTicksAgo: 2 * D.day)),
            (D.dc02, D.view(version: 1, writtenTicksAgo: 32 * D.day)),
        ])
        let context = D.context([D.reading(D.dc01), D.reading(D.dc02), D.reading(D.dc03, answered: false)])
        let finding = try XCTUnwrap(findings(account, context).first)
        XCTAssertEqual(detail(finding, "notCompared"), .strings(["dc03.branch.corp.example"]))
        XCTAssertTrue(finding.message.hasSuffix("Not compared (did not answer): dc03.branch.corp.example."))
    }

    func testTheSeverityCanBeConfigured() throws {
        var configuration = AuditConfiguration()
        configuration.severities["password-not-replicated"] = .critical
        let account = D.account([
            (D.dc01, D.view(version: 2, writtenTicksAgo: 2 * D.day)),
            (D.dc02, D.view(version: 1, writtenTicksAgo: 32 * D.day)),
        ])
        let context = D.context([D.reading(D.dc01), D.reading(D.dc02)], configuration: configuration)
        XCTAssertEqual(findings(account, context).first?.severity, .critical)
    }

    // MARK: Through the runner

    func testTheRuleIsPartOfAnAuditOnlyWithDCReadings() throws {
        let dc1View = D.view(version: 2, writtenTicksAgo: 2 * D.day, lastLogonTicksAgo: D.hour)
        let dc2View = D.view(version: 1, writtenTicksAgo: 32 * D.day)
        var single = AuditRunner(configuration: AuditConfiguration(), now: Fixture.now, source: "corp.ldif")
        single.add(dc1View)
        let alone = single.finish()
        XCTAssertFalse(alone.rules.map(\.id).contains("password-not-replicated"))
        XCTAssertFalse(alone.registry.map { $0.description.id }.contains("password-not-replicated"))

        var facts: [ComputerFacts] = []
        var multi = AuditRunner(
            configuration: AuditConfiguration(), now: Fixture.now,
            sources: ["dc01.corp.example", "dc02.corp.example"], computerSink: { facts.append($0) },
            domainControllers: [D.reading(D.dc01), D.reading(D.dc02)])
        multi.add(dc1View, origin: 0)
        multi.add(dc2View, origin: 1)
        let result = multi.finish()
        XCTAssertTrue(result.rules.map(\.id).contains("password-not-replicated"))
        XCTAssertEqual(result.findings.filter { $0.rule == "password-not-replicated" }.map(\.account), ["WKS-0142$"])
        XCTAssertEqual(facts.first?.trueLastLogon, FileTime(ticks: Fixture.nowTicks - D.hour))
        XCTAssertEqual(facts.first?.trueLastLogonDC, "dc01.corp.example")
    }

    // MARK: Hostile names

    /// DC names come from the directory (dNSHostName of the server objects): each goes into cmd.exe,
    /// sh and PowerShell commands as one inert argument, or the command is withheld.
    func testHostileDCNamesAreOneArgumentOrNoCommand() {
        for hostile in Hostile.names {
            let behind = DomainController(
                hostName: "dc02.corp.example" + hostile, serverDN: D.server("DC02"), invocationID: D.dc02.invocationID)
            let source = DomainController(
                hostName: hostile + ".corp.example", serverDN: D.server("DC01"), invocationID: D.dc01.invocationID)
            var account = AccountView(D.view(version: 5, writtenTicksAgo: 3 * D.day), origin: source.hostName)
            _ = account.merge(
                AccountView.View(origin: behind.hostName, object: D.view(version: 4, writtenTicksAgo: 33 * D.day)))
            let context = D.context([D.reading(source), D.reading(behind)])
            guard let finding = findings(account, context).first else {
                XCTFail("no finding for \(hostile.debugDescription)")
                continue
            }
            let fix = finding.remediation
            let unquotable = Hostile.isUnquotableAnywhere(hostile)
            let cmdUnquotable = Hostile.isUnquotableInCommandPrompt(hostile)
            for command in commands("repadmin", in: fix) {
                XCTAssertFalse(cmdUnquotable, "a repadmin command for \(hostile.debugDescription): \(command)")
                let lexed = CommandPromptLexer.lex(command)
                XCTAssertEqual(lexed.hazards, [], command)
                XCTAssertEqual(lexed.statements.count, 1, command)
                XCTAssertEqual(lexed.statements.first?[2], .word(behind.hostName), command)
            }
            if cmdUnquotable { XCTAssertTrue(fix.contains("no safe repadmin command"), fix) }
            let samba = commands("samba-tool", in: fix)
            if unquotable {
                XCTAssertEqual(samba, [])
                XCTAssertTrue(fix.contains("no safe samba-tool command"), fix)
            } else {
                XCTAssertEqual(
                    samba.map(POSIXShellLexer.lex),
                    [
                        LexedLine(statements: [
                            ["samba-tool", "drs", "replicate", behind.hostName, source.hostName, "DC=corp,DC=example"]
                                .map(ShellToken.word)
                        ])
                    ], fix)
            }
            for command in commands("Test-ComputerSecureChannel", in: fix) {
                let lexed = PowerShellLexer.lex(command)
                XCTAssertEqual(lexed.hazards, [], command)
                XCTAssertEqual(lexed.statements.count, 1, command)
                XCTAssertTrue(lexed.statements.first?.contains(.word(behind.hostName)) == true, command)
            }
            XCTAssertFalse(
                fix.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || $0 == "\u{202E}" },
                fix.debugDescription)
        }
    }
}
