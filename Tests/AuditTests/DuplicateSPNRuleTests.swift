import XCTest

@testable import Audit
@testable import Directory

final class DuplicateSPNRuleTests: XCTestCase {
    private func findings(_ ldif: String, excluding excluded: Set<String> = []) throws -> [Finding] {
        var index = DuplicateSPNRule()
        for object in try Fixture.objects(ldif) {
            index.add(object, excluded: excluded.contains(object.accountName))
        }
        return index.findings(in: Fixture.context()).sorted(by: AuditRunner.reportOrder)
    }

    private static let sql01 = Fixture.computer(
        "SQL01", container: "OU=Servers,DC=corp,DC=example", operatingSystem: "Windows Server 2019 Datacenter",
        spns: Fixture.joinSPNs("SQL01") + ["MSSQLSvc/sql01.corp.example:1433"])
    private static let svcSQL = Fixture.user(
        "svc-sql", spns: ["MSSQLSvc/sql01.corp.example:1433", "MSSQLSvc/sql01.corp.example"])

    func testComputerAndUserServiceAccount() throws {
        let result = try findings(Self.sql01 + Self.svcSQL)
        XCTAssertEqual(result.map(\.account), ["SQL01$", "svc-sql"])
        let computer = result[0]
        XCTAssertEqual(computer.rule, "duplicate-spn")
        XCTAssertEqual(computer.severity, .high)
        XCTAssertEqual(computer.distinguishedName, "CN=SQL01,OU=Servers,DC=corp,DC=example")
        XCTAssertEqual(
            computer.message,
            "SPN MSSQLSvc/sql01.corp.example:1433 on SQL01$ is also registered on svc-sql (CN=svc-sql,OU=Service Accounts,DC=corp,DC=example): Kerberos to this service fails (Event 2974)."
        )
        XCTAssertEqual(
            computer.remediation,
            """
            Confirm every holder: setspn -Q MSSQLSvc/sql01.corp.example:1433   (forest-wide: setspn -X -F)
            Keep the SPN only on the account that runs the service; remove it from the others:
              setspn -D MSSQLSvc/sql01.corp.example:1433 SQL01   (if SQL01 should not hold it)
              setspn -D MSSQLSvc/sql01.corp.example:1433 svc-sql   (if svc-sql should not hold it)
            """)
        XCTAssertEqual(computer.detailKeys, ["spn", "otherHolders", "otherHolderDNs"])
        XCTAssertEqual(computer.detail("otherHolders"), .strings(["svc-sql"]))
        XCTAssertEqual(
            computer.detail("otherHolderDNs"), .strings(["CN=svc-sql,OU=Service Accounts,DC=corp,DC=example"]))

        let user = result[1]
        XCTAssertEqual(
            user.message,
            "SPN MSSQLSvc/sql01.corp.example:1433 on svc-sql is also registered on SQL01$ (CN=SQL01,OU=Servers,DC=corp,DC=example): Kerberos to this service fails (Event 2974)."
        )
        XCTAssertTrue(
            user.remediation.contains(
                "  setspn -D MSSQLSvc/sql01.corp.example:1433 svc-sql   (if svc-sql should not hold it)\n"))
        XCTAssertTrue(
            user.remediation.hasSuffix(
                "  setspn -D MSSQLSvc/sql01.corp.example:1433 SQL01   (if SQL01 should not hold it)"))
    }

    func testCaseDifferingSpellingsAreOneSPN() throws {
        let app01 = Fixture.computer("APP01", container: "OU=Servers,DC=corp,DC=example")
        let old = Fixture.computer(
            "APP01-OLD", container: "OU=Servers,DC=corp,DC=example", userAccountControl: "4098",
            spns: Fixture.joinSPNs("APP01-OLD") + ["host/APP01.CORP.EXAMPLE"])
        let result = try findings(app01 + old)
        XCTAssertEqual(result.map(\.account), ["APP01$", "APP01-OLD$"])
        for finding in result {
            guard case .string(let spn)? = finding.detail("spn") else { return XCTFail("no spn detail") }
            XCTAssertEqual(spn.lowercased(), "host/app01.corp.example")
        }
        // The holder found second is named with its own spelling, which is what setspn -D is given.
        XCTAssertEqual(result[1].detail("spn"), .string("host/APP01.CORP.EXAMPLE"))
        XCTAssertTrue(result[1].remediation.contains("setspn -D host/APP01.CORP.EXAMPLE APP01-OLD "))
    }

