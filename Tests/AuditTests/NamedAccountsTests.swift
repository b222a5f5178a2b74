import XCTest

@testable import Audit

/// The summary's "computers with findings" is counted from one table of every account named, each
/// with the rules (ranks) that named it, so that a rule withheld at the end drops only the accounts
/// no other rule named.
final class NamedAccountsTests: XCTestCase {
    func testAnAccountCountsOnceAndOnlyWhileARuleNotWithheldNamesIt() {
        var accounts = NamedAccounts(ranks: 3)
        var random = SystemRandomNumberGenerator()
        let fingerprints = (0..<20_000).map { _ in Fingerprint(high: random.next(), low: random.next()) }
        // Every account by rank i % 3; every tenth also by rank 0, twice (a repeat counts once).
        for (index, fingerprint) in fingerprints.enumerated() {
            accounts.insert(fingerprint, rank: index % 3)
            if index % 10 == 0 {
                accounts.insert(fingerprint, rank: 0)
                accounts.insert(fingerprint, rank: 0)
            }
        }
        XCTAssertEqual(accounts.count(withholding: []), 20_000)
        let onlyRankOne = fingerprints.indices.filter { $0 % 3 == 1 && $0 % 10 != 0 }.count
        let onlyRankTwo = fingerprints.indices.filter { $0 % 3 == 2 && $0 % 10 != 0 }.count
        XCTAssertEqual(accounts.count(withholding: [1]), 20_000 - onlyRankOne)
        XCTAssertEqual(accounts.count(withholding: [1, 2]), 20_000 - onlyRankOne - onlyRankTwo)
        XCTAssertEqual(accounts.count(withholding: [0, 1, 2]), 0)
    }

    /// Past 64 rules the ranks take a second word; the one fingerprint whose word would mark an
    /// empty slot is kept apart and counted the same.
    func testRanksPastSixtyFourAndTheEmptySlotsWordAreKept() {
        var accounts = NamedAccounts(ranks: 70)
        let zeroWord = Fingerprint(high: 0, low: 0)
        let other = Fingerprint(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)
        accounts.insert(zeroWord, rank: 68)
        accounts.insert(other, rank: 68)
        accounts.insert(other, rank: 3)
        XCTAssertEqual(accounts.count(withholding: []), 2)
        XCTAssertEqual(accounts.count(withholding: [68]), 1)
        XCTAssertEqual(accounts.count(withholding: [3, 68]), 0)
        XCTAssertEqual(accounts.count(withholding: [3]), 2)
    }
}
