import Codecs
import Foundation
import XCTest

final class Base64Tests: XCTestCase {
    /// RFC 4648 section 10.
    private let vectors: [(String, String)] = [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ]

    func testRFC4648Vectors() {
        for (plain, encoded) in vectors {
            XCTAssertEqual(Base64.encode(Array(plain.utf8)), encoded, plain)
            XCTAssertEqual(Base64.decode(encoded), Array(plain.utf8), encoded)
            var buffer = Array("dn:: ".utf8)
            Base64.encode(Array(plain.utf8), into: &buffer)
            XCTAssertEqual(String(decoding: buffer, as: UTF8.self), "dn:: " + encoded, "appends, keeps what was there")
            XCTAssertEqual(Base64.encodedCount(plain.utf8.count), encoded.utf8.count)
        }
    }

    /// An objectGUID and an objectSid as ldapsearch writes them, bytes and all.
    func testBinaryADValues() throws {
        let guid: [UInt8] = [
            0x3F, 0x2A, 0x91, 0x0C, 0x5B, 0x7E, 0x4D, 0x12, 0x9A, 0xC3, 0x00, 0xFF, 0x17, 0x64, 0xE2, 0x08,
        ]
        XCTAssertEqual(Base64.encode(guid), Data(guid).base64EncodedString())
        let sid = "AQUAAAAAAAUVAAAAoGXPfnhLm1/nfIdwUAQAAA=="
        XCTAssertEqual(Base64.decode(sid), Data(base64Encoded: sid).map(Array.init))
    }

    func testInvalidInputIsRefusedAndLeavesTheBufferAsItWas() {
        for invalid in ["abc", "ab=c", "a b=", "Zg=", "Zm9v\n", "Zm9v Zg==", "Z===", "Zm9v*g==", "é123", "===="] {
            XCTAssertNil(Base64.decode(invalid), invalid)
            var bytes = Array(invalid.utf8)
            XCTAssertFalse(bytes.withUnsafeBufferPointer(Base64.isValid), invalid)
            var output: [UInt8] = [1, 2, 3]
            XCTAssertFalse(bytes.withUnsafeBufferPointer { Base64.decode($0, appendingTo: &output) }, invalid)
            XCTAssertEqual(output, [1, 2, 3], invalid)
            bytes.removeAll()
        }
    }

    func testDecodeAppendsToTheBuffer() {
        var output = Array("CN=".utf8)
        let text = Array("TcO8bGxlci1QQw==".utf8)
        XCTAssertTrue(text.withUnsafeBufferPointer { Base64.decode($0, appendingTo: &output) })
        XCTAssertEqual(String(decoding: output, as: UTF8.self), "CN=Müller-PC")
        XCTAssertTrue(text.withUnsafeBufferPointer(Base64.isValid))
    }

    func testRoundTripsEveryLengthAndByte() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let encoded = Base64.encode(bytes)
            XCTAssertEqual(encoded, Data(bytes).base64EncodedString(), "length \(length)")
            XCTAssertEqual(Base64.decode(encoded), bytes, "length \(length)")
        }
        let all = (0...255).map(UInt8.init)
        XCTAssertEqual(Base64.decode(Base64.encode(all)), all)
    }

    /// MIME bodies: 76 characters a line, CRLF after each, the last one short; nothing for no bytes.
    func testLineWrappingForMIME() {
        var empty: [UInt8] = []
        Base64.encode([], into: &empty, lineLength: Base64.mimeLineLength)
        XCTAssertEqual(empty, [])
        for length in [1, 56, 57, 58, 114, 115, 1000] {
            let bytes = (0..<length).map { UInt8($0 * 31 & 0xFF) }
            var output: [UInt8] = []
            Base64.encode(bytes, into: &output, lineLength: Base64.mimeLineLength)
            let text = String(decoding: output, as: UTF8.self)
            XCTAssertTrue(text.hasSuffix("\r\n"), "length \(length)")
            let lines = text.components(separatedBy: "\r\n").dropLast()
            XCTAssertTrue(lines.dropLast().allSatisfy { $0.count == 76 }, "length \(length)")
            XCTAssertLessThanOrEqual(lines.last?.count ?? 0, 76)
            XCTAssertEqual(lines.joined(), Base64.encode(bytes), "length \(length)")
            XCTAssertEqual(Data(base64Encoded: text, options: .ignoreUnknownCharacters).map(Array.init), bytes)
        }
    }

    /// A credential line built with its capacity reserved does not grow, so the one wipe covers it.
    func testEncodingIntoAReservedBufferDoesNotReallocate() {
        let secret = Array("\0audit\0Corr3ct-h0rse".utf8)
        var line: [UInt8] = []
        line.reserveCapacity(Base64.encodedCount(secret.count) + 2)
        let storage = line.withUnsafeBufferPointer { $0.baseAddress }
        Base64.encode(secret, into: &line)
        line += [13, 10]
        XCTAssertEqual(line.withUnsafeBufferPointer { $0.baseAddress }, storage)
        XCTAssertEqual(String(decoding: line, as: UTF8.self), "AGF1ZGl0AENvcnIzY3QtaDByc2U=\r\n")
    }
}
