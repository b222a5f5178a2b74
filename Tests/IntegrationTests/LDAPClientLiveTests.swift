import Directory
import Foundation
import TestSupport
import XCTest

@testable import LDAPClient

/// Runs the client against the real domain controller the test harness provides (scripts/testdc, or
/// any DC named by the `TRUSTAUDIT_TEST_DC_*` variables); see `TestConfiguration.requireDC()` for
/// when it is skipped and when (CI=true) its absence fails.
struct LiveTestConfiguration {
    var uri: String
    var caFile: String?
    var bindDN: String
    var password: [UInt8]
    var gssapiURI: String
    var dc: TestConfiguration

    static func require() throws -> LiveTestConfiguration {
        let dc = try TestConfiguration.requireDC()
        return LiveTestConfiguration(
            uri: dc.ldapsURI, caFile: dc.caFile, bindDN: dc.bindDN, password: Array(try dc.password().utf8),
            gssapiURI: dc.gssapiURI, dc: dc)
    }

    var options: LDAPConnectionOptions {
        LDAPConnectionOptions(uri: uri, caFile: caFile, networkTimeout: 5, operationTimeout: 30)
    }

    func boundConnection() throws -> LDAPConnection {
        let connection = try LDAPConnection(options: options)
        try connection.simpleBind(dn: bindDN, password: password)
        return connection
    }
}

final class LDAPClientLiveTests: XCTestCase {
    func testRootDSE() throws {
        let configuration = try LiveTestConfiguration.require()
        let rootDSE = try configuration.boundConnection().rootDSE()
        XCTAssertEqual(rootDSE.dn, "")
        XCTAssertNotNil(rootDSE.string("defaultNamingContext"))
        XCTAssertNotNil(rootDSE.string("currentTime").flatMap(UTCTime.date(generalizedTime:)))
        XCTAssertTrue(rootDSE.strings("supportedControl").contains(LDAPConnection.pagedResultsOID))
    }

    func testWrongPasswordIsDecoded() throws {
        let configuration = try LiveTestConfiguration.require()
        let connection = try LDAPConnection(options: configuration.options)
        XCTAssertThrowsError(try connection.simpleBind(dn: configuration.bindDN, password: Array("Xq7-not-it".utf8))) {
            error in
            let error = error as? LDAPError
            XCTAssertEqual(error?.code, .invalidCredentials)
            XCTAssertEqual(error?.activeDirectoryReason, .invalidCredentials)
            XCTAssertFalse("\(error!)".contains("Xq7-not-it"), "the password must never appear")
        }
    }

    func testUntrustedCertificateIsATLSFailure() throws {
        let configuration = try LiveTestConfiguration.require()
        guard configuration.uri.lowercased().hasPrefix("ldaps://"), configuration.caFile != nil else {
            throw XCTSkip("needs an ldaps:// URI and a CA file")
        }
        // The system store does not hold the test DC's CA.
        var options = configuration.options
        options.caFile = "/etc/ssl/certs/ca-certificates.crt"
        do {
            let connection = try LDAPConnection(options: options)
            try connection.simpleBind(dn: configuration.bindDN, password: configuration.password)
            XCTFail("bound without trusting the DC's CA")
        } catch let error as LDAPError {
            XCTAssertEqual(error.code, .tlsFailure, "\(error)")
            XCTAssertTrue("\(error)".contains("certificate verify failed"), "\(error)")
        }
        options.verifyCertificate = false
        try LDAPConnection(options: options).simpleBind(dn: configuration.bindDN, password: configuration.password)
    }

    func testPagedSearchSkipsReferencesAndPagesThrough() throws {
        let configuration = try LiveTestConfiguration.require()
        let connection = try configuration.boundConnection()
        let base = try XCTUnwrap(connection.rootDSE().string("defaultNamingContext"))
        var pages = 0
        var entries: [LDAPEntry] = []
        var references = 0
        try connection.search(base: base, filter: "(objectClass=*)", attributes: ["cn", "objectGUID"], pageSize: 25) {
            (page: LDAPSearchPage) in
            pages += 1
            XCTAssertEqual(page.number, pages)
            XCTAssertLessThanOrEqual(page.entries.count, 25)
            entries += page.entries
            references += page.skippedReferences
        }
        let unpaged = try connection.searchAll(base: base, attributes: ["1.1"], pageSize: 0)
        XCTAssertEqual(entries.count, unpaged.count)
        XCTAssertGreaterThan(pages, 1)
        XCTAssertEqual(Set(entries.map(\.dn)).count, entries.count, "no entry twice across pages")
        XCTAssertTrue(
            entries.allSatisfy { $0.values("objectGUID").first?.count == 16 }, "binary values keep all 16 bytes")
        XCTAssertGreaterThan(references, 0, "the domain root search returns continuation references")
    }

