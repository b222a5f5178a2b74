import XCTest

@testable import Audit
@testable import Directory

/// A multi-DC audit reads one DC in full and the others only for what DCs are compared by: those
/// views count no account, are never judged on their own, and lend their newest password to the
/// full view.
final class ComparisonOnlyViewTests: XCTestCase {
    private static let dc01 = "dc01.corp.example"
    private static let dc02 = "dc02.corp.example"

    private static func web(pwdLastSetDaysAgo days: Int64) -> String {
        SeveralSourcesTests.web(pwdLastSetDaysAgo: days)
    }
    /// Joined on DC2 a minute ago; DC1 has not replicated it yet.
    private static let app = Fixture.computer(
        "APP-0002", container: "OU=Servers,DC=corp,DC=example", pwdLastSet: Fixture.ticks(daysAgo: 0),
        operatingSystem: "Windows Server 2019 Standard", spns: Fixture.joinSPNs("APP-0002"))

    /// The entries of `ldif` as a DC asked with `request` returns them (an LDIF source keeps only
    /// the request's attributes, as a DC returns only those).
    private func entries(_ ldif: String, _ request: SourceRequest) throws -> [DirectoryEntry] {
        var entries: [DirectoryEntry] = []
        try LDIFReader(bytes: Array(ldif.utf8), name: "fixture").forEachEntry(request) { entries.append($0) }
        return entries
    }

    private func runner(facts: ((ComputerFacts) -> Void)? = nil) -> AuditRunner {
        AuditRunner(
            configuration: AuditConfiguration(), now: Fixture.now, sources: [Self.dc01, Self.dc02],
            computerSink: facts, comparisonOnlyOrigins: [1])
    }

    func testTheComparisonRequestAsksForNoHostNameNorSPNs() throws {
        let slim = try XCTUnwrap(try entries(Self.app, .domainControllerComparison).first)
        let object = try XCTUnwrap(DirectoryObject(entry: slim))
        XCTAssertEqual(object.kind, .computer)
        XCTAssertNotNil(object.objectGUID)
        XCTAssertNotNil(object.passwordLastSet)
        XCTAssertNil(object.dnsHostName)
        XCTAssertEqual(object.servicePrincipalNames, [])
    }

    func testAnAccountOnlyAComparisonOnlyDCGaveIsNotJudgedOnItsAbsentValues() throws {
        var runner = runner()
        for entry in try entries(Self.web(pwdLastSetDaysAgo: 10), .domainControllerView) {
            runner.add(entry, origin: 0)
        }
        for entry in try entries(Self.web(pwdLastSetDaysAgo: 10) + Self.app, .domainControllerComparison) {
            runner.add(entry, origin: 1)
        }
        let missing = runner.accountsWithoutFullView
        XCTAssertEqual(missing.map(\.origin), [1])
        XCTAssertEqual(missing.map(\.account.distinguishedName), ["CN=APP-0002,OU=Servers,DC=corp,DC=example"])
        let result = runner.finish()
        XCTAssertEqual(result.summary.objectsRead, 1)
        XCTAssertEqual(result.summary.computers, 1)
        // Judged on the comparison view alone, APP-0002 would have no SPNs and no host name.
        XCTAssertEqual(result.findings.filter { $0.account == "APP-0002$" }, [])
    }

