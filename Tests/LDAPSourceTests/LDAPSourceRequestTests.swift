import Directory
import Foundation
import LDAPClient
import XCTest

@testable import LDAPSource

/// What the live source sends and says, against a scripted loopback server: the request's
/// filter, attributes and controls reach the wire, the audit's default is today's search, and the
/// source describes its DC from the root DSE.
final class LDAPSourceRequestTests: XCTestCase {
    static let rootDSE: [(String, [String])] = [
        ("defaultNamingContext", ["DC=corp,DC=example"]),
        ("rootDomainNamingContext", ["DC=corp,DC=example"]),
        ("dnsHostName", ["dc01.corp.example"]),
        ("currentTime", ["20261124083000.0Z"]),
        ("isGlobalCatalogReady", ["TRUE"]),
        ("supportedControl", ["1.2.840.113556.1.4.319", "1.2.840.113556.1.4.417"]),
    ]

    static let tombstone = (
        dn: "CN=WKS-0142\\0ADEL:5f1c2e8a-93d4-4b7e-a0c1-3e6f9d2b7a41,CN=Deleted Objects,DC=corp,DC=example",
        attributes: [
            ("objectClass", ["top", "computer"]), ("sAMAccountName", ["WKS-0142$"]), ("isDeleted", ["TRUE"]),
            ("lastKnownParent", ["OU=Workstations,DC=corp,DC=example"]),
        ]
    )

    private func source(_ server: ScriptedLDAPServer) -> LDAPDirectorySource {
        var settings = LDAPSourceSettings(
            uri: "ldap://127.0.0.1:\(server.port)",
            bind: .simple(dn: "svc-audit@corp.example", password: Array("Tr0ub4dor&3".utf8)))
        settings.allowPlaintext = true
        settings.networkTimeout = 3
        settings.operationTimeout = 5
        settings.maxRetries = 0
        return LDAPDirectorySource(settings: settings)
    }

    func testTheSourceDescribesItsDomainController() throws {
        let server = try ScriptedLDAPServer(rootDSE: Self.rootDSE, entries: [])
        defer { server.stop() }
        let live = source(server)
        let metadata = try live.readMetadata()
        XCTAssertEqual(metadata.kind, .domainController)
        XCTAssertEqual(metadata.name, "ldap://127.0.0.1:\(server.port)")
        XCTAssertEqual(metadata.domainControllerHostName, "dc01.corp.example")
        XCTAssertEqual(metadata.namingContext, "DC=corp,DC=example")
        XCTAssertEqual(metadata.domain, "corp.example")
        XCTAssertEqual(metadata.currentTime, ISO8601DateFormatter().date(from: "2026-11-24T08:30:00Z"))
        XCTAssertFalse(metadata.isGlobalCatalog)
    }

    func testADeletedObjectsRequestSendsItsFilterAttributesAndShowDeleted() throws {
        let server = try ScriptedLDAPServer(rootDSE: Self.rootDSE, entries: [Self.tombstone])
        defer { server.stop() }
        let request = SourceRequest(
            attributes: ["sAMAccountName", "isDeleted", "lastKnownParent"], controls: [.showDeleted],
            filter: "(&(objectClass=computer)(isDeleted=TRUE))")
        var delivered: [DirectoryEntry] = []
        try source(server).forEachEntry(request) { delivered.append($0) }
        XCTAssertEqual(delivered.map(\.distinguishedName), [Self.tombstone.dn])
        XCTAssertEqual(delivered.first?.string("lastKnownParent"), "OU=Workstations,DC=corp,DC=example")

        let search = try XCTUnwrap(server.searchRequests.last)
        XCTAssertEqual(ScriptedLDAPServer.searchBase(of: search), "DC=corp,DC=example")
        // equalityMatch isDeleted=TRUE, and the attributes asked for.
        XCTAssertNotNil(
            search.firstRange(
                of: [0xA3, 0x11] + ScriptedLDAPServer.octets("isDeleted") + ScriptedLDAPServer.octets("TRUE")))
        XCTAssertNotNil(search.firstRange(of: ScriptedLDAPServer.octets("lastKnownParent")))
        XCTAssertNil(search.firstRange(of: Array("operatingSystem".utf8)), "only the requested attributes")
        // Paging first, then Show Deleted, critical (BOOLEAN TRUE after its OID).
        let paging = try XCTUnwrap(search.firstRange(of: ScriptedLDAPServer.octets("1.2.840.113556.1.4.319")))
        let showDeleted = try XCTUnwrap(search.firstRange(of: ScriptedLDAPServer.octets("1.2.840.113556.1.4.417")))
        XCTAssertLessThan(paging.lowerBound, showDeleted.lowerBound)
        XCTAssertEqual(
            Array(search[showDeleted.upperBound..<min(showDeleted.upperBound + 3, search.count)]), [0x01, 0x01, 0xFF])
    }

    func testTheAuditsRequestIsTodaysSearch() throws {
        let server = try ScriptedLDAPServer(rootDSE: Self.rootDSE, entries: [])
        defer { server.stop() }
        var count = 0
        try source(server).forEachEntry { _ in count += 1 }
        XCTAssertEqual(count, 0)
        let search = try XCTUnwrap(server.searchRequests.last)
        XCTAssertNotNil(search.firstRange(of: ScriptedLDAPServer.octets("servicePrincipalName")))
        for attribute in AuditedAttributes.singleSource {
            XCTAssertNotNil(search.firstRange(of: ScriptedLDAPServer.octets(attribute)), attribute)
        }
        for attribute in AuditedAttributes.perDomainControllerAttributes {
            XCTAssertNil(
                search.firstRange(of: ScriptedLDAPServer.octets(attribute)), "a single-DC audit asks no \(attribute)")
        }
        XCTAssertNil(search.firstRange(of: Array("1.2.840.113556.1.4.417".utf8)), "no Show Deleted")
        XCTAssertNotNil(search.firstRange(of: ScriptedLDAPServer.octets("1.2.840.113556.1.4.319")), "paged")
    }

    func testAMissingNamingContextNamesTheSettingNotAFlag() throws {
        let server = try ScriptedLDAPServer(rootDSE: [("dnsHostName", ["dc01.corp.example"])], entries: [])
        defer { server.stop() }
        XCTAssertThrowsError(try source(server).forEachEntry { _ in }) { error in
            guard let error = error as? LDAPError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.code, .noSuchObject)
            XCTAssertFalse(error.advice.contains("--"), error.advice)
            XCTAssertTrue(error.advice.contains("search base"), error.advice)
            XCTAssertTrue(error.advice.contains("DC=corp,DC=example"), error.advice)
        }
    }

    func testTheRequestsControlsAreHandedToTheConnectionUnchanged() {
        let controls = LDAPDirectorySource.connectionControls([
            .showDeleted,
            ServerControl(oid: "1.2.840.113556.1.4.529", value: [0x30, 0x03, 0x02, 0x01, 0x01], isCritical: false),
        ])
        XCTAssertEqual(
            controls,
            [
                LDAPServerControl(oid: "1.2.840.113556.1.4.417", isCritical: true),
                LDAPServerControl(
                    oid: "1.2.840.113556.1.4.529", value: [0x30, 0x03, 0x02, 0x01, 0x01], isCritical: false),
            ])
    }
}
