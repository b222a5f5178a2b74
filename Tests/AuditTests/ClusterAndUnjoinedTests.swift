import XCTest

@testable import Audit
@testable import Directory

/// Computer accounts no machine keeps: failover cluster name objects (the cluster rotates their
/// password and registers HOST/ only) and accounts never joined (pre-staged, or made by a user through
/// ms-DS-MachineAccountQuota); and additional names, which never cause a finding of their own.
final class ClusterAndUnjoinedTests: XCTestCase {
    // MARK: Fixtures

    /// SQLCLU01, a failover cluster's name object, as the cluster registers it: MSClusterVirtualServer/
    /// and HOST/ in both forms, no operatingSystem.
    private static func clusterName(
        _ name: String = "SQLCLU01", userAccountControl: String = "4096",
        pwdLastSet: Int64 = Fixture.ticks(daysAgo: 10),
        lastLogonTimestamp: Int64? = Fixture.ticks(daysAgo: 2), spns: [String]? = nil
    ) -> String {
        let fqdn = name.lowercased() + ".corp.example"
        return Fixture.computer(
            name, container: "OU=Servers,DC=corp,DC=example", userAccountControl: userAccountControl,
            pwdLastSet: pwdLastSet, lastLogonTimestamp: lastLogonTimestamp, operatingSystem: nil,
            spns: spns ?? [
                "MSClusterVirtualServer/\(name)", "MSClusterVirtualServer/\(fqdn)", "HOST/\(name)", "HOST/\(fqdn)",
            ])
    }

    /// ez.lab's TestyBoi$ (bofhound's test data), with its binary mS-DS-CreatorSID written as ldapsearch
    /// writes binary values (`::`, base64): created by an ordinary user with a DNS name and a password,
    /// used twice (logonCount 2), never joined (no operatingSystem, no SPN).
    private static let testyBoi = """
        dn: CN=TestyBoi,CN=Computers,DC=ez,DC=lab
        accountExpires: 9223372036854775807
        cn: TestyBoi
        dNSHostName: TestyBoi.ez.lab
        distinguishedName: CN=TestyBoi,CN=Computers,DC=ez,DC=lab
        lastLogonTimestamp: 132837804890438397
        logonCount: 2
        mS-DS-CreatorSID:: AQUAAAAAAAUVAAAAf4r70iufdkVaJ0DTVgQAAA==
        name: TestyBoi
        objectCategory: CN=Computer,CN=Schema,CN=Configuration,DC=ez,DC=lab
        objectClass: top
        objectClass: person
        objectClass: organizationalPerson
        objectClass: user
        objectClass: computer
        objectGUID: 3c8411a5-92b6-40b2-acef-a14a2b23420e
        objectSid: S-1-5-21-3539700351-1165401899-3544196954-1112
        primaryGroupID: 515
        pwdLastSet: 132837804652617350
        sAMAccountName: TestyBoi$
        sAMAccountType: 805306369
        userAccountControl: 4096
        whenChanged: 20211212111452.0Z
        whenCreated: 20211212110104.0Z


        """

    private static let creator = "S-1-5-21-3539700351-1165401899-3544196954-1110"

    private func evaluate(
        _ rule: some AccountRule, _ object: DirectoryObject, context: AuditContext = Fixture.context()
    )
        -> [Finding]
    {
        var findings: [Finding] = []
        rule.evaluate(object, in: context, into: &findings)
        return findings
    }

    private static let clusterRepair = """
        Repair it from the cluster, not with Reset-ComputerMachinePassword: in Failover Cluster Manager, right-click the name resource, More Actions > Repair Active Directory Object; or on a cluster node, as an administrator: Repair-ClusterNameAccount
        A virtual computer object (a clustered role's name) is repaired by the cluster name object once the cluster's own name is healthy.
        """

    // MARK: Cluster name objects