    func testTheFullViewReadAgainFromThatDCIsAuditedOnce() throws {
        var facts: [ComputerFacts] = []
        var runner = runner { facts.append($0) }
        for entry in try entries(Self.web(pwdLastSetDaysAgo: 10), .domainControllerView) {
            runner.add(entry, origin: 0)
        }
        for entry in try entries(Self.app + Self.web(pwdLastSetDaysAgo: 10), .domainControllerComparison) {
            runner.add(entry, origin: 1)
        }
        let missing = runner.accountsWithoutFullView
        for entry in try entries(Self.app, .domainControllerView(of: missing.map(\.account))) {
            runner.completeView(entry, origin: 1)
        }
        XCTAssertTrue(runner.accountsWithoutFullView.isEmpty)
        let result = runner.finish()
        XCTAssertEqual(result.summary.objectsRead, 2)
        XCTAssertEqual(result.summary.computers, 2)
        XCTAssertEqual(facts.map(\.computer.samAccountName).sorted(), ["APP-0002$", "WEB-0001$"])
        let app = try XCTUnwrap(facts.first { $0.computer.samAccountName == "APP-0002$" })
        XCTAssertEqual(app.computer.dnsHostName, "app-0002.corp.example")
        XCTAssertEqual(result.findings.filter { $0.rule == "duplicate-spn" }, [])
        // Judged on its full view: it lacks only TERMSRV, as a server joined by hand does, not HOST.
        let missingSPN = result.findings.filter { $0.rule == "missing-spn" && $0.account == "APP-0002$" }
        XCTAssertEqual(missingSPN.map(\.message).count, 1)
        XCTAssertFalse(missingSPN[0].message.contains("HOST/"))
    }

    func testTheNewestPasswordOnAComparisonOnlyDCLeadsWithTheFullViewsOtherValues() throws {
        // DC1 (read in full) missed the last rotations: its pwdLastSet is 75 days old (stale at 60), DC2's 2 days.
        let slim = try XCTUnwrap(try entries(Self.web(pwdLastSetDaysAgo: 2), .domainControllerComparison).first)
        let full = try XCTUnwrap(try entries(Self.web(pwdLastSetDaysAgo: 75), .domainControllerView).first)
        var account = AccountView(
            AccountView.View(
                origin: Self.dc02, object: try XCTUnwrap(DirectoryObject(entry: slim)), isComparisonOnly: true))
        XCTAssertTrue(
            account.merge(AccountView.View(origin: Self.dc01, object: try XCTUnwrap(DirectoryObject(entry: full)))))
        XCTAssertTrue(account.hasFullView)
        let current = account.currentFirst
        XCTAssertEqual(current.first.origin, Self.dc02)
        XCTAssertFalse(current.first.isComparisonOnly)
        XCTAssertEqual(current.object.passwordLastSet, FileTime(ticks: Fixture.ticks(daysAgo: 2)))
        XCTAssertEqual(current.object.dnsHostName, "web-0001.corp.example")
        XCTAssertEqual(current.object.servicePrincipalNames.count, 5)
        XCTAssertEqual(current.object.operatingSystem, "Windows Server 2022 Standard")
        XCTAssertEqual(current.others.map(\.origin), [Self.dc01])

        var runner = runner()
        runner.add(slim, origin: 1)
        runner.add(full, origin: 0)
        let result = runner.finish()
        XCTAssertEqual(result.summary.computers, 1)
        XCTAssertEqual(result.findings.filter { $0.rule == "stale-password" }, [])
    }

    func testGUIDsAndDNsInTheFullViewFilterCannotChangeIt() throws {
        var guid = [UInt8](repeating: 0x41, count: 16)
        guid[0] = 0x2A  // *
        guid[1] = 0x28  // (
        guid[2] = 0x5C  // \
        guid[3] = 0x00
        guid[4] = 0xFF
        let byGUID = DirectoryObject(
            kind: .computer, distinguishedName: "CN=A,DC=corp,DC=example", samAccountName: "A$",
            objectGUID: ObjectGUID(bytes: guid))
        let byDN = DirectoryObject(
            kind: .computer, distinguishedName: "CN=B*)(objectClass=*,DC=corp,DC=example", samAccountName: "B$")
        let request = SourceRequest.domainControllerView(of: [byGUID, byDN])
        XCTAssertEqual(
            request.filter,
            "(|(objectGUID=\\2a\\28\\5c\\00\\ffAAAAAAAAAAA)(distinguishedName=CN=B\\2a\\29\\28objectClass=\\2a,DC=corp,DC=example))"
        )
        XCTAssertEqual(request.attributes, AuditedAttributes.all)
        XCTAssertEqual(SourceRequest.domainControllerView(of: [byGUID]).filter?.hasPrefix("(objectGUID="), true)
    }
}
