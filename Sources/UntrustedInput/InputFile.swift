#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a file the user named (configuration, inventory, password, CA bundle, template, baseline)
/// with a size cap chosen for its kind, and only if it is a regular file.
///
/// Without the cap a 1 GB one-line inventory grows to ten times that in memory before anything
/// says no, and `/dev/zero` never ends; without the regular-file check a FIFO blocks the nightly job
/// for ever. The file is opened non-blocking, so not even the open of a FIFO can hang, and it is
/// read to one byte past the cap, so a file that grows while it is read is refused too.
public enum InputFile {
    /// Caps by kind, generous for real use and far below what would hurt the machine.
    public enum Limit {
        /// A JSON configuration: thresholds and lists of names.
        public static let configuration = 4 << 20
        /// One machine name a line; a million names fit in about 20 MiB.
        public static let inventory = 128 << 20
        /// A password: AD allows 256 UTF-16 characters, at most 1 KiB in UTF-8.
        public static let password = 4 << 10
        /// A PEM bundle; Debian's whole ca-certificates.crt is about 220 KiB.
        public static let certificateBundle = 16 << 20
        /// One HTML or text template.
        public static let template = 4 << 20
    }

    /// The whole file, or a typed error naming the file, what it was for, and what to do.
    /// - Parameter kind: what the file is, as the user would say it ("inventory", "password file").
    public static func read(_ path: String, kind: String, limit: Int) throws(InputFileError) -> [UInt8] {
        let descriptor = try open(path, kind: kind, limit: limit)
        defer { close(descriptor) }
        return try read(descriptor, path: path, kind: kind, limit: limit)
    }

    /// The rest of an open file (from `open`), with `read`'s errors; the descriptor stays open.
    public static func read(_ descriptor: Int32, path: String, kind: String, limit: Int) throws(InputFileError)
        -> [UInt8]
    {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { posixRead(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw InputFileError(.unreadable, path: path, kind: kind, reason: String(cString: strerror(errno)))
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > limit {
                throw InputFileError(
                    .tooLarge, path: path, kind: kind,
                    reason: "it is larger than \(describe(limit)), the most a \(kind) may be")
            }
        }
        return bytes
    }

    /// The file read as UTF-8 text (invalid sequences become U+FFFD).
    public static func readText(_ path: String, kind: String, limit: Int) throws(InputFileError) -> String {
        String(decoding: try read(path, kind: kind, limit: limit), as: UTF8.self)
    }

    /// Checks a file that another library will open by its path (a CA bundle for libldap).
    public static func validate(_ path: String, kind: String, limit: Int) throws(InputFileError) {
        close(try open(path, kind: kind, limit: limit))
    }

    /// The file opened for reading, checked as `read` checks it, for a reader that keeps it open
    /// and reads it in pieces (the baseline findings.json); the caller closes the descriptor.
    public static func open(_ path: String, kind: String, limit: Int) throws(InputFileError) -> Int32 {
        let descriptor = posixOpen(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard descriptor >= 0 else {
            let code: InputFileError.Code = errno == ENOENT || errno == ENOTDIR ? .notFound : .unreadable
            throw InputFileError(code, path: path, kind: kind, reason: String(cString: strerror(errno)))
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw InputFileError(.unreadable, path: path, kind: kind, reason: reason)
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw InputFileError(
                .notRegularFile, path: path, kind: kind,
                reason: "it is \(fileType(status.st_mode)), not a regular file; give the path of a regular file")
        }
        guard Int(status.st_size) <= limit else {
            close(descriptor)
            throw InputFileError(
                .tooLarge, path: path, kind: kind,
                reason:
                    "it is \(describe(Int(status.st_size))), more than \(describe(limit)), the most a \(kind) may be")
        }
        // Regular files never block; clear O_NONBLOCK anyway so a read is an ordinary read.
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        return descriptor
    }

    private static func fileType(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }

    /// `4 KiB`, `128 MiB`: sizes as an admin reads them.
    public static func describe(_ bytes: Int) -> String {
        if bytes >= 1 << 30, bytes % (1 << 30) == 0 { return "\(bytes >> 30) GiB" }
        if bytes >= 1 << 20 { return bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes / (1 << 20)) MiB" }
        if bytes >= 1 << 10 { return bytes % (1 << 10) == 0 ? "\(bytes >> 10) KiB" : "\(bytes / (1 << 10)) KiB" }
        return "\(bytes) bytes"
    }
}

/// Why a named input file was refused. Equality compares the code only, so tests assert the kind of failure.
public struct InputFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case notFound = "file-not-found"
        case notRegularFile = "not-a-regular-file"
        case tooLarge = "file-too-large"
        case unreadable = "file-unreadable"
    }

    public let code: Code
    public let path: String
    /// What the file is for ("inventory", "password file").
    public let kind: String
    public let reason: String

    public init(_ code: Code, path: String, kind: String, reason: String) {
        self.code = code
        self.path = path
        self.kind = kind
        self.reason = reason
    }

    public var description: String {
        "\(kind) \(TerminalText.escaped(path)): \(code == .notFound ? "no such file" : reason) [\(code.rawValue)]"
    }

    public static func == (lhs: InputFileError, rhs: InputFileError) -> Bool { lhs.code == rhs.code }
}

// File-scope wrappers: inside `InputFile` the names `read` and `open` are its own methods.
private func posixRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

private func posixOpen(_ path: String, _ flags: Int32) -> Int32 {
    open(path, flags)
}