    func testThreeHoldersGiveThreeFindingsEachNamingTheOtherTwo() throws {
        let web01 = Fixture.computer(
            "WEB01", container: "OU=Web,OU=Servers,DC=corp,DC=example",
            spns: Fixture.joinSPNs("WEB01") + ["HTTP/intranet.corp.example"])
        let web02 = Fixture.computer(
            "WEB02", container: "OU=Web,OU=Servers,DC=corp,DC=example",
            spns: Fixture.joinSPNs("WEB02") + ["HTTP/intranet.corp.example"])
        let result = try findings(web01 + Fixture.groupManagedServiceAccount + web02)
        XCTAssertEqual(result.map(\.account), ["gmsa-intranet$", "WEB01$", "WEB02$"])
        XCTAssertEqual(result[0].detail("otherHolders"), .strings(["WEB01$", "WEB02$"]))
        XCTAssertEqual(result[1].detail("otherHolders"), .strings(["gmsa-intranet$", "WEB02$"]))
        XCTAssertEqual(result[2].detail("otherHolders"), .strings(["gmsa-intranet$", "WEB01$"]))
        XCTAssertEqual(
            result[1].message,
            "SPN HTTP/intranet.corp.example on WEB01$ is also registered on gmsa-intranet$ (CN=gmsa-intranet,CN=Managed Service Accounts,DC=corp,DC=example), WEB02$ (CN=WEB02,OU=Web,OU=Servers,DC=corp,DC=example): Kerberos to this service fails (Event 2974)."
        )
        // setspn names a plain computer without `$`, a managed service account with it.
        XCTAssertEqual(
            result[1].remediation,
            """
            Confirm every holder: setspn -Q HTTP/intranet.corp.example   (forest-wide: setspn -X -F)
            Keep the SPN only on the account that runs the service; remove it from the others:
              setspn -D HTTP/intranet.corp.example WEB01   (if WEB01 should not hold it)
              setspn -D HTTP/intranet.corp.example gmsa-intranet$   (if gmsa-intranet$ should not hold it)
              setspn -D HTTP/intranet.corp.example WEB02   (if WEB02 should not hold it)
            """)
    }

    func testExcludedHolderCountsButGetsNoFinding() throws {
        let result = try findings(Self.sql01 + Self.svcSQL, excluding: ["SQL01$"])
        XCTAssertEqual(result.map(\.account), ["svc-sql"])
        XCTAssertEqual(result.first?.detail("otherHolders"), .strings(["SQL01$"]))
    }

    func testOneObjectHoldingAnSPNTwiceIsNoDuplicate() throws {
        let ldif = Fixture.computer(
            "WKS-0042", spns: Fixture.joinSPNs("WKS-0042") + ["HOST/WKS-0042", "host/wks-0042"])
        XCTAssertEqual(try findings(ldif), [])
        XCTAssertEqual(try findings(Fixture.computer("WKS-0042") + Fixture.computer("WKS-0043")), [])
    }

    func testTwoSharedSPNsBetweenTheSamePairAreTwoFindingsEach() throws {
        // A clone made without sysprep still answers to its original's HOST names.
        let original = Fixture.computer("WKS-0042")
        let clone = Fixture.computer(
            "WKS-0043", spns: Fixture.joinSPNs("WKS-0043") + ["HOST/WKS-0042", "HOST/wks-0042.corp.example"])
        let result = try findings(original + clone)
        XCTAssertEqual(result.count, 4)
        XCTAssertEqual(
            Set(
                result.compactMap { finding -> String? in
                    guard case .string(let spn)? = finding.detail("spn") else { return nil }
                    return "\(finding.account) \(spn)"
                }),
            [
                "WKS-0042$ HOST/WKS-0042", "WKS-0042$ HOST/wks-0042.corp.example", "WKS-0043$ HOST/WKS-0042",
                "WKS-0043$ HOST/wks-0042.corp.example",
            ])
    }

    func testSeverityOverride() throws {
        var configuration = AuditConfiguration()
        configuration.severities["duplicate-spn"] = .medium
        var index = DuplicateSPNRule()
        for object in try Fixture.objects(Self.sql01 + Self.svcSQL) { index.add(object, excluded: false) }
        XCTAssertEqual(index.findings(in: Fixture.context(configuration)).map(\.severity), [.medium, .medium])
        XCTAssertEqual(index.holderCount, 2)
    }

    // MARK: SPNs shared by design, and SPNs the configuration excludes