    func testClusterNameObjectIsRecognisedByItsClusterSPN() throws {
        XCTAssertTrue(try Fixture.object(Self.clusterName()).isClusterNameObject)
        let lowerCase = Self.clusterName(spns: ["msclustervirtualserver/SQLCLU01", "HOST/SQLCLU01"])
        XCTAssertTrue(try Fixture.object(lowerCase).isClusterNameObject)
        XCTAssertFalse(try Fixture.object(Fixture.computer("WKS-0042")).isClusterNameObject)
        XCTAssertFalse(try Fixture.object(Self.clusterName(spns: ["MSClusterVirtualServer/"])).isClusterNameObject)
        XCTAssertFalse(try Fixture.object(Self.clusterName()).wasNeverJoined, "it holds SPNs")
        // A user holding the SPN is no computer account.
        let user = Fixture.user("svc-clu", spns: ["MSClusterVirtualServer/SQLCLU01"])
        XCTAssertFalse(try Fixture.object(user).isClusterNameObject)
    }

    func testMissingSPNAsksOnlyHOSTOfAClusterNameObject() throws {
        XCTAssertEqual(
            try Fixture.evaluate(MissingSPNRule(), Self.clusterName()), [], "no RestrictedKrbHost/, TERMSRV/")
        let halfHost = Self.clusterName(spns: ["MSClusterVirtualServer/SQLCLU01", "HOST/SQLCLU01"])
        let finding = try XCTUnwrap(try Fixture.evaluate(MissingSPNRule(), halfHost).first)
        XCTAssertEqual(finding.detail("missingSPNs"), .strings(["HOST/sqlclu01.corp.example"]))
        XCTAssertEqual(finding.severity, .high)
        XCTAssertEqual(
            finding.remediation,
            """
            A failover cluster name object: the cluster registers its SPNs when the name comes online; in Failover Cluster Manager, take the name resource offline and back online (or More Actions > Repair Active Directory Object), else add them:
            setspn -S HOST/sqlclu01.corp.example SQLCLU01
            setspn -S refuses an SPN another account already holds; if it does, resolve that duplicate first (setspn -X).
            """)
        // The same SPNs on a computer a machine joined are missing RestrictedKrbHost/.
        let joined = Fixture.computer("SQL02", spns: ["HOST/SQL02", "HOST/sql02.corp.example"])
        XCTAssertEqual(
            try Fixture.evaluate(MissingSPNRule(), joined).first?.detail("missingSPNs"),
            .strings(["RestrictedKrbHost/SQL02", "RestrictedKrbHost/sql02.corp.example"]))
    }

    func testClusterPasswordIsStaleOnlyPastTheClusterThreshold() throws {
        let rotated = Self.clusterName(pwdLastSet: Fixture.ticks(daysAgo: 1094))
        XCTAssertEqual(try Fixture.evaluate(StalePasswordRule(), rotated), [], "no machine rotates it every 30 days")
        let old = Self.clusterName(
            pwdLastSet: Fixture.ticks(daysAgo: 1095), lastLogonTimestamp: Fixture.ticks(daysAgo: 3))
        let finding = try XCTUnwrap(try Fixture.evaluate(StalePasswordRule(), old).first)
        XCTAssertEqual(finding.detail("story"), .string("cluster-name-object"))
        XCTAssertEqual(finding.severity, .medium)
        XCTAssertEqual(
            finding.message,
            "Failover cluster name object (it holds MSClusterVirtualServer/ SPNs), whose password the cluster rotates: last set 2023-11-25 (1095 days ago, past the 1095-day cluster threshold); last logon 2026-11-21 (3 days ago). A cluster in use can no longer update its account; a retired cluster left it behind."
        )
        XCTAssertEqual(
            finding.detailKeys, ["story", "pwdLastSet", "passwordAgeDays", "lastLogonTimestamp", "lastLogonAgeDays"])
        XCTAssertEqual(
            finding.remediation,
            """
            If the cluster is in use: \(Self.clusterRepair)
            If the cluster was retired: Disable-ADComputer -Identity 'SQLCLU01$' -Server corp.example
            After a grace period: Remove-ADComputer -Identity 'CN=SQLCLU01,OU=Servers,DC=corp,DC=example' -Server corp.example
            """)
        XCTAssertFalse(finding.remediation.contains("Reset-ComputerMachinePassword -Server"))
        XCTAssertFalse(finding.remediation.contains("Test-ComputerSecureChannel"))

        var configuration = AuditConfiguration()
        configuration.clusterStalePasswordDays = 365
        let configured = try Fixture.evaluate(
            StalePasswordRule(), Self.clusterName(pwdLastSet: Fixture.ticks(daysAgo: 400), lastLogonTimestamp: nil),
            configuration: configuration)
        XCTAssertEqual(configured.first?.detail("story"), .string("cluster-name-object"))
        XCTAssertTrue(
            configured.first?.message.contains("past the 365-day cluster threshold); no logon recorded.") ?? false)
    }

