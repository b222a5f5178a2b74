import XCTest

@testable import Directory

/// The attributes of an object's life: tombstones, conflict objects, who created an account, the
/// names a rename left, and the identity forms dump converters write.
final class LifecycleAttributeTests: XCTestCase {
    private func object(_ dn: String, _ attributes: [String: [String]]) throws -> DirectoryObject {
        var entry = DirectoryEntry(distinguishedName: dn)
        for (name, values) in attributes.sorted(by: { $0.key < $1.key }) {
            for value in values { try entry.append(Array(value.utf8), to: name) }
        }
        return try XCTUnwrap(DirectoryObject(entry: entry))
    }

    func testEveryNewAttributeHasItsNumber() {
        for (name, id) in [
            ("whenChanged", AuditedAttributes.whenChanged), ("isDeleted", AuditedAttributes.isDeleted),
            ("isRecycled", AuditedAttributes.isRecycled), ("lastKnownParent", AuditedAttributes.lastKnownParent),
            ("msDS-AdditionalDnsHostName", AuditedAttributes.additionalDnsHostName),
            ("msDS-AdditionalSamAccountName", AuditedAttributes.additionalSamAccountName),
            ("mS-DS-CreatorSID", AuditedAttributes.creatorSID),
        ] {
            XCTAssertEqual(AuditedAttributes.all.firstIndex(of: name), Int(id), name)
        }
    }

    /// A tombstone as Samba 4.17 keeps it without the Recycle Bin (shared/samba-multi-dc.md).
    func testATombstoneIsDeletedWithItsParentAndDeletionTime() throws {
        let tombstone = try object(
            "CN=WS2\\0ADEL:5f1c2e8a-93d4-4b7e-a0c1-3e6f9d2b7a41,CN=Deleted Objects,DC=corp,DC=example",
            [
                "objectClass": ["top", "person", "organizationalPerson", "user", "computer"],
                "sAMAccountName": ["WS2$"], "isDeleted": ["TRUE"], "isRecycled": ["TRUE"],
                "lastKnownParent": ["OU=Workstations,DC=corp,DC=example"],
                "whenChanged": ["20261120093000.0Z"], "whenCreated": ["20240105120000.0Z"],
            ])
        XCTAssertTrue(tombstone.isDeleted)
        XCTAssertTrue(tombstone.isRecycled)
        XCTAssertFalse(tombstone.isConflictObject)
        XCTAssertEqual(tombstone.lastKnownParent, "OU=Workstations,DC=corp,DC=example")
        XCTAssertEqual(tombstone.whenChanged, UTCTime.date(generalizedTime: "20261120093000.0Z"))
        XCTAssertEqual(tombstone.whenCreated.map { UTCTime.timestamp($0) }, "2024-01-05T12:00:00Z")

        // The mangled RDN alone (an export that did not ask for isDeleted), escaped or decoded.
        XCTAssertTrue(
            try object("CN=WS2\\0ADEL:5f1c2e8a,CN=Deleted Objects,DC=corp,DC=example", ["objectClass": ["computer"]])
                .isDeleted)
        XCTAssertTrue(
            try object("CN=WS2\nDEL:5f1c2e8a,CN=Deleted Objects,DC=corp,DC=example", ["objectClass": ["computer"]])
                .isDeleted)
        // "DEL:" further along the DN is not the object's own RDN.
        XCTAssertFalse(
            try object("CN=PC1,OU=x\\0ADEL:1,DC=corp,DC=example", ["objectClass": ["computer"]]).isDeleted)
        XCTAssertFalse(
            try object("CN=PC1,DC=corp,DC=example", ["objectClass": ["computer"], "isDeleted": ["FALSE"]]).isDeleted)
    }

    func testConflictObjectsByRDNOrDuplicateName() throws {
        let computer = ["objectClass": ["computer"]]
        XCTAssertTrue(
            try object("CN=PC7\\0ACNF:7a1e2f4c-1b2d-4e5f-8a9b-0c1d2e3f4a5b,OU=Sales,DC=corp,DC=example", computer)
                .isConflictObject)
        var renamed = computer
        renamed["sAMAccountName"] = ["$DUPLICATE-1f4"]
        XCTAssertTrue(try object("CN=PC7,OU=Sales,DC=corp,DC=example", renamed).isConflictObject)
        XCTAssertFalse(try object("CN=PC7,OU=Sales,DC=corp,DC=example", computer).isConflictObject)
        var ordinary = computer
        ordinary["sAMAccountName"] = ["$DUPLICATE$"]
        XCTAssertFalse(try object("CN=PC7,DC=corp,DC=example", ordinary).isConflictObject, "the prefix and more")
    }

