import Codecs
import XCTest

final class ASCIITests: XCTestCase {
    func testCaseFoldingTouchesOnlyASCIILetters() {
        for byte in UInt8.min...UInt8.max {
            let isUpper = (65...90).contains(byte)
            let isLower = (97...122).contains(byte)
            XCTAssertEqual(ASCII.lowercased(byte), isUpper ? byte + 32 : byte, "\(byte)")
            XCTAssertEqual(ASCII.uppercased(byte), isLower ? byte - 32 : byte, "\(byte)")
            XCTAssertEqual(ASCII.isLetter(byte), isUpper || isLower, "\(byte)")
            XCTAssertEqual(ASCII.isDigit(byte), (48...57).contains(byte), "\(byte)")
            XCTAssertEqual(ASCII.isLineEnd(byte), byte == 13 || byte == 10, "\(byte)")
        }
        XCTAssertEqual(ASCII.lowercased("HOST/WS-0142.Corp.Example"), "host/ws-0142.corp.example")
        XCTAssertEqual(ASCII.lowercased("MÜLLER-PC"), "mÜller-pc", "only A-Z folds, as LDAP compares names")
        XCTAssertEqual(ASCII.uppercased(Array("ws-0142$".utf8)), Array("WS-0142$".utf8))
        XCTAssertEqual(ASCII.lowercased(Array("WS-0142$".utf8)), Array("ws-0142$".utf8))
    }

    func testEqualityIgnoringCase() {
        XCTAssertTrue(ASCII.equalsIgnoringCase("servicePrincipalName", "SERVICEPRINCIPALNAME"))
        XCTAssertFalse(ASCII.equalsIgnoringCase("servicePrincipalName", "servicePrincipalNames"))
        XCTAssertFalse(ASCII.equalsIgnoringCase("É", "é"), "not ASCII: not folded")
        XCTAssertFalse(ASCII.equalsIgnoringCase("[", "{"), "0x5B and 0x7B differ in bit 5 but are not letters")
        XCTAssertTrue(ASCII.equalsIgnoringCase(Array("objectClass".utf8), Array("OBJECTclass".utf8)))
        XCTAssertFalse(ASCII.equalsIgnoringCase(Array("@".utf8), Array("`".utf8)))
        let value = Array("msDS-GroupManagedServiceAccount".utf8)
        XCTAssertTrue(
            value.withUnsafeBufferPointer {
                ASCII.equalsIgnoringCase($0, lowercased: "msds-groupmanagedserviceaccount")
            })
        XCTAssertFalse(value.withUnsafeBufferPointer { ASCII.equalsIgnoringCase($0, lowercased: "computer") })
    }

    /// CRLF is one line end, a bare CR or LF is one too, anything else none.
    func testLineEndLength() {
        let bytes = Array("a\r\nb\rc\nd\r".utf8)
        XCTAssertEqual((0..<bytes.count).map { ASCII.lineEndLength(bytes, at: $0) }, [0, 2, 1, 0, 1, 0, 1, 0, 1])
    }
}