    /// A domain's krbtgt, as castle.lab's forest export holds it for the root and the crowd child.
    private static func krbtgt(_ name: String = "krbtgt", domain: String, rid: Int = 502) -> String {
        let suffix = domain.split(separator: ".").map { "DC=\($0)" }.joined(separator: ",")
        let dn = "CN=\(name),CN=Users,\(suffix)"
        return """
            dn: \(dn)
            objectClass: top
            objectClass: person
            objectClass: organizationalPerson
            objectClass: user
            cn: \(name)
            description: Key Distribution Center Service Account
            distinguishedName: \(dn)
            objectGUID:: \(Fixture.objectGUID(of: dn))
            userAccountControl: 514
            pwdLastSet: 133515938041893021
            sAMAccountName: \(name)
            sAMAccountType: 805306368
            servicePrincipalName: kadmin/changepw
            objectCategory: CN=Person,CN=Schema,CN=Configuration,DC=castle,DC=lab
            isCriticalSystemObject: TRUE


            """
    }

    private func audit(_ ldif: String, configuration: AuditConfiguration = AuditConfiguration()) throws -> [Finding] {
        try Fixture.audit(ldif, configuration: configuration).findings.filter { $0.rule == "duplicate-spn" }
    }

    /// castle.lab: the root's and the child's krbtgt both hold kadmin/changepw, and each realm resolves
    /// its own; an RODC's krbtgt_NNNNN holds it too. None of that is a duplicate.
    func testKadminChangepwOnEveryKrbtgtOfAForestIsNoDuplicate() throws {
        let forest =
            Self.krbtgt(domain: "castle.lab") + Self.krbtgt(domain: "crowd.castle.lab")
            + Self.krbtgt("krbtgt_21337", domain: "castle.lab", rid: 1601)
            + Self.krbtgt("KRBTGT_8", domain: "crowd.castle.lab", rid: 1602)
        XCTAssertEqual(try audit(forest), [])
        XCTAssertTrue(DuplicateSPNRule.isSharedByDesign("KADMIN/changepw", holder: "krbtgt_21337"))
        XCTAssertFalse(DuplicateSPNRule.isSharedByDesign("kadmin/changepw", holder: "krbtgt_"))
        XCTAssertFalse(DuplicateSPNRule.isSharedByDesign("kadmin/changepw", holder: "krbtgt_1a"))
        XCTAssertFalse(DuplicateSPNRule.isSharedByDesign("kadmin/changepw", holder: "krbtgt-old"))
        XCTAssertFalse(DuplicateSPNRule.isSharedByDesign("kadmin/changepw:464", holder: "krbtgt"))
        XCTAssertFalse(DuplicateSPNRule.isSharedByDesign("HOST/changepw", holder: "krbtgt"))
    }

    /// Any other account holding kadmin/changepw does clash with its own domain's krbtgt (not with
    /// another domain's), and a krbtgt holding any other shared SPN is reported as usual.
    func testOtherHoldersOfKadminChangepwAreStillDuplicates() throws {
        let impostor = Fixture.user(
            "svc-kpasswd", container: "OU=Service Accounts,DC=castle,DC=lab", spns: ["kadmin/changepw"])
        let result = try audit(Self.krbtgt(domain: "castle.lab") + Self.krbtgt(domain: "crowd.castle.lab") + impostor)
        XCTAssertEqual(result.map(\.account), ["svc-kpasswd"])
        XCTAssertEqual(result.first?.detail("otherHolderDNs"), .strings(["CN=krbtgt,CN=Users,DC=castle,DC=lab"]))
        // Alone in a domain without a krbtgt in the export: nothing to clash with.
        let elsewhere = Fixture.user(
            "svc-kpasswd", container: "OU=Service Accounts,DC=other,DC=lab", spns: ["kadmin/changepw"])
        XCTAssertEqual(try audit(Self.krbtgt(domain: "castle.lab") + elsewhere), [])
        // Two ordinary accounts holding it are an ordinary duplicate.
        let second = Fixture.user(
            "svc-kpasswd2", container: "OU=Service Accounts,DC=castle,DC=lab", spns: ["kadmin/changepw"])
        XCTAssertEqual(try audit(impostor + second).map(\.account), ["svc-kpasswd", "svc-kpasswd2"])
        let krbtgtWithHTTP = Self.krbtgt(domain: "castle.lab").replacingOccurrences(
            of: "servicePrincipalName: kadmin/changepw", with: "servicePrincipalName: HTTP/web01")
        let web01 = Fixture.user("svc-web", container: "OU=Service Accounts,DC=castle,DC=lab", spns: ["HTTP/web01"])
        XCTAssertEqual(try audit(krbtgtWithHTTP + web01).map(\.account), ["krbtgt", "svc-web"])
    }

