import XCTest

@testable import Audit
@testable import Directory

/// Each DC's repsFrom, built byte by byte as a REPS_FROM version 1 value.
final class ReplicationFailureRuleTests: XCTestCase {
    typealias D = DCFixture

    /// Seconds since 1601 of `ticksAgo` before the fixtures' now.
    private func seconds(ticksAgo: Int64) -> UInt64 { UInt64((Fixture.nowTicks - ticksAgo) / FileTime.ticksPerSecond) }

    private func u32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
    private func u64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

    /// A REPS_FROM v1 from `partner`: the layout of Samba's drsblobs.idl repsFromTo1.
    private func repsFrom(
        from partner: DomainController, failures: UInt32, lastSuccessTicksAgo: Int64?, lastAttemptTicksAgo: Int64,
        result: UInt32
    ) -> [UInt8] {
        let name = Array("\(partner.dsaGUID!)._msdcs.corp.example".utf8) + [0]
        let other = u32(UInt32(name.count)) + name
        var bytes = u32(1) + u32(0) + u32(UInt32(208 + other.count)) + u32(failures)
        bytes +=
            u64(lastSuccessTicksAgo.map { seconds(ticksAgo: $0) } ?? 0) + u64(seconds(ticksAgo: lastAttemptTicksAgo))
        bytes += u32(result) + u32(208) + u32(UInt32(other.count)) + u32(0x70)
        bytes += [UInt8](repeating: 0x11, count: 84) + u32(0) + u64(5230) + u64(0) + u64(5230)
        bytes += partner.dsaGUID!.bytes + partner.invocationID!.bytes + [UInt8](repeating: 0, count: 16)
        return bytes + other
    }

    private func findings(
        _ readings: [DomainControllerReading], configuration: AuditConfiguration = AuditConfiguration()
    )
        -> [Finding]
    {
        guard let rule = ReplicationFailureRule(for: AuditInputs(domainControllers: readings)) else { return [] }
        return rule.findings(in: D.context(readings, configuration: configuration))
    }

    private func detail(_ finding: Finding, _ key: String) -> DetailValue? {
        finding.details.first { $0.key == key }?.value
    }

    /// The two-DC test: DC2's inbound replication off, its pulls from DC1 failing with 8457.
    func testASinkDisabledDCReportsItsFailingPartnerAndItsOptions() throws {
        let dc01 = DomainControllerReading(
            domainController: D.dc01, outcome: .answered,
            repsFrom: [
                repsFrom(
                    from: D.dc02, failures: 0, lastSuccessTicksAgo: 5 * Fixture.minute,
                    lastAttemptTicksAgo: 5 * Fixture.minute, result: 0)
            ])
        let dc02 = DomainControllerReading(
            domainController: D.dc02, outcome: .answered,
            repsFrom: [
                repsFrom(
                    from: D.dc01, failures: 2, lastSuccessTicksAgo: 3 * D.hour, lastAttemptTicksAgo: 4 * Fixture.minute,
                    result: 8457)
            ])
        let found = findings([dc01, dc02])
        XCTAssertEqual(found.map(\.account), ["dc02.corp.example", "dc02.corp.example"])
        let options = try XCTUnwrap(found.first { detail($0, "about") == .string("NTDS Settings options") })
        XCTAssertEqual(options.severity, .high)
        XCTAssertTrue(options.message.hasPrefix("dc02.corp.example has inbound replication disabled"), options.message)
        XCTAssertTrue(options.remediation.contains("repadmin /options dc02.corp.example -DISABLE_INBOUND_REPL\n"))
        XCTAssertTrue(
            options.remediation.hasSuffix("samba-tool drs options dc02.corp.example --dsa-option=-DISABLE_INBOUND_REPL")
        )

        let link = try XCTUnwrap(found.first { detail($0, "about") == .string("dc01.corp.example") })
        XCTAssertEqual(link.severity, .medium, "it last succeeded 3 hours ago, within 24")
        XCTAssertEqual(detail(link, "consecutiveFailures"), .integer(2))
        XCTAssertEqual(detail(link, "lastResult"), .string("8457 ERROR_DS_DRA_SINK_DISABLED"))
        XCTAssertEqual(detail(link, "lastSuccess"), .string("2026-11-23T21:00:00Z"))
        XCTAssertEqual(detail(link, "lastAttempt"), .string("2026-11-23T23:56:00Z"))
        XCTAssertEqual(detail(link, "hoursSinceSuccess"), .integer(3))
        XCTAssertTrue(
            link.message.hasPrefix(
                "dc02.corp.example does not replicate from dc01.corp.example: 2 consecutive failures, the last with 8457 ERROR_DS_DRA_SINK_DISABLED (the destination DC has inbound replication disabled"
            ),
            link.message)
        XCTAssertTrue(link.message.hasSuffix("last success 2026-11-23T21:00:00Z (3 hours ago)."), link.message)
        XCTAssertTrue(link.remediation.contains("repadmin /showrepl dc02.corp.example\n"))
        XCTAssertTrue(link.remediation.contains("8457 ERROR_DS_DRA_SINK_DISABLED usually means: "))
        XCTAssertTrue(link.remediation.contains("repadmin /syncall dc02.corp.example /AdeP\n"))
    }

