import Codecs
import Foundation
import UntrustedInput

/// Delivers to an SMTP server: EHLO, STARTTLS, AUTH, MAIL FROM, RCPT TO, DATA, QUIT.
///
/// The certificate is verified by default (system CA paths, or `caFile` alone) including the host
/// name; AUTH is only sent over TLS unless `allowInsecureAuth` says otherwise, and the password never
/// reaches an error or the trace. Each read and write waits at most `timeout` seconds, and the
/// whole delivery, from the connect to the reply after the message, ends at `deadline`.
public struct SMTPTransport: MailTransport, Sendable {
    public enum Security: String, Sendable, CaseIterable {
        /// Plain SMTP, then STARTTLS before anything else is sent (submission, port 587).
        case startTLS = "starttls"
        /// TLS from the first byte (SMTPS, port 465).
        case implicitTLS = "tls"
        /// No encryption (a relay on localhost or an internal port 25).
        case none
    }

    public var host: String
    public var port: Int
    public var security: Security
    /// Refuse a certificate that does not chain to a trusted CA or does not name `host`.
    public var verifyCertificate: Bool
    /// PEM file of the CAs to trust instead of the system's.
    public var caFile: String?
    public var username: String?
    public var password: [UInt8]?
    /// Send AUTH over a connection without TLS; off, because the password would cross the network in clear.
    public var allowInsecureAuth: Bool
    /// Seconds to wait for a connection, a reply or a write; 0 < timeout <= one day.
    public var timeout: Double
    /// Seconds the whole delivery may take (connect, TLS, AUTH, the message, its reply); after that
    /// it is given up as `.timeout`. 0 < deadline <= one day.
    ///
    /// The timeout alone bounds one wait, not a server that answers every wait in time with a
    /// single byte. The default, five minutes, carries the largest mail (about 20 MB once the
    /// attachments are encoded) over a link of 0.6 Mbit/s and still ends a stalled nightly job
    /// within minutes, not hours.
    public var deadline: Double
    /// The default `deadline`, in seconds.
    public static let defaultDeadline: Double = 300
    /// The name we greet with (EHLO); the host's name by default.
    public var heloName: String
    /// Receives the conversation line by line (`C: MAIL FROM:<a@x>`, `S: 250 2.1.0 Ok`) for a debug
    /// log; AUTH lines are redacted, the message itself is not repeated, and the server's lines come
    /// through `TerminalText.escaped`.
    public var trace: (@Sendable (String) -> Void)?

    /// `port` defaults to 587 for STARTTLS, 465 for implicit TLS and 25 without TLS.
    public init(
        host: String, port: Int? = nil, security: Security = .startTLS, verifyCertificate: Bool = true,
        caFile: String? = nil, username: String? = nil, password: [UInt8]? = nil, allowInsecureAuth: Bool = false,
        timeout: Double = 30, deadline: Double = SMTPTransport.defaultDeadline, heloName: String? = nil,
        trace: (@Sendable (String) -> Void)? = nil
    ) {
        self.host = host
        self.port = port ?? (security == .startTLS ? 587 : security == .implicitTLS ? 465 : 25)
        self.security = security
        self.verifyCertificate = verifyCertificate
        self.caFile = caFile
        self.username = username
        self.password = password
        self.allowInsecureAuth = allowInsecureAuth
        self.timeout = timeout
        self.deadline = deadline
        self.heloName = heloName ?? SMTPTransport.localHostName()
        self.trace = trace
    }

    var target: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// What `send` refuses before it connects: a timeout or deadline out of bounds, a password for a
    /// connection without TLS (unless allowed), a user name without a password. A frontend calls it
    /// when the settings are read, before the audit.
    public func validate() throws(DeliveryError) {
        try DeliveryTimeLimit.check(timeout, "SMTP timeout", target: target)
        try DeliveryTimeLimit.check(deadline, "SMTP deadline", target: target)
        if username != nil && security == .none && !allowInsecureAuth {
            throw DeliveryError(
                .insecureAuthRefused,
                reason:
                    "refusing to send the SMTP password over an unencrypted connection; use STARTTLS (port 587) or implicit TLS (port 465)",
                target: target)
        }
        if username != nil && password == nil {
            throw DeliveryError(.authFailed, reason: "a user name was given without a password", target: target)
        }
    }

    public func send(_ message: [UInt8], from sender: String, to recipients: [String]) throws(DeliveryError) {
        try validate()
        try Envelope.check(sender, role: "sender", target: target)
        guard !recipients.isEmpty else {
            throw DeliveryError(.invalidEnvelope, reason: "the message has no recipient", target: target)
        }
        for recipient in recipients { try Envelope.check(recipient, role: "recipient", target: target) }
        try withSIGPIPEBlocked { () throws(DeliveryError) in
            let budget = IOBudget(timeout: timeout, deadline: deadline, target: target)
            let connection = try SMTPConnection(host: host, port: port, budget: budget)
            trace?("connected to \(connection.target)")
            do throws(DeliveryError) {
                try session(connection, message: message, sender: sender, recipients: recipients)
            } catch {
                // The server is still talking to us after a refusal; say goodbye before closing.
                if error.code == .smtpRejected || error.code == .authFailed { _ = try? command(connection, "QUIT") }
                throw error
            }
        }
    }

