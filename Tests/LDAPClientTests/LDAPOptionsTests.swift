import CLDAP
import Foundation
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

    func testCAFileThatIsNoRegularFileIsRefusedBeforeLibldapReadsIt() throws {
        let fifo = FileManager.default.temporaryDirectory.appendingPathComponent("ca-\(UUID().uuidString).pem").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        defer { unlink(fifo) }
        for path in [fifo, "/dev/zero"] {
            let started = Date()
            let options = LDAPConnectionOptions(uri: "ldaps://dc01.corp.example", caFile: path)
            XCTAssertThrowsError(try LDAPConnection(options: options), path) { error in
                XCTAssertEqual((error as? LDAPError)?.code, .tlsFailure, path)
                XCTAssertTrue("\(error)".contains("CA file \(path)"), "\(error)")
                XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)")
            }
            XCTAssertLessThan(Date().timeIntervalSince(started), 2, "\(path) was read")
        }
    }

    func testURIListsAreSplitAsLibldapSplitsThem() throws {
        let list = try LDAPURI.list("  LDAPS://DC01.corp.example ,, ldap://[::1]:389,\tLdAp://dc02:3268\n")
        XCTAssertEqual(list.map(\.description), ["ldaps://DC01.corp.example", "ldap://[::1]:389", "ldap://dc02:3268"])
        XCTAssertEqual(list.map(\.scheme), [.ldaps, .ldap, .ldap])
        XCTAssertEqual(list[1].host, "::1")
        XCTAssertThrowsError(try LDAPURI.list(" , ")) { error in
            XCTAssertEqual((error as? LDAPError)?.code, .invalidURI)
        }
        // The part that is wrong is named, not only the list.
        XCTAssertThrowsError(try LDAPURI.list("ldaps://dc01 http://dc02")) { error in
            XCTAssertEqual((error as? LDAPError)?.code, .invalidURI)
            XCTAssertTrue("\(error)".contains("'http://dc02' is not an ldap:// or ldaps:// URI"), "\(error)")
        }
    }

    func testEncryptionIsJudgedOnEveryURIOfTheList() {
        XCTAssertTrue(LDAPConnectionOptions(uri: "ldaps://dc01 LDAPS://dc02:3269").encryptsEveryConnection)
        XCTAssertFalse(LDAPConnectionOptions(uri: "ldaps://dc01 ldap://dc02").encryptsEveryConnection)
        XCTAssertFalse(LDAPConnectionOptions(uri: "ldaps://dc01,ldap://[::1]:389").encryptsEveryConnection)
        XCTAssertTrue(LDAPConnectionOptions(uri: "ldap://dc01 ldap://dc02", startTLS: true).encryptsEveryConnection)
        XCTAssertTrue(LDAPConnectionOptions(uri: "ldap://dc01 ldaps://dc02").usesTLS)
        XCTAssertFalse(LDAPConnectionOptions(uri: "not a uri").encryptsEveryConnection)
        // StartTLS with an ldaps:// anywhere in the list is refused, naming it.
        XCTAssertThrowsError(try LDAPConnectionOptions(uri: "ldap://dc01 ldaps://dc02", startTLS: true).validate()) {
            error in
            XCTAssertEqual((error as? LDAPError)?.code, .invalidURI)
            XCTAssertTrue("\(error)".contains("ldaps://dc02 is encrypted from the start"), "\(error)")
        }
    }

    func testTimeoutsAreBoundedToADay() throws {
        for seconds in [1e20, .infinity, -.infinity, .nan, 0, -1, 86_400.001] {
            for options in [
                LDAPConnectionOptions(uri: "ldaps://dc01", networkTimeout: seconds),
                LDAPConnectionOptions(uri: "ldaps://dc01", operationTimeout: seconds),
            ] {
                XCTAssertThrowsError(try options.validate(), "\(seconds)") { error in
                    XCTAssertEqual((error as? LDAPError)?.code, .invalidTimeout, "\(seconds)")
                    XCTAssertTrue("\(error)".contains("at most 86400 s (a day)"), "\(error)")
                }
                // Refused before a handle exists, so nothing reaches libldap or shim.h.
                XCTAssertThrowsError(try LDAPConnection(options: options), "\(seconds)")
            }
        }
        XCTAssertNoThrow(
            try LDAPConnectionOptions(uri: "ldaps://dc01", networkTimeout: 86_400, operationTimeout: 86_400).validate())
        XCTAssertNoThrow(try LDAPConnectionOptions(uri: "ldaps://dc01", networkTimeout: 0.25).validate())
        XCTAssertTrue(LDAPConnectionOptions.isValidTimeout(86_400))
        XCTAssertFalse(LDAPConnectionOptions.isValidTimeout(.nan))
    }

    func testTimevalIsClampedInsteadOfTrapping() {
        func seconds(_ value: Double) -> Double {
            let converted = LDAPConnection.timeval(seconds: value)
            return Double(converted.tv_sec) + Double(converted.tv_usec) / 1_000_000
        }
        XCTAssertEqual(seconds(1e20), 86_400)
        XCTAssertEqual(seconds(.infinity), 86_400)
        XCTAssertEqual(seconds(86_400), 86_400)
        XCTAssertEqual(seconds(.nan), 0.001)
        XCTAssertEqual(seconds(0), 0.001)
        XCTAssertEqual(seconds(-1), 0.001)
        XCTAssertEqual(LDAPConnection.timeval(seconds: 1.5).tv_sec, 1)
        XCTAssertEqual(LDAPConnection.timeval(seconds: 1.5).tv_usec, 500_000)
    }

    func testHandshakeGuardDeadlineIsClampedInC() throws {
        // ldap_initialize does not connect; the guard is only installed and read back.
        func deadline(_ seconds: Double) throws -> Int {
            var created: OpaquePointer?
            XCTAssertEqual(ldap_initialize(&created, "ldaps://dc01.corp.example"), LDAP_SUCCESS)
            let ld = try XCTUnwrap(created)
            defer { ldap_unbind_ext(ld, nil, nil) }  // frees the guard too
            let installed = try XCTUnwrap(trustaudit_guard_install(ld, seconds))
            return installed.pointee.timeout_ms
        }
        XCTAssertEqual(try deadline(1e20), 86_400_000)
        XCTAssertEqual(try deadline(.infinity), 86_400_000)
        XCTAssertEqual(try deadline(86_400), 86_400_000)
        XCTAssertEqual(try deadline(.nan), 1)
        XCTAssertEqual(try deadline(0), 1)
        XCTAssertEqual(try deadline(-1), 1)
        XCTAssertEqual(try deadline(2.5), 2_500)
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
