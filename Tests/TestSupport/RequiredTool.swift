import Foundation
import XCTest

/// A program a test needs that a laptop may lack (groff, mandoc, systemd-analyze, dpkg, lintian).
///
/// Outside CI the test is skipped with the reason; under CI=true the same call records a failure,
/// because CI installs everything `scripts/install-deps test` names.
public enum RequiredTool {
    /// Why a test cannot run here.
    public struct Unavailable: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// The program's path, from PATH or the usual system directories; otherwise a skip that names
    /// the Debian package to install (a failure under CI=true).
    public static func path(
        _ name: String, package: String, file: StaticString = #filePath, line: UInt = #line
    ) throws -> String {
        let searched = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        let directories = searched + ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]
        if let found = directories.map({ "\($0)/\(name)" }).first(where: FileManager.default.isExecutableFile) {
            return found
        }
        throw unavailable("no \(name) on this machine (apt-get install \(package))", file: file, line: line)
    }

    /// The error that ends a test that cannot run here: `XCTSkip` with the reason, or under CI=true a
    /// recorded failure.
    public static func unavailable(_ reason: String, file: StaticString = #filePath, line: UInt = #line) -> any Error {
        if isCI {
            XCTFail("\(reason); CI=true requires this test", file: file, line: line)
            return Unavailable(reason: reason)
        }
        return XCTSkip(reason, file: file, line: line)
    }
}
