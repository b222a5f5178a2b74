import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Delivers through the local MTA: runs `sendmail -t -oi` and writes the message to its stdin.
///
/// `-t` takes the recipients from the message's To header, `-oi` keeps a line holding a single dot
/// from ending the message. A program that is missing, exits non-zero, or is still running after
/// `timeout` seconds is a `DeliveryError` carrying its exit status and what it printed.
///
/// The program gets only the environment it needs (`childEnvironment(_:)`): never the LDAP or
/// SMTP password the job was started with, which `TRUSTAUDIT_PASSWORD` and
/// `TRUSTAUDIT_SMTP_PASSWORD` carry, nor anything else a cron line or a wrapper put there.
public struct SendmailTransport: MailTransport, Sendable {
    public var path: String
    /// Seconds the program may take, all told, to read the message and exit; it is killed (SIGKILL)
    /// afterwards and the delivery is a `.timeout`. A deadline, not a per-read wait: a program that
    /// reads a byte at a time is bounded too. 0 < timeout <= one day.
    public var timeout: Double

    public init(path: String = "/usr/sbin/sendmail", timeout: Double = 120) {
        self.path = path
        self.timeout = timeout
    }

    public func send(_ message: [UInt8], from sender: String, to recipients: [String]) throws(DeliveryError) {
        try validate()
        try withSIGPIPEBlocked { () throws(DeliveryError) in try run(message) }
    }

    /// What `send` refuses before it starts the program: a timeout out of bounds, a program that is
    /// missing or not executable. A frontend calls it when the settings are read, before the audit.
    public func validate() throws(DeliveryError) {
        try DeliveryTimeLimit.check(timeout, "sendmail timeout", target: path)
        guard access(path, X_OK) == 0 else {
            let exists = access(path, F_OK) == 0
            throw DeliveryError(
                .sendmailMissing,
                reason: exists
                    ? "\(path) is not executable; name the MTA's sendmail program instead"
                    : "\(path) does not exist; install an MTA (postfix, msmtp-mta, ssmtp) or deliver by SMTP instead",
                target: path)
        }
    }

    private func run(_ message: [UInt8]) throws(DeliveryError) {
        // Both pipes are close-on-exec (pipe2 is not visible from Swift's Glibc); posix_spawn's dup2 gives the child its own stdin/stderr copies.
        var input: [Int32] = [-1, -1]
        var output: [Int32] = [-1, -1]
        guard pipe(&input) == 0 else { throw failure("cannot create a pipe: \(errnoText())") }
        guard pipe(&output) == 0 else {
            close(input[0])
            close(input[1])
            throw failure("cannot create a pipe: \(errnoText())")
        }
        for descriptor in input + output { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, output[1], 2)

        let arguments = [path, "-t", "-oi"]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        var environment: [UnsafeMutablePointer<CChar>?] =
            SendmailTransport.childEnvironment(SendmailTransport.currentEnvironment()).map { strdup($0) } + [nil]
        defer { for pointer in environment { free(pointer) } }
        let spawnError = posix_spawn(&pid, path, &actions, nil, &argv, &environment)
        // The child holds its own copies now; ours of the child's ends are closed here, ours of the
        // parent's ends (input[1], output[0]) by `exchange` below.
        close(input[0])
        close(output[1])
        guard spawnError == 0 else {
            close(input[1])
            close(output[0])
            let code: DeliveryError.Code =
                spawnError == ENOENT || spawnError == EACCES ? .sendmailMissing : .sendmailFailed
            throw DeliveryError(
                code, reason: "cannot start \(path): \(String(cString: strerror(spawnError)))", target: path)
        }

        let (printed, exited) = exchange(message, pid: pid, writeFD: input[1], readFD: output[0])
        var status: Int32 = 0
        if let exited {
            status = exited
        } else {
            kill(pid, SIGKILL)
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        }
        let text = String(decoding: printed, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if exited == nil {
            throw DeliveryError(
                .timeout, reason: "\(path) did not finish within \(DeliveryTimeLimit.describe(timeout)) and was killed",
                target: path,
                output: text.isEmpty ? nil : text)
        }
        let signal = status & 0x7F
        let exitStatus = signal == 0 ? (status >> 8) & 0xFF : 128 + signal
        if exitStatus != 0 {
            let how = signal == 0 ? "exited with status \(exitStatus)" : "was killed by signal \(signal)"
            throw DeliveryError(
                .sendmailFailed, reason: "\(path) \(how); the message was not accepted", target: path,
                exitStatus: exitStatus, output: text)
        }
    }

    /// Writes the message and collects the program's output until it exits or the timeout passes;
    /// returns its wait status (nil on timeout) and closes both descriptors.
    ///
    /// The loop watches the process, not the pipes' end: a sendmail that forks a background
    /// delivery may leave a child holding stderr open long after it exited itself.
    private func exchange(_ message: [UInt8], pid: pid_t, writeFD: Int32, readFD: Int32) -> (
        output: [UInt8], status: Int32?
    ) {
        var writeFD = writeFD
        var readFD = readFD
        _ = fcntl(writeFD, F_SETFL, fcntl(writeFD, F_GETFL) | O_NONBLOCK)
        _ = fcntl(readFD, F_SETFL, fcntl(readFD, F_GETFL) | O_NONBLOCK)
        defer {
            if writeFD >= 0 { close(writeFD) }
            if readFD >= 0 { close(readFD) }
        }
        var written = 0
        var printed: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = monotonicSeconds() + timeout
        func drain() {
            while readFD >= 0 {
                let count = read(readFD, &buffer, buffer.count)
                if count > 0 {
                    if printed.count < 65536 { printed += buffer[0..<count] }
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    if count == 0 || errno != EAGAIN {
                        close(readFD)
                        readFD = -1
                    }
                    return
                }
            }
        }
        while true {
            if writeFD >= 0 && written == message.count {
                close(writeFD)
                writeFD = -1
            }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                drain()
                return (printed, status)
            }
            if monotonicSeconds() >= deadline { return (printed, nil) }
            var fds = [
                pollfd(fd: writeFD, events: Int16(POLLOUT), revents: 0),
                pollfd(fd: readFD, events: Int16(POLLIN), revents: 0),
            ]
            _ = poll(&fds, 2, 50)
            if writeFD >= 0 && fds[0].revents != 0 {
                let count = message.withUnsafeBytes { bytes in
                    write(writeFD, bytes.baseAddress! + written, min(bytes.count - written, 65536))
                }
                if count > 0 {
                    written += count
                } else if count < 0 && errno != EAGAIN && errno != EINTR {
                    written = message.count  // EPIPE: the program stopped reading; its status says why.
                }
            }
            if readFD >= 0 && fds[1].revents != 0 { drain() }
        }
    }

