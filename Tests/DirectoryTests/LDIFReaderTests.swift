import Codecs
import XCTest

@testable import Directory

final class LDIFReaderTests: XCTestCase {
    private func read(_ text: String, kept: Set<String>? = AuditedAttributes.lowercased) throws -> [DirectoryEntry] {
        var entries: [DirectoryEntry] = []
        try LDIFReader(bytes: Array(text.utf8), name: "test.ldif", keptAttributes: kept).forEachEntry {
            entries.append($0)
        }
        return entries
    }

    private func assertFails(
        _ text: String, code: DirectoryError.Code, line: Int, file: StaticString = #filePath, lineNumber: UInt = #line
    ) {
        XCTAssertThrowsError(try read(text), file: file, line: lineNumber) { error in
            guard let error = error as? DirectoryError else {
                return XCTFail("unexpected \(error)", file: file, line: lineNumber)
            }
            XCTAssertEqual(error.code, code, "\(error)", file: file, line: lineNumber)
            XCTAssertEqual(error.line, line, "\(error)", file: file, line: lineNumber)
            XCTAssertTrue(
                error.description.hasPrefix("test.ldif:\(line): "), error.description, file: file, line: lineNumber)
        }
    }

    /// What `ldapsearch -LLL` prints for a Windows computer: base64 binary values, a folded line, multi-valued SPNs.
    let ldapsearchExport = """
        dn: CN=WKS-0142,OU=Workstations,OU=London,DC=corp,DC=example
        objectClass: top
        objectClass: person
        objectClass: organizationalPerson
        objectClass: user
        objectClass: computer
        cn: WKS-0142
        objectGUID:: cBD9KJOYKUuGm7a1rxN/ZQ==
        userAccountControl: 4096
        pwdLastSet: 134391186000000000
        objectSid:: AQUAAAAAAAUVAAAAbQfxS0qkl8B5xHtQbwQAAA==
        sAMAccountName: WKS-0142$
        operatingSystem: Windows 11 Enterprise
        dNSHostName: wks-0142.corp.example
        servicePrincipalName: RestrictedKrbHost/WKS-0142
        servicePrincipalName: HOST/WKS-0142
        servicePrincipalName: RestrictedKrbHost/wks-0142.corp.exampl
         e
        servicePrincipalName: HOST/wks-0142.corp.example
        objectCategory: CN=Computer,CN=Schema,CN=Configuration,DC=corp,DC=example
        lastLogonTimestamp: 134397252000000000

        # refldap://corp.example/CN=Configuration,DC=corp,DC=example

        """

    func testReadsAnLdapsearchExport() throws {
        let entries = try read(ldapsearchExport, kept: nil)
        XCTAssertEqual(entries.count, 1)
        let entry = entries[0]
        XCTAssertEqual(entry.distinguishedName, "CN=WKS-0142,OU=Workstations,OU=London,DC=corp,DC=example")
        XCTAssertEqual(entry.strings("objectclass"), ["top", "person", "organizationalPerson", "user", "computer"])
        XCTAssertEqual(entry.values("objectGUID").first?.count, 16)
        XCTAssertEqual(entry.values("OBJECTSID").first?.count, 28)
        XCTAssertEqual(
            entry.strings("servicePrincipalName"),
            [
                "RestrictedKrbHost/WKS-0142", "HOST/WKS-0142", "RestrictedKrbHost/wks-0142.corp.example",
                "HOST/wks-0142.corp.example",
            ])
        XCTAssertEqual(entry.string("samaccountname"), "WKS-0142$")
    }

    func testKeepsOnlyTheAuditedAttributesByDefault() throws {
        let entry = try XCTUnwrap(read(ldapsearchExport).first)
        XCTAssertTrue(entry.values("objectSid").isEmpty)
        XCTAssertEqual(entry.values("objectGUID").first?.count, 16, "objectGUID is audited: it identifies the account")
        XCTAssertEqual(entry.string("pwdLastSet"), "134391186000000000")
    }

    func testFoldingInsideBase64AndInsideTheDN() throws {
        let text = """
            dn: CN=HOSTILE-01,OU=Workstations,OU=Lo
             ndon,DC=corp,DC=example
            objectClass: computer
            operatingSystem:: PHNjcmlwdD5hbGVy
             dCgxKTwvc2NyaXB0Pg==

            """
        let entry = try XCTUnwrap(read(text).first)
        XCTAssertEqual(entry.distinguishedName, "CN=HOSTILE-01,OU=Workstations,OU=London,DC=corp,DC=example")
        XCTAssertEqual(entry.string("operatingSystem"), "<script>alert(1)</script>")
    }

