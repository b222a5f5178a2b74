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
