import Audit
import Foundation
import XCTest

@testable import Reporting

/// Opens report.html, filled with hostile directory values, in headless Chromium: it must render,
/// show the hostile values as text, and make no network request.
///
/// Skipped (with the reason printed) when no Chromium is installed, unless CI=true, where a missing
/// browser fails the test. `CHROMIUM` names the binary when it is not on PATH. The screenshot and PDF
/// of the last run stay in `$TMPDIR/trustaudit-browser-check/` for a human to look at.
final class BrowserRenderTests: XCTestCase {
    static let hostileFindings: [Finding] =
        Fixtures.findings + [
            Finding(
                rule: "stale-password", severity: .medium, account: "\"><img src=x onerror=alert(1)>",
                distinguishedName: "CN=<link rel=stylesheet href=http://evil.example/x.css>,DC=corp,DC=example",
                message:
                    "<iframe src=\"https://evil.example/frame\"></iframe><style>@import url(http://evil.example/i.css);</style>",
                remediation: "</pre><script src=\"http://evil.example/s.js\"></script><script>alert(2)</script>"),
            Finding(
                rule: "missing-account", severity: .high,
                account: "<svg onload=alert(3)><a href=\"http://evil.example/\">x</a>",
                distinguishedName: nil, message: "<meta http-equiv=\"refresh\" content=\"0;url=http://evil.example/\">",
                remediation: "New-ADComputer -Name 'x'"),
        ]

