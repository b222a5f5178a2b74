import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a finished child process left behind.
public struct ProcessOutcome: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs the executables SwiftPM built, the way a user or cron would: real argv, real environment,
/// stdout and stderr kept apart. Shared by the CLI and integration tests.
public enum ExecutableRunner {
    /// The checkout this test code was built from.
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
        running.waitUntilExit()
        return try running.outcome()
    }

    /// A child that was started and may still be running.
    ///
    /// posix_spawn and waitpid rather than Foundation's Process: on Linux, Process.waitUntilExit
    /// was seen to stall for minutes after the child exited when the child left a daemon behind
    /// (scripts/testdc starting Samba).
    public final class Running: @unchecked Sendable {
        public let pid: pid_t
        let stdout: URL
        let stderr: URL
        private var status: Int32?

        init(pid: pid_t, stdout: URL, stderr: URL) {
            self.pid = pid
            self.stdout = stdout
            self.stderr = stderr
        }

        /// The exit status, or 128 + the signal that ended it.
        public func waitUntilExit() {
            guard status == nil else { return }
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
            // WIFEXITED / WEXITSTATUS / WTERMSIG are C macros Swift does not import.
            let signal = raw & 0x7f
            status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
        }

        /// What the child printed and its status; waits for it first.
        public func outcome() throws -> ProcessOutcome {
            waitUntilExit()
            defer {
                try? FileManager.default.removeItem(at: stdout)
                try? FileManager.default.removeItem(at: stderr)
            }
            return ProcessOutcome(
                status: status ?? -1, stdout: try String(contentsOf: stdout, encoding: .utf8),
                stderr: try String(contentsOf: stderr, encoding: .utf8))
        }
    }

    /// Starts `executable` without waiting, for tests that act while it runs (stopping a DC mid-search).
    /// Its stdin is /dev/null; it inherits the working directory (`swift test` runs in the checkout).
    public static func start(_ executable: URL, _ arguments: [String], environment: [String: String?] = [:]) throws
        -> Running
    {
        var merged = ProcessInfo.processInfo.environment
        for (name, value) in environment { merged[name] = value }
        // Files, not pipes: a chatty child can never block on a full pipe, and a daemon it leaves
        // behind cannot hold a pipe open.
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent(
            "trustaudit-run-\(UUID().uuidString)")
        let stdout = capture.appendingPathExtension("out")
        let stderr = capture.appendingPathExtension("err")

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable.path] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable.path, &actions, nil, argv, envp)
        guard spawned == 0 else {
            throw CocoaError(
                .executableLoad,
                userInfo: [
                    NSFilePathErrorKey: executable.path, NSLocalizedDescriptionKey: String(cString: strerror(spawned)),
                ])
        }
        return Running(pid: pid, stdout: stdout, stderr: stderr)
    }
}
