import COpenSSL
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One TCP connection to an SMTP server, optionally wrapped in TLS; owns the socket and the SSL
/// handles and frees them in `deinit`.
///
/// The socket is non-blocking from the connect on: every read and write waits through `budget`,
/// so no single wait outlasts the timeout and the whole exchange never outlasts the deadline.
///
/// Not `Sendable`: one session uses it from one thread, start to finish.
final class SMTPConnection {
    let host: String
    let port: Int
    let budget: IOBudget
    private var socket: Int32
    private var tls: TLSSession?
    private var buffer: [UInt8] = []
    private var bufferStart = 0

    var target: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    var isEncrypted: Bool { tls != nil }

    /// Resolves `host` and connects to the first address that answers within the budget's
    /// timeout (and before its deadline). The name lookup itself is the resolver's and not bounded.
    init(host: String, port: Int, budget: IOBudget) throws(DeliveryError) {
        self.host = host
        self.port = port
        self.budget = budget
        let target = budget.target

        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        hints.ai_flags = AI_ADDRCONFIG
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &list)
        guard resolved == 0, let first = list else {
            throw DeliveryError(
                .smtpConnectFailed,
                reason: "cannot resolve \(host): \(String(cString: gai_strerror(resolved))); check the SMTP host name",
                target: target)
        }
        defer { freeaddrinfo(list) }

