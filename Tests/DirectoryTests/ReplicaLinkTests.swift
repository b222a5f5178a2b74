import XCTest

@testable import Directory

/// repsFrom values built byte by byte in the layout of Samba's drsblobs.idl `repsFromToBlob`.
enum RepsFromBytes {
    typealias B = ReplicationBytes

    /// DC1's `CN=NTDS Settings` objectGUID, as DC2's repsFrom names its partner.
    static let dc1DSA = "5b2e0c7a-91d4-4f3b-8e6a-1c2d3e4f5a6b"
    static let transport = "00000000-0000-0000-0000-000000000000"

    struct Link {
        var version: UInt32 = 1
        var failures: UInt32 = 0
        var lastSuccess: UInt64 = 13_440_625_300
        var lastAttempt: UInt64 = 13_440_625_300
        var result: UInt32 = 0
        var flags: UInt32 = 0x70  // writable, sync on startup, periodic sync: a KCC-made intra-site link
        var dsa = dc1DSA
        var invocation = ReplicationBytes.dc1Invocation
        var address: String? = "\(dc1DSA)._msdcs.two.test"
    }

    /// The value a DC stores for `link`; `sizeDelta` and `otherOffsetDelta` damage the size and offset fields.
    static func value(_ link: Link, sizeDelta: Int = 0, otherOffsetDelta: Int = 0) -> [UInt8] {
        let fixed = link.version == 2 ? 216 : 208
        var other: [UInt8] = []
        if let address = link.address {
            let name = Array(address.utf8) + [0]
            if link.version == 1 {
                other = B.u32(UInt32(name.count)) + name
            } else {
                // size, dns_name1 at 24 (after the header), unknown1, dns_name2 after name1, unknown2.
                let second = Array("\(address)".utf8) + [0]
                var header = B.u32(UInt32(24 + name.count + second.count)) + B.u32(24) + B.u32(0)
                header += B.u32(UInt32(24 + name.count)) + B.u64(0)
                other = header + name + second
            }
        }
        let size = fixed + other.count
        var bytes = B.u32(link.version) + B.u32(0) + B.u32(UInt32(size + sizeDelta)) + B.u32(link.failures)
        bytes += B.u64(link.lastSuccess) + B.u64(link.lastAttempt) + B.u32(link.result)
        bytes += B.u32(other.isEmpty ? 0 : UInt32(fixed + otherOffsetDelta)) + B.u32(UInt32(other.count))
        bytes += B.u32(link.flags)
        bytes += [UInt8](repeating: 0x11, count: 84)  // the schedule: every 15 minutes, every hour
        bytes += B.u32(0)
        bytes += B.u64(5230) + B.u64(0) + B.u64(5230)  // the USN vector
        bytes += B.guid(link.dsa) + B.guid(link.invocation) + B.guid(transport)
        if link.version == 2 { bytes += B.u64(0) }
        precondition(bytes.count == fixed)
        return bytes + other
    }
}

final class ReplicaLinkTests: XCTestCase {
    typealias R = RepsFromBytes

    /// DC2 with inbound replication disabled, two failed pulls after DC1 changed a password: what
    /// samba-tool drs showrepl printed on the two-DC test (failures=2, result=8457).
    func testAFailingLinkFromVersion1() throws {
        var link = R.Link()
        link.failures = 2
        link.lastSuccess = 13_440_625_300  // 2026-12-01T19:01:40Z
        link.lastAttempt = 13_440_625_341
        link.result = 8457
        let decoded = try ReplicaLink(repsFrom: R.value(link), source: "dc2.two.test")
        XCTAssertEqual(decoded.version, 1)
        XCTAssertEqual(decoded.consecutiveFailures, 2)
        XCTAssertEqual(UTCTime.timestamp(decoded.lastSuccess), "2026-12-01T19:01:40Z")
        XCTAssertEqual(UTCTime.timestamp(decoded.lastAttempt), "2026-12-01T19:02:21Z")
        XCTAssertEqual(decoded.lastResult, .sinkDisabled)
        XCTAssertEqual(decoded.lastResult.description, "8457 ERROR_DS_DRA_SINK_DISABLED")
        XCTAssertEqual(decoded.sourceDSAObjectGUID?.description, R.dc1DSA)
        XCTAssertEqual(decoded.sourceInvocationID?.description, ReplicationBytes.dc1Invocation)
        XCTAssertEqual(decoded.sourceAddress, "5b2e0c7a-91d4-4f3b-8e6a-1c2d3e4f5a6b._msdcs.two.test")
        XCTAssertEqual(decoded.replicaFlags, [.writable, .syncOnStartup, .periodicSync])
        XCTAssertFalse(decoded.neverSucceeded)
    }

