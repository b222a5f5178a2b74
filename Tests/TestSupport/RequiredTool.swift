import Foundation
import XCTest

/// A program a test drives that a laptop may lack (script, python3 with a module): found on PATH,
/// or a skip with the reason printed; under CI=true a failure instead, so CI cannot pass by skipping.
public enum RequiredTool {
    /// The first of `names` that is an executable, as an absolute path or on PATH.
    public static func find(
        _ names: [String], package: String, file: StaticString = #filePath, line: UInt = #line
    ) throws -> URL {
        let environment = ProcessInfo.processInfo.environment
        let path = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        for name in names {
            let candidates = name.hasPrefix("/") ? [name] : path.map { "\($0)/\(name)" }
            if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
                return URL(fileURLWithPath: found)
            }
        }
        try unavailable(
            "no \(names.joined(separator: " or ")) found (apt-get install \(package))", file: file, line: line)
    }

    /// Skips the test with `reason` printed, or fails it under CI=true.
    public static func unavailable(_ reason: String, file: StaticString = #filePath, line: UInt = #line) throws -> Never
    {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            XCTFail("\(reason); CI=true requires this test to run", file: file, line: line)
        } else {
            Swift.print("skipped: \(reason)")
        }
        throw XCTSkip(reason, file: file, line: line)
    }
}
