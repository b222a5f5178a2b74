import Directory
import Foundation
import LDAPClient
import LDAPSource
import TestSupport
import XCTest

/// Two real Samba DCs of one domain (`scripts/testdc-pair`): discovery, each DC's own view of a
/// computer, DC2 held back from replicating, a logon only DC2 saw, a DC that is down, and a DC
/// with a shifted clock.
///
/// Everything is read as audit-reader, a plain domain user: server objects, NTDS Settings,
/// repsFrom, pwdLastSet and replPropertyMetaData are all readable without any delegated right on
/// Samba. The binary values are checked only as far as these tests need (the decoders live in
/// Directory); the offsets are MS-DRSR's REPS_FROM version 1 and the replPropertyMetaData layout.
final class MultiDCLiveTests: XCTestCase {
    var pair: TestDCPair!

    override func setUpWithError() throws {
        pair = try TestDCPair.require()
    }

    override func tearDownWithError() throws {
        // Leave the pair as the next test expects it: both up, DC2 replicating, its clock true.
        guard let pair else { return }
        try? pair.setInboundReplication(true)
        if !pair.dc2ClockOffset.isEmpty { try? pair.stop("dc2") }
        try? pair.start()
    }

    func settings() throws -> LDAPSourceSettings {
        var settings = LDAPSourceSettings(
            uri: pair.dc1URI, bind: .simple(dn: pair.readerDN, password: Array(try pair.readerPassword().utf8)),
            caFile: pair.caFile, networkTimeout: 5, operationTimeout: 30)
        settings.maxRetries = 0
        return settings
    }

    func discover(through host: String = "dc1.two.test") throws -> DiscoveredDomainControllers {
        try LDAPDirectorySource(settings: try settings().forHost(host)).discoverDomainControllers()
    }

    // MARK: - Discovery

    func testDiscoveryFindsBothDCsWithTheirSitesGUIDsRolesAndClocks() throws {
        let found = try discover()
        XCTAssertEqual(found.domainControllers.map(\.hostName), TestDCPair.hostNames)
        XCTAssertEqual(found.accountsWithoutServer, [])
        XCTAssertEqual(found.serversWithoutNTDSSettings, [])
        for (dc, name) in zip(found.domainControllers, ["dc1", "dc2"]) {
            XCTAssertEqual(dc.site, "Default-First-Site-Name")
            XCTAssertEqual(dc.dsaGUID?.description, try pair.dsaGUID(name), dc.hostName)
            XCTAssertNotNil(dc.invocationID, dc.hostName)
            XCTAssertNotEqual(dc.invocationID, dc.dsaGUID, "Samba gives a joined DC its own invocationId")
            XCTAssertEqual(
                dc.computerDN?.lowercased(), "cn=\(name),ou=domain controllers,dc=two,dc=test", dc.hostName)
            XCTAssertTrue(dc.isGlobalCatalog, dc.hostName)
            XCTAssertFalse(dc.isReadOnly, dc.hostName)
        }
        XCTAssertEqual(found.domainControllers.map(\.isPDCEmulator), [true, false], "DC1 was provisioned, DC2 joined")

        for dc in found.domainControllers {
            let reading = DomainControllerReader.read(dc, settings: try settings())
            XCTAssertEqual(reading.outcome, .answered, "\(dc.hostName): \(reading.outcome)")
            let currentTime = try XCTUnwrap(reading.currentTime, dc.hostName)
            let askedAt = try XCTUnwrap(reading.askedAt, dc.hostName)
            XCTAssertLessThan(abs(currentTime.timeIntervalSince(askedAt)), 3, dc.hostName)
            // Each DC pulls the domain from the other: one REPS_FROM naming the other DC's DSA.
            XCTAssertEqual(reading.repsFrom.count, 1, dc.hostName)
            let other = found.domainControllers.first { $0.hostName != dc.hostName }
            XCTAssertEqual(reading.repsFrom.first.flatMap(RepsFrom.init)?.sourceDSA, other?.dsaGUID, dc.hostName)
        }
    }

    // MARK: - A password DC2 did not get