    private func session(_ connection: SMTPConnection, message: [UInt8], sender: String, recipients: [String])
        throws(DeliveryError)
    {
        if security == .implicitTLS {
            try connection.startTLS(verifyCertificate: verifyCertificate, caFile: caFile)
            trace?("TLS established")
        }
        let greeting: SMTPReply
        do {
            greeting = try connection.readReply(to: "the connection greeting")
        } catch  where error.code == .timeout && security != .implicitTLS && connection.budget.remaining > 0 {
            // Silence (not a stall at the deadline) is what a plain client meets on an implicit-TLS port.
            throw DeliveryError(
                .timeout,
                reason: error.reason + "; if this port expects TLS from the first byte (465), use implicit TLS",
                target: error.target)
        }
        record(greeting)
        guard greeting.code == 220 else { throw rejected("the connection greeting", greeting) }

        var extensions = try hello(connection)
        if security == .startTLS {
            guard extensions.keys.contains("STARTTLS") else {
                throw DeliveryError(
                    .tlsFailed,
                    reason:
                        "the server does not offer STARTTLS; use implicit TLS if it listens for it (port 465), or no TLS for a trusted relay",
                    target: connection.target)
            }
            let reply = try command(connection, "STARTTLS")
            guard reply.code == 220 else {
                throw DeliveryError(
                    .tlsFailed, reason: "the server refused STARTTLS", target: connection.target, command: "STARTTLS",
                    replyCode: reply.code, replyText: reply.text)
            }
            try connection.refuseDataAfterSTARTTLS()
            try connection.startTLS(verifyCertificate: verifyCertificate, caFile: caFile)
            trace?("TLS established")
            extensions = try hello(connection)
        }
        if let username, let password {
            try authenticate(connection, extensions: extensions, username: username, password: password)
        }

        try expect(connection, "MAIL FROM:<\(sender)>")
        for recipient in recipients { try expect(connection, "RCPT TO:<\(recipient)>") }
        let reply = try command(connection, "DATA")
        guard reply.code == 354 else { throw rejected("DATA", reply) }
        let data = SMTPTransport.dotStuffed(message)
        trace?("C: <message, \(data.count) bytes>")
        try connection.write(data, what: "the message")
        let accepted = try connection.readReply(to: "the end of the message")
        record(accepted)
        guard accepted.code == 250 else { throw rejected("the end of the message (DATA)", accepted) }
        // Delivered; a failing QUIT changes nothing.
        _ = try? command(connection, "QUIT")
    }

    /// EHLO (HELO if the server does not know it); the extensions keyed by upper-cased name.
    private func hello(_ connection: SMTPConnection) throws(DeliveryError) -> [String: [String]] {
        let reply = try command(connection, "EHLO \(heloName)")
        if reply.code == 250 {
            var extensions: [String: [String]] = [:]
            for line in reply.lines.dropFirst() {
                // "AUTH=PLAIN LOGIN" is an old spelling of "AUTH PLAIN LOGIN".
                let words = line.replacingOccurrences(of: "=", with: " ").split(separator: " ").map(String.init)
                guard let name = words.first else { continue }
                extensions[name.uppercased(), default: []] += words.dropFirst().map { $0.uppercased() }
            }
            return extensions
        }
        let fallback = try command(connection, "HELO \(heloName)")
        guard fallback.code == 250 else { throw rejected("HELO \(heloName)", fallback) }
        return [:]
    }

    private func authenticate(
        _ connection: SMTPConnection, extensions: [String: [String]], username: String, password: [UInt8]
    ) throws(DeliveryError) {
        if !connection.isEncrypted && !allowInsecureAuth {
            throw DeliveryError(
                .insecureAuthRefused, reason: "refusing to send the SMTP password without TLS; use STARTTLS",
                target: connection.target)
        }
        guard let mechanisms = extensions["AUTH"] else {
            throw DeliveryError(
                .authFailed,
                reason:
                    "the server does not offer AUTH on this connection; leave out the user name or use another port",
                target: connection.target)
        }
        var reply: SMTPReply
        if mechanisms.contains("PLAIN") {
            var line = SMTPTransport.authPlainLine(username: username, password: password)
            defer { Base64.wipe(&line) }
            trace?("C: AUTH PLAIN <redacted>")
            try connection.write(line, what: "AUTH PLAIN")
            reply = try connection.readReply(to: "AUTH PLAIN")
            record(reply)
        } else if mechanisms.contains("LOGIN") {
            reply = try command(connection, "AUTH LOGIN")
            if reply.code == 334 {
                trace?("C: <user name>")
                try connection.write(Base64.line(Array(username.utf8)), what: "the AUTH LOGIN user name")
                reply = try connection.readReply(to: "the AUTH LOGIN user name")
                record(reply)
            }
            if reply.code == 334 {
                var line = Base64.line(password)
                defer { Base64.wipe(&line) }
                trace?("C: <password>")
                try connection.write(line, what: "the AUTH LOGIN password")
                reply = try connection.readReply(to: "the AUTH LOGIN password")
                record(reply)
            }
        } else {
            throw DeliveryError(
                .authFailed,
                reason:
                    "the server offers AUTH \(mechanisms.joined(separator: " ")), none of which TrustAudit speaks (PLAIN, LOGIN)",
                target: connection.target)
        }
        guard reply.code == 235 else {
            throw DeliveryError(
                .authFailed,
                reason: "the server refused the login for \(username); check the user name and the password",
                target: connection.target, command: "AUTH", replyCode: reply.code, replyText: reply.text)
        }
    }