    /// A site may hold cluster names to less than machines: each threshold applies to its own kind.
    func testClusterThresholdBelowTheMachineThreshold() throws {
        var configuration = AuditConfiguration()
        configuration.clusterStalePasswordDays = 30
        let cluster = Self.clusterName(pwdLastSet: Fixture.ticks(daysAgo: 40))
        XCTAssertEqual(
            try Fixture.evaluate(StalePasswordRule(), cluster, configuration: configuration).first?.detail("story"),
            .string("cluster-name-object"))
        let machine = Fixture.computer(
            "WKS-0042", pwdLastSet: Fixture.ticks(daysAgo: 40), lastLogonTimestamp: Fixture.ticks(daysAgo: 1))
        XCTAssertEqual(try Fixture.evaluate(StalePasswordRule(), machine, configuration: configuration), [])
    }

    func testResetOrClockProblemsOfAClusterGetTheClusterRepair() throws {
        let reset = try XCTUnwrap(try Fixture.evaluate(StalePasswordRule(), Self.clusterName(pwdLastSet: 0)).first)
        XCTAssertEqual(reset.detail("story"), .string("cluster-name-object"), "not reset-pending: no machine to repair")
        XCTAssertEqual(
            reset.message,
            "Failover cluster name object (it holds MSClusterVirtualServer/ SPNs) with pwdLastSet 0: the account was reset, so the cluster can no longer log on as SQLCLU01 with the password it keeps until the name is repaired."
        )
        XCTAssertTrue(reset.remediation.hasPrefix("If the cluster is in use: Repair it from the cluster"))
        let future = try XCTUnwrap(
            try Fixture.evaluate(StalePasswordRule(), Self.clusterName(pwdLastSet: Fixture.ticks(daysAgo: -10))).first)
        XCTAssertEqual(future.detail("story"), .string("password-in-future"))
        XCTAssertTrue(
            future.remediation.contains("Then reset the password from the cluster: Repair it from the cluster"),
            future.remediation)
        XCTAssertFalse(future.remediation.contains("Test-ComputerSecureChannel"))
    }

    func testDisabledClusterNameObjectSaysSoAndGetsTheClusterRepair() throws {
        let finding = try XCTUnwrap(
            try Fixture.evaluate(DisabledAccountRule(), Self.clusterName(userAccountControl: "4098")).first)
        XCTAssertEqual(
            finding.message,
            "Failover cluster name object SQLCLU01$ (it holds MSClusterVirtualServer/ SPNs) is disabled (userAccountControl 4098 has ACCOUNTDISABLE (0x2); last logon 2026-11-22): the cluster cannot bring the name SQLCLU01 online."
        )
        XCTAssertEqual(
            finding.remediation,
            """
            If SQLCLU01 is still in use: Enable-ADComputer -Identity 'SQLCLU01$' -Server corp.example
            \(Self.clusterRepair)
            If it is retired: Remove-ADComputer -Identity 'CN=SQLCLU01,OU=Servers,DC=corp,DC=example' -Server corp.example
            """)
    }

    func testSummaryCountsClusterNameObjectsApart() throws {
        let vco = Self.clusterName("SQLAG01")
        let result = try Fixture.audit(Fixture.computer("WKS-0001") + Self.clusterName() + vco)
        XCTAssertEqual(result.summary.computers, 3)
        XCTAssertEqual(result.summary.clusterNameObjects, 2)
        XCTAssertEqual(result.findings, [], "healthy cluster names have nothing to report")
    }

    // MARK: Accounts never joined