    func testAPartnerNotReplicatedFromForDaysIsHighEvenWithoutFailures() throws {
        let dc03 = DomainControllerReading(
            domainController: D.dc03, outcome: .answered,
            repsFrom: [
                repsFrom(
                    from: D.dc01, failures: 0, lastSuccessTicksAgo: 30 * D.hour, lastAttemptTicksAgo: 30 * D.hour,
                    result: 0),
                repsFrom(
                    from: D.dc02, failures: 14, lastSuccessTicksAgo: nil, lastAttemptTicksAgo: D.hour, result: 1722),
            ])
        let found = findings([dc03])
        XCTAssertEqual(found.count, 2)
        XCTAssertEqual(found.map(\.severity), [.high, .high])
        XCTAssertEqual(detail(found[0], "hoursSinceSuccess"), .integer(30))
        XCTAssertTrue(found[0].message.hasSuffix("(30 hours ago, more than 24)."), found[0].message)
        XCTAssertTrue(found[1].message.contains("14 consecutive failures, the last with 1722 RPC_S_SERVER_UNAVAILABLE"))
        XCTAssertTrue(found[1].message.hasSuffix("it has never replicated from it."), found[1].message)
        XCTAssertNil(detail(found[1], "lastSuccess"))
        var patient = AuditConfiguration()
        patient.replicationFailureHours = 48
        XCTAssertEqual(findings([dc03], configuration: patient).count, 1, "30 hours is within 48")
    }

    func testAnUnknownPartnerIsNamedByItsAddressAndTombstoneLifetimeIsCritical() throws {
        let stranger = DomainController(
            hostName: "old-dc.corp.example", serverDN: D.server("OLD-DC"),
            dsaGUID: D.guid("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"),
            invocationID: D.guid("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"))
        let dc01 = DomainControllerReading(
            domainController: D.dc01, outcome: .answered,
            repsFrom: [
                repsFrom(
                    from: stranger, failures: 300, lastSuccessTicksAgo: 200 * D.day, lastAttemptTicksAgo: D.hour,
                    result: 8614)
            ])
        let finding = try XCTUnwrap(findings([dc01]).first)
        XCTAssertEqual(detail(finding, "about"), .string("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9._msdcs.corp.example"))
        XCTAssertEqual(finding.severity, .critical)
        XCTAssertTrue(finding.message.contains("tombstone lifetime"), finding.message)
    }

    func testHealthyLinksAndUnreadableValues() throws {
        let healthy = DomainControllerReading(
            domainController: D.dc01, outcome: .answered,
            repsFrom: [
                repsFrom(
                    from: D.dc02, failures: 0, lastSuccessTicksAgo: Fixture.minute, lastAttemptTicksAgo: Fixture.minute,
                    result: 0)
            ])
        XCTAssertEqual(findings([healthy]), [])
        let broken = DomainControllerReading(
            domainController: D.dc01, outcome: .answered, repsFrom: [[1, 0, 0, 0, 0, 0]])
        let finding = try XCTUnwrap(findings([broken]).first)
        XCTAssertEqual(finding.severity, .low)
        XCTAssertTrue(finding.message.contains("shorter than its header"), finding.message)
        let silent = DomainControllerReading(domainController: D.dc02, outcome: .failed("Can't contact LDAP server"))
        XCTAssertEqual(findings([silent]), [], "a DC that did not answer has no repsFrom to judge")
        XCTAssertNil(ReplicationFailureRule(for: AuditInputs()))
    }