    /// A caller that stops mid-search: the page already asked for is read, the server is told to
    /// drop the search (size 0 with its cookie, which libldap's own helper refuses to encode), and
    /// the connection pages through the next search as before.
    func testAPagedSearchEndedByTheCallerLeavesTheConnectionUsable() throws {
        struct Stop: Error {}
        let configuration = try LiveTestConfiguration.require()
        let connection = try configuration.boundConnection()
        let base = try XCTUnwrap(connection.rootDSE().string("defaultNamingContext"))
        XCTAssertThrowsError(
            try connection.search(base: base, attributes: ["cn"], pageSize: 10) { (page: LDAPSearchPage) in
                if page.number == 2 { throw Stop() }
            }
        ) { error in
            XCTAssertTrue(error is Stop, "\(error)")
        }
        var pages = 0
        var count = 0
        try connection.search(base: base, attributes: ["1.1"], pageSize: 10) { (page: LDAPSearchPage) in
            pages += 1
            count += page.entries.count
        }
        XCTAssertGreaterThan(pages, 2)
        XCTAssertEqual(count, try connection.searchAll(base: base, attributes: ["1.1"], pageSize: 0).count)
    }

    func testRangedAttributeIsFetchedInFull() throws {
        let configuration = try LiveTestConfiguration.require()
        let connection = try configuration.boundConnection()
        let base = try XCTUnwrap(connection.rootDSE().string("defaultNamingContext"))
        // Domain controllers hold many SPNs.
        let filter = "(&(objectClass=computer)(primaryGroupID=516))"
        let whole = try XCTUnwrap(
            connection.searchAll(base: base, filter: filter, attributes: ["servicePrincipalName"]).first)
        let expected = whole.strings("servicePrincipalName")
        XCTAssertGreaterThan(expected.count, 3)
        for step in [2, 3] {
            let ranged = try XCTUnwrap(
                connection.searchAll(
                    base: base, filter: filter, attributes: ["servicePrincipalName;range=0-\(step - 1)"],
                    rangeStep: step
                ).first)
            XCTAssertEqual(ranged.attributes.map(\.name), ["servicePrincipalName"])
            XCTAssertEqual(ranged.strings("servicePrincipalName"), expected)
        }
        // Without a step, the second request asks for the rest at once.
        let twoRounds = try XCTUnwrap(
            connection.searchAll(base: base, filter: filter, attributes: ["servicePrincipalName;range=0-0"]).first)
        XCTAssertEqual(twoRounds.strings("servicePrincipalName"), expected)
    }

    /// Ranged attributes are completed with base reads while the next page is already asked for:
    /// libldap must keep that page's answers apart from the base reads' on the one connection.
    func testRangesAreCompletedWhileTheNextPageIsOnItsWay() throws {
        let configuration = try LiveTestConfiguration.require()
        let connection = try configuration.boundConnection()
        let base = try XCTUnwrap(connection.rootDSE().string("defaultNamingContext"))
        let filter = "(&(objectClass=computer)(servicePrincipalName=*))"
        let whole = try connection.searchAll(base: base, filter: filter, attributes: ["servicePrincipalName"])
        XCTAssertGreaterThan(whole.count, 4)
        var ranged: [LDAPEntry] = []
        var pages = 0
        try connection.search(
            base: base, filter: filter, attributes: ["servicePrincipalName;range=0-0"], pageSize: 2, rangeStep: 1
        ) { (page: LDAPSearchPage) in
            pages += 1
            ranged += page.entries
        }
        XCTAssertGreaterThan(pages, 2)
        XCTAssertEqual(ranged.map(\.dn), whole.map(\.dn))
        XCTAssertEqual(
            ranged.map { Set($0.strings("servicePrincipalName")) },
            whole.map { Set($0.strings("servicePrincipalName")) })
    }

    func testMissingBaseIsNoSuchObject() throws {
        let configuration = try LiveTestConfiguration.require()
        let connection = try configuration.boundConnection()
        let base = try XCTUnwrap(connection.rootDSE().string("defaultNamingContext"))
        XCTAssertThrowsError(try connection.searchAll(base: "OU=Nowhere," + base, attributes: ["cn"])) { error in
            XCTAssertEqual((error as? LDAPError)?.code, .noSuchObject, "\(error)")
            // Windows names the nearest existing entry; Samba sends no matched DN.
            if let matched = (error as? LDAPError)?.matchedDN {
                XCTAssertEqual(matched.lowercased(), base.lowercased())
            }
        }
    }

    func testPlainSimpleBindNeedsStrongerAuth() throws {
        let configuration = try LiveTestConfiguration.require()
        let ldaps = try XCTUnwrap(LDAPURI(configuration.uri), "the DC's LDAPS URI \(configuration.uri) does not parse")
        let plain = LDAPURI(scheme: .ldap, host: ldaps.host)
        let connection = try LDAPConnection(options: LDAPConnectionOptions(uri: plain.description, networkTimeout: 5))
        XCTAssertThrowsError(try connection.simpleBind(dn: configuration.bindDN, password: configuration.password)) {
            error in
            XCTAssertEqual((error as? LDAPError)?.code, .strongerAuthRequired, "\(error)")
        }
        // The same over StartTLS works.
        var options = configuration.options
        options.uri = plain.description
        options.startTLS = true
        try LDAPConnection(options: options).simpleBind(dn: configuration.bindDN, password: configuration.password)
    }

    func testGSSAPIBind() throws {
        let configuration = try LiveTestConfiguration.require()
        // TestConfiguration always names a GSSAPI URI; what can be missing is the ticket.
        try configuration.dc.requireKerberosTicket()
        let connection = try LDAPConnection(
            options: LDAPConnectionOptions(uri: configuration.gssapiURI, networkTimeout: 5))
        try connection.saslGSSAPIBind()
        XCTAssertNotNil(try connection.rootDSE().string("defaultNamingContext"))
    }
}
