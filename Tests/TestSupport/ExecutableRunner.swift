import Foundation

/// What a finished child process left behind.
public struct ProcessOutcome: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs the executables SwiftPM built, the way a user or cron would: real argv, real environment,
/// stdout and stderr kept apart. Shared by the CLI and integration tests.
public enum ExecutableRunner {
    /// The checkout this test code was built from; the tests run with it as working directory so
    /// the executable finds `Templates/` as `make demo` does.
    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // TestSupport
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    /// A product SwiftPM built beside the test bundle (`trustaudit`, `trustaudit-sample`).
    public static func product(_ name: String) -> URL {
        #if os(macOS)
            for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
                return bundle.bundleURL.deletingLastPathComponent().appendingPathComponent(name)
            }
            fatalError("no .xctest bundle loaded")
        #else
            return Bundle.main.bundleURL.appendingPathComponent(name)
        #endif
    }

    public static var trustaudit: URL { product("trustaudit") }

    /// Runs `executable` to completion. `environment` entries override the test process's own; a
    /// nil value removes the variable.
    public static func run(
        _ executable: URL, _ arguments: [String], environment: [String: String?] = [:]
    ) throws -> ProcessOutcome {
        let running = try start(executable, arguments, environment: environment)
        running.process.waitUntilExit()
        return try running.outcome()
    }

    /// A child that was started and may still be running.
    public struct Running {
        public let process: Process
        let stdout: URL
        let stderr: URL

        /// What the child printed so far and its status; call after `process.waitUntilExit()`.
        public func outcome() throws -> ProcessOutcome {
            defer {
                try? FileManager.default.removeItem(at: stdout)
                try? FileManager.default.removeItem(at: stderr)
            }
            return ProcessOutcome(
                status: process.terminationStatus, stdout: try String(contentsOf: stdout, encoding: .utf8),
                stderr: try String(contentsOf: stderr, encoding: .utf8))
        }
    }

    /// Starts `executable` without waiting, for tests that act while it runs (stopping a DC mid-search).
    public static func start(_ executable: URL, _ arguments: [String], environment: [String: String?] = [:]) throws
        -> Running
    {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = repositoryRoot
        var merged = ProcessInfo.processInfo.environment
        for (name, value) in environment { merged[name] = value }
        process.environment = merged
        process.standardInput = FileHandle.nullDevice
        // Files, not pipes: a chatty child can never block on a full pipe while we wait for it.
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("trustaudit-run-\(UUID().uuidString)")
        let stdout = capture.appendingPathExtension("out")
        let stderr = capture.appendingPathExtension("err")
        for url in [stdout, stderr] where !FileManager.default.createFile(atPath: url.path, contents: nil) {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = try FileHandle(forWritingTo: stderr)
        try process.run()
        return Running(process: process, stdout: stdout, stderr: stderr)
    }
}
