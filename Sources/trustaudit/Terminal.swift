import Audit
import Directory
import Foundation
import UntrustedInput

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What this run may do to the terminal: one policy for the LDIF and the live progress line and for
/// colour, decided once from the file descriptors and the environment.
///
/// A progress line is drawn only when stderr is a terminal and `--quiet` is not given: in a pipe, a
/// file or a cron mail, carriage returns and erase sequences are noise. Colour follows
/// https://no-color.org: never when `NO_COLOR` is set to anything but the empty string, never on a
/// `dumb` terminal (or with no `TERM` at all), never when the stream it would colour is not a terminal.
struct TerminalPolicy: Equatable {
    /// Draw a progress line on stderr.
    var showsProgress: Bool
    /// Whether the progress line may end with ESC [ K (erase to the end of the line); a dumb
    /// terminal gets spaces instead.
    var erasesWithEscape: Bool
    /// Colour the summary on stdout.
    var coloursOutput: Bool

    init(showsProgress: Bool, erasesWithEscape: Bool, coloursOutput: Bool) {
        self.showsProgress = showsProgress
        self.erasesWithEscape = erasesWithEscape
        self.coloursOutput = coloursOutput
    }

    /// The policy for this process: `isTerminal` says which of stdout (1) and stderr (2) are terminals.
    init(quiet: Bool, environment: [String: String], isTerminal: (Int32) -> Bool) {
        let term = environment["TERM"] ?? ""
        let capable = !term.isEmpty && term != "dumb"
        let noColour = !(environment["NO_COLOR"] ?? "").isEmpty
        showsProgress = !quiet && isTerminal(STDERR_FILENO)
        erasesWithEscape = capable
        coloursOutput = capable && !noColour && isTerminal(STDOUT_FILENO)
    }

    /// The policy for this process's own stdout, stderr and environment.
    static func forProcess(quiet: Bool) -> TerminalPolicy {
        TerminalPolicy(quiet: quiet, environment: ProcessInfo.processInfo.environment) { isatty($0) == 1 }
    }
}

/// The one line on stderr that a progress display redraws in place: `\r`, the text, then erase to
/// the end of the line. Every other message to stderr or stdout clears it first (`printError`,
/// `printOutput`), so a warning never lands in the middle of it and the summary starts on a clean line.
///
/// Locked: a Global Catalog read reports its pages from a reader thread.
final class StatusLine: @unchecked Sendable {
    static let shared = StatusLine()

    private let lock = NSLock()
    /// Columns of the text on screen now; 0 when nothing is shown.
    private var shownColumns = 0
    var erasesWithEscape = true
    /// Where the bytes go; stderr but in tests.
    var write: (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }

    /// Draws `text` (ours, ASCII, no directory text) over the line, cut to the terminal's width so it
    /// never wraps (a wrapped line cannot be redrawn with `\r`).
    func draw(_ text: String) {
        var line = text
        let width = Self.terminalColumns()
        if let width, width > 1, line.count >= width { line = String(line.prefix(width - 1)) }
        lock.lock()
        defer { lock.unlock() }
        if erasesWithEscape {
            write("\r" + line + "\u{1B}[K")
        } else {
            let padding = max(0, shownColumns - line.count)
            write("\r" + line + String(repeating: " ", count: padding))
        }
        shownColumns = line.count
    }

    /// Removes the line, leaving the cursor at the start of an empty line; nothing when none is shown.
    func clear() {
        lock.lock()
        defer { lock.unlock() }
        guard shownColumns > 0 else { return }
        write(erasesWithEscape ? "\r\u{1B}[K" : "\r" + String(repeating: " ", count: shownColumns) + "\r")
        shownColumns = 0
    }

    static func terminalColumns() -> Int? {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }
}

/// Lets a redraw through at most once per `interval` seconds, the first one `interval` after the
/// start: a read that ends within a quarter of a second shows no progress at all, and a fast one
/// cannot flood the terminal.
struct RedrawThrottle {
    var interval: Double = 0.25
    private(set) var lastDraw: Double

    init(start: Double, interval: Double = 0.25) {
        self.interval = interval
        lastDraw = start
    }

    /// True (and remembers `now`) when a redraw is due.
    mutating func allows(at now: Double) -> Bool {
        guard now - lastDraw >= interval else { return false }
        lastDraw = now
        return true
    }
}

