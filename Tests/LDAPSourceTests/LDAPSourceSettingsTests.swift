import LDAPClient
import XCTest

@testable import LDAPSource

/// The live source's policy, checked without a server: every URI of a list counts, the Global
/// Catalog ports apply per URI, and durations are bounded.
final class LDAPSourceSettingsTests: XCTestCase {
    let password = Array("Tr0ub4dor&3".utf8)

    func simple(_ uri: String) -> LDAPSourceSettings {
        LDAPSourceSettings(uri: uri, bind: .simple(dn: "svc-audit@corp.example", password: password))
    }

    func refusal(_ settings: LDAPSourceSettings, file: StaticString = #filePath, line: UInt = #line) -> LDAPError? {
        do {
            try settings.validate()
            XCTFail("\(settings.uri) passed", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    func testSimpleBindIsRefusedWhenAnyURIOfTheListIsPlain() throws {
        for (uri, offending) in [
            ("ldaps://dc1.corp.example ldap://dc2.corp.example", "ldap://dc2.corp.example"),
            ("ldap://dc1.corp.example", "ldap://dc1.corp.example"),
            ("LDAPS://dc1.corp.example,LDAP://dc2.corp.example:389", "ldap://dc2.corp.example:389"),
            ("ldaps://dc1.corp.example   ldap://[::1]:389", "ldap://[::1]:389"),
            ("ldaps://dc1.corp.example,, ,ldaps://dc2.corp.example ldap://dc3.corp.example", "ldap://dc3.corp.example"),
        ] {
            let error = try XCTUnwrap(refusal(simple(uri)), uri)
            XCTAssertEqual(error.code, .plaintextBind, uri)
            XCTAssertEqual(error.operation, .configure, uri)
            XCTAssertEqual(error.serverURI, offending, uri)
            XCTAssertTrue("\(error)".contains("\(offending) is unencrypted"), "\(error)")
            XCTAssertFalse("\(error)".contains("Tr0ub4dor"), "the password must never appear")
        }
    }

    func testSimpleBindPassesWhenEveryConnectionIsEncryptedOrPlaintextIsAllowed() throws {
        XCTAssertNoThrow(try simple("ldaps://dc1.corp.example LDAPS://dc2.corp.example:636").validate())
        XCTAssertNoThrow(try simple("ldaps://[::1]:636, ldaps://dc2.corp.example").validate())
        var startTLS = simple("ldap://dc1.corp.example ldap://dc2.corp.example")
        startTLS.startTLS = true
        XCTAssertNoThrow(try startTLS.validate())
        var lab = simple("ldaps://dc1.corp.example ldap://dc2.corp.example")
        lab.allowPlaintext = true
        XCTAssertNoThrow(try lab.validate())
        // Kerberos seals plain ldap:// itself; no password crosses the wire.
        XCTAssertNoThrow(try LDAPSourceSettings(uri: "ldap://dc1 ldap://dc2", bind: .gssapi).validate())
    }

    func testKerberosBindIsRefusedWithTLSAnywhereInTheList() throws {
        let error = try XCTUnwrap(refusal(LDAPSourceSettings(uri: "ldap://dc1 LDAPS://dc2", bind: .gssapi)))
        XCTAssertEqual(error.code, .invalidURI)
        XCTAssertTrue("\(error)".contains("Kerberos"), "\(error)")
    }

    func testGlobalCatalogPortsApplyToEveryURI() throws {
        var settings = simple(
            "ldaps://dc1.corp.example ldap://dc2.corp.example LDAPS://dc3:636 ldap://[::1]:389 ldaps://dc4:3269")
        settings.globalCatalog = true
        XCTAssertEqual(
            try settings.resolvedURIs().map(\.description),
            [
                "ldaps://dc1.corp.example:3269", "ldap://dc2.corp.example:3268", "ldaps://dc3:3269",
                "ldap://[::1]:3268", "ldaps://dc4:3269",
            ])
        XCTAssertEqual(
            settings.connectionOptions.uri,
            "ldaps://dc1.corp.example:3269 ldap://dc2.corp.example:3268 ldaps://dc3:3269 ldap://[::1]:3268 ldaps://dc4:3269"
        )
        XCTAssertEqual(LDAPDirectorySource(settings: settings).description, settings.connectionOptions.uri)
        // The mapping happens after the policy's parse: the plain one is still named, with its GC port.
        XCTAssertEqual(refusal(settings)?.serverURI, "ldap://dc2.corp.example:3268")
        // A custom port is the caller's choice and stays.
        var custom = simple("ldaps://dc1:50636")
        custom.globalCatalog = true
        XCTAssertEqual(try custom.resolvedURIs().map(\.description), ["ldaps://dc1:50636"])
    }

    func testAURINamingAGlobalCatalogPortMakesAGlobalCatalogSearch() throws {
        let settings = simple("ldaps://dc1.corp.example:3269 ldaps://dc2.corp.example")
        XCTAssertFalse(settings.globalCatalog)
        XCTAssertTrue(settings.searchesGlobalCatalog)
        XCTAssertEqual(
            try settings.resolvedURIs().map(\.description),
            ["ldaps://dc1.corp.example:3269", "ldaps://dc2.corp.example:3269"])
        XCTAssertFalse(simple("ldaps://dc1.corp.example:636").searchesGlobalCatalog)
        XCTAssertEqual(simple("ldaps://dc1.corp.example").connectionOptions.uri, "ldaps://dc1.corp.example")
    }

    func testUnparsableListsAreInvalidURIs() throws {
        for uri in ["", " , ", "dc1.corp.example", "ldaps://dc1 https://dc2", "ldaps://dc1 ldap://"] {
            XCTAssertEqual(refusal(simple(uri))?.code, .invalidURI, uri)
        }
    }

    func testDurationsAreBoundedWhereTheSettingsAreChecked() throws {
        for seconds in [1e20, .infinity, .nan, 0, -1] {
            var network = simple("ldaps://dc1.corp.example")
            network.networkTimeout = seconds
            XCTAssertEqual(refusal(network)?.code, .invalidTimeout, "\(seconds)")
            var operation = simple("ldaps://dc1.corp.example")
            operation.operationTimeout = seconds
            let error = try XCTUnwrap(refusal(operation), "\(seconds)")
            XCTAssertEqual(error.code, .invalidTimeout, "\(seconds)")
            XCTAssertTrue("\(error)".contains("operation timeout"), "\(error)")
        }
        var day = simple("ldaps://dc1.corp.example")
        day.networkTimeout = 86_400
        day.operationTimeout = 86_400
        XCTAssertNoThrow(try day.validate())
    }

    func testTheSourceRefusesPlaintextBeforeConnecting() throws {
        // No DC anywhere: the refusal must come before any network traffic, and is not retried.
        let source = LDAPDirectorySource(settings: simple("ldaps://127.0.0.1:1 ldap://127.0.0.1:1"))
        let started = Date()
        XCTAssertThrowsError(try source.connect()) { error in
            XCTAssertEqual((error as? LDAPError)?.code, .plaintextBind, "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.5, "retried or connected")
    }
}
