import Foundation
import TestSupport
import XCTest

/// The files `make install` ships as examples (dist/): the README shows them as they are, systemd
/// accepts the units, and trustaudit accepts the configuration.
final class ShippedFilesTests: XCTestCase {
    static let root = ExecutableRunner.repositoryRoot
    static let units = ["trustaudit.service", "trustaudit.timer", "trustaudit-failure@.service"]

    func readme() throws -> String {
        try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
    }

    func shipped(_ path: String) throws -> String {
        try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
    }

    /// The fenced block that follows `marker` in the README.
    func readmeBlock(after marker: String) throws -> String {
        let readme = try readme()
        let start = try XCTUnwrap(readme.range(of: marker), "the README no longer shows \(marker)")
        let rest = readme[start.upperBound...]
        let open = try XCTUnwrap(rest.range(of: "```"))
        let body = try XCTUnwrap(rest[open.upperBound...].firstIndex(of: "\n"))
        let close = try XCTUnwrap(rest[body...].range(of: "\n```\n"))
        return String(rest[rest.index(after: body)..<close.lowerBound]) + "\n"
    }

    func testREADMEShowsTheShippedUnitsAndConfiguration() throws {
        for unit in Self.units {
            XCTAssertEqual(
                try readmeBlock(after: "`/etc/systemd/system/\(unit)`"), try shipped("dist/systemd/\(unit)"),
                "README and dist/systemd/\(unit) differ")
        }
        XCTAssertEqual(try readmeBlock(after: "## Configuration file"), try shipped("dist/trustaudit.json"))
    }

    /// The example configuration is one trustaudit accepts (an unknown key would be exit 2).
    func testTheExampleConfigurationLoads() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("trustaudit-config-\(UUID())")
        defer { try? FileManager.default.removeItem(at: output) }
        let outcome = try ExecutableRunner.run(
            ExecutableRunner.trustaudit,
            [
                "audit", "--ldif", Self.root.appendingPathComponent("Samples/corp.example.ldif").path,
                "--config", Self.root.appendingPathComponent("dist/trustaudit.json").path,
                "--now", "2026-11-24T00:00:00Z", "--format", "json", "--output", output.path, "--quiet",
            ])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let json = try JSONSerialization.jsonObject(
            with: Data(contentsOf: output.appendingPathComponent("findings.json")))
        let summary = try XCTUnwrap((json as? [String: Any])?["summary"] as? [String: Any])
        XCTAssertEqual(summary["stalePasswordDays"] as? Int, 60)
    }

    /// `systemd-analyze verify`, which loads the units as systemd would and checks that every
    /// command exists: on copies whose ExecStart names the built binary in place of
    /// /usr/local/bin/trustaudit (the Debian package test verifies the installed ones unchanged).
    func testSystemdAcceptsTheUnits() throws {
        let analyze = try RequiredTool.path("systemd-analyze", package: "systemd")
        _ = try RequiredTool.path("kinit", package: "krb5-user")  // ExecStartPre
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("trustaudit-units-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        func write(_ units: [String: String]) throws -> [String] {
            try units.map { name, text in
                let url = directory.appendingPathComponent(name)
                try text.write(to: url, atomically: true, encoding: .utf8)
                return url.path
            }.sorted()
        }
        var units: [String: String] = [:]
        for unit in Self.units {
            units[unit] = try shipped("dist/systemd/\(unit)")
        }
        let service = units["trustaudit.service"]!
        XCTAssertEqual(service.components(separatedBy: "ExecStart=/usr/local/bin/trustaudit audit").count, 2)
        units["trustaudit.service"] = service.replacingOccurrences(
            of: "/usr/local/bin/trustaudit", with: ExecutableRunner.trustaudit.path)

        let verified = try ExecutableRunner.run(URL(fileURLWithPath: analyze), ["verify"] + write(units))
        XCTAssertEqual(verified.status, 0, verified.stderr)
        XCTAssertEqual(verified.stderr, "", "systemd-analyze verify found something in dist/systemd")

        // The check can fail: a misspelt directive is reported.
        units["trustaudit.timer"] = units["trustaudit.timer"]!.replacingOccurrences(
            of: "OnCalendar=", with: "OnCalender=")
        let misspelt = try ExecutableRunner.run(URL(fileURLWithPath: analyze), ["verify"] + write(units))
        XCTAssertTrue(misspelt.stderr.contains("OnCalender"), "systemd-analyze did not notice a misspelt key")
    }
}
