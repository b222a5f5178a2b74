import XCTest

@testable import LDAPClient

final class LDAPSearchSyntaxTests: XCTestCase {
    func testRangedAttributeNames() throws {
        let middle = try XCTUnwrap(LDAPAttributeRange(attributeDescription: "servicePrincipalName;range=1500-2999"))
        XCTAssertEqual(middle, LDAPAttributeRange(attribute: "servicePrincipalName", low: 1500, high: 2999))
        XCTAssertFalse(middle.isLast)
        XCTAssertEqual(middle.nextRequest(), "servicePrincipalName;range=3000-*")
        XCTAssertEqual(middle.nextRequest(step: 1500), "servicePrincipalName;range=3000-4499")

        let last = try XCTUnwrap(LDAPAttributeRange(attributeDescription: "servicePrincipalName;range=3000-*"))
        XCTAssertEqual(last.low, 3000)
        XCTAssertNil(last.high)
        XCTAssertTrue(last.isLast)
        XCTAssertNil(last.nextRequest())

        // Other options stay with the attribute; the option name is case-insensitive.
        let binary = try XCTUnwrap(LDAPAttributeRange(attributeDescription: "userCertificate;binary;Range=0-1499"))
        XCTAssertEqual(binary.attribute, "userCertificate;binary")
        XCTAssertEqual(binary.nextRequest(), "userCertificate;binary;range=1500-*")

        for invalid in [
            "servicePrincipalName", "servicePrincipalName;binary", "servicePrincipalName;range=",
            "servicePrincipalName;range=5-2", "servicePrincipalName;range=a-*", "servicePrincipalName;range=0",
            ";range=0-*", "member;range=-1-5",
        ] {
            XCTAssertNil(LDAPAttributeRange(attributeDescription: invalid), invalid)
        }
    }

    func testEntryLooksNamesUpCaseInsensitivelyAndKeepsBytes() {
        let guid: [UInt8] = [0x70, 0xFD, 0x10, 0x28, 0x00, 0xFF]
        let entry = LDAPEntry(
            dn: "CN=PC01,CN=Computers,DC=corp,DC=test",
            attributes: [(name: "objectGUID", values: [guid]), (name: "sAMAccountName", values: [Array("PC01$".utf8)])])
        XCTAssertEqual(entry.values("objectguid"), [guid])
        XCTAssertEqual(entry.string("SAMACCOUNTNAME"), "PC01$")
        XCTAssertEqual(entry.values("missing"), [])
        XCTAssertEqual(entry, entry)
        XCTAssertNotEqual(entry, LDAPEntry(dn: entry.dn))
    }

    func testTimevalSplitsSeconds() {
        let value = LDAPConnection.timeval(seconds: 2.5)
        XCTAssertEqual(value.tv_sec, 2)
        XCTAssertEqual(value.tv_usec, 500_000)
    }

    func testCStringArrayIsNullTerminated() {
        LDAPConnection.withCStringArray(["cn", "servicePrincipalName;range=0-1"]) { array in
            XCTAssertEqual(array.map { String(cString: $0[0]!) }, "cn")
            XCTAssertEqual(array.map { String(cString: $0[1]!) }, "servicePrincipalName;range=0-1")
            XCTAssertNil(array?[2])
        }
        LDAPConnection.withCStringArray([]) { XCTAssertNil($0) }
    }
}