    func testAHealthyLinkFromVersion2() throws {
        var link = R.Link()
        link.version = 2
        link.lastSuccess = 13_440_625_900
        link.lastAttempt = 13_440_625_900
        let decoded = try ReplicaLink(repsFrom: R.value(link), source: "dc02.corp.example")
        XCTAssertEqual(decoded.version, 2)
        XCTAssertEqual(decoded.consecutiveFailures, 0)
        XCTAssertTrue(decoded.lastResult.isSuccess)
        XCTAssertEqual(decoded.sourceAddress, "5b2e0c7a-91d4-4f3b-8e6a-1c2d3e4f5a6b._msdcs.two.test")
        XCTAssertEqual(decoded.lastSuccess, decoded.lastAttempt)
    }

    func testALinkThatNeverSucceededAndHasNoAddress() throws {
        var link = R.Link()
        link.lastSuccess = 0
        link.failures = 14
        link.result = 1722
        link.flags = 0x20_0070
        link.address = nil
        let decoded = try ReplicaLink(repsFrom: R.value(link), source: "x")
        XCTAssertTrue(decoded.neverSucceeded)
        XCTAssertNil(decoded.sourceAddress)
        XCTAssertTrue(decoded.replicaFlags.contains(.neverSynced))
        XCTAssertEqual(decoded.lastResult.name, "RPC_S_SERVER_UNAVAILABLE")
    }

    func testMalformedValuesSayWhatIsWrong() {
        var v3 = R.Link()
        v3.version = 3
        let good = R.value(R.Link())
        let cases: [([UInt8], String)] = [
            (Array(good.prefix(6)), "shorter than its header"),
            (R.value(v3).prefix(300).map { $0 }, "version 3"),
            (Array(good.prefix(150)), "shorter than its 208-byte fixed part"),
            (R.value(R.Link(), sizeDelta: 40), "says it is"),
            (R.value(R.Link(), otherOffsetDelta: 60), "lies outside"),
            (R.value(R.Link(), otherOffsetDelta: -100), "lies outside"),
        ]
        for (bytes, reason) in cases {
            XCTAssertThrowsError(try ReplicaLink(repsFrom: bytes, source: "dc2.two.test repsFrom")) {
                let error = $0 as? DirectoryError
                XCTAssertEqual(error?.code, .malformedReplicaLink)
                XCTAssertTrue(error?.reason.contains(reason) == true, "\(String(describing: error)), wanted \(reason)")
            }
        }
    }

    func testADNSNameLongerThanItsPartIsRefused() {
        var bytes = R.value(R.Link())
        // The v1 other-info's length field sits at the fixed part's end.
        bytes.replaceSubrange(208..<212, with: ReplicationBytes.u32(4000))
        XCTAssertThrowsError(try ReplicaLink(repsFrom: bytes, source: "x")) {
            XCTAssertEqual(($0 as? DirectoryError)?.code, .malformedReplicaLink)
        }
    }
}

final class ReplicationResultTests: XCTestCase {
    func testTheCodesReplicationFailuresCarryHaveNamesAndCauses() {
        let expected: [(Int32, String)] = [
            (8457, "ERROR_DS_DRA_SINK_DISABLED"), (8456, "ERROR_DS_DRA_SOURCE_DISABLED"),
            (1722, "RPC_S_SERVER_UNAVAILABLE"), (8453, "ERROR_DS_DRA_ACCESS_DENIED"),
            (8524, "ERROR_DS_DNS_LOOKUP_FAILURE"), (8614, "ERROR_DS_REPL_LIFETIME_EXCEEDED"),
            (1256, "ERROR_HOST_DOWN"), (1396, "ERROR_WRONG_TARGET_NAME"), (1908, "ERROR_DOMAIN_CONTROLLER_NOT_FOUND"),
            (5, "ERROR_ACCESS_DENIED"), (8606, "ERROR_DS_INSUFF_ATTR_TO_CREATE_OBJECT"),
            (-2_146_893_022, "SEC_E_WRONG_PRINCIPAL"), (8451, "ERROR_DS_DRA_DB_ERROR"),
            (8464, "ERROR_DS_DRA_INCOMPATIBLE_PARTIAL_SET"), (8545, "ERROR_DS_DRA_OBJ_NC_MISMATCH"),
        ]
        for (code, name) in expected {
            let result = ReplicationResult(signedCode: code)
            XCTAssertEqual(result.name, name)
            XCTAssertFalse(result.cause?.isEmpty ?? true, name)
            XCTAssertEqual(result.description, "\(code) \(name)")
        }
        XCTAssertEqual(ReplicationResult(code: 0x8009_0322).signedCode, -2_146_893_022)
        XCTAssertTrue(ReplicationResult(signedCode: 8614).cause?.contains("tombstone lifetime") == true)
    }

    func testAnUnknownCodeIsItsNumberAndHex() {
        XCTAssertEqual(ReplicationResult(code: 8999).description, "8999 (0x2327)")
        XCTAssertEqual(ReplicationResult(code: 0xC000_0022).description, "-1073741790 (0xC0000022)")
        XCTAssertNil(ReplicationResult(code: 8999).name)
        XCTAssertEqual(ReplicationResult(code: 7).description, "7 (0x0007)")
    }
}
