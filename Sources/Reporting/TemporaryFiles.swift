import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The hidden files this process created in the output directory and must not outlive it.
///
/// computers.csv is streamed to `.computers.csv.tmp-PID` for the whole audit, so a run stopped by
/// SIGTERM (a cron timeout, a shutdown) or Ctrl-C would leave up to 2 GB behind. Every temporary
/// and backup is registered here, created and renamed under one lock, so that whoever stops the
/// process (`removeAllForExit()`, called from the CLI's signal thread) sees a consistent list:
/// a file is either registered and removable, or not created yet, or already renamed into place.
/// The commit of a report set holds the same lock, so a signal during the renames waits for them
/// instead of leaving a set mixed from two runs.
public final class TemporaryFiles: @unchecked Sendable {
    /// The one registry of this process; the CLI's signal thread empties it.
    public static let shared = TemporaryFiles()

    /// Recursive: the commit holds it around renames that unregister files.
    private let lock = NSRecursiveLock()
    private var paths: Set<String> = []

    init() {}

    /// The files registered now, for tests.
    public var registered: Set<String> {
        lock.lock()
        defer { lock.unlock() }
        return paths
    }

    /// Registers `path`, then runs `create`, which makes the file, under the lock, so a signal
    /// arriving in between cannot miss it. `create` returns false (or throws) when it made nothing,
    /// and the path is unregistered again.
    func create<Result>(_ path: String, _ create: () throws -> (made: Bool, result: Result)) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        paths.insert(path)
        do {
            let outcome = try create()
            if !outcome.made { paths.remove(path) }
            return outcome.result
        } catch {
            paths.remove(path)
            throw error
        }
    }

    /// Forgets `path`: it was renamed into place or removed.
    func unregister(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        paths.remove(path)
    }

    /// Removes `path` and forgets it.
    func remove(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        unlink(path)
        paths.remove(path)
    }

    /// Runs `body` (a commit's renames) so that `removeAllForExit()` waits until it is done.
    func withCommitLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Removes every registered file and keeps the lock, so nothing is created or renamed after;
    /// for a process that ends right after (on SIGINT, SIGTERM, SIGHUP). Returns the paths removed.
    @discardableResult
    public func removeAllForExit() -> [String] {
        lock.lock()
        let removed = paths.sorted().filter { unlink($0) == 0 }
        paths.removeAll()
        // The lock is kept on purpose: the caller ends the process while holding it, so a thread that
        // would create or rename a report next blocks until then.
        return removed
    }
}
