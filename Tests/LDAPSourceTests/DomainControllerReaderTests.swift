import Directory
import Foundation
import LDAPClient
import XCTest

@testable import LDAPSource

/// Each DC is read with the first DC's settings aimed at its own host name, and a DC that does not
/// answer becomes a reading that says why, never an error that ends the audit.
final class DomainControllerReaderTests: XCTestCase {
    let password = Array("Tr0ub4dor&3".utf8)

    func dc(_ host: String, computer: String? = "CN=DC02,OU=Domain Controllers,DC=corp,DC=example") -> DomainController
    {
        DomainController(
            hostName: host,
            serverDN: "CN=DC02,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=corp,DC=example",
            site: "Default-First-Site-Name", computerDN: computer)
    }

    // MARK: - Settings for another DC

    func testTheSchemePortBindAndTLSSettingsCarryOverToTheOtherHost() throws {
        var first = LDAPSourceSettings(
            uri: "ldaps://dc01.corp.example:636 ldaps://dc03.corp.example", base: "OU=Workstations,DC=corp,DC=example",
            bind: .simple(dn: "svc-audit@corp.example", password: password), caFile: "/etc/trustaudit/corp-ca.pem",
            networkTimeout: 4, operationTimeout: 30, pageSize: 500)
        first.verifyCertificate = true
        first.progress = { _, _ in }
        let derived = try first.forDomainController(dc("dc02.corp.example"))
        XCTAssertEqual(derived.uri, "ldaps://dc02.corp.example:636")
        XCTAssertEqual(derived.base, "OU=Workstations,DC=corp,DC=example")
        XCTAssertEqual(derived.caFile, "/etc/trustaudit/corp-ca.pem")
        XCTAssertEqual(derived.networkTimeout, 4)
        XCTAssertEqual(derived.operationTimeout, 30)
        XCTAssertEqual(derived.pageSize, 500)
        XCTAssertNil(derived.progress, "one source's progress is not another's")
        guard case .simple(let dn, let bytes) = derived.bind else { return XCTFail("\(derived.bind)") }
        XCTAssertEqual(dn, "svc-audit@corp.example")
        XCTAssertEqual(bytes, password)
        XCTAssertNoThrow(try derived.validate())
    }

    func testKerberosAndStartTLSKeepTheirPlainScheme() throws {
        let kerberos = LDAPSourceSettings(uri: "ldap://dc01.corp.example", bind: .gssapi)
        let derived = try kerberos.forHost("dc02.corp.example")
        XCTAssertEqual(derived.uri, "ldap://dc02.corp.example")
        XCTAssertNoThrow(try derived.validate())

        let startTLS = LDAPSourceSettings(
            uri: "ldap://dc01.corp.example:389", bind: .simple(dn: "svc-audit@corp.example", password: password),
            startTLS: true)
        let other = try startTLS.forHost("dc02.corp.example")
        XCTAssertEqual(other.uri, "ldap://dc02.corp.example:389")
        XCTAssertTrue(other.startTLS)
        XCTAssertNoThrow(try other.validate())
    }

    func testAGlobalCatalogAuditReadsEachDCOnItsDomainPort() throws {
        var gc = LDAPSourceSettings(
            uri: "ldaps://dc01.corp.example", bind: .simple(dn: "svc-audit@corp.example", password: password),
            globalCatalog: true)
        gc.base = ""
        var derived = try gc.forHost("dc02.emea.corp.example")
        XCTAssertEqual(derived.uri, "ldaps://dc02.emea.corp.example")
        XCTAssertEqual(derived.resolvedURI, "ldaps://dc02.emea.corp.example")
        XCTAssertFalse(derived.searchesGlobalCatalog)
        XCTAssertNil(derived.base, "the forest-wide base is not a domain's")

        let explicit = LDAPSourceSettings(uri: "ldaps://dc01.corp.example:3269", bind: .gssapi)
        derived = try explicit.forHost("dc02.corp.example")
        XCTAssertEqual(derived.uri, "ldaps://dc02.corp.example:636")
        let plain = LDAPSourceSettings(uri: "ldap://dc01.corp.example:3268", bind: .gssapi)
        XCTAssertEqual(try plain.forHost("dc02.corp.example").uri, "ldap://dc02.corp.example:389")
    }