/// The text of the progress lines: pure functions of the counts and the elapsed time, so the tests
/// pin every word. Nothing from the directory goes in (no names, no DNs): only numbers.
enum ProgressText {
    /// `trustaudit: 12.3 of 45.6 MiB read (27%), 4,520 accounts/s, about 8 s left`.
    static func ldif(_ progress: LDIFReadProgress, elapsed: Double) -> String {
        var line = "trustaudit: "
        let read = Double(progress.bytesRead)
        if let total = progress.totalBytes, total > 0 {
            let percent = min(100, progress.bytesRead * 100 / total)
            line += "\(mebibytes(progress.bytesRead)) of \(mebibytes(total)) MiB read (\(percent)%)"
        } else {
            line += "\(mebibytes(progress.bytesRead)) MiB read"
        }
        guard elapsed > 0 else { return line }
        line += ", \(grouped(Int((Double(progress.accountsRead) / elapsed).rounded()))) accounts/s"
        if let total = progress.totalBytes, total > progress.bytesRead, read > 0 {
            let left = Double(total - progress.bytesRead) / (read / elapsed)
            line += ", \(timeLeft(left))"
        }
        return line
    }

    /// `trustaudit: 12,000 entries read in 12 pages, 850 entries/s` (a live read has no total).
    static func live(pages: Int, entries: Int, elapsed: Double) -> String {
        var line = "trustaudit: \(grouped(entries)) entries read in \(pages) page\(pages == 1 ? "" : "s")"
        if elapsed > 0 { line += ", \(grouped(Int((Double(entries) / elapsed).rounded()))) entries/s" }
        return line
    }

    /// One decimal below 100 MiB, whole numbers above: `0.4`, `45.6`, `1234`.
    static func mebibytes(_ bytes: Int) -> String {
        let value = Double(bytes) / 1_048_576
        return value < 100 ? String(format: "%.1f", value) : String(Int(value.rounded()))
    }

    /// `4,520`: thousands grouped as the rest of the output writes them for people.
    static func grouped(_ number: Int) -> String {
        let digits = String(number.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return (number < 0 ? "-" : "") + out
    }

    /// `about 8 s left`, `about 2 min 05 s left`, `about 1 h 02 min left`; `under 1 s left` at the end.
    static func timeLeft(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds < 1e9 else { return "time left unknown" }
        if seconds < 0.5 { return "under 1 s left" }
        return "about \(duration(seconds)) left"
    }

    /// `8 s`, `2 min 05 s`, `1 h 02 min`.
    static func duration(_ seconds: Double) -> String {
        let whole = max(1, Int(seconds.rounded()))
        if whole < 60 { return "\(whole) s" }
        if whole < 3600 { return "\(whole / 60) min \(twoDigits(whole % 60)) s" }
        return "\(whole / 3600) h \(twoDigits(whole % 3600 / 60)) min"
    }

    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}

/// Draws a progress line from a reader's callbacks, throttled; the clock is injected for the tests.
final class ProgressReporter: @unchecked Sendable {
    private let lock = NSLock()
    private let clock: @Sendable () -> Double
    private let start: Double
    private var throttle: RedrawThrottle
    private let draw: (String) -> Void

    init(
        clock: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime },
        interval: Double = 0.25, draw: @escaping (String) -> Void = { StatusLine.shared.draw($0) }
    ) {
        self.clock = clock
        start = clock()
        throttle = RedrawThrottle(start: start, interval: interval)
        self.draw = draw
    }

    /// Draws `text(elapsed)` when a redraw is due; the text is only built then.
    func report(_ text: (Double) -> String) {
        lock.lock()
        defer { lock.unlock() }
        let now = clock()
        guard throttle.allows(at: now) else { return }
        draw(text(now - start))
    }

    func ldif(_ progress: LDIFReadProgress) {
        report { ProgressText.ldif(progress, elapsed: $0) }
    }

    func live(pages: Int, entries: Int) {
        report { ProgressText.live(pages: pages, entries: entries, elapsed: $0) }
    }
}

/// A piece of a line for stdout and how a colour terminal shows it.
struct StyledText: Equatable {
    enum Style: Equatable {
        case bold
        case severity(Severity)
    }

    var text: String
    var style: Style?

    init(_ text: String, _ style: Style? = nil) {
        self.text = text
        self.style = style
    }

    /// The pieces as one line: each piece neutralized (`TerminalText.neutralized`) before any escape
    /// sequence of ours is put around it, so colour never lets directory text act on the terminal.
    static func render(_ pieces: [StyledText], colour: Bool) -> String {
        pieces.map { piece in
            let text = TerminalText.neutralized(piece.text)
            guard colour, let style = piece.style, let code = sgr(style) else { return text }
            return "\u{1B}[\(code)m" + text + "\u{1B}[0m"
        }.joined()
    }

    /// Select Graphic Rendition codes: critical bold red, high red, medium yellow, low cyan, info plain.
    static func sgr(_ style: Style) -> String? {
        switch style {
        case .bold: return "1"
        case .severity(.critical): return "1;31"
        case .severity(.high): return "31"
        case .severity(.medium): return "33"
        case .severity(.low): return "36"
        case .severity(.info): return nil
        }
    }
}