    func testAPasswordSetOnDC1WhileDC2DoesNotReplicateIsSeenOnlyByDC1UntilASync() throws {
        // An earlier run that stopped half-way may have left DC2 behind.
        try pair.sync()
        let found = try discover()
        let (dc1, dc2) = (found.domainControllers[0], found.domainControllers[1])
        let before = try account(on: dc2)

        try pair.setInboundReplication(false)
        XCTAssertTrue(
            try discover(through: "dc2.two.test").domainControllers[1].options.contains(.disableInboundReplication),
            "DC2's NTDS Settings say it takes no changes")
        try pair.setMachinePassword(TestDCPair.passwordTestComputer)

        let onDC1 = try account(on: dc1)
        let onDC2 = try account(on: dc2)
        XCTAssertNotEqual(onDC1.pwdLastSet, onDC2.pwdLastSet)
        XCTAssertEqual(onDC2.pwdLastSet, before.pwdLastSet, "DC2 still holds the old password")
        XCTAssertGreaterThan(onDC1.pwdLastSet, before.pwdLastSet)
        let unicodePwd: UInt32 = 0x0009_005A
        let versionOnDC1 = try XCTUnwrap(onDC1.metadataVersion(unicodePwd))
        let versionOnDC2 = try XCTUnwrap(onDC2.metadataVersion(unicodePwd))
        XCTAssertEqual(versionOnDC1, versionOnDC2 + 1, "one password change DC2 lacks")

        // DC1's change notice makes DC2 try to pull, which the disabled sink refuses: 8457.
        var failing: RepsFrom?
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let reading = DomainControllerReader.read(dc2, settings: try settings())
            XCTAssertEqual(reading.outcome, .answered)
            failing = reading.repsFrom.compactMap(RepsFrom.init).first {
                $0.sourceDSA == dc1.dsaGUID && $0.lastResult == 8457
            }
            if failing != nil { break }
            Thread.sleep(forTimeInterval: 1)
        }
        let repsFrom = try XCTUnwrap(failing, "DC2's repsFrom never recorded WERR_DS_DRA_SINK_DISABLED (8457)")
        XCTAssertGreaterThanOrEqual(repsFrom.consecutiveFailures, 1)
        XCTAssertGreaterThan(repsFrom.lastAttempt, repsFrom.lastSuccess)