    func testAHostNameThatIsNoDNSNameIsRefusedBeforeLibldapSeesIt() {
        let settings = LDAPSourceSettings(
            uri: "ldaps://dc01.corp.example", bind: .simple(dn: "svc-audit@corp.example", password: password))
        for hostile in [
            "dc02.corp.example ldap://attacker.example", "dc02.corp.example,ldap://attacker.example",
            "dc02.corp.example:389", "dc02/corp", "", "-dc02.corp.example", "dc02..corp.example",
            "dc02.corp.example\u{1B}[2J", String(repeating: "a", count: 64) + ".corp.example",
        ] {
            XCTAssertThrowsError(try settings.forHost(hostile), hostile) { error in
                XCTAssertEqual((error as? LDAPError)?.code, .invalidURI, hostile)
            }
        }
        XCTAssertEqual(try settings.forHost("DC02.Corp.Example").uri, "ldaps://DC02.Corp.Example")
        XCTAssertEqual(try settings.forHost("dc_02.corp.example").uri, "ldaps://dc_02.corp.example")
    }

    // MARK: - Reading a DC

    func scripted(_ rootDSE: [(String, [String])]) throws -> ScriptedLDAPServer {
        try ScriptedLDAPServer(rootDSE: rootDSE, entries: []) { base, scope in
            (base, scope) == ("DC=corp,DC=example", 0) ? [(dn: "DC=corp,DC=example", attributes: [])] : []
        }
    }

    func plainSettings(port: Int) -> LDAPSourceSettings {
        var settings = LDAPSourceSettings(
            uri: "ldap://dc01.corp.example:\(port)", bind: .simple(dn: "svc-audit@corp.example", password: password))
        settings.allowPlaintext = true
        settings.networkTimeout = 3
        settings.operationTimeout = 5
        return settings
    }

    func testAnAnsweringDCGivesItsClockAndTheHostsClockHalfwayThroughTheRead() throws {
        let server = try scripted(LDAPSourceRequestTests.rootDSE)
        defer { server.stop() }
        let start = Date(timeIntervalSince1970: 1_795_940_000)
        var calls = 0
        let reading = DomainControllerReader.read(dc("127.0.0.1"), settings: plainSettings(port: server.port)) {
            calls += 1
            return start.addingTimeInterval(calls == 1 ? 0 : 0.4)
        }
        XCTAssertEqual(reading.outcome, .answered, "\(reading.outcome)")
        XCTAssertEqual(reading.currentTime, UTCTime.date(generalizedTime: "20261124083000.0Z"))
        XCTAssertEqual(reading.askedAt, start.addingTimeInterval(0.2))
        XCTAssertEqual(reading.repsFrom, [], "the domain head came back without repsFrom")
        let head = try XCTUnwrap(
            server.searchRequests.first {
                ScriptedLDAPServer.searchBase(of: $0) == "DC=corp,DC=example"
                    && ScriptedLDAPServer.searchScope(of: $0) == 0
            }, "no base read of the domain head")
        XCTAssertNotNil(head.firstRange(of: ScriptedLDAPServer.octets("repsFrom")))
    }

    func testADCAnsweringForAnotherDomainIsNotTakenForThisOne() throws {
        let server = try scripted([
            ("defaultNamingContext", ["DC=lab,DC=example"]), ("currentTime", ["20261124083000.0Z"]),
        ])
        defer { server.stop() }
        let reading = DomainControllerReader.read(dc("127.0.0.1"), settings: plainSettings(port: server.port))
        guard case .failed(let reason) = reading.outcome else { return XCTFail("\(reading.outcome)") }
        XCTAssertTrue(reason.contains("answers for the domain lab.example, not corp.example"), reason)
    }

    func testAnUnreachableDCIsAFailedReadingInTheErrorsOwnWords() throws {
        // A port nothing listens on: bind one, note it, close it.
        let server = try scripted(LDAPSourceRequestTests.rootDSE)
        let port = server.port
        server.stop()
        Thread.sleep(forTimeInterval: 0.1)
        let reading = DomainControllerReader.read(dc("127.0.0.1"), settings: plainSettings(port: port))
        guard case .failed(let reason) = reading.outcome else { return XCTFail("\(reading.outcome)") }
        XCTAssertTrue(reason.hasPrefix("ldap://127.0.0.1:\(port): "), reason)
        XCTAssertTrue(reason.contains("Can't contact LDAP server"), reason)
        XCTAssertFalse(reason.contains("Tr0ub4dor"))
        XCTAssertNil(reading.currentTime)
        XCTAssertFalse(reading.answered)
    }

    func testAPlaintextSimpleBindIsRefusedForTheOtherDCToo() {
        var settings = plainSettings(port: 389)
        settings.allowPlaintext = false
        let reading = DomainControllerReader.read(dc("dc02.corp.example"), settings: settings)
        guard case .failed(let reason) = reading.outcome else { return XCTFail("\(reading.outcome)") }
        XCTAssertTrue(reason.contains("ldap://dc02.corp.example:389 is unencrypted"), reason)
    }
}
