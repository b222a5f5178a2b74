import Foundation
import TestSupport
import XCTest

/// The built `trustaudit` under a real pseudo-terminal (script(1) from util-linux's bsdutils), and
/// the same runs with stderr in a file: progress and colour appear only where they belong.
final class TerminalRunTests: XCTestCase {
    static let now = "2026-11-24T00:00:00Z"
    /// The SGR (colour) sequences the summary may use; ESC [ K (erase) is not one of them.
    static let colour = try! NSRegularExpression(pattern: "\u{1B}\\[[0-9;]*m")

    /// A 20,000-computer export (about 25 MB), big enough that even a debug build reads it for
    /// more than a quarter of a second, the progress line's first redraw. Made once per run.
    nonisolated(unsafe) static var bigExport: URL?

    var workDirectory: URL!

    override func setUpWithError() throws {
        workDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("trustaudit-tty-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: workDirectory)
    }

    static func export() throws -> URL {
        if let bigExport, FileManager.default.fileExists(atPath: bigExport.path) { return bigExport }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "trustaudit-tty-export-\(ProcessInfo.processInfo.processIdentifier)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("big.ldif")
        let made = try ExecutableRunner.run(
            ExecutableRunner.product("trustaudit-sample"),
            [
                "--computers", "20000", "--seed", "7", "--now", now, "--inventory",
                directory.appendingPathComponent("inventory.txt").path, "--output", file.path,
            ])
        XCTAssertEqual(made.status, 0, made.stderr)
        bigExport = file
        return file
    }

    /// Runs `trustaudit arguments` with stdout and stderr on one pseudo-terminal; returns what the
    /// terminal received (script's stdout) and the exit status.
    func underTerminal(_ arguments: [String], environment: [String: String?] = [:]) throws -> ProcessOutcome {
        let script = URL(fileURLWithPath: try RequiredTool.path("script", package: "bsdutils"))
        let command = ([ExecutableRunner.trustaudit.path] + arguments).map(Self.shellQuoted).joined(separator: " ")
        // -q no banner, -f flush at once, -e the child's exit status, -c the command; the typescript to /dev/null.
        var merged: [String: String?] = ["TERM": "xterm", "NO_COLOR": nil, "SHELL": "/bin/sh"]
        for (name, value) in environment { merged[name] = value }
        return try ExecutableRunner.run(script, ["-qfec", command, "/dev/null"], environment: merged)
    }

    static func shellQuoted(_ word: String) -> String { "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    func audit(_ ldif: String, _ extra: [String] = []) -> [String] {
        ["audit", "--ldif", ldif, "--now", Self.now, "--output", workDirectory.appendingPathComponent("out").path]
            + extra
    }

    func hasColour(_ text: String) -> Bool {
        Self.colour.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    func testOnATerminalTheLDIFReadShowsProgressThenAColouredSummary() throws {
        let ldif = try Self.export().path
        let started = Date()
        let run = try underTerminal(audit(ldif))
        let seconds = Date().timeIntervalSince(started)
        XCTAssertEqual(run.status, 0, run.stdout)
        let screen = run.stdout
        // Redrawn in place: carriage return, the text, erase to the end of the line.
        let progress = try NSRegularExpression(
            pattern:
                "\rtrustaudit: [0-9.]+ of 24\\.7 MiB read \\([0-9]+%\\), [0-9,]+ accounts/s, (about [0-9a-z ]+|under 1 s) left\u{1B}\\[K"
        )
        let redraws = progress.numberOfMatches(in: screen, range: NSRange(screen.startIndex..., in: screen))
        XCTAssertGreaterThan(redraws, 0, "no progress line on the terminal: \(screen.debugDescription)")
        // Cleared before the summary, which starts a clean line.
        let summary = try XCTUnwrap(screen.range(of: "trustaudit: 20000 computer accounts audited"), screen)
        XCTAssertTrue(screen[..<summary.lowerBound].hasSuffix("\r\u{1B}[K"), "the progress line was not cleared")
        XCTAssertFalse(screen[summary.lowerBound...].contains("MiB read"), "progress after the summary")
        // Colour: the total in bold, high in red.
        XCTAssertTrue(screen.contains("\u{1B}[1m6107 findings\u{1B}[0m"), screen)
        XCTAssertTrue(screen.contains("\u{1B}[31m2116 high\u{1B}[0m"), screen)
        // At most four redraws a second, the first a quarter of a second in.
        XCTAssertLessThanOrEqual(redraws, Int(seconds * 4), "\(redraws) redraws in \(seconds) s")
        Swift.print("progress redrawn \(redraws) times in \(String(format: "%.1f", seconds)) s")
    }

    func testNoProgressAndNoColourWhenStderrAndStdoutAreFiles() throws {
        let ldif = try Self.export().path
        let run = try ExecutableRunner.run(ExecutableRunner.trustaudit, audit(ldif), environment: ["TERM": "xterm"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stderr, "", "stderr is a file: no progress line")
        XCTAssertFalse(run.stdout.contains("\u{1B}"), run.stdout)
        XCTAssertFalse(run.stdout.contains("\r"), run.stdout)
        XCTAssertTrue(run.stdout.contains("6107 findings (2116 high, 2142 medium, 1849 low)"), run.stdout)
        // The generator's 20,000 accounts exercise most rules: their findings.json matches the schema.
        try FindingsSchema.assertValid([workDirectory.appendingPathComponent("out/findings.json")])
    }

    func testQuietOnATerminalShowsNoProgress() throws {
        let ldif = try Self.export().path
        let run = try underTerminal(audit(ldif, ["--quiet"]))
        XCTAssertEqual(run.status, 0, run.stdout)
        XCTAssertEqual(run.stdout, "", "--quiet on a terminal printed: \(run.stdout.debugDescription)")
    }

    func testNoColorAndADumbTerminalGetNoColour() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/small-domain.ldif").path
        let coloured = try underTerminal(audit(fixture))
        XCTAssertEqual(coloured.status, 0, coloured.stdout)
        XCTAssertTrue(hasColour(coloured.stdout), "no colour on a terminal: \(coloured.stdout.debugDescription)")

        for environment: [String: String?] in [["NO_COLOR": "1"], ["TERM": "dumb"]] {
            let plain = try underTerminal(audit(fixture), environment: environment)
            XCTAssertEqual(plain.status, 0, plain.stdout)
            XCTAssertTrue(plain.stdout.contains("computer accounts audited"), plain.stdout)
            XCTAssertFalse(hasColour(plain.stdout), "\(environment): \(plain.stdout.debugDescription)")
        }
    }

    func testNoColorKeepsTheProgressLine() throws {
        let ldif = try Self.export().path
        let run = try underTerminal(audit(ldif), environment: ["NO_COLOR": "1"])
        XCTAssertEqual(run.status, 0, run.stdout)
        XCTAssertTrue(run.stdout.contains("MiB read ("), "NO_COLOR is about colour, not progress: \(run.stdout)")
        XCTAssertFalse(hasColour(run.stdout), run.stdout.debugDescription)
    }
}