        try pair.sync()
        let synced = try account(on: dc2)
        XCTAssertEqual(synced.pwdLastSet, try account(on: dc1).pwdLastSet)
        XCTAssertEqual(synced.metadataVersion(unicodePwd), versionOnDC1)
        let afterSync = DomainControllerReader.read(dc2, settings: try settings()).repsFrom.compactMap(RepsFrom.init)
        XCTAssertEqual(afterSync.first { $0.sourceDSA == dc1.dsaGUID }?.lastResult, 0)
        XCTAssertEqual(afterSync.first { $0.sourceDSA == dc1.dsaGUID }?.consecutiveFailures, 0)
    }

    // MARK: - The true last logon

    func testALogonThroughDC2IsInDC2sLastLogonAlone() throws {
        let found = try discover()
        let (dc1, dc2) = (found.domainControllers[0], found.domainControllers[1])
        try pair.setMachinePassword(TestDCPair.passwordTestComputer)
        try pair.sync()
        let before = try [dc1, dc2].map { try account(on: $0).lastLogon }

        try pair.kinitComputer(TestDCPair.passwordTestComputer, on: "dc2")
        let after = try [dc1, dc2].map { try account(on: $0).lastLogon }
        XCTAssertEqual(after[0], before[0], "lastLogon is not replicated: DC1 saw no logon")
        XCTAssertGreaterThan(after[1] ?? 0, before[1] ?? 0, "DC2's KDC recorded the logon")
        // FILETIME of now, within a minute.
        let now = (Int64(Date().timeIntervalSince1970) + 11_644_473_600) * 10_000_000
        XCTAssertLessThan(abs((after[1] ?? 0) - now), 60 * 10_000_000)
    }

    // MARK: - A DC down

    func testAStoppedDCIsAFailedReadingAndTheOtherStillAnswers() throws {
        let found = try discover()
        let settings = try settings()
        try pair.stop("dc2")
        let readings = found.domainControllers.map { DomainControllerReader.read($0, settings: settings) }
        XCTAssertEqual(readings[0].outcome, .answered)
        guard case .failed(let reason) = readings[1].outcome else { return XCTFail("\(readings[1].outcome)") }
        XCTAssertTrue(reason.hasPrefix("ldaps://dc2.two.test: "), reason)
        XCTAssertTrue(reason.contains("Can't contact LDAP server"), reason)
        XCTAssertNil(readings[1].currentTime)
        XCTAssertEqual(readings[1].repsFrom, [])

        // The accounts of the DC that is up can still be read through a source of its own.
        XCTAssertNoThrow(try account(on: found.domainControllers[0]))
        XCTAssertThrowsError(try account(on: found.domainControllers[1])) { error in
            XCTAssertEqual((error as? LDAPError)?.code, .serverDown, "\(error)")
        }
    }

    // MARK: - A DC's clock

    func testADCUnderAShiftedClockShowsItInCurrentTime() throws {
        let preload = ["x86_64", "aarch64"].map { "/usr/lib/\($0)-linux-gnu/faketime/libfaketime.so.1" }
        guard preload.contains(where: FileManager.default.fileExists(atPath:)) else {
            let reason = "libfaketime is not installed (Debian package faketime; scripts/install-deps test)"
            if ProcessInfo.processInfo.environment["CI"] == "true" { return XCTFail(reason) }
            throw XCTSkip(reason)
        }
        let found = try discover()
        try pair.stop("dc2")
        try pair.start(clockOffset: "+10m")
        let settings = try settings()
        let readings = found.domainControllers.map { DomainControllerReader.read($0, settings: settings) }
        let offsets = try readings.map { reading -> TimeInterval in
            XCTAssertEqual(reading.outcome, .answered, "\(reading.outcome)")
            return try XCTUnwrap(reading.currentTime).timeIntervalSince(try XCTUnwrap(reading.askedAt))
        }
        XCTAssertLessThan(abs(offsets[0]), 3, "DC1 keeps the true time")
        XCTAssertLessThan(abs(offsets[1] - 600), 3, "DC2 runs 10 minutes ahead: \(offsets[1]) s")
    }

    // MARK: - Helpers

    /// pwdLastSet and replPropertyMetaData of the password test computer, read from `dc` alone.
    func account(on dc: DomainController) throws -> Account {
        let source = try LDAPDirectorySource.forDomainController(dc, settings: try settings())
        var found: [DirectoryEntry] = []
        try source.forEachEntry(
            SourceRequest(
                attributes: ["sAMAccountName", "pwdLastSet", "lastLogon", "replPropertyMetaData"],
                filter: "(sAMAccountName=\(TestDCPair.passwordTestComputer)$)")
        ) { found.append($0) }
        XCTAssertEqual(found.count, 1, dc.hostName)
        let entry = try XCTUnwrap(found.first, dc.hostName)
        let pwdLastSet = try XCTUnwrap(entry.string("pwdLastSet").flatMap { Int64($0) }, dc.hostName)
        let metadata = try XCTUnwrap(
            entry.firstValue("replPropertyMetaData"), "\(dc.hostName): no replPropertyMetaData")
        return Account(
            pwdLastSet: pwdLastSet, lastLogon: entry.string("lastLogon").flatMap { Int64($0) }, metadata: metadata)
    }

    struct Account {
        var pwdLastSet: Int64
        /// This DC's own, never replicated; absent (or 0) until the account logs on through it.
        var lastLogon: Int64?
        var metadata: [UInt8]

        /// The version of `attid` in replPropertyMetaData: a 16-byte header (version 1, count at
        /// offset 8), then 48-byte entries of attid, version, time, invocationId, two USNs.
        func metadataVersion(_ attid: UInt32) -> UInt32? {
            guard metadata.count >= 16, u32(metadata, 0) == 1 else { return nil }
            let count = Int(u32(metadata, 8))
            for index in 0..<count {
                let offset = 16 + 48 * index
                guard offset + 48 <= metadata.count else { return nil }
                if u32(metadata, offset) == attid { return u32(metadata, offset + 4) }
            }
            return nil
        }
    }

    /// The fields of a REPS_FROM version 1 value (MS-DRSR 5.170, Samba's repsFromTo1) these tests use.
    struct RepsFrom {
        var consecutiveFailures: UInt32
        /// Seconds since 1601.
        var lastSuccess: UInt64
        var lastAttempt: UInt64
        /// A Win32 error code: 0 success, 8457 ERROR_DS_DRA_SINK_DISABLED.
        var lastResult: UInt32
        var sourceDSA: ObjectGUID?

        init?(_ bytes: [UInt8]) {
            // version 1 | reserved | cb | failures @12 | last success @16 | last attempt @24 |
            // result @32 | other-info offset, length, flags | schedule[84] @48 | reserved @132 |
            // high-water mark (24 bytes) @136 | source DSA objectGUID @160.
            guard bytes.count >= 176, u32(bytes, 0) == 1 else { return nil }
            consecutiveFailures = u32(bytes, 12)
            lastSuccess = u64(bytes, 16)
            lastAttempt = u64(bytes, 24)
            lastResult = u32(bytes, 32)
            sourceDSA = ObjectGUID(bytes: Array(bytes[160..<176]))
        }
    }
}

private func u32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
}

private func u64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
    (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
}
