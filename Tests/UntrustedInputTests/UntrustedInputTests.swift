import Foundation
import XCTest

@testable import UntrustedInput

final class TerminalTextTests: XCTestCase {
    func testPlainTextIsUnchanged() {
        XCTAssertEqual(TerminalText.escaped("WKS-0001$ in corp.example, ünïcødé"), "WKS-0001$ in corp.example, ünïcødé")
    }

    func testControlsAndBidiOverridesAreShownNotActed() {
        let hostile = "corp\u{1B}[2J\u{07}\r\nfake line\u{202E}exe.txt\u{85}\u{2028}\u{0}"
        let escaped = TerminalText.escaped(hostile)
        XCTAssertEqual(escaped, #"corp\e[2J\u{0007}\r\nfake line\u{202E}exe.txt\u{0085}\u{2028}\u{0000}"#)
        XCTAssertFalse(escaped.unicodeScalars.contains(where: TerminalText.isUnsafe))
    }

    func testABackslashCannotForgeAnEscape() {
        // A name spelled with a literal backslash-n must not read as a line feed that was escaped.
        XCTAssertEqual(TerminalText.escaped(#"a\nb"#), #"a\\nb"#)
        XCTAssertNotEqual(TerminalText.escaped("a\nb"), TerminalText.escaped(#"a\nb"#))
    }

    func testKeepingLinesEscapesEachLine() {
        XCTAssertEqual(TerminalText.escapedKeepingLines("one\u{1B}\ntwo\r"), "one\\e\ntwo\\r")
    }
}

final class InputFileTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("inputfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func testReadsARegularFileWithinTheLimit() throws {
        let path = directory.appendingPathComponent("inventory.txt").path
        try Data("WKS-0001\r\nWKS-0002\n".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try InputFile.readText(path, kind: "inventory", limit: 64), "WKS-0001\r\nWKS-0002\n")
    }

    func testAFileOverTheLimitIsRefusedByItsSize() throws {
        let path = directory.appendingPathComponent("big.json").path
        try Data(repeating: 0x20, count: 4097).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try InputFile.read(path, kind: "configuration", limit: 4096)) { error in
            XCTAssertEqual(error as? InputFileError, InputFileError(.tooLarge, path: "", kind: "", reason: ""))
            XCTAssertTrue("\(error)".contains("more than 4 KiB"), "\(error)")
            XCTAssertTrue("\(error)".contains("configuration"), "\(error)")
        }
        XCTAssertNoThrow(try InputFile.read(path, kind: "configuration", limit: 4097))
    }

    func testAFIFOIsRefusedAtOnceInsteadOfBlocking() throws {
        let path = directory.appendingPathComponent("ca.fifo").path
        XCTAssertEqual(mkfifo(path, 0o600), 0)
        let started = Date()
        XCTAssertThrowsError(try InputFile.validate(path, kind: "CA file", limit: 1 << 20)) { error in
            XCTAssertEqual((error as? InputFileError)?.code, .notRegularFile)
            XCTAssertTrue("\(error)".contains("FIFO"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }

    func testDevicesAndDirectoriesAreNotRegularFiles() {
        for (path, word) in [("/dev/zero", "character device"), (directory.path, "directory")] {
            XCTAssertThrowsError(try InputFile.read(path, kind: "inventory", limit: 1 << 20)) { error in
                XCTAssertEqual((error as? InputFileError)?.code, .notRegularFile)
                XCTAssertTrue("\(error)".contains(word), "\(error)")
            }
        }
    }

    func testAMissingFileSaysSo() {
        XCTAssertThrowsError(try InputFile.read(directory.appendingPathComponent("nope").path, kind: "x", limit: 1)) {
            XCTAssertEqual(($0 as? InputFileError)?.code, .notFound)
            XCTAssertTrue("\($0)".contains("no such file"))
        }
    }

    func testAHostilePathIsEscapedInTheMessage() {
        let error = InputFileError(.notFound, path: "/tmp/\u{1B}]0;owned\u{07}", kind: "inventory", reason: "")
        XCTAssertFalse("\(error)".unicodeScalars.contains(where: TerminalText.isUnsafe))
    }
}

final class StrictJSONTests: XCTestCase {
    private func parse(_ text: String) throws -> JSONValue { try StrictJSON.parse(Array(text.utf8)) }

    private func assertRejected(
        _ text: String, line: Int, column: Int, _ words: String, file: StaticString = #filePath,
        lineNumber: UInt = #line
    ) {
        XCTAssertThrowsError(try parse(text), file: file, line: lineNumber) { error in
            guard let error = error as? JSONSyntaxError else {
                return XCTFail("\(error)", file: file, line: lineNumber)
            }
            XCTAssertEqual(error.line, line, "\(error)", file: file, line: lineNumber)
            XCTAssertEqual(error.column, column, "\(error)", file: file, line: lineNumber)
            XCTAssertTrue(error.reason.contains(words), "\(error)", file: file, line: lineNumber)
        }
    }

    func testParsesAConfigurationKeepingMemberOrder() throws {
        let value = try parse(
            #"{"stalePasswordDays": 60, "exclude": {"accounts": ["LAB-01$", "Ünïcødé\u00e9\ud83d\ude00"]}, "x": [true, false, null, -1.5e3]}"#
        )
        guard case .object(let members) = value else { return XCTFail("\(value)") }
        XCTAssertEqual(members.map(\.key), ["stalePasswordDays", "exclude", "x"])
        XCTAssertEqual(members[0].value.integer, 60)
        guard case .object(let exclude) = members[1].value, case .array(let accounts) = exclude[0].value else {
            return XCTFail("\(members[1])")
        }
        XCTAssertEqual(accounts.map(\.string), ["LAB-01$", "Ünïcødéé😀"])
        XCTAssertEqual(members[2].value, .array([.bool(true), .bool(false), .null, .number("-1.5e3")]))
        XCTAssertNil(JSONValue.number("60.0").integer)
    }

    /// Strings decode as Foundation encodes them, whether escapes open, close or fill them.
    func testStringsDecodeAsFoundationEncodesThem() throws {
        let pieces = ["a", "Ü", "😀", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1F}", "\u{7F}", "\u{2028}", "<b>", " "]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let text = (0..<Int.random(in: 0...12, using: &generator)).map { _ in pieces.randomElement()! }.joined()
            let encoded = try JSONSerialization.data(withJSONObject: [text], options: [.fragmentsAllowed])
            XCTAssertEqual(try StrictJSON.parse([UInt8](encoded)), .array([.string(text)]), text.debugDescription)
        }
        XCTAssertEqual(try parse(#""\u00e9\ud83d\ude00x\"""#), .string("é😀x\""))
        XCTAssertEqual(try parse(#""plain""#), .string("plain"))
    }

    func testTrailingCommasAreRefused() {
        assertRejected("{\n  \"stalePasswordDays\": 60,\n}", line: 3, column: 1, "trailing comma")
        assertRejected("[1, 2,]", line: 1, column: 7, "trailing comma")
    }

    func testWhatLenientParsersAcceptIsRefused() {
        assertRejected("{'a': 1}", line: 1, column: 2, "double quotes")
        assertRejected("{\"a\": 1} // comment", line: 1, column: 10, "after the JSON value")
        assertRejected("{\"a\": 01}", line: 1, column: 7, "leading zero")
        assertRejected("{\"a\": NaN}", line: 1, column: 7, "expected a value")
        assertRejected("{\"a\": \"tab\there\"}", line: 1, column: 11, "control character")
        assertRejected("{\"a\": \"\\ud800\"}", line: 1, column: 14, "surrogate")
        assertRejected("{\"a\": 1, \"a\": 2}", line: 1, column: 10, "appears twice")
        assertRejected("{\"a\": \"\\x41\"}", line: 1, column: 9, "not a JSON escape")
        assertRejected("", line: 1, column: 1, "ends")
        XCTAssertThrowsError(try StrictJSON.parse([0x22, 0xC3, 0x28, 0x22]))
    }

    func testDeepNestingIsCappedInsteadOfExhaustingTheStack() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertThrowsError(try parse(deep)) { error in
            XCTAssertTrue("\(error)".contains("64 levels"), "\(error)")
        }
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        XCTAssertNoThrow(try parse(ok))
    }

    func testAByteOrderMarkIsTolerated() throws {
        XCTAssertEqual(try StrictJSON.parse([0xEF, 0xBB, 0xBF] + Array("{}".utf8)), .object([]))
    }
}
