import XCTest

@testable import Directory

/// Exports that are empty, mangled or hostile: each fails with its code and line, never a trap or
/// an unbounded buffer, and never an "empty domain" that would replace good reports.
final class BrokenLDIFTests: XCTestCase {
    private func read(_ bytes: [UInt8], kept: Set<String>? = AuditedAttributes.lowercased) throws -> Int {
        var count = 0
        try LDIFReader(bytes: bytes, name: "export.ldif", keptAttributes: kept).forEachEntry { _ in count += 1 }
        return count
    }

    private func error(of bytes: [UInt8], kept: Set<String>? = AuditedAttributes.lowercased) -> DirectoryError? {
        do {
            _ = try read(bytes, kept: kept)
            return nil
        } catch {
            return error as? DirectoryError
        }
    }

    private let computer = """
        dn: CN=WKS-0001,OU=Workstations,DC=corp,DC=example
        objectClass: computer
        sAMAccountName: WKS-0001$
        userAccountControl: 4096
        pwdLastSet: 134050000000000000

        """ + "\n"

    func testAnEmptyFileIsNoEntriesNotAnEmptyDomain() {
        XCTAssertEqual(error(of: [])?.code, .noEntries)
        XCTAssertEqual(error(of: Array("\n\n\r\n".utf8))?.code, .noEntries)
        let message = error(of: [])?.description ?? ""
        XCTAssertTrue(message.hasPrefix("export.ldif: "), message)
        XCTAssertTrue(message.contains("no entry"), message)
    }

    func testOnlyCommentsAndLdapsearchTrailersAreNoEntries() {
        let text = """
            # extended LDIF
            #
            # LDAPv3
            # base <DC=corp,DC=example> with scope subtree
            # filter: (objectClass=computer)
            #

            # search result
            search: 2
            result: 0 Success

            # numResponses: 1

            """
        XCTAssertEqual(error(of: Array(text.utf8))?.code, .noEntries)
    }

    func testCROnlyLineEndsAreRefusedWithTheLine() {
        let classicMac = computer.replacingOccurrences(of: "\n", with: "\r")
        let error = error(of: Array(classicMac.utf8))
        XCTAssertEqual(error?.code, .carriageReturnInLine)
        XCTAssertEqual(error?.line, 1)
        XCTAssertTrue(error?.description.contains("CR-only line ends") ?? false, "\(String(describing: error))")
        // CRLF is still fine.
        XCTAssertEqual(try read(Array(computer.replacingOccurrences(of: "\n", with: "\r\n").utf8)), 1)
    }

    func testALineWithoutEndIsCutOffAtTheCapWithItsLineNumber() {
        // 17 MiB without a line feed, after one good entry: the buffer must not grow past the cap.
        var bytes = Array(computer.utf8)
        bytes += Array("dn: CN=X,DC=corp,DC=example\noperatingSystem: ".utf8)
        bytes += [UInt8](repeating: UInt8(ascii: "A"), count: 17 << 20)
        let error = error(of: bytes)
        XCTAssertEqual(error?.code, .lineTooLong)
        XCTAssertEqual(error?.line, 8)
    }

    func testAFoldedValueIsCappedToo() {
        var text = computer + "dn: CN=Y,DC=corp,DC=example\ndescription: start\n"
        let fold = " " + String(repeating: "B", count: 1 << 20) + "\n"
        for _ in 0..<17 { text += fold }
        let error = error(of: Array(text.utf8), kept: nil)
        XCTAssertEqual(error?.code, .lineTooLong)
        XCTAssertEqual(error?.line, 8, "the folded line starts at its attribute line")
    }

    func testTooManyAttributeNamesIsAnErrorNotATrap() {
        var text = "dn: CN=WIDE,DC=corp,DC=example\nobjectClass: computer\n"
        for index in 0..<(Int(UInt16.max) + 10) { text += "x\(index): 1\n" }
        let error = error(of: Array(text.utf8), kept: nil)
        XCTAssertEqual(error?.code, .entryTooLarge)
        XCTAssertEqual(error?.source, "export.ldif")
        XCTAssertNotNil(error?.line)
    }

    func testStorageOffsetsBeyond32BitsThrow() throws {
        let entry = DirectoryEntry(distinguishedName: "CN=BIG,DC=corp,DC=example")
        XCTAssertEqual(try entry.offset(Int(UInt32.max)), UInt32.max)
        XCTAssertThrowsError(try entry.offset(Int(UInt32.max) + 1)) { error in
            XCTAssertEqual((error as? DirectoryError)?.code, .entryTooLarge)
        }
    }

    func testAHostileFileNameIsEscapedInErrors() throws {
        let error = DirectoryError(.noEntries, source: "evil\u{1B}[2J.ldif", line: 3, reason: "r")
        XCTAssertEqual(error.description, #"evil\e[2J.ldif:3: r"#)
    }
}