    func testTestyBoiTellsTheStoryOfAnAccountNoMachineJoined() throws {
        let object = try Fixture.object(Self.testyBoi)
        XCTAssertTrue(object.wasNeverJoined)
        XCTAssertEqual(object.creatorSID, Self.creator)
        let context = AuditContext(now: Fixture.now, configuration: AuditConfiguration(), domain: "ez.lab")
        XCTAssertEqual(evaluate(MissingSPNRule(), object, context: context), [], "the join registers SPNs")
        XCTAssertFalse(MissingSPNRule.judges(object))
        let finding = try XCTUnwrap(evaluate(StalePasswordRule(), object, context: context).first)
        XCTAssertEqual(finding.detail("story"), .string("never-joined"))
        XCTAssertEqual(finding.severity, .medium)
        XCTAssertEqual(
            finding.message,
            "Never joined: it has no operatingSystem and no servicePrincipalName, which a join writes, yet its password was set 2021-12-12 (1807 days ago); last logon 2021-12-12 (1807 days ago): something used it without joining a machine. It was created by \(Self.creator) (mS-DS-CreatorSID), an ordinary user, through ms-DS-MachineAccountQuota: worth a look; whoever set its password can log on as it."
        )
        XCTAssertEqual(
            finding.remediation,
            """
            If the account was pre-staged for a machine not yet joined, join it: Add-Computer -DomainName ez.lab -Credential (Get-Credential) -Restart
            If no machine will use it, remove it: Remove-ADComputer -Identity 'CN=TestyBoi,CN=Computers,DC=ez,DC=lab' -Server ez.lab
            """)
        XCTAssertFalse(finding.message.contains("secure channel"))
    }

    func testNeverJoinedWithoutCreatorOrLogon() throws {
        let preStaged = Fixture.computer(
            "WKS-0099", pwdLastSet: Fixture.ticks(daysAgo: 200), operatingSystem: nil, spns: [])
        let finding = try XCTUnwrap(try Fixture.evaluate(StalePasswordRule(), preStaged).first)
        XCTAssertEqual(finding.detail("story"), .string("never-joined"))
        XCTAssertEqual(
            finding.message,
            "Never joined: it has no operatingSystem and no servicePrincipalName, which a join writes, yet its password was set 2026-05-08 (200 days ago); no logon recorded. It was pre-staged with a password, or created by a user through ms-DS-MachineAccountQuota; whoever set that password can log on as it."
        )
        XCTAssertEqual(finding.detailKeys, ["story", "pwdLastSet", "passwordAgeDays"])
        // A fresh password is no stale one, joined or not.
        let fresh = Fixture.computer("WKS-0099", pwdLastSet: Fixture.ticks(daysAgo: 3), operatingSystem: nil, spns: [])
        XCTAssertEqual(try Fixture.evaluate(StalePasswordRule(), fresh), [])
    }

    /// pwdLastSet 0 on an account never joined is the pre-staged story (never-set), told with what
    /// shows no machine joined it, and never reset-pending: no machine holds a password to mismatch.
    func testNeverJoinedWithPwdLastSetZeroIsThePreStagedStory() throws {
        var object = try Fixture.object(
            Fixture.computer("WKS-0099", userAccountControl: "4128", pwdLastSet: 0, operatingSystem: nil, spns: []))
        object.creatorSID = Self.creator
        let finding = try XCTUnwrap(evaluate(StalePasswordRule(), object).first)
        XCTAssertEqual(finding.detail("story"), .string("never-set"))
        XCTAssertEqual(
            finding.message,
            "pwdLastSet is 0 and it has no operatingSystem and no servicePrincipalName, which a join writes: the account was pre-created and no machine ever joined it. It was created by \(Self.creator) (mS-DS-CreatorSID), an ordinary user, through ms-DS-MachineAccountQuota: worth a look."
        )
        XCTAssertTrue(finding.remediation.hasPrefix("If the account was pre-staged for a machine not yet joined"))
        object.lastLogonTimestamp = FileTime(ticks: Fixture.ticks(daysAgo: 5))
        let used = try XCTUnwrap(evaluate(StalePasswordRule(), object).first)
        XCTAssertEqual(used.detail("story"), .string("never-set"))
        XCTAssertTrue(
            used.message.contains(
                "Yet a logon is recorded on 2026-11-19: something used the account without joining a machine to it."),
            used.message)
        XCTAssertEqual(used.detailKeys, ["story", "pwdLastSet", "lastLogonTimestamp"])
    }