        var failures: [String] = []
        var timedOut = false
        var entry: UnsafeMutablePointer<addrinfo>? = first
        var connected: Int32 = -1
        while let current = entry, connected < 0 {
            entry = current.pointee.ai_next
            let address = SMTPConnection.numericHost(current.pointee.ai_addr, current.pointee.ai_addrlen)
            let wait = min(budget.timeout, budget.remaining)
            if wait <= 0 { throw budget.deadlineExceeded(while: "connecting") }
            switch SMTPConnection.connect(current.pointee, timeout: wait) {
            case .success(let descriptor): connected = descriptor
            case .failure(let error):
                if error == ETIMEDOUT { timedOut = true }
                failures.append(
                    "\(address): \(error == ETIMEDOUT ? "no answer" : String(cString: strerror(error.code)))")
            }
        }
        guard connected >= 0 else {
            throw DeliveryError(
                timedOut && failures.count == 1 ? .timeout : .smtpConnectFailed,
                reason:
                    "cannot connect to \(target) (\(failures.joined(separator: "; "))); check the host, the port and the firewall",
                target: target)
        }
        socket = connected
    }

    deinit {
        tls?.shutdown()
        tls = nil
        close(socket)
    }

    /// A non-blocking connect that waits at most `timeout` seconds; the socket stays non-blocking.
    /// On failure the socket is closed here.
    private static func connect(_ info: addrinfo, timeout: Double) -> Result<Int32, Errno> {
        #if canImport(Glibc)
            let type = info.ai_socktype | Int32(SOCK_CLOEXEC.rawValue)
        #else
            let type = info.ai_socktype
        #endif
        let descriptor = Glibc.socket(info.ai_family, type, info.ai_protocol)
        guard descriptor >= 0 else { return .failure(Errno(errno)) }
        let flags = fcntl(descriptor, F_GETFL)
        _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
        if Glibc.connect(descriptor, info.ai_addr, info.ai_addrlen) != 0 {
            guard errno == EINPROGRESS else {
                let error = errno
                close(descriptor)
                return .failure(Errno(error))
            }
            var watch = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            let deadline = monotonicSeconds() + timeout
            var ready: Int32 = 0
            repeat {
                let remaining = deadline - monotonicSeconds()
                if remaining <= 0 { break }
                ready = poll(&watch, 1, IOBudget.milliseconds(remaining))
            } while ready < 0 && errno == EINTR
            guard ready > 0 else {
                close(descriptor)
                return .failure(Errno(ETIMEDOUT))
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else {
                close(descriptor)
                return .failure(Errno(error))
            }
        }
        return .success(descriptor)
    }

    private static func numericHost(_ address: UnsafeMutablePointer<sockaddr>?, _ length: socklen_t) -> String {
        var name = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard let address, getnameinfo(address, length, &name, socklen_t(name.count), nil, 0, NI_NUMERICHOST) == 0
        else { return "?" }
        return cString(name)
    }

    // MARK: TLS

    /// Refuses to go on when the server has already sent more than its `220` reply to STARTTLS.
    ///
    /// Those bytes came in clear text, yet would be read as the first replies under TLS: the
    /// STARTTLS response injection of RFC 3207 section 6 (CVE-2011-0411), where a man in the middle
    /// appends forged replies to the real `220`. No well-behaved server sends anything before the
    /// client's first handshake message, so there is nothing to wait for or to tolerate. Bytes still
    /// in the kernel's buffer count too (a peek, nothing is consumed).
    func refuseDataAfterSTARTTLS() throws(DeliveryError) {
        var peeked: UInt8 = 0
        let pending = recv(socket, &peeked, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        let buffered = buffer.count - bufferStart
        guard buffered > 0 || pending > 0 else { return }
        throw DeliveryError(
            .tlsFailed,
            reason: "the server sent \(buffered > 0 ? "\(buffered) more bytes" : "more data") after its 220 reply to "
                + "STARTTLS, before the TLS handshake; refusing, because clear-text bytes would pass for replies "
                + "sent under TLS (a STARTTLS response injection, RFC 3207 section 6); check for a proxy or "
                + "middlebox between this host and the server",
            target: target, command: "STARTTLS")
    }

    /// Runs the TLS handshake on the open socket (after STARTTLS, or at once for implicit TLS).
    func startTLS(verifyCertificate: Bool, caFile: String?) throws(DeliveryError) {
        // Read bytes are clear text and must not be reused under TLS; `refuseDataAfterSTARTTLS`
        // has said so with reasons already, this only keeps the invariant without a trap.
        guard bufferStart == buffer.count else {
            throw DeliveryError(
                .tlsFailed, reason: "clear-text bytes were read before the TLS handshake; refusing to start TLS",
                target: target)
        }
        tls = try TLSSession(
            socket: socket, host: host, verifyCertificate: verifyCertificate, caFile: caFile, budget: budget)
    }

    // MARK: Reading and writing

    func write(_ bytes: [UInt8], what: String) throws(DeliveryError) {
        var offset = 0
        while offset < bytes.count {
            try budget.check(while: "sending \(what)")
            let chunk = min(bytes.count - offset, 65536)
            let count: Int
            if let tls {
                count = try tls.write(bytes, offset: offset, count: chunk, what: what)
            } else {
                count = bytes.withUnsafeBytes { raw in
                    Glibc.send(socket, raw.baseAddress! + offset, chunk, Int32(MSG_NOSIGNAL))
                }
                if count < 0 {
                    if errno == EINTR { continue }
                    if errno == EAGAIN || errno == EWOULDBLOCK {
                        try budget.wait(socket, for: Int32(POLLOUT), while: "sending \(what)")
                        continue
                    }
                    throw ioError(errno, while: "sending \(what)")
                }
            }
            offset += count
        }
    }

    /// One line without its CRLF; lines longer than 4096 bytes are refused.
    func readLine(what: String) throws(DeliveryError) -> String {
        while true {
            if let end = buffer[bufferStart...].firstIndex(of: 10) {
                var line = buffer[bufferStart..<end]
                if line.last == 13 { line = line.dropLast() }
                bufferStart = end + 1
                if bufferStart > 65536 {
                    buffer.removeFirst(bufferStart)
                    bufferStart = 0
                }
                return String(decoding: line, as: UTF8.self)
            }
            if buffer.count - bufferStart > 4096 {
                throw DeliveryError(
                    .smtpRejected, reason: "the server sent a reply line longer than 4096 bytes to \(what)",
                    target: target, command: what)
            }
            try budget.check(while: "waiting for the reply to \(what)")
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count: Int
            if let tls {
                count = try tls.read(&chunk, what: what)
            } else {
                count = recv(socket, &chunk, chunk.count, 0)
                if count < 0 {
                    if errno == EINTR { continue }
                    if errno == EAGAIN || errno == EWOULDBLOCK {
                        try budget.wait(socket, for: Int32(POLLIN), while: "waiting for the reply to \(what)")
                        continue
                    }
                    throw ioError(errno, while: "waiting for the reply to \(what)")
                }
            }
            if count == 0 {
                throw DeliveryError(
                    .smtpConnectFailed,
                    reason: "the server closed the connection while waiting for the reply to \(what)",
                    target: target, command: what)
            }
            buffer += chunk[0..<count]
        }
    }

    /// A whole reply: `250-first`, `250-...`, `250 last`.
    func readReply(to what: String) throws(DeliveryError) -> SMTPReply {
        var lines: [String] = []
        while true {
            let line = try readLine(what: what)
            let bytes = Array(line.utf8)
            guard bytes.count >= 3, bytes[0..<3].allSatisfy({ $0 >= 48 && $0 <= 57 }),
                bytes.count == 3 || bytes[3] == 32 || bytes[3] == 45,
                let code = Int(String(line.prefix(3)))
            else {
                throw DeliveryError(
                    .smtpRejected, reason: "the server's reply to \(what) is not SMTP: \"\(line.prefix(200))\"",
                    target: target, command: what)
            }
            lines.append(bytes.count > 4 ? String(line.dropFirst(4)) : "")
            if bytes.count == 3 || bytes[3] == 32 { return SMTPReply(code: code, lines: lines) }
            if lines.count > 1000 {
                throw DeliveryError(
                    .smtpRejected, reason: "the server's reply to \(what) does not end", target: target, command: what)
            }
        }
    }

    func ioError(_ error: Int32, while doing: String) -> DeliveryError {
        if error == ETIMEDOUT { return budget.timedOut(while: doing) }
        return DeliveryError(
            .smtpConnectFailed,
            reason: "the connection to \(target) failed while \(doing): \(String(cString: strerror(error)))",
            target: target)
    }
}

struct Errno: Error, Equatable {
    let code: Int32
    init(_ code: Int32) { self.code = code }
    static func == (lhs: Errno, rhs: Int32) -> Bool { lhs.code == rhs }
}

/// A complete SMTP reply.
struct SMTPReply {
    let code: Int
    let lines: [String]
    var text: String { lines.joined(separator: "\n") }
    var isPositive: Bool { code >= 200 && code < 400 }
}