    /// `AUTH PLAIN <base64 of NUL user NUL password>` and CRLF, in one buffer the caller wipes.
    ///
    /// Built in place (capacity reserved, the clear-text `NUL user NUL password` wiped here) so no
    /// copy of the secret is left behind in this process's own buffers; see `Base64.wipe` for what
    /// stays out of reach.
    static func authPlainLine(username: String, password: [UInt8]) -> [UInt8] {
        var secret: [UInt8] = []
        secret.reserveCapacity(username.utf8.count + password.count + 2)
        secret.append(0)
        secret += username.utf8
        secret.append(0)
        secret += password
        defer { Base64.wipe(&secret) }
        let prefix = Array("AUTH PLAIN ".utf8)
        var line: [UInt8] = []
        line.reserveCapacity(prefix.count + Base64.encodedCount(secret.count) + 2)
        line += prefix
        Base64.encode(secret, into: &line)
        line += [13, 10]
        return line
    }

    // MARK: Commands

    private func command(_ connection: SMTPConnection, _ line: String) throws(DeliveryError) -> SMTPReply {
        trace?("C: " + line)
        try connection.write(Array((line + "\r\n").utf8), what: line)
        let reply = try connection.readReply(to: line)
        record(reply)
        return reply
    }

    private func expect(_ connection: SMTPConnection, _ line: String) throws(DeliveryError) {
        let reply = try command(connection, line)
        guard reply.isPositive else { throw rejected(line, reply) }
    }

    private func rejected(_ command: String, _ reply: SMTPReply) -> DeliveryError {
        let temporary = reply.code >= 400 && reply.code < 500
        return DeliveryError(
            .smtpRejected,
            reason: "the server refused \(command)"
                + (temporary ? " for now (a temporary failure; try again later)" : ""),
            target: target, command: command, replyCode: reply.code, replyText: reply.text)
    }

    private func record(_ reply: SMTPReply) {
        guard let trace else { return }
        for (index, line) in reply.lines.enumerated() {
            trace("S: \(reply.code)\(index + 1 == reply.lines.count ? " " : "-")\(TerminalText.escaped(line))")
        }
    }

    /// The DATA payload: CRLF line ends (bare CR or LF become CRLF), a dot doubled at the start of a
    /// line, and the terminating CRLF.CRLF.
    static func dotStuffed(_ message: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + message.count / 64 + 8)
        var atLineStart = true
        var index = 0
        while index < message.count {
            let byte = message[index]
            let lineEnd = ASCII.lineEndLength(message, at: index)
            if lineEnd > 0 {
                out += [13, 10]
                atLineStart = true
                index += lineEnd
                continue
            }
            if atLineStart && byte == 46 { out.append(46) }
            out.append(byte)
            atLineStart = false
            index += 1
        }
        if !atLineStart { out += [13, 10] }
        out += [46, 13, 10]
        return out
    }

    /// This host's name as the system gives it (`gethostname`), nil when it cannot; the one place that asks.
    public static func systemHostName() -> String? {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return nil }
        return cString(name)
    }

    private static func localHostName() -> String {
        guard let hostName = systemHostName() else { return "localhost" }
        let usable = !hostName.isEmpty && hostName.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F }
        return usable ? hostName : "localhost"
    }
}

/// Delivery's name for the shared codec, so the transport and its tests write `Base64.line`.
typealias Base64 = Codecs.Base64

/// The AUTH exchange's base64: lines sized up front and wiped afterwards, for credentials.
extension Codecs.Base64 {
    /// The base64 of `bytes` and CRLF, in one buffer sized up front (a line of an AUTH exchange).
    static func line(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(encodedCount(bytes.count) + 2)
        encode(bytes, into: &out)
        out += [13, 10]
        return out
    }

    /// Overwrites a buffer that held a secret.
    ///
    /// Best effort, and only for the buffers this file builds: the caller's `password` array stays
    /// the caller's (the CLI keeps it for the run), and OpenSSL's record buffers and the kernel's
    /// socket buffers are out of reach. It shortens how long the secret sits in this process's
    /// heap; it does not keep it out of a core dump taken during AUTH.
    static func wipe(_ bytes: inout [UInt8]) {
        for index in bytes.indices { bytes[index] = 0 }
    }
}
