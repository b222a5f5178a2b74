import XCTest

@testable import Audit
@testable import Directory

/// The same object twice in the input (two exports concatenated, a query repeated) is audited once.
final class RepeatedObjectTests: XCTestCase {
    private static let web = Fixture.computer(
        "WEB-0001", container: "OU=Servers,DC=corp,DC=example", operatingSystem: "Windows Server 2022 Standard",
        spns: Fixture.joinSPNs("WEB-0001") + ["HTTP/intranet.corp.example"])

    func testTheSameComputerTwiceIsOneComputerWithoutADuplicateOfItself() throws {
        var facts: [ComputerFacts] = []
        var runner = AuditRunner(
            configuration: AuditConfiguration(), now: Fixture.now, source: "fixture.ldif",
            computerSink: { facts.append($0) })
        try LDIFReader(bytes: Array((Self.web + Self.web).utf8), name: "fixture.ldif").forEachEntry { runner.add($0) }
        let result = runner.finish()
        XCTAssertEqual(result.summary.computers, 1)
        XCTAssertEqual(result.summary.objectsRead, 1)
        XCTAssertEqual(result.summary.repeatedObjects, 1)
        XCTAssertEqual(result.summary.enabledComputers, 1)
        XCTAssertEqual(result.summary.passwordAge.counts.reduce(0, +), 1)
        XCTAssertEqual(facts.count, 1)
        XCTAssertEqual(result.findings.filter { $0.rule == "duplicate-spn" }, [])
    }

    func testTwoObjectsSharingAnSPNStillDuplicateIt() throws {
        let clone = Fixture.computer(
            "WEB-0002", container: "OU=Servers,DC=corp,DC=example", operatingSystem: "Windows Server 2022 Standard",
            spns: Fixture.joinSPNs("WEB-0002") + ["HTTP/intranet.corp.example"])
        let result = try Fixture.audit(Self.web + clone + Self.web)
        XCTAssertEqual(result.summary.computers, 2)
        XCTAssertEqual(result.summary.repeatedObjects, 1)
        let duplicates = result.findings.filter { $0.rule == "duplicate-spn" }
        XCTAssertEqual(duplicates.map(\.account), ["WEB-0001$", "WEB-0002$"])
        XCTAssertEqual(duplicates.first?.detail("spn"), .string("HTTP/intranet.corp.example"))
        XCTAssertEqual(duplicates.first?.detail("otherHolders"), .strings(["WEB-0002$"]))
    }

    /// AD compares DNs case-insensitively and ignores spaces around `,` and `=`.
    func testDifferentSpellingsOfOneDNAreOneObject() throws {
        var runner = AuditRunner(configuration: AuditConfiguration(), now: Fixture.now, source: "fixture.ldif")
        let spellings = [
            "CN=WEB-0001,OU=Servers,DC=corp,DC=example", "cn=web-0001,ou=servers,dc=CORP,dc=EXAMPLE",
            "CN = WEB-0001 , OU=Servers , DC=corp,DC=example ", " CN=WEB-0001,OU=Servers,DC=corp,DC=example",
        ]
        for spelling in spellings {
            runner.add(
                DirectoryObject(
                    kind: .computer, distinguishedName: spelling, samAccountName: "WEB-0001$",
                    userAccountControl: UserAccountControl(rawValue: 4096),
                    passwordLastSet: FileTime(ticks: Fixture.ticks(daysAgo: 10)),
                    servicePrincipalNames: [ServicePrincipalName("HTTP/intranet.corp.example")]))
        }
        // An escaped trailing space is part of the name: a different object.
        runner.add(
            DirectoryObject(
                kind: .otherSPNHolder, distinguishedName: "CN=WEB-0001\\ ,OU=Servers,DC=corp,DC=example",
                samAccountName: "svc-web", servicePrincipalNames: [ServicePrincipalName("HTTP/intranet.corp.example")]))
        let result = runner.finish()
        XCTAssertEqual(result.summary.computers, 1)
        XCTAssertEqual(result.summary.otherSPNHolders, 1)
        XCTAssertEqual(result.summary.repeatedObjects, 3)
        XCTAssertEqual(result.findings.filter { $0.rule == "duplicate-spn" }.map(\.account), ["svc-web", "WEB-0001$"])
    }

    func testNormalizedDistinguishedNames() {
        var bytes: [UInt8] = []
        func normalized(_ dn: String) -> String {
            AccountKeys.normalize(dn, into: &bytes)
            return String(decoding: bytes, as: UTF8.self)
        }
        XCTAssertEqual(
            normalized(" CN = PC01 , OU=Workstations ,DC=Corp,DC=Example  "),
            "cn=pc01,ou=workstations,dc=corp,dc=example")
        XCTAssertEqual(normalized("CN=O\\, Brien ,DC=corp"), "cn=o\\, brien,dc=corp")
        XCTAssertEqual(normalized("CN=PC01\\ ,DC=corp"), "cn=pc01\\ ,dc=corp")
        XCTAssertEqual(normalized("CN=Two  Spaces,DC=corp"), "cn=two  spaces,dc=corp")
    }
}