    func testConfiguredExclusionsAreNotReported() throws {
        var configuration = AuditConfiguration()
        configuration.duplicateSPNExclusions = try ["mssqlsvc/*:1433"].map { try SPNPattern.parse($0).get() }
        // SQL01 and svc-sql share MSSQLSvc/sql01.corp.example:1433 only.
        XCTAssertEqual(try audit(Self.sql01 + Self.svcSQL, configuration: configuration), [])
        XCTAssertEqual(try audit(Self.sql01 + Self.svcSQL).count, 2)
        configuration.duplicateSPNExclusions = try ["MSSQLSvc/*"].map { try SPNPattern.parse($0).get() }
        XCTAssertEqual(try audit(Self.sql01 + Self.svcSQL, configuration: configuration).count, 2, "no port: not it")
    }

    /// A Recycle Bin object keeps its SPNs and a conflict object holds the loser's: neither is found
    /// by the KDC, so neither makes a live account's SPN a duplicate (conflict-object reports them).
    func testDeletedAndConflictObjectsHoldNoSPN() throws {
        let live = Fixture.computer("WEB01", container: "OU=Servers,DC=corp,DC=example")
        let deleted = Fixture.computer(
            "WEB01", container: "CN=Deleted Objects,DC=corp,DC=example",
            commonName: "WEB01\\0ADEL:8f5cb1a0-7d0e-4b47-9a3c-1f6f0c2d9e41", spns: Fixture.joinSPNs("WEB01")
        ).replacingOccurrences(of: "objectCategory:", with: "isDeleted: TRUE\nobjectCategory:")
        let conflict = Fixture.computer(
            "WEB01", container: "OU=Servers,DC=corp,DC=example",
            commonName: "WEB01\\0ACNF:2b7e4c1d-93a5-4f0e-8d6b-5c4a3e2f1d07", spns: Fixture.joinSPNs("WEB01"))
        let objects = try Fixture.objects(deleted + conflict)
        XCTAssertEqual(objects.map(\.isDeleted), [true, false])
        XCTAssertEqual(objects.map(\.isConflictObject), [false, true])
        XCTAssertEqual(try audit(live + deleted + conflict), [])
        var rule = DuplicateSPNRule()
        for object in objects { rule.add(object, excluded: false) }
        XCTAssertEqual(rule.holderCount, 0)
        // Decoded escapes count, plain escaped commas do not.
        let others = [
            "CN=WEB01\nDEL:8f5cb1a0-7d0e-4b47-9a3c-1f6f0c2d9e41,CN=Deleted Objects,DC=corp,DC=example",
            "CN=Smith\\, John PC,OU=Workstations,DC=corp,DC=example", "CN=WEB01,OU=Servers,DC=corp,DC=example",
        ].map { DirectoryObject(kind: .computer, distinguishedName: $0, samAccountName: "WEB01$") }
        var duplicateName = others[2]
        duplicateName.samAccountName = "$DUPLICATE-1f4"
        var flagged = others[2]
        flagged.isDeletedFlag = true
        XCTAssertEqual(
            (others + [duplicateName, flagged]).map { $0.isDeleted || $0.isConflictObject },
            [true, false, false, true, true])
        for object in others + [duplicateName, flagged] {
            var holder = object
            holder.servicePrincipalNames = [ServicePrincipalName("HOST/WEB01")]
            var rule = DuplicateSPNRule()
            rule.add(holder, excluded: false)
            XCTAssertEqual(
                rule.holderCount, holder.isDeleted || holder.isConflictObject ? 0 : 1,
                holder.distinguishedName.debugDescription)
        }
    }

    /// Holders in two domains of a forest: the query is forest-wide, and the child's holder is removed
    /// with PowerShell against its own domain, which setspn (working in the current domain) cannot reach.
    func testHoldersInTwoDomainsAreFixedInTheirOwnDomain() throws {
        let root = Fixture.user("svc-web", container: "OU=Service Accounts,DC=corp,DC=example", spns: ["HTTP/web"])
        let child = Fixture.user(
            "svc-web2", container: "OU=Service Accounts,DC=emea,DC=corp,DC=example", spns: ["HTTP/web"])
        // The audited domain is the first computer's.
        let result = try audit(Fixture.computer("WKS-0001") + root + child)
        XCTAssertEqual(result.map(\.account), ["svc-web", "svc-web2"])
        XCTAssertEqual(
            result[0].remediation,
            """
            Confirm every holder: setspn -F -Q HTTP/web   (forest-wide: setspn -X -F)
            Keep the SPN only on the account that runs the service; remove it from the others:
              setspn -D HTTP/web svc-web   (if svc-web should not hold it)
              Set-ADObject -Identity 'CN=svc-web2,OU=Service Accounts,DC=emea,DC=corp,DC=example' -Remove @{servicePrincipalName='HTTP/web'} -Server emea.corp.example   (if svc-web2 should not hold it)
            """)
    }
}