    func testBase64DNAndNonASCIIValue() throws {
        // ldapsearch writes a DN with non-ASCII characters as base64.
        let dn = "CN=Müller-PC,OU=Workstations,DC=corp,DC=example"
        let text = "dn:: \(Base64.encode(Array(dn.utf8)))\nobjectClass: computer\ncn:: TcO8bGxlci1QQw==\n\n"
        let entry = try XCTUnwrap(read(text).first)
        XCTAssertEqual(entry.distinguishedName, dn)
        XCTAssertEqual(entry.string("cn"), "Müller-PC")
    }

    func testLdifdeExportWithCRLFVersionAndChangetypeAdd() throws {
        let text = [
            "version: 1", "",
            "dn: CN=SRV-NYC-0001,OU=Servers,DC=corp,DC=example", "changetype: add", "objectClass: top",
            "objectClass: computer",
            "sAMAccountName: SRV-NYC-0001$", "userAccountControl: 4098", "",
            "dn: CN=SRV-NYC-0002,OU=Servers,DC=corp,DC=example", "changetype: add", "objectClass: computer",
            "servicePrincipalName: TERMSRV/SRV-NYC-0002.corp.exam", " ple", "",
        ].joined(separator: "\r\n")
        let entries = try read(text)
        XCTAssertEqual(
            entries.map(\.distinguishedName),
            [
                "CN=SRV-NYC-0001,OU=Servers,DC=corp,DC=example", "CN=SRV-NYC-0002,OU=Servers,DC=corp,DC=example",
            ])
        XCTAssertEqual(entries[0].string("userAccountControl"), "4098")
        XCTAssertEqual(entries[1].strings("servicePrincipalName"), ["TERMSRV/SRV-NYC-0002.corp.example"])
    }

    func testLastRecordWithoutTrailingNewlineAndCaseOfNames() throws {
        let text = "DN: CN=A,DC=corp,DC=example\nOBJECTCLASS: computer\nSAMAccountName: A$"
        let entry = try XCTUnwrap(read(text).first)
        XCTAssertEqual(entry.string("sAMAccountName"), "A$")
        XCTAssertEqual(entry.strings("objectClass"), ["computer"])
    }

    func testPlainLdapsearchOutputWithCommentsReferencesAndResult() throws {
        let text = """
            # extended LDIF
            #
            # LDAPv3
            # base <DC=corp,DC=example> with scope subtree
            # filter: (objectClass=computer)
            # requesting: ALL
            #

            # PC01, Workstations, corp.example
            dn: CN=PC01,OU=Workstations,DC=corp,DC=example
            objectClass: computer

            # search reference
            ref: ldap://corp.example/CN=Configuration,DC=corp,DC=example

            # search result
            search: 2
            result: 0 Success

            # numResponses: 3
            # numEntries: 1

            """
        let entries = try read(text)
        XCTAssertEqual(entries.map(\.distinguishedName), ["CN=PC01,OU=Workstations,DC=corp,DC=example"])
    }

    func testFoldedCommentIsSkippedWhole() throws {
        let text = "# a long comment that\n  continues here\ndn: CN=A,DC=x\nobjectClass: computer\n"
        XCTAssertEqual(try read(text).count, 1)
    }

    func testRangedAttributeNameFoldsIntoTheBaseAttribute() throws {
        let text = "dn: CN=BIG,DC=x\nservicePrincipalName;range=0-1: HTTP/a\nservicePrincipalName;range=0-1: HTTP/b\n"
        XCTAssertEqual(try read(text).first?.strings("servicePrincipalName"), ["HTTP/a", "HTTP/b"])
    }

    func testEmptyValueIsKept() throws {
        let text = "dn: CN=A,DC=x\ndescription:\nobjectClass: computer\n"
        XCTAssertEqual(try read(text, kept: nil).first?.values("description"), [[]])
    }

    func testChunkBoundariesDoNotSplitEntries() throws {
        // Feed byte by byte: every line is cut by a chunk boundary.
        var parser = LDIFParser(sourceName: "t", keptAttributes: nil)
        var entries: [DirectoryEntry] = []
        let bytes = Array(ldapsearchExport.utf8)
        for byte in bytes {
            try [byte].withUnsafeBufferPointer { try parser.feed($0) { entries.append($0) } }
        }
        try parser.finish { entries.append($0) }
        XCTAssertEqual(entries, try read(ldapsearchExport, kept: nil))
    }