    func testComputersCSVSaysNotCheckedForAnAccountNeverJoined() throws {
        var facts: [ComputerFacts] = []
        var runner = AuditRunner(
            configuration: AuditConfiguration(), now: Fixture.now, source: "ez.lab.ldif",
            computerSink: { facts.append($0) })
        for object in try Fixture.objects(Self.testyBoi + Fixture.computer("WKS-0001")) { runner.add(object) }
        _ = runner.finish()
        XCTAssertEqual(facts.map(\.spnsChecked), [false, true])
        XCTAssertEqual(facts.map(\.hasMissingSPNFinding), [false, false])
        XCTAssertEqual(facts[0].findings.map(\.rule), ["stale-password"])
    }

    // MARK: Additional names

    /// msDS-AdditionalDnsHostName / msDS-AdditionalSamAccountName (netdom computername /add): SPNs for
    /// them are neither required nor anything odd, and a duplicate of one is an ordinary duplicate.
    func testAdditionalNamesNeverCauseAFinding() throws {
        func alias(_ spns: [String]) -> String {
            Fixture.computer("FS01", container: "OU=Servers,DC=corp,DC=example", spns: spns)
                .replacingOccurrences(
                    of: "objectCategory:",
                    with:
                        "msDS-AdditionalDnsHostName: files.corp.example\nmsDS-AdditionalSamAccountName: FILES$\nobjectCategory:"
                )
        }
        let withoutAliasSPNs = alias(Fixture.joinSPNs("FS01"))
        let object = try Fixture.object(withoutAliasSPNs)
        XCTAssertEqual(object.additionalDnsHostNames, ["files.corp.example"])
        XCTAssertEqual(object.additionalSamAccountNames, ["FILES$"])
        let withAliasSPNs = alias(
            Fixture.joinSPNs("FS01") + ["HOST/files.corp.example", "HOST/FILES", "cifs/files.corp.example"])
        for ldif in [withoutAliasSPNs, withAliasSPNs] {
            XCTAssertEqual(try Fixture.audit(ldif).findings, [])
        }
        let other = Fixture.computer(
            "FS02", container: "OU=Servers,DC=corp,DC=example",
            spns: Fixture.joinSPNs("FS02") + ["HOST/files.corp.example"])
        let duplicates = try Fixture.audit(withAliasSPNs + other).findings
        XCTAssertEqual(duplicates.map(\.rule), ["duplicate-spn", "duplicate-spn"])
        XCTAssertEqual(duplicates.first?.detail("spn"), .string("HOST/files.corp.example"))
    }
}

/// The fix commands this work added or changed, fed names and domains an attacker chose (a domain can
/// come from a crafted DN's DC= components now that commands name the object's own domain), read back
/// with the shells' lexers: one statement, each value exactly one argument, or no command and a reason.
final class ClusterAndUnjoinedHostileNameTests: XCTestCase {
    private func words(_ words: String...) -> [ShellToken] { words.map(ShellToken.word) }
    private static let credential = ShellToken.group("(Get-Credential)")

    /// `text` escaped for an RDN value as RFC 4514 says.
    private func rdnValue(_ text: String) -> String {
        var value = ""
        for character in text {
            if ",+\"\\<>;=".contains(character) { value.append("\\") }
            value.append(character)
        }
        return value
    }

    private func computer(
        _ name: String, domainLabel: String? = nil, userAccountControl: UInt32 = 4096,
        operatingSystem: String? = "Windows 11 Enterprise", passwordLastSet: Int64 = Fixture.ticks(daysAgo: 10),
        lastLogonTimestamp: Int64? = Fixture.ticks(daysAgo: 2), spns: [String] = []
    ) -> DirectoryObject {
        let domain = domainLabel.map { "DC=\(rdnValue($0)),DC=corp,DC=example" } ?? "DC=corp,DC=example"
        return DirectoryObject(
            kind: .computer, distinguishedName: "CN=\(rdnValue(name)),OU=Workstations,\(domain)",
            samAccountName: name + "$", commonName: name,
            userAccountControl: UserAccountControl(rawValue: userAccountControl),
            passwordLastSet: FileTime(ticks: passwordLastSet),
            lastLogonTimestamp: lastLogonTimestamp.map(FileTime.init(ticks:)),
            servicePrincipalNames: spns.map(ServicePrincipalName.init), operatingSystem: operatingSystem)
    }

