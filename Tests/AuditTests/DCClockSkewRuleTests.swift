import Foundation
import XCTest

@testable import Audit
@testable import Directory

/// DC clocks from recorded rootDSE currentTime values: Samba takes its time from the host, so a
/// skewed DC is driven from a recorded reading rather than a live one.
final class DCClockSkewRuleTests: XCTestCase {
    typealias D = DCFixture

    private func reading(_ dc: DomainController, offset seconds: Double) -> DomainControllerReading {
        DomainControllerReading(
            domainController: dc, outcome: .answered, currentTime: Fixture.now.addingTimeInterval(seconds),
            askedAt: Fixture.now)
    }

    private func findings(
        _ readings: [DomainControllerReading], configuration: AuditConfiguration = AuditConfiguration()
    )
        -> [Finding]
    {
        guard let rule = DCClockSkewRule(for: AuditInputs(domainControllers: readings)) else { return [] }
        return rule.findings(in: D.context(readings, configuration: configuration))
    }

    private func detail(_ finding: Finding, _ key: String) -> DetailValue? {
        finding.details.first { $0.key == key }?.value
    }

    func testADCFarFromThePDCIsHigh() throws {
        let found = findings([reading(D.dc01, offset: 1.2), reading(D.dc02, offset: 442.4)])
        XCTAssertEqual(found.count, 1)
        let finding = try XCTUnwrap(found.first)
        XCTAssertEqual(finding.rule, "dc-clock-skew")
        XCTAssertEqual(finding.account, "dc02.corp.example")
        XCTAssertEqual(finding.distinguishedName, "CN=DC02,OU=Domain Controllers,DC=corp,DC=example")
        XCTAssertEqual(finding.severity, .high)
        XCTAssertEqual(detail(finding, "offsetSeconds"), .integer(442))
        XCTAssertEqual(detail(finding, "offsetFromPDCSeconds"), .integer(441))
        XCTAssertEqual(detail(finding, "pdcEmulator"), .string("dc01.corp.example"))
        XCTAssertEqual(detail(finding, "currentTime"), .string("2026-11-24T00:07:22Z"))
        XCTAssertEqual(
            finding.message,
            "The clock of dc02.corp.example is 7 minutes 22 seconds ahead of this host's and 7 minutes 21 seconds ahead of the PDC emulator dc01.corp.example's (more than 5 minutes): Kerberos fails for every machine that authenticates against it."
        )
        XCTAssertTrue(
            finding.remediation.contains("w32tm /monitor /computers:dc02.corp.example\n"), finding.remediation)
        XCTAssertTrue(finding.remediation.contains("w32tm /resync /rediscover"))
    }

    func testWithinToleranceSaysNothingAndTheLimitIsConfigurable() {
        let readings = [reading(D.dc01, offset: 0), reading(D.dc02, offset: -299)]
        XCTAssertEqual(findings(readings), [])
        var strict = AuditConfiguration()
        strict.maxClockSkewMinutes = 2
        XCTAssertEqual(findings(readings, configuration: strict).map(\.account), ["dc02.corp.example"])
        XCTAssertTrue(findings(readings, configuration: strict)[0].message.contains("4 minutes 59 seconds behind"))
    }

    /// Every DC agrees with the PDC but not with this host: this host's clock, or the PDC's source.
    func testTheWholeDomainOffThisHostIsTheHostOrThePDCSource() throws {
        let found = findings([reading(D.dc01, offset: -3600), reading(D.dc02, offset: -3598)])
        XCTAssertEqual(found.map(\.account), ["dc01.corp.example", "dc02.corp.example"])
        XCTAssertEqual(found[0].severity, .high, "the PDC itself is the domain's time source")
        XCTAssertTrue(found[0].message.contains("it is the PDC emulator"), found[0].message)
        XCTAssertEqual(found[1].severity, .medium)
        XCTAssertTrue(found[1].message.contains("check this host's clock first"), found[1].message)
        XCTAssertTrue(found[1].message.hasPrefix("The clock of dc02.corp.example is 59 minutes 58 seconds behind"))
    }

    func testADCThatDidNotAnswerOrAnAuditWithoutDCsIsNotJudged() {
        let failed = DomainControllerReading(domainController: D.dc02, outcome: .failed("Can't contact LDAP server"))
        XCTAssertEqual(findings([reading(D.dc01, offset: 0), failed]), [])
        XCTAssertNil(DCClockSkewRule(for: AuditInputs()))
    }

    func testHostileDCNameIsOneArgumentOrNoCommand() {
        for hostile in Hostile.names {
            let dc = DomainController(hostName: "dc02" + hostile, serverDN: D.server("DC02"))
            let found = findings([reading(D.dc01, offset: 0), reading(dc, offset: 900)])
            guard let fix = found.first?.remediation else {
                XCTFail(hostile.debugDescription)
                continue
            }
            let monitor = commands("w32tm /monitor", in: fix)
            if Hostile.isUnquotableInCommandPrompt(dc.hostName) {
                XCTAssertEqual(monitor, [], fix)
                XCTAssertTrue(fix.contains("no safe w32tm command"), fix)
            } else {
                let lexed = monitor.map(CommandPromptLexer.lex)
                XCTAssertEqual(lexed.count, 1, fix)
                XCTAssertEqual(lexed.first?.hazards, [], fix)
                XCTAssertEqual(lexed.first?.statements.count, 1, fix)
                XCTAssertEqual(lexed.first?.statements.first?.last, .word("/computers:" + dc.hostName), fix)
            }
            XCTAssertFalse(fix.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || $0 == "\u{202E}" })
        }
    }
}