    /// The variables the program may inherit: its search path, and how to show text and times.
    ///
    /// - `PATH`: a sendmail wrapper finds its helpers (Postfix's `postdrop`, msmtp's `sh`) through it.
    /// - `LANG`, `LANGUAGE`, `LC_*`, `TZ`: the language and time zone of what it prints and stamps.
    /// - `HOME`: msmtp, esmtp and other relay-only sendmails read their account from `~/.msmtprc`
    ///   and the like; without it they fall back to a different file or none.
    /// - `MAIL_CONFIG`: selects the configuration directory of a second Postfix instance (postmulti).
    ///
    /// Nothing else: an allowlist, not a blocklist, because a secret's name cannot be guessed.
    static let inheritedNames: Set<String> = ["PATH", "HOME", "LANG", "LANGUAGE", "TZ", "MAIL_CONFIG"]

    /// The search path the program gets when the job itself has none (a bare cron environment).
    static let defaultPath = "/usr/sbin:/usr/bin:/sbin:/bin"

    /// The program's environment (`NAME=value` strings) built from `parent` through `inheritedNames`.
    ///
    /// A `TRUSTAUDIT_*` variable or one whose name mentions a password is never passed on, even
    /// should the allowlist grow to match it.
    static func childEnvironment(_ parent: [String]) -> [String] {
        var child: [String] = []
        var hasPath = false
        for entry in parent {
            guard let equals = entry.firstIndex(of: "=") else { continue }
            let name = String(entry[..<equals])
            let upper = name.uppercased()
            guard inheritedNames.contains(name) || name.hasPrefix("LC_") else { continue }
            guard !upper.hasPrefix("TRUSTAUDIT_") && !upper.contains("PASSWORD") && !upper.contains("PASSWD")
            else { continue }
            if name == "PATH" { hasPath = true }
            child.append(entry)
        }
        if !hasPath { child.append("PATH=" + defaultPath) }
        return child
    }

    /// This process's environment as `NAME=value` strings, read from `environ`.
    static func currentEnvironment() -> [String] {
        var entries: [String] = []
        var cursor = environ
        while let entry = cursor.pointee {
            entries.append(String(cString: entry))
            cursor += 1
        }
        return entries
    }

    private func failure(_ reason: String) -> DeliveryError {
        DeliveryError(.sendmailFailed, reason: reason, target: path)
    }
}

func errnoText() -> String { String(cString: strerror(errno)) }

func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// The text of a NUL-terminated C buffer.
func cString(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}
