import XCTest

@testable import LDAPClient

final class LDAPOptionsTests: XCTestCase {
    func testDefaults() {
        let options = LDAPConnectionOptions(uri: "ldaps://dc01.corp.example")
        XCTAssertFalse(options.startTLS)
        XCTAssertNil(options.caFile)
        XCTAssertTrue(options.verifyCertificate)
        XCTAssertEqual(options.networkTimeout, 10)
        XCTAssertEqual(options.operationTimeout, 120)
        XCTAssertTrue(options.usesTLS)
        XCTAssertFalse(LDAPConnectionOptions(uri: "ldap://dc01").usesTLS)
        XCTAssertTrue(LDAPConnectionOptions(uri: "ldap://dc01", startTLS: true).usesTLS)
    }

    func testValidURIs() throws {
        XCTAssertEqual(
            try LDAPConnectionOptions(uri: "ldaps://dc01.corp.example").parsedURIs(),
            [
                LDAPURI(scheme: .ldaps, host: "dc01.corp.example")
            ])
        let several = try LDAPConnectionOptions(uri: "ldap://dc01:3268 LDAPS://dc02:3269, ldap://[::1]:389")
            .parsedURIs()
        XCTAssertEqual(several.map(\.description), ["ldap://dc01:3268", "ldaps://dc02:3269", "ldap://[::1]:389"])
        XCTAssertEqual(several.map(\.effectivePort), [3268, 3269, 389])
        XCTAssertEqual(LDAPURI("ldaps://dc01")?.effectivePort, 636)
        XCTAssertEqual(LDAPURI("ldap://dc01/DC=corp,DC=example??sub")?.host, "dc01")
    }

    func testInvalidURIsAreRefusedBeforeConnecting() {
        for uri in [
            "", "dc01.corp.example", "http://dc01", "ldapi:///var/run/ldapi", "ldap://", "ldaps://:636",
            "ldap://dc01:0", "ldap://dc01:70000", "ldap://dc01:x", "ldap://user@dc01", "ldap://[::1",
        ] {
            XCTAssertThrowsError(try LDAPConnectionOptions(uri: uri).parsedURIs(), uri) { error in
                XCTAssertEqual((error as? LDAPError)?.code, .invalidURI, uri)
            }
            XCTAssertThrowsError(try LDAPConnection(options: LDAPConnectionOptions(uri: uri)), uri)
        }
        XCTAssertThrowsError(try LDAPConnectionOptions(uri: "ldaps://dc01", startTLS: true).parsedURIs()) { error in
            XCTAssertEqual((error as? LDAPError)?.code, .invalidURI)
            XCTAssertTrue("\(error)".contains("StartTLS is for ldap://"), "\(error)")
        }
        XCTAssertThrowsError(try LDAPConnectionOptions(uri: "ldap://dc01", networkTimeout: 0).parsedURIs())
    }

    func testMissingCAFileIsATLSFailure() {
        let options = LDAPConnectionOptions(uri: "ldaps://dc01.corp.example", caFile: "/nonexistent/ca.pem")
        XCTAssertThrowsError(try LDAPConnection(options: options)) { error in
            XCTAssertEqual((error as? LDAPError)?.code, .tlsFailure)
            XCTAssertTrue("\(error)".contains("/nonexistent/ca.pem"), "\(error)")
        }
    }

    func testEmptyPasswordIsRefusedWithoutNetwork() throws {
        // ldap_initialize does not connect, so this needs no server.
        let connection = try LDAPConnection(options: LDAPConnectionOptions(uri: "ldap://dc01.invalid"))
        XCTAssertThrowsError(try connection.simpleBind(dn: "svc@corp.example", password: [])) { error in
            XCTAssertEqual((error as? LDAPError)?.code, .invalidCredentials)
            XCTAssertTrue("\(error)".contains("unauthenticated"), "\(error)")
        }
        XCTAssertFalse(connection.isBound)
    }

    func testUnresolvableHostSaysSo() throws {
        let connection = try LDAPConnection(
            options: LDAPConnectionOptions(uri: "ldap://trustaudit-no-such-host.invalid", networkTimeout: 2))
        XCTAssertThrowsError(try connection.simpleBind(dn: "x", password: Array("y".utf8))) { error in
            XCTAssertEqual((error as? LDAPError)?.code, .serverDown)
            XCTAssertTrue("\(error)".contains("host name not found"), "\(error)")
            XCTAssertTrue("\(error)".contains("ldap://trustaudit-no-such-host.invalid"), "\(error)")
        }
    }
}
