import Directory
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One run at a time in an output directory: an exclusive `flock(2)` on `OUTPUT/.trustaudit.lock`.
///
/// Two runs into one directory (a manual run while cron's is going, a slow night overlapping the
/// next) would each commit their own set, and the reports could end up mixed from both. The lock is
/// taken before anything there is read (the baseline) or written. flock rather than a PID file:
/// the kernel releases it when the holder dies however it dies (SIGKILL, OOM), so there is no stale
/// lock to break. The file holds the holder's PID and start time, only for the message a second
/// run shows. It is deleted on release, while still locked, so a clean run leaves no trace; a
/// waiter that then gets the lock on the deleted file notices (its inode is no longer the path's)
/// and tries again on a new one. Not `Sendable`: owned by the run that took it.
public final class OutputLock {
    public static let fileName = ".trustaudit.lock"
    /// The wait is bounded, so a stuck run cannot make every later cron job wait forever.
    public static let maximumWait: TimeInterval = 86_400

    /// The run that holds (or held) a lock, as its lock file says.
    public struct Holder: Sendable, Equatable {
        public var pid: pid_t?
        /// ISO 8601 UTC, as the holder wrote it.
        public var since: String?

        /// "PID 1234, since 2026-12-01T02:00:00Z", or what is known of it.
        public var description: String {
            switch (pid, since) {
            case (let pid?, let since?): return "PID \(pid), since \(since)"
            case (let pid?, nil): return "PID \(pid)"
            default: return "a run that has not recorded its PID yet"
            }
        }

        /// Parses `1234 2026-12-01T02:00:00Z`; anything else gives an unknown holder.
        static func parse(_ text: String) -> Holder {
            let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
            guard let first = fields.first, let pid = pid_t(first), pid > 0 else { return Holder() }
            let since = fields.count > 1 ? String(fields[1]) : nil
            // The file is in a directory others may write to: keep only what a timestamp can hold.
            let safe = since.flatMap { text in
                text.count <= 32 && text.allSatisfy({ $0.isASCII && ($0.isNumber || "-:TZ.".contains($0)) })
                    ? text : nil
            }
            return Holder(pid: pid, since: safe)
        }
    }

    /// The lock file.
    public let path: URL
    private var descriptor: Int32
    /// The directory did not exist before this run: a run that wrote nothing removes it again.
    private let createdDirectory: Bool
    private let registry: TemporaryFiles

    private init(path: URL, descriptor: Int32, createdDirectory: Bool, registry: TemporaryFiles) {
        self.path = path
        self.descriptor = descriptor
        self.createdDirectory = createdDirectory
        self.registry = registry
    }

    deinit { release() }

    /// Takes the lock on `directory` (created if missing), waiting up to `wait` seconds for a run
    /// that holds it. Throws `output-locked` naming the holder when it is still held then, and
    /// `output-directory-unusable` when the lock file cannot be created or locked.
    public static func acquire(
        _ directory: URL, waitingUpTo wait: TimeInterval = 0, startedAt start: Date = Date()
    ) throws -> OutputLock {
        try acquire(directory, waitingUpTo: wait, startedAt: start, registry: .shared)
    }

    static func acquire(
        _ directory: URL, waitingUpTo wait: TimeInterval = 0, startedAt start: Date, registry: TemporaryFiles
    ) throws -> OutputLock {
        let path = directory.appendingPathComponent(fileName)
        let deadline = Date().addingTimeInterval(min(max(wait, 0), maximumWait))
        let existed = FileManager.default.fileExists(atPath: directory.path)
        while true {
            // Again on every try: a run that created the directory removes it when it wrote nothing.
            try ReportWriter.prepare(directory)
            let descriptor = open(path.path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
            guard descriptor >= 0 else {
                throw ReportError(
                    code: .outputDirectoryUnusable, path: path.path,
                    problem: "cannot create the lock file (\(String(cString: strerror(errno))))",
                    advice: .makeOutputDirectoryWritable)
            }
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 {
                guard isStillThePath(descriptor, path) else {
                    close(descriptor)
                    continue
                }
                let lock = OutputLock(
                    path: path, descriptor: descriptor, createdDirectory: !existed, registry: registry)
                lock.record(startedAt: start)
                return lock
            }
            let reason = errno
            guard reason == EWOULDBLOCK || reason == EAGAIN || reason == EINTR else {
                close(descriptor)
                throw ReportError(
                    code: .outputDirectoryUnusable, path: path.path,
                    problem:
                        "cannot lock the output directory (\(String(cString: strerror(reason)))); it may be on a file system without flock",
                    advice: .outputDirectoryOnLocalDisk)
            }
            let holder = readHolder(descriptor)
            close(descriptor)
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else {
                let waited = wait > 0 ? "waited \(Int(min(wait, maximumWait))) s, but " : ""
                throw ReportError(
                    code: .outputLocked, path: path.path,
                    problem:
                        "\(waited)another trustaudit run (\(holder.description)) is writing reports to \(directory.path)",
                    advice: .waitForTheOtherRun)
            }
            usleep(useconds_t(min(remaining, 0.1) * 1_000_000))
        }
    }

    /// Unlocks and deletes the lock file; a directory this run created is removed if it stayed empty.
    public func release() {
        guard descriptor >= 0 else { return }
        // Deleted while still locked, so no other run can have locked this file yet.
        registry.remove(path.path)
        if createdDirectory { rmdir(path.deletingLastPathComponent().path) }
        close(descriptor)
        descriptor = -1
    }

    /// The holder named in a lock file, for tests and messages.
    public static func holder(of directory: URL) -> Holder {
        let descriptor = open(directory.appendingPathComponent(fileName).path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else { return Holder() }
        defer { close(descriptor) }
        return readHolder(descriptor)
    }

    private func record(startedAt start: Date) {
        // Registered so a run stopped by a signal deletes it too (it still holds the lock then).
        registry.create(path.path) { (true, ()) }
        let line = Array("\(getpid()) \(UTCTime.timestamp(start))\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = line.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    private static func readHolder(_ descriptor: Int32) -> Holder {
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return Holder() }
        return Holder.parse(String(decoding: buffer[..<count], as: UTF8.self))
    }

    /// Whether the locked descriptor is still the file at `path`, not one a previous holder deleted.
    private static func isStillThePath(_ descriptor: Int32, _ path: URL) -> Bool {
        var locked = stat()
        var current = stat()
        guard fstat(descriptor, &locked) == 0, lstat(path.path, &current) == 0 else { return false }
        return locked.st_dev == current.st_dev && locked.st_ino == current.st_ino
    }
}
