import Audit
import XCTest

@testable import Reporting

final class CSVTests: XCTestCase {
    func testPlainFieldsAreLeftAlone() {
        XCTAssertEqual(CSV.field("WKS-0042$"), "WKS-0042$")
        XCTAssertEqual(CSV.row(["a", "b c", ""]), "a,b c,\r\n")
    }

    func testQuotesFieldsWithSpecialCharacters() {
        XCTAssertEqual(CSV.field("a,b"), "\"a,b\"")
        XCTAssertEqual(CSV.field("say \"hi\""), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(CSV.field("line1\nline2"), "\"line1\nline2\"")
        XCTAssertEqual(CSV.field("line1\r\nline2"), "\"line1\r\nline2\"")
        XCTAssertEqual(CSV.field("cr\rcr"), "\"cr\rcr\"")
    }

    func testQuoteFollowedByCombiningMarkIsStillDoubled() {
        // One Character to Swift, but a quote to every CSV reader.
        XCTAssertEqual(CSV.field("a\"\u{301}b"), "\"a\"\"\u{301}b\"")
    }

    func testEachFormulaTriggerIsNeutralised() {
        XCTAssertEqual(CSV.field("=1+1"), "'=1+1")
        XCTAssertEqual(CSV.field("+1"), "'+1")
        XCTAssertEqual(CSV.field("-1"), "'-1")
        XCTAssertEqual(CSV.field("@SUM(A1)"), "'@SUM(A1)")
        XCTAssertEqual(CSV.field("\tx"), "'\tx")
        XCTAssertEqual(CSV.field("\rx"), "\"'\rx\"")
        XCTAssertEqual(CSV.field("\r\nx"), "\"'\r\nx\"", "CRLF is one Character; the check must see the CR")
        XCTAssertEqual(CSV.field("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0")
        XCTAssertEqual(CSV.field("=HYPERLINK(\"http://x\",\"a,b\")"), "\"'=HYPERLINK(\"\"http://x\"\",\"\"a,b\"\")\"")
    }

    func testTriggersAfterTheFirstCharacterAreHarmless() {
        XCTAssertEqual(CSV.field("WKS-0042$"), "WKS-0042$")
        XCTAssertEqual(CSV.field("a=b"), "a=b")
        XCTAssertEqual(CSV.field(" =1"), " =1")
    }

    func testNonASCIIPassesThroughAsUTF8() throws {
        let output = ReportOutput()
        try CSV.writeRow(["LAB-PC-Ü1", "Zürich, Büro", "計算機"], to: output)
        XCTAssertEqual(output.text, "LAB-PC-Ü1,\"Zürich, Büro\",計算機\r\n")
        XCTAssertEqual(Array(output.bytes.prefix(3)), Array("LAB".utf8), "no byte order mark by default")
    }

    func testFindingsCSV() throws {
        let output = ReportOutput()
        try FindingsCSV.write(Fixtures.findings, to: output)
        let text = output.text
        XCTAssertTrue(text.hasPrefix("rule,severity,account,dn,message,remediation,details,change\r\n"))
        XCTAssertTrue(
            text.contains(
                "stale-password,high,WKS-0042$,\"CN=WKS-0042,OU=Workstations,DC=corp,DC=example\",Alive but not rotating its password: last logon 2026-11-20 (4 days ago) while the machine password was last set 2026-08-19 (97 days ago).,\"On WKS-0042.corp.example, as a local administrator: Test-ComputerSecureChannel -Verbose\nIf it reports a broken channel: Test-ComputerSecureChannel -Repair -Credential (Get-Credential)\",story=alive-not-rotating; pwdLastSet=2026-08-19T10:15:02Z; passwordAgeDays=97; lastLogonAgeDays=4,\r\n"
            ))
        XCTAssertTrue(text.contains("duplicate-spn,critical,'=cmd|' /C calc'!A0,"))
        XCTAssertTrue(text.contains("missingSPNs=HOST/WKS-0099|HOST/WKS-0099.corp.example; note="))
        XCTAssertTrue(text.contains("missing-account,medium,LAB-PC-Ü1,,"), "a missing account has an empty dn")
        XCTAssertTrue(text.contains("userAccountControl=4098; enabled=false"))
        // Six records, each ending in CRLF; the embedded LFs are inside quotes.
        XCTAssertEqual(text.components(separatedBy: "\r\n").count, 7)
        XCTAssertTrue(text.hasSuffix("\r\n"))
    }

    func testByteOrderMarkOnRequest() throws {
        let output = ReportOutput()
        try FindingsCSV.write([], to: output, byteOrderMark: true)
        XCTAssertEqual(Array(output.bytes.prefix(3)), [0xEF, 0xBB, 0xBF])
    }

    func testStreamsThroughAFileInChunks() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("big.csv")
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        let output = ReportOutput(fileHandle: handle)
        let findings = (0..<3000).map { Fixtures.stale($0) }
        try FindingsCSV.write(findings, to: output)
        XCTAssertLessThan(output.bytes.count, 1 << 17, "the buffer is flushed as it fills, not kept whole")
        try output.flush()
        try handle.close()
        let text = try String(contentsOf: url, encoding: .utf8)
        XCTAssertTrue(text.contains("WKS-2999$"))
        XCTAssertEqual(text.components(separatedBy: "\r\n").count, 3002)
    }
}
