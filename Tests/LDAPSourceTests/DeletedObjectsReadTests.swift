import Directory
import Foundation
import LDAPClient
import XCTest

@testable import LDAPSource

/// The deleted-objects read against a scripted server: what it sends (the Deleted Objects
/// container by its well-known GUID, Show Deleted and Show Recycled), and how it tells "none" from
/// "not visible with these credentials".
final class DeletedObjectsReadTests: XCTestCase {
    typealias Entry = ScriptedLDAPServer.Entry

    static let wellKnownBase = "<WKGUID=18e2ea80684f11d2b9aa00c04f79f805,DC=corp,DC=example>"
    static let partitions = "CN=Partitions,CN=Configuration,DC=corp,DC=example"

    static let container: Entry = (
        dn: "CN=Deleted Objects,DC=corp,DC=example",
        attributes: [("objectClass", ["top", "container"]), ("isDeleted", ["TRUE"])]
    )

    static let tombstone: Entry = (
        dn: "CN=WKS-0142\\0ADEL:5f1c2e8a-93d4-4b7e-a0c1-3e6f9d2b7a41,CN=Deleted Objects,DC=corp,DC=example",
        attributes: [
            ("objectClass", ["top", "person", "organizationalPerson", "user", "computer"]),
            ("sAMAccountName", ["WKS-0142$"]), ("isDeleted", ["TRUE"]), ("isRecycled", ["TRUE"]),
            ("lastKnownParent", ["OU=Workstations,DC=corp,DC=example"]),
            ("whenChanged", ["20261019141502.0Z"]), ("userAccountControl", ["4096"]),
        ]
    )

    static func partitionsEntry(features: [String]) -> Entry {
        (
            dn: partitions,
            attributes: [("objectClass", ["top", "crossRefContainer"])]
                + (features.isEmpty ? [] : [("msDS-EnabledFeature", features)])
        )
    }

    static let recycleBinFeature =
        "CN=Recycle Bin Feature,CN=Optional Features,CN=Directory Service,CN=Windows NT,CN=Services,CN=Configuration,DC=corp,DC=example"

    private func source(_ server: ScriptedLDAPServer) -> LDAPDirectorySource {
        var settings = LDAPSourceSettings(
            uri: "ldap://127.0.0.1:\(server.port)",
            bind: .simple(dn: "svc-audit@corp.example", password: Array("Tr0ub4dor&3".utf8)))
        settings.allowPlaintext = true
        settings.networkTimeout = 3
        settings.operationTimeout = 5
        settings.maxRetries = 0
        settings.readsDeletedObjects = true
        return LDAPDirectorySource(settings: settings)
    }

    /// A server that answers the container read with `container`, the Partitions read with
    /// `partitions`, and the deleted-computers search with the tombstone.
    private func server(container: Entry?, partitions: Entry?) throws -> ScriptedLDAPServer {
        try ScriptedLDAPServer(rootDSE: LDAPSourceRequestTests.rootDSE, entries: []) { base, scope in
            switch (base, scope) {
            case (Self.wellKnownBase, 0): container.map { [$0] } ?? []
            case (Self.wellKnownBase, 2): [Self.tombstone]
            case (Self.partitions, 0): partitions.map { [$0] } ?? []
            default: []
            }
        }
    }

    private func searches(_ server: ScriptedLDAPServer, base: String, scope: Int) -> [[UInt8]] {
        server.searchRequests.filter {
            ScriptedLDAPServer.searchBase(of: $0) == base && ScriptedLDAPServer.searchScope(of: $0) == scope
        }
    }