    /// A multi-DC audit through the runner: all three DC rules fire, and each finding's evidence is
    /// exactly what its rule declares, with the declared types (as RuleRegistryTests holds for the others).
    func testAMultiDCAuditRunsTheDCRulesWithDeclaredDetails() throws {
        let dc01 = DomainControllerReading(
            domainController: D.dc01, outcome: .answered, currentTime: Fixture.now, askedAt: Fixture.now)
        let dc02 = DomainControllerReading(
            domainController: D.dc02, outcome: .answered, currentTime: Fixture.now.addingTimeInterval(600),
            askedAt: Fixture.now,
            repsFrom: [
                repsFrom(
                    from: D.dc01, failures: 3, lastSuccessTicksAgo: 2 * D.day, lastAttemptTicksAgo: D.hour, result: 8457
                )
            ])
        var runner = AuditRunner(
            configuration: AuditConfiguration(), now: Fixture.now, sources: ["dc01.corp.example", "dc02.corp.example"],
            domainControllers: [dc01, dc02])
        runner.add(D.view(version: 2, writtenTicksAgo: 2 * D.day, lastLogonTicksAgo: D.hour), origin: 0)
        runner.add(D.view(version: 1, writtenTicksAgo: 40 * D.day), origin: 1)
        let result = runner.finish()
        XCTAssertTrue(
            Set(result.findings.map(\.rule)).isSuperset(of: [
                "password-not-replicated", "dc-clock-skew", "replication-failure",
            ]),
            "\(result.findings.map(\.rule))")
        XCTAssertEqual(result.rules.map(\.id), AuditRules.ids.filter { $0 != "missing-account" })
        for finding in result.findings {
            let rule = try XCTUnwrap(AuditRules.rule(finding.rule))
            let declared = Dictionary(uniqueKeysWithValues: rule.detailColumns.map { ($0.key, $0.type) })
            for (key, value) in finding.details {
                let type = try XCTUnwrap(declared[key], "\(finding.rule) reports \(key) but does not declare it")
                switch (type, value) {
                case (.string, .string), (.integer, .integer), (.strings, .strings), (.timestamp, .string),
                    (.timestamp, .integer):
                    break
                default:
                    XCTFail("\(finding.rule).\(key) is declared \(type) but holds \(value)")
                }
            }
        }
    }

    func testHostileDCNameIsOneArgumentOrNoCommand() {
        for hostile in Hostile.names {
            var dc = D.dc02
            dc.hostName = "dc02" + hostile
            let reading = DomainControllerReading(domainController: dc, outcome: .answered)
            guard let fix = findings([reading]).first?.remediation else {
                XCTFail(hostile.debugDescription)
                continue
            }
            for command in commands("repadmin /options", in: fix) {
                let lexed = CommandPromptLexer.lex(command)
                XCTAssertEqual(lexed.hazards, [], command)
                XCTAssertEqual(
                    lexed.statements,
                    [["repadmin", "/options", dc.hostName, "-DISABLE_INBOUND_REPL"].map(ShellToken.word)])
            }
            if Hostile.isUnquotableInCommandPrompt(dc.hostName) {
                XCTAssertEqual(commands("repadmin /options", in: fix), [])
            }
            for command in commands("samba-tool", in: fix) {
                XCTAssertEqual(
                    POSIXShellLexer.lex(command),
                    LexedLine(statements: [
                        ["samba-tool", "drs", "options", dc.hostName, "--dsa-option=-DISABLE_INBOUND_REPL"].map(
                            ShellToken.word)
                    ]))
            }
            XCTAssertFalse(fix.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || $0 == "\u{202E}" })
        }
    }
}
