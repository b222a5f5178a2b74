import XCTest

@testable import Audit

/// The table duplicate-spn keeps per SPN: each fingerprint's first holder, through growth, for the
/// one key an empty slot cannot hold, and for two SPNs whose first 64 bits agree.
final class FirstHolderTableTests: XCTestCase {
    func testEveryFingerprintKeepsItsFirstHolderThroughGrowth() {
        var generator = SystemRandomNumberGenerator()
        var table = FirstHolderTable()
        // Keys that share a partition (top byte) and low bits, so probe runs wrap and grow.
        var fingerprints = (0..<20_000).map { _ in
            Fingerprint(high: UInt64.random(in: 1 ... .max, using: &generator), low: UInt64.random(in: 0 ... .max))
        }
        fingerprints += (1...300).map { Fingerprint(high: 0x42 << 56 | UInt64($0) << 20, low: UInt64($0)) }
        for (holder, fingerprint) in fingerprints.enumerated() {
            XCTAssertNil(table.firstHolder(of: fingerprint, recordingIfNew: UInt32(holder)))
        }
        for (holder, fingerprint) in fingerprints.enumerated() {
            XCTAssertEqual(table.firstHolder(of: fingerprint, recordingIfNew: 999_999), UInt32(holder))
        }
    }

    func testTheZeroWordAndFingerprintsAgreeingInTheirTopBitsAreToldApart() {
        var table = FirstHolderTable()
        // The word is the top 64 bits shifted by the partition byte, and 8 low bits: these two
        // give the word 0 and the same 56 bits with different low bits.
        let zero = Fingerprint(high: 0x42 << 56, low: 0x100)
        XCTAssertNil(table.firstHolder(of: zero, recordingIfNew: 1))
        XCTAssertEqual(table.firstHolder(of: zero, recordingIfNew: 2), 1)
        let first = Fingerprint(high: 0xDEAD_BEEF, low: 0x1111_1111)
        let sameHigh = Fingerprint(high: 0xDEAD_BEEF, low: 0x2222_2222)
        XCTAssertNil(table.firstHolder(of: first, recordingIfNew: 3))
        XCTAssertNil(table.firstHolder(of: sameHigh, recordingIfNew: 4), "another SPN, not a duplicate")
        XCTAssertEqual(table.firstHolder(of: first, recordingIfNew: 5), 3)
        XCTAssertEqual(table.firstHolder(of: sameHigh, recordingIfNew: 6), 4)
        XCTAssertEqual(table.firstHolder(of: zero, recordingIfNew: 11), 1)
    }

    /// NameSet, the other flat table: every name inserted is found through growth, no other is.
    func testNameSetFindsEveryNameInsertedAndNoOther() {
        var names = NameSet()
        for index in 0..<30_000 { names.insert(tag: 1, "dc=corp,dc=example", "wks-\(index)") }
        for index in 0..<30_000 {
            XCTAssertTrue(names.contains(tag: 1, "dc=corp,dc=example", "wks-\(index)"))
            XCTAssertFalse(names.contains(tag: 1, "dc=corp,dc=example", "srv-\(index)"))
            XCTAssertFalse(names.contains(tag: 2, "dc=corp,dc=example", "wks-\(index)"), "the tag is part of the key")
        }
        XCTAssertFalse(NameSet().contains(tag: 1, "anything"))
    }
}