    func testTheReadSendsShowDeletedAndShowRecycledToTheWellKnownContainer() throws {
        let server = try server(
            container: Self.container, partitions: Self.partitionsEntry(features: [Self.recycleBinFeature]))
        defer { server.stop() }
        var delivered: [DirectoryEntry] = []
        let read = try source(server).readDeletedObjects { delivered.append($0) }

        XCTAssertEqual(read, DeletedObjectsRead(notVisibleReason: nil, recycleBin: true, deletedEntries: 1))
        XCTAssertTrue(read.isVisible)
        XCTAssertEqual(delivered.map(\.distinguishedName), [Self.tombstone.dn])
        XCTAssertEqual(delivered.first?.string("lastKnownParent"), "OU=Workstations,DC=corp,DC=example")
        let object = try XCTUnwrap(delivered.first.flatMap(DirectoryObject.init(entry:)))
        XCTAssertTrue(object.isDeleted)

        let search = try XCTUnwrap(searches(server, base: Self.wellKnownBase, scope: 2).first, "no subtree search")
        // (&(objectClass=computer)(isDeleted=TRUE)): an AND of two equalityMatches.
        let objectClass = ScriptedLDAPServer.tlv(
            0xA3, ScriptedLDAPServer.octets("objectClass") + ScriptedLDAPServer.octets("computer"))
        let isDeleted = ScriptedLDAPServer.tlv(
            0xA3, ScriptedLDAPServer.octets("isDeleted") + ScriptedLDAPServer.octets("TRUE"))
        XCTAssertNotNil(search.firstRange(of: ScriptedLDAPServer.tlv(0xA0, objectClass + isDeleted)))
        for attribute in AuditedAttributes.singleSource {
            XCTAssertNotNil(search.firstRange(of: ScriptedLDAPServer.octets(attribute)), attribute)
        }
        // Show Deleted critical (BOOLEAN TRUE after its OID), Show Recycled not (no criticality).
        let showDeleted = try XCTUnwrap(search.firstRange(of: ScriptedLDAPServer.octets("1.2.840.113556.1.4.417")))
        XCTAssertEqual(Array(search[showDeleted.upperBound..<showDeleted.upperBound + 3]), [0x01, 0x01, 0xFF])
        let showRecycled = try XCTUnwrap(search.firstRange(of: ScriptedLDAPServer.octets("1.2.840.113556.1.4.2064")))
        XCTAssertNotEqual(search[safe: showRecycled.upperBound], 0x01, "Show Recycled is sent without criticality")
        XCTAssertNotNil(search.firstRange(of: ScriptedLDAPServer.octets("1.2.840.113556.1.4.319")), "paged")

        // The container itself was read first, with the same controls.
        let containerRead = try XCTUnwrap(searches(server, base: Self.wellKnownBase, scope: 0).first)
        XCTAssertNotNil(containerRead.firstRange(of: ScriptedLDAPServer.octets("1.2.840.113556.1.4.417")))
        XCTAssertNotNil(containerRead.firstRange(of: ScriptedLDAPServer.octets("1.2.840.113556.1.4.2064")))
        let order = server.searchRequests.map {
            "\(ScriptedLDAPServer.searchBase(of: $0) ?? "?") \(ScriptedLDAPServer.searchScope(of: $0) ?? -1)"
        }
        XCTAssertLessThan(
            try XCTUnwrap(order.firstIndex(of: "\(Self.wellKnownBase) 0")),
            try XCTUnwrap(order.firstIndex(of: "\(Self.wellKnownBase) 2")))
    }

    func testAContainerThatIsNotReturnedReadsAsNotVisibleAndNothingIsDelivered() throws {
        // A plain user on Windows: no entry, no error.
        let server = try server(container: nil, partitions: Self.partitionsEntry(features: []))
        defer { server.stop() }
        var delivered: [DirectoryEntry] = []
        let read = try source(server).readDeletedObjects { delivered.append($0) }

        XCTAssertFalse(read.isVisible)
        XCTAssertEqual(read.notVisibleReason, LDAPDirectorySource.containerNotReturned)
        XCTAssertTrue(read.notVisibleReason?.contains("only Administrators") ?? false)
        XCTAssertEqual(read.recycleBin, false)
        XCTAssertEqual(read.deletedEntries, 0)
        XCTAssertEqual(delivered.count, 0)
        XCTAssertEqual(searches(server, base: Self.wellKnownBase, scope: 2).count, 0, "no search without the container")
    }

    func testAContainerWithNothingReadableReadsAsNotVisible() throws {
        // A plain user on Samba 4.17: the container's DN comes back, none of its attributes.
        let server = try server(
            container: (dn: Self.container.dn, attributes: []), partitions: (dn: Self.partitions, attributes: []))
        defer { server.stop() }
        var delivered: [DirectoryEntry] = []
        let read = try source(server).readDeletedObjects { delivered.append($0) }

        XCTAssertEqual(read.notVisibleReason, LDAPDirectorySource.containerNotReturned)
        XCTAssertNil(read.recycleBin, "an unreadable Partitions container says nothing about the Recycle Bin")
        XCTAssertEqual(delivered.count, 0)
    }

    func testWithoutTheRecycleBinTheContainerIsVisibleAndTheBinOff() throws {
        let other =
            "CN=Privileged Access Management Feature,CN=Optional Features,CN=Directory Service,CN=Windows NT,"
            + "CN=Services,CN=Configuration,DC=corp,DC=example"
        let server = try server(container: Self.container, partitions: Self.partitionsEntry(features: [other]))
        defer { server.stop() }
        let read = try source(server).readDeletedObjects { _ in }
        XCTAssertEqual(read, DeletedObjectsRead(notVisibleReason: nil, recycleBin: false, deletedEntries: 1))
    }

    func testTheBaseNamesTheNamingContextByItsWellKnownGUID() {
        XCTAssertEqual(
            LDAPDirectorySource.deletedObjectsBase(namingContext: "DC=emea,DC=corp,DC=example"),
            "<WKGUID=18e2ea80684f11d2b9aa00c04f79f805,DC=emea,DC=corp,DC=example>")
        XCTAssertEqual(
            LDAPDirectorySource.deletedObjectsRequest.controls.map(\.oid),
            ["1.2.840.113556.1.4.417", "1.2.840.113556.1.4.2064"])
        XCTAssertEqual(LDAPDirectorySource.deletedObjectsRequest.attributes, AuditedAttributes.singleSource)
    }
}

extension Array where Element == UInt8 {
    fileprivate subscript(safe index: Int) -> UInt8? { indices.contains(index) ? self[index] : nil }
}
