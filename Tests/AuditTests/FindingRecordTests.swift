import XCTest

@testable import Audit

/// What the spill writes is what it reads back, whatever a directory puts in a finding.
final class FindingRecordTests: XCTestCase {
    func testEveryFieldAndDetailKindSurvivesTheRoundTrip() {
        let hostile = "CN=Evil\\,\n\u{0}PC,OU=Ünïcødé 🖥,DC=corp,DC=example"
        let findings = [
            Finding(
                rule: "stale-password", severity: .critical, account: "EVIL$\r\n", distinguishedName: hostile,
                message: "line one\nline two \u{1b}[31m", remediation: "setspn -D 'HOST/x' EVIL\n  Reset-Computer",
                details: [
                    ("pwdLastSet", .string("2025-12-22T09:47:00Z")), ("passwordAgeDays", .integer(-336)),
                    ("big", .integer(.max)), ("isRecycled", .bool(true)), ("off", .bool(false)),
                    ("otherHolders", .strings(["A$", "", "ß"])), ("none", .strings([])), ("missing", .null),
                ]),
            Finding(
                rule: "missing-account", severity: .info, account: "ghost", distinguishedName: nil, message: "",
                remediation: ""),
            Finding(
                rule: "x", severity: .low, account: "", distinguishedName: "", message: "m", remediation: "r",
                details: []),
        ]
        var bytes: [UInt8] = []
        for finding in findings { FindingRecord.encode(finding, into: &bytes) }
        var decoded: [Finding] = []
        var index = 0
        while index < bytes.count {
            let length = FindingRecord.length(bytes[index..<index + 4])
            decoded.append(FindingRecord.decode(bytes[index + 4..<index + 4 + length]))
            index += 4 + length
        }
        XCTAssertEqual(index, bytes.count)
        XCTAssertEqual(decoded, findings)
        XCTAssertNil(decoded[1].distinguishedName, "an absent DN is not read back as an empty one")
        XCTAssertEqual(decoded[2].distinguishedName, "")
    }
}