    func testReadsAFileInChunks() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ldif-\(UUID().uuidString).ldif")
        defer { try? FileManager.default.removeItem(at: url) }
        var text = ""
        for index in 0..<5000 {
            text +=
                "dn: CN=WKS-\(index),OU=Workstations,DC=corp,DC=example\nobjectClass: computer\nsAMAccountName: WKS-\(index)$\n\n"
        }
        try text.write(to: url, atomically: true, encoding: .utf8)
        var count = 0
        var last = ""
        try LDIFReader(path: url.path).forEachEntry {
            count += 1
            last = $0.string("sAMAccountName") ?? ""
        }
        XCTAssertEqual(count, 5000)
        XCTAssertEqual(last, "WKS-4999$")
    }

    // MARK: Malformed input: exit code 3 in the CLI, and always the line.

    func testContinuationBeforeAnyEntry() {
        assertFails(" continued\ndn: CN=A,DC=x\n", code: .continuationBeforeEntry, line: 1)
    }

    func testContinuationAfterABlankLine() {
        assertFails("dn: CN=A,DC=x\nobjectClass: computer\n\n folded\n", code: .continuationBeforeEntry, line: 4)
    }

    func testBadBase64NamesTheLine() {
        assertFails("dn: CN=A,DC=x\nobjectClass: computer\nobjectSid:: AQUA*AAA\n", code: .invalidBase64, line: 3)
    }

    func testBadBase64InAnAttributeThatIsNotKept() {
        assertFails("dn: CN=A,DC=x\nobjectGUID:: not base64!\n", code: .invalidBase64, line: 2)
    }

    func testRecordWithoutDN() {
        assertFails(
            "dn: CN=A,DC=x\nobjectClass: computer\n\nobjectClass: computer\ncn: B\n", code: .missingDistinguishedName,
            line: 4)
    }

    func testLineWithoutColon() {
        assertFails("dn: CN=A,DC=x\nthis is not ldif\n", code: .malformedLine, line: 2)
    }

    func testChangeRecordsAreRejected() {
        assertFails("dn: CN=A,DC=x\nchangetype: modify\nreplace: description\n", code: .unsupportedChangeType, line: 2)
    }

    func testMissingFile() {
        XCTAssertThrowsError(try LDIFReader(path: "/nonexistent/corp.ldif").forEachEntry { _ in }) { error in
            XCTAssertEqual((error as? DirectoryError)?.code, .fileNotReadable)
            XCTAssertTrue("\(error)".contains("/nonexistent/corp.ldif"))
        }
    }

    func testErrorLineCountsCRLFAndFoldedLines() {
        let text = "dn: CN=A,\r\n DC=x\r\nobjectClass: computer\r\n\r\ndn: CN=B,DC=x\r\nobjectSid:: @@@@\r\n"
        assertFails(text, code: .invalidBase64, line: 6)
    }

    /// `cat a.ldif b.ldif`: the second export's `version: 1` starts a record; it is skipped as the
    /// first one is, and both exports' entries are read.
    func testTwoExportsConcatenatedEachWithItsVersionLine() throws {
        let export =
            "version: 1\n\ndn: CN=WS1,CN=Computers,DC=ez,DC=lab\nobjectClass: computer\nsAMAccountName: WS1$\n\n"
        var names: [String] = []
        try LDIFReader(bytes: Array((export + export).utf8), name: "twice.ldif").forEachEntry {
            names.append($0.distinguishedName)
        }
        XCTAssertEqual(names, ["CN=WS1,CN=Computers,DC=ez,DC=lab", "CN=WS1,CN=Computers,DC=ez,DC=lab"])
        // Inside a record it is an attribute like any other, not a second header.
        let inside = "dn: CN=WS1,CN=Computers,DC=ez,DC=lab\nversion: 1\nobjectClass: computer\n\n"
        var entries: [DirectoryEntry] = []
        try LDIFReader(bytes: Array(inside.utf8), name: "inside.ldif", keptAttributes: nil).forEachEntry {
            entries.append($0)
        }
        XCTAssertEqual(entries.first?.string("version"), "1")
    }
}
