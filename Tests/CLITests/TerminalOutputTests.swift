import Audit
import Directory
import XCTest

@testable import trustaudit

/// The progress line's words and pace, and the colour policy, as pure functions with an injected
/// clock; `TerminalRunTests` shows the same under a real pseudo-terminal.
final class TerminalOutputTests: XCTestCase {
    static let mebibyte = 1 << 20

    func testLDIFLineSaysBytesOfSizeRateAndTimeLeft() {
        let progress = LDIFReadProgress(
            bytesRead: 25 * Self.mebibyte / 2, totalBytes: 50 * Self.mebibyte, entriesRead: 5_100, accountsRead: 5_000)
        // 12.5 MiB in 2 s: 6.25 MiB/s, so the 37.5 MiB left take 6 s; 5,000 accounts in 2 s.
        XCTAssertEqual(
            ProgressText.ldif(progress, elapsed: 2),
            "trustaudit: 12.5 of 50.0 MiB read (25%), 2,500 accounts/s, about 6 s left")
    }

    func testLDIFLineWithoutASizeOrATimeYet() {
        let fromPipe = LDIFReadProgress(
            bytesRead: Self.mebibyte, totalBytes: nil, entriesRead: 100, accountsRead: 100)
        XCTAssertEqual(ProgressText.ldif(fromPipe, elapsed: 1), "trustaudit: 1.0 MiB read, 100 accounts/s")
        let atStart = LDIFReadProgress(bytesRead: 0, totalBytes: 300 * Self.mebibyte, entriesRead: 0, accountsRead: 0)
        XCTAssertEqual(ProgressText.ldif(atStart, elapsed: 0), "trustaudit: 0.0 of 300 MiB read (0%)")
        let done = LDIFReadProgress(
            bytesRead: 300 * Self.mebibyte, totalBytes: 300 * Self.mebibyte, entriesRead: 9, accountsRead: 9)
        XCTAssertEqual(ProgressText.ldif(done, elapsed: 3), "trustaudit: 300 of 300 MiB read (100%), 3 accounts/s")
    }

    func testTimesAndNumbersAsPeopleReadThem() {
        XCTAssertEqual(ProgressText.timeLeft(0.2), "under 1 s left")
        XCTAssertEqual(ProgressText.timeLeft(59.4), "about 59 s left")
        XCTAssertEqual(ProgressText.timeLeft(125), "about 2 min 05 s left")
        XCTAssertEqual(ProgressText.timeLeft(3_720), "about 1 h 02 min left")
        XCTAssertEqual(ProgressText.timeLeft(.infinity), "time left unknown")
        XCTAssertEqual(ProgressText.grouped(1_234_567), "1,234,567")
        XCTAssertEqual(ProgressText.grouped(999), "999")
        XCTAssertEqual(
            ProgressText.live(pages: 12, entries: 12_000, elapsed: 2),
            "trustaudit: 12,000 entries read in 12 pages, 6,000 entries/s")
        XCTAssertEqual(ProgressText.live(pages: 1, entries: 5, elapsed: 0), "trustaudit: 5 entries read in 1 page")
    }

    /// A hundred reports over one second draw four lines: at 0.25, 0.5, 0.75 and 1 s, none at the start.
    func testRedrawnAtMostFourTimesASecond() {
        let clock = FakeClock()
        var drawn: [String] = []
        let reporter = ProgressReporter(clock: { clock.now }, draw: { drawn.append($0) })
        for tick in 0...100 {
            clock.now = Double(tick) / 100
            reporter.live(pages: tick, entries: tick * 10)
        }
        XCTAssertEqual(
            drawn,
            [
                "trustaudit: 250 entries read in 25 pages, 1,000 entries/s",
                "trustaudit: 500 entries read in 50 pages, 1,000 entries/s",
                "trustaudit: 750 entries read in 75 pages, 1,000 entries/s",
                "trustaudit: 1,000 entries read in 100 pages, 1,000 entries/s",
            ])
        var throttle = RedrawThrottle(start: 10)
        XCTAssertFalse(throttle.allows(at: 10.2))
        XCTAssertTrue(throttle.allows(at: 10.3))
        XCTAssertFalse(throttle.allows(at: 10.5))
        XCTAssertTrue(throttle.allows(at: 10.55))
    }

    func testStatusLineRedrawsInPlaceAndClearsOnce() {
        let line = StatusLine()
        var written: [String] = []
        line.write = { written.append($0) }
        line.clear()
        XCTAssertEqual(written, [], "nothing shown, nothing to clear")
        line.draw("trustaudit: 1.0 MiB read")
        line.clear()
        line.clear()
        XCTAssertEqual(written, ["\rtrustaudit: 1.0 MiB read\u{1B}[K", "\r\u{1B}[K"])

        written = []
        line.erasesWithEscape = false
        line.draw("12345")
        line.draw("123")
        line.clear()
        XCTAssertEqual(written, ["\r12345", "\r123  ", "\r   \r"], "a dumb terminal gets spaces, no escapes")
    }

    func testPolicyFollowsTheTerminalQuietNoColorAndTerm() {
        let both: (Int32) -> Bool = { _ in true }
        let term = ["TERM": "xterm-256color"]
        XCTAssertEqual(
            TerminalPolicy(quiet: false, environment: term, isTerminal: both),
            TerminalPolicy(showsProgress: true, erasesWithEscape: true, coloursOutput: true))
        XCTAssertFalse(TerminalPolicy(quiet: true, environment: term, isTerminal: both).showsProgress)
        XCTAssertFalse(TerminalPolicy(quiet: false, environment: term, isTerminal: { $0 != 2 }).showsProgress)
        XCTAssertFalse(TerminalPolicy(quiet: false, environment: term, isTerminal: { $0 != 1 }).coloursOutput)
        XCTAssertFalse(
            TerminalPolicy(quiet: false, environment: term.merging(["NO_COLOR": "1"]) { $1 }, isTerminal: both)
                .coloursOutput)
        // no-color.org: set and empty does not count.
        XCTAssertTrue(
            TerminalPolicy(quiet: false, environment: term.merging(["NO_COLOR": ""]) { $1 }, isTerminal: both)
                .coloursOutput)
        let dumb = TerminalPolicy(quiet: false, environment: ["TERM": "dumb"], isTerminal: both)
        XCTAssertEqual(dumb, TerminalPolicy(showsProgress: true, erasesWithEscape: false, coloursOutput: false))
        XCTAssertFalse(TerminalPolicy(quiet: false, environment: [:], isTerminal: both).coloursOutput)
    }

    func testColourGoesAroundNeutralizedPiecesOnly() {
        let pieces = [
            StyledText("from evil\u{1B}[2J.ldif; "), StyledText("3 findings", .bold), StyledText(" ("),
            StyledText("1 critical", .severity(.critical)), StyledText(", "), StyledText("2 info", .severity(.info)),
            StyledText(")"),
        ]
        XCTAssertEqual(
            StyledText.render(pieces, colour: false), "from evil\\e[2J.ldif; 3 findings (1 critical, 2 info)")
        XCTAssertEqual(
            StyledText.render(pieces, colour: true),
            "from evil\\e[2J.ldif; \u{1B}[1m3 findings\u{1B}[0m (\u{1B}[1;31m1 critical\u{1B}[0m, 2 info)")
    }
}

/// A clock the test moves by hand.
final class FakeClock: @unchecked Sendable {
    var now: Double = 0
}
