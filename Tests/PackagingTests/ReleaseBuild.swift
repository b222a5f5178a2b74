import Foundation
import TestSupport
import XCTest

/// `make` in the checkout, for the tests that install what a release build made.
///
/// They share one build directory, `.build-packaging` (not .build: the `swift test` running them
/// holds .build's lock), so the release build is made once and reused by the install and the
/// package test, and by the next run.
enum ReleaseBuild {
    static let root = ExecutableRunner.repositoryRoot
    static let scratch = root.appendingPathComponent(".build-packaging", isDirectory: true)

    /// Runs `make ARGUMENTS SCRATCH=...` in the checkout; a failure is the test's, with make's output.
    @discardableResult
    static func make(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> ProcessOutcome
    {
        let make = try RequiredTool.path("make", package: "make", file: file, line: line)
        return try ExecutableRunner.run(
            URL(fileURLWithPath: make), ["-C", root.path] + arguments + ["SCRATCH=\(scratch.path)"])
    }

    /// Builds the release binary `make install` installs, or ends the test: skipped where a static
    /// release build cannot be made (not Linux, or the toolchain lacks the static runtime), and a
    /// failure under CI=true.
    static func require(file: StaticString = #filePath, line: UInt = #line) throws {
        #if !os(Linux)
            throw RequiredTool.unavailable(
                "make install links the Swift runtime statically, which only Linux toolchains offer", file: file,
                line: line)
        #endif
        let built = try make(["install-binary"], file: file, line: line)
        guard built.status == 0 else {
            let tail = (built.stdout + built.stderr).split(separator: "\n").suffix(15).joined(separator: "\n")
            throw RequiredTool.unavailable(
                "make install-binary failed (status \(built.status)):\n\(tail)", file: file, line: line)
        }
    }

    /// Runs a program as cron or a login would: `env -i` with only `environment`, in `directory`.
    static func runClean(
        _ command: [String], in directory: URL, environment: [String] = []
    ) throws -> ProcessOutcome {
        try ExecutableRunner.run(
            URL(fileURLWithPath: "/usr/bin/env"), ["-i", "-C", directory.path] + environment + command)
    }

    /// The `findings` of a findings.json, and its summary's count.
    static func findings(in reports: URL) throws -> (count: Int, findings: [[String: Any]]) {
        let data = try Data(contentsOf: reports.appendingPathComponent("findings.json"))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let summary = try XCTUnwrap(json["summary"] as? [String: Any])
        return (try XCTUnwrap(summary["findings"] as? Int), try XCTUnwrap(json["findings"] as? [[String: Any]]))
    }

    /// Every regular file and symlink below `directory`, as paths relative to it, sorted.
    static func files(under directory: URL) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory.path) else { return [] }
        var found: [String] = []
        while let relative = walker.nextObject() as? String {
            let type = walker.fileAttributes?[.type] as? FileAttributeType
            if type != .typeDirectory { found.append(relative) }
        }
        return found.sorted()
    }
}