    func testHostileReportRendersAsTextWithoutNetwork() throws {
        let chromium = try Self.findChromium()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "trustaudit-browser-check", isDirectory: true)
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)

        var result = Fixtures.result(Self.hostileFindings)
        result.summary.source = "<script>alert('source')</script>.ldif"
        let changes = FindingChanges(result: result, baseline: try NightlyFixtures.baseline())
        let writer = try ReportWriter(templatesDirectory: Fixtures.templatesDirectory)
        _ = try writer.write(result, formats: [.html], to: directory, changes: changes)
        let page = directory.appendingPathComponent("report.html")

        let profile = directory.appendingPathComponent("profile-\(UUID().uuidString)")
        let netLog = directory.appendingPathComponent("netlog.json")
        let common = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--user-data-dir=\(profile.path)", "--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=1200,2000",
        ]
        defer { try? FileManager.default.removeItem(at: profile) }

        let png = directory.appendingPathComponent("report.png")
        let shot = try Self.run(
            chromium, common + ["--log-net-log=\(netLog.path)", "--screenshot=\(png.path)", page.absoluteString])
        XCTAssertEqual(shot.status, 0, shot.stderr)
        let image = try Data(contentsOf: png)
        XCTAssertEqual(Array(image.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG")
        XCTAssertGreaterThan(image.count, 30_000, "a rendered page, not a blank one")
        // IHDR: width and height, big-endian, at bytes 16..<24.
        let width = image[16..<20].reduce(0) { $0 << 8 | Int($1) },
            height = image[20..<24].reduce(0) { $0 << 8 | Int($1) }
        XCTAssertEqual(width, 1200)
        XCTAssertEqual(height, 2000)

        let pdf = directory.appendingPathComponent("report.pdf")
        let print = try Self.run(
            chromium, common + ["--no-pdf-header-footer", "--print-to-pdf=\(pdf.path)", page.absoluteString])
        XCTAssertEqual(print.status, 0, print.stderr)
        let document = try Data(contentsOf: pdf)
        XCTAssertEqual(String(decoding: document.prefix(5), as: UTF8.self), "%PDF-")
        XCTAssertGreaterThan(document.count, 20_000)

        let dump = try Self.run(chromium, common + ["--dump-dom", page.absoluteString])
        XCTAssertEqual(dump.status, 0, dump.stderr)
        let dom = dump.stdout
        XCTAssertTrue(dom.contains("<h1"), "the page was parsed: \(dom.prefix(300))")
        XCTAssertTrue(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;$"), "hostile account shown as text")
        XCTAssertTrue(
            dom.contains("&lt;/pre&gt;&lt;script src=\"http://evil.example/s.js\"&gt;"), "hostile fix shown as text")
        XCTAssertTrue(dom.contains("&lt;iframe src=\"https://evil.example/frame\"&gt;"))
        XCTAssertTrue(dom.contains("&lt;script&gt;alert('source')&lt;/script&gt;.ldif"))
        XCTAssertTrue(dom.contains(">NEW</span>"))
        XCTAssertTrue(dom.contains("Resolved since 2026-11-23T00:00:00Z"))

        let tags = Self.tags(in: dom)
        XCTAssertFalse(tags.isEmpty)
        for forbidden in ["script", "img", "iframe", "link", "meta http-equiv", "svg onload", "object", "embed"] {
            XCTAssertFalse(
                tags.contains { $0.lowercased().hasPrefix("<" + forbidden) }, "a <\(forbidden)> element in the DOM")
        }
        for tag in tags {
            let lower = tag.lowercased()
            XCTAssertFalse(lower.contains(" src="), "element with src: \(tag)")
            XCTAssertFalse(
                lower.contains(" on") && lower.range(of: #"\son[a-z]+="#, options: .regularExpression) != nil,
                "event handler: \(tag)")
            if let range = lower.range(of: "href=") {
                let value = lower[range.upperBound...].drop { $0 == "\"" || $0 == "'" }
                XCTAssertTrue(value.hasPrefix("#"), "only in-page links: \(tag)")
            }
        }

        // The net log records every request the page made; none may go to the hosts the values name.
        let log = (try? String(contentsOf: netLog, encoding: .utf8)) ?? ""
        XCTAssertFalse(log.contains("evil.example"), "the page requested a hostile URL")
        Swift.print(
            "browser check: screenshot \(png.path) (\(image.count) bytes), PDF \(pdf.path) (\(document.count) bytes)")
    }

    /// Start tags as written in the serialized DOM (text is escaped there, so `<` starts a tag).
    static func tags(in dom: String) -> [String] {
        var tags: [String] = []
        var rest = dom[...]
        while let open = rest.firstIndex(of: "<") {
            guard let close = rest[open...].firstIndex(of: ">") else { break }
            let tag = String(rest[open...close])
            if let first = tag.dropFirst().first, first.isLetter { tags.append(tag) }
            rest = rest[rest.index(after: close)...]
        }
        return tags
    }

    static func findChromium() throws -> URL {
        let environment = ProcessInfo.processInfo.environment
        var candidates: [String] = []
        if let explicit = environment["CHROMIUM"], !explicit.isEmpty { candidates.append(explicit) }
        let path = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
            candidates += path.map { "\($0)/\(name)" }
        }
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            return URL(fileURLWithPath: found)
        }
        let reason =
            "no Chromium found (looked for chromium, chromium-browser, google-chrome on PATH; set CHROMIUM=/path/to/chromium)"
        if environment["CI"] == "true" {
            XCTFail("\(reason); CI=true requires the browser check (apt-get install chromium)")
            throw XCTSkip(reason)
        }
        Swift.print("BrowserRenderTests skipped: \(reason)")
        throw XCTSkip(reason)
    }

    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the browser with a 90 s limit; output goes to files so a chatty browser never blocks on a pipe.
    static func run(_ executable: URL, _ arguments: [String]) throws -> Outcome {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["DBUS_SESSION_BUS_ADDRESS"] = "disabled:"
        process.environment = environment
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent(
            "trustaudit-chromium-\(UUID().uuidString)")
        let outURL = capture.appendingPathExtension("out"), errURL = capture.appendingPathExtension("err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let stdout = try FileHandle(forWritingTo: outURL), stderr = try FileHandle(forWritingTo: errURL)
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(90)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            XCTFail("chromium did not finish within 90 s: \(arguments.joined(separator: " "))")
        }
        try stdout.close()
        try stderr.close()
        return Outcome(
            status: process.terminationStatus, stdout: try String(contentsOf: outURL, encoding: .utf8),
            stderr: try String(contentsOf: errURL, encoding: .utf8))
    }
}