    private func assertCommands(
        _ text: String, _ prefix: String, _ shell: Shell, _ expected: [[ShellToken]], _ value: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let lexed = commands(prefix, in: text).map { command -> LexedLine in
            switch shell {
            case .powerShell: return PowerShellLexer.lex(command)
            case .commandPrompt: return CommandPromptLexer.lex(command)
            case .posix: return POSIXShellLexer.lex(command)
            }
        }
        XCTAssertEqual(
            lexed, expected.map { LexedLine(statements: [$0]) }, "\(prefix) for \(value.debugDescription) in:\n\(text)",
            file: file, line: line)
        XCTAssertFalse(
            text.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || $0 == "\u{202E}" }, text.debugDescription,
            file: file, line: line)
    }

    private func remediation(_ rule: some AccountRule, _ object: DirectoryObject) throws -> String {
        var findings: [Finding] = []
        rule.evaluate(object, in: Fixture.context(), into: &findings)
        return try XCTUnwrap(findings.first, object.distinguishedName.debugDescription).remediation
    }

    /// A child domain's computer is repaired in its own domain, taken from its DN: hostile there too.
    func testSecureChannelRepairQuotesAHostileDomainFromTheDN() throws {
        for label in Hostile.names {
            for operatingSystem in ["Windows 11 Enterprise", "Ubuntu 24.04 LTS"] {
                let object = computer(
                    "WKS-0042", domainLabel: "emea" + label, userAccountControl: 4098, operatingSystem: operatingSystem)
                let domain = try XCTUnwrap(object.domainDNSName)
                let text = try remediation(DisabledAccountRule(), object)
                let unquotable = Hostile.isUnquotableAnywhere(domain)
                if operatingSystem.hasPrefix("Windows") {
                    assertCommands(
                        text, "Reset-ComputerMachinePassword", .powerShell,
                        unquotable
                            ? []
                            : [
                                words("Reset-ComputerMachinePassword", "-Server", domain, "-Credential") + [
                                    Self.credential
                                ]
                            ],
                        domain)
                    assertCommands(
                        text, "netdom", .commandPrompt,
                        Hostile.isUnquotableInCommandPrompt(domain)
                            ? []
                            : [words("netdom", "resetpwd", "/Server:" + domain, "/UserD:CORP\\admin", "/PasswordD:*")],
                        domain)
                } else {
                    assertCommands(
                        text, "adcli update", .posix,
                        unquotable
                            ? []
                            : [
                                words(
                                    "adcli", "update", "--computer-password-lifetime=0", "--domain-controller=" + domain
                                )
                            ],
                        domain)
                    assertCommands(
                        text, "realm join", .posix, unquotable ? [] : [words("realm", "join", domain)], domain)
                }
                assertCommands(
                    text, "Enable-ADComputer", .powerShell,
                    unquotable ? [] : [words("Enable-ADComputer", "-Identity", "WKS-0042$", "-Server", domain)], domain)
            }
        }
    }

    func testClusterFixesCarryHostileNamesAsOneArgument() throws {
        for name in Hostile.names {
            let spns = ["MSClusterVirtualServer/" + name, "HOST/" + name]
            let stale = computer(
                name, operatingSystem: nil, passwordLastSet: Fixture.ticks(daysAgo: 1200), spns: spns)
            let text = try remediation(StalePasswordRule(), stale)
            let unquotable = Hostile.isUnquotableAnywhere(name)
            assertCommands(
                text, "Disable-ADComputer", .powerShell,
                unquotable ? [] : [words("Disable-ADComputer", "-Identity", name + "$", "-Server", "corp.example")],
                name)
            assertCommands(
                text, "Remove-ADComputer", .powerShell,
                unquotable
                    ? []
                    : [words("Remove-ADComputer", "-Identity", stale.distinguishedName, "-Server", "corp.example")],
                name)
            assertCommands(text, "Reset-ComputerMachinePassword", .powerShell, [], name)
            XCTAssertTrue(text.contains("Repair-ClusterNameAccount"), text)
            let disabled = computer(name, userAccountControl: 4098, operatingSystem: nil, spns: spns)
            let disabledText = try remediation(DisabledAccountRule(), disabled)
            assertCommands(
                disabledText, "Enable-ADComputer", .powerShell,
                unquotable ? [] : [words("Enable-ADComputer", "-Identity", name + "$", "-Server", "corp.example")], name
            )
            assertCommands(disabledText, "Reset-ComputerMachinePassword", .powerShell, [], name)
        }
    }

    func testNeverJoinedFixesCarryHostileNamesAndDomainsAsOneArgument() throws {
        for name in Hostile.names {
            let object = computer(
                name, domainLabel: "emea" + name, operatingSystem: nil, passwordLastSet: Fixture.ticks(daysAgo: 300),
                lastLogonTimestamp: nil)
            let domain = try XCTUnwrap(object.domainDNSName)
            let text = try remediation(StalePasswordRule(), object)
            XCTAssertTrue(text.hasPrefix("If the account was pre-staged"), text)
            let unquotableDomain = Hostile.isUnquotableAnywhere(domain)
            assertCommands(
                text, "Add-Computer", .powerShell,
                unquotableDomain
                    ? []
                    : [
                        words("Add-Computer", "-DomainName", domain, "-Credential") + [
                            Self.credential, .word("-Restart"),
                        ]
                    ],
                domain)
            assertCommands(
                text, "Remove-ADComputer", .powerShell,
                unquotableDomain || Hostile.isUnquotableAnywhere(object.distinguishedName)
                    ? [] : [words("Remove-ADComputer", "-Identity", object.distinguishedName, "-Server", domain)],
                name)
        }
    }

    /// A child domain's holder is removed with PowerShell against its own domain; the query is forest-wide.
    func testForeignDuplicateHolderFixesCarryHostileNamesAsOneArgument() {
        for name in Hostile.names {
            let spn = "HTTP/" + name
            var runner = AuditRunner(configuration: AuditConfiguration(), now: Fixture.now, source: "forest.ldif")
            let root = computer("WEB-0001", spns: [spn])
            let child = computer(name, domainLabel: "emea" + name, spns: [spn])
            runner.add(root)
            runner.add(child)
            let findings = runner.finish().findings.filter { $0.rule == "duplicate-spn" }
            XCTAssertEqual(findings.count, 2, name.debugDescription)
            let domain = child.domainDNSName ?? ""
            for finding in findings {
                let text = finding.remediation
                assertCommands(
                    text, "setspn -F -Q", .commandPrompt,
                    Hostile.isUnquotableInCommandPrompt(spn) ? [] : [words("setspn", "-F", "-Q", spn)], spn)
                // The finding's own holder first, then the other; the child's is always PowerShell
                // against its domain, the root's only where cmd.exe cannot take the SPN.
                let holders = finding.account == child.samAccountName ? [child, root] : [root, child]
                var powerShell: [[ShellToken]] = []
                for holder in holders {
                    let isChild = holder.distinguishedName == child.distinguishedName
                    if !isChild && !Hostile.isUnquotableInCommandPrompt(spn) { continue }
                    let server = isChild ? domain : "corp.example"
                    guard ![spn, holder.distinguishedName, server].contains(where: Hostile.isUnquotableAnywhere) else {
                        continue
                    }
                    powerShell.append(
                        words("Set-ADObject", "-Identity", holder.distinguishedName, "-Remove")
                            + [.hashtable(words("servicePrincipalName", "=", spn))] + words("-Server", server))
                }
                assertCommands(text, "Set-ADObject", .powerShell, powerShell, name)
            }
        }
    }

    func testForeignMissingSPNFixesCarryHostileNamesAsOneArgument() throws {
        for name in Hostile.names {
            let object = computer(
                "BER-0042", domainLabel: "emea" + name, spns: ["HOST/BER-0042", "RestrictedKrbHost/BER-0042"])
            var withName = object
            withName.dnsHostName = "ber-0042.emea.corp.example"
            let domain = try XCTUnwrap(object.domainDNSName)
            let text = try remediation(MissingSPNRule(), withName)
            let unquotable = Hostile.isUnquotableAnywhere(domain)
            assertCommands(
                text, "Set-ADComputer", .powerShell,
                unquotable
                    ? []
                    : ["HOST/ber-0042.emea.corp.example", "RestrictedKrbHost/ber-0042.emea.corp.example"].map {
                        words("Set-ADComputer", "-Identity", "BER-0042$", "-ServicePrincipalNames")
                            + [.hashtable(words("Add", "=", $0))] + words("-Server", domain)
                    },
                domain)
            assertCommands(text, "setspn -S", .commandPrompt, [], domain)
        }
    }
}
