import CLDAP
import Foundation
import XCTest

@testable import LDAPClient

/// The controls a search sends besides paging, as handed to libldap: order, criticality,
/// values, the terminating NULL; and an OID that is no OID refused before anything is sent.
final class LDAPServerControlTests: XCTestCase {
    /// LDAP_SERVER_EXTENDED_DN_OID with the value { flag 1 }: string GUIDs and SIDs in DNs.
    static let extendedDN = LDAPServerControl(
        oid: "1.2.840.113556.1.4.529", value: [0x30, 0x03, 0x02, 0x01, 0x01], isCritical: false)
    static let showDeleted = LDAPServerControl(oid: "1.2.840.113556.1.4.417", isCritical: true)

    /// What libldap would read from the `LDAPControl **`, copied out while it is valid.
    private func handedOver(
        _ controls: [LDAPServerControl], paging: UnsafeMutablePointer<LDAPControl>? = nil
    ) -> [(oid: String, value: [UInt8]?, critical: Bool)]? {
        LDAPConnection.withServerControls(controls, paging: paging) { list in
            guard let list else { return nil }
            var result: [(oid: String, value: [UInt8]?, critical: Bool)] = []
            var index = 0
            while let control = list[index] {
                let value = control.pointee.ldctl_value
                result.append(
                    (
                        String(cString: control.pointee.ldctl_oid),
                        value.bv_val == nil ? nil : LDAPConnection.bytes(of: value),
                        control.pointee.ldctl_iscritical != 0
                    ))
                index += 1
            }
            return result
        }
    }

    func testNoControlsAndNoPagingHandsLibldapNoList() {
        XCTAssertNil(handedOver([]))
    }

    func testControlsAreHandedOverInOrderWithCriticalityAndValue() throws {
        let list = try XCTUnwrap(handedOver([Self.showDeleted, Self.extendedDN]))
        XCTAssertEqual(list.map(\.oid), ["1.2.840.113556.1.4.417", "1.2.840.113556.1.4.529"])
        XCTAssertEqual(list.map(\.critical), [true, false])
        XCTAssertNil(list[0].value, "Show Deleted has no controlValue: a null bv_val, not an empty one")
        XCTAssertEqual(list[1].value, [0x30, 0x03, 0x02, 0x01, 0x01])
    }

    func testThePagingControlComesFirst() throws {
        var paging = LDAPControl(
            ldctl_oid: strdup("1.2.840.113556.1.4.319"), ldctl_value: berval(bv_len: 0, bv_val: nil),
            ldctl_iscritical: 1)
        defer { free(paging.ldctl_oid) }
        let list = try XCTUnwrap(withUnsafeMutablePointer(to: &paging) { handedOver([Self.showDeleted], paging: $0) })
        XCTAssertEqual(list.map(\.oid), ["1.2.840.113556.1.4.319", "1.2.840.113556.1.4.417"])
    }

    /// The value that ends a paged search (size 0 and the cookie): AD's cookies are often longer
    /// than 127 bytes, which takes BER's long length form.
    func testTheEndOfAPagedSearchEncodesLongCookiesInTheLongLengthForm() {
        XCTAssertEqual(LDAPConnection.berTLV(0x04, [0xAA, 0xBB]), [0x04, 0x02, 0xAA, 0xBB])
        XCTAssertEqual(Array(LDAPConnection.berTLV(0x04, [UInt8](repeating: 7, count: 127)).prefix(2)), [0x04, 0x7F])
        let cookie = [UInt8](repeating: 0x5A, count: 200)
        XCTAssertEqual(Array(LDAPConnection.berTLV(0x04, cookie).prefix(3)), [0x04, 0x81, 0xC8])
        XCTAssertEqual(LDAPConnection.berTLV(0x04, cookie).count, 203)
        let long = LDAPConnection.berTLV(0x30, [UInt8](repeating: 0, count: 300))
        XCTAssertEqual(Array(long.prefix(4)), [0x30, 0x82, 0x01, 0x2C])
        XCTAssertEqual(long.count, 304)
    }

    func testAnOIDThatIsNoOIDIsRefusedBeforeAnythingIsSent() throws {
        // Nothing listens on port 1: a refusal that came from the network would be serverDown.
        let connection = try LDAPConnection(options: LDAPConnectionOptions(uri: "ldap://127.0.0.1:1"))
        for oid in ["showDeleted", "1.2.840.113556.1.4.417.", "1..2", "", "1", "1.2.840.113556.1.4.417\u{1B}[2J"] {
            XCTAssertThrowsError(
                try connection.search(
                    base: "DC=corp,DC=example", pageSize: 0, controls: [LDAPServerControl(oid: oid, isCritical: true)]
                ) { (_: LDAPEntry) in }
            ) { error in
                guard let error = error as? LDAPError else { return XCTFail("\(error)") }
                XCTAssertEqual(error.code, .other, oid)
                XCTAssertTrue(error.diagnosticMessage?.contains("no numeric OID") ?? false, "\(error)")
                XCTAssertFalse("\(error)".contains("\u{1B}"), "the OID is escaped")
            }
        }
        XCTAssertTrue(LDAPServerControl.isNumericOID("1.2.840.113556.1.4.417"))
    }
}