    func testCreatorSIDFromTheBinaryValueAndFromText() throws {
        // S-1-5-21-3539700351-1165401899-3544196954-1110, as ez.lab's TestyBoi$ carries it in base64.
        let binary: [UInt8] = [
            0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x15, 0x00, 0x00, 0x00, 0x7F, 0x8A, 0xFB, 0xD2,
            0x2B, 0x9F, 0x76, 0x45, 0x5A, 0x27, 0x40, 0xD3, 0x56, 0x04, 0x00, 0x00,
        ]
        XCTAssertEqual(
            binary.withUnsafeBufferPointer(SecurityIdentifier.text(ldapBytes:)),
            "S-1-5-21-3539700351-1165401899-3544196954-1110")
        var entry = DirectoryEntry(distinguishedName: "CN=TestyBoi,CN=Computers,DC=ez,DC=lab")
        try entry.append(Array("computer".utf8), to: "objectClass")
        try entry.append(binary, to: "mS-DS-CreatorSID")
        XCTAssertEqual(DirectoryObject(entry: entry)?.creatorSID, "S-1-5-21-3539700351-1165401899-3544196954-1110")
        // bofhound's dumps write the base64 after a single colon.
        let base64 = Array("AQUAAAAAAAUVAAAAf4r70iufdkVaJ0DTVgQAAA==".utf8)
        XCTAssertEqual(
            base64.withUnsafeBufferPointer(SecurityIdentifier.text(ldapBytes:)),
            "S-1-5-21-3539700351-1165401899-3544196954-1110")
        let text = Array("S-1-5-21-1-2-3-1110".utf8)
        XCTAssertEqual(text.withUnsafeBufferPointer(SecurityIdentifier.text(ldapBytes:)), "S-1-5-21-1-2-3-1110")
        for bad in [[UInt8](), [0x01, 0x05, 0, 0], Array(binary.dropLast()), Array("S-1-x".utf8)] {
            XCTAssertNil(bad.withUnsafeBufferPointer(SecurityIdentifier.text(ldapBytes:)), "\(bad)")
        }
    }

    func testTheObjectGUIDInTheTextFormDumpConvertersWrite() throws {
        let fromText = try object(
            "CN=TestyBoi,CN=Computers,DC=ez,DC=lab",
            ["objectClass": ["computer"], "objectGUID": ["3c8411a5-92b6-40b2-acef-a14a2b23420e"]])
        XCTAssertEqual(fromText.objectGUID?.description, "3c8411a5-92b6-40b2-acef-a14a2b23420e")
        XCTAssertEqual(
            fromText.objectGUID?.bytes,
            [0xA5, 0x11, 0x84, 0x3C, 0xB6, 0x92, 0xB2, 0x40, 0xAC, 0xEF, 0xA1, 0x4A, 0x2B, 0x23, 0x42, 0x0E])
        XCTAssertNil(
            try object(
                "CN=A,DC=x", ["objectClass": ["computer"], "objectGUID": ["3c8411a5x92b6-40b2-acef-a14a2b23420e"]]
            )
            .objectGUID)
    }

    func testAdditionalNamesAreAllKept() throws {
        let computer = try object(
            "CN=FS01,OU=Servers,DC=corp,DC=example",
            [
                "objectClass": ["computer"], "sAMAccountName": ["FS01$"],
                "msDS-AdditionalDnsHostName": ["files.corp.example", "FS-OLD.corp.example"],
                "msDS-AdditionalSamAccountName": ["FS-OLD$"],
            ])
        XCTAssertEqual(computer.additionalDnsHostNames, ["files.corp.example", "FS-OLD.corp.example"])
        XCTAssertEqual(computer.additionalSamAccountNames, ["FS-OLD$"])
        XCTAssertEqual(computer.domainDNSName, "corp.example")
    }
}
