import Foundation
import UntrustedInput

/// Why a message was not handed over: a stable code, what the other side said, and what to do.
///
/// Equality compares `code` only, so tests can assert the kind of failure without depending on
/// a server's wording. No field ever holds the SMTP password or an AUTH exchange.
///
/// The fields keep what the server, the program or the caller supplied as it was (a reply line, an
/// address, what sendmail printed); `description`, the text for a terminal or a log, shows every
/// part through `TerminalText.escaped`, so an SMTP server's ESC, BEL or CR cannot act on the
/// admin's terminal or forge a log line.
public struct DeliveryError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        /// The sendmail program does not exist or is not executable.
        case sendmailMissing = "sendmail-missing"
        /// The sendmail program ran and exited non-zero or was killed; see `exitStatus` and `output`.
        case sendmailFailed = "sendmail-failed"
        /// The SMTP server's name did not resolve, or no address accepted the connection.
        case smtpConnectFailed = "smtp-connect-failed"
        /// The server answered a command with 4xx/5xx; see `replyCode`, `replyText` and `command`.
        case smtpRejected = "smtp-rejected"
        /// STARTTLS is not offered, or the TLS handshake failed (untrusted certificate, wrong name).
        case tlsFailed = "tls-failed"
        /// The server refused the user name and password, or offers no mechanism we speak.
        case authFailed = "auth-failed"
        /// A password was configured for a connection without TLS; nothing was sent.
        case insecureAuthRefused = "insecure-auth-refused"
        /// A sender or recipient cannot be put into an SMTP command (CR/LF, spaces, angle brackets).
        case invalidEnvelope = "invalid-envelope"
        /// The server or the program did not answer within the timeout, or the delivery as a whole
        /// took longer than its deadline; the reason says which.
        case timeout
        /// A timeout or deadline is not a number of seconds in 0 < seconds <= 86,400 (one day).
        case invalidTimeout = "invalid-timeout"
    }

    public let code: Code
    /// What went wrong and what to do next, in one or two sentences an admin can act on.
    public let reason: String
    /// `host:port` for SMTP, the program's path for sendmail.
    public let target: String
    /// The SMTP command that was refused (`RCPT TO:<a@x>`, `DATA`); `AUTH` never carries its argument.
    public let command: String?
    /// The SMTP reply code (550), when the server answered.
    public let replyCode: Int?
    /// The server's reply text, continuation lines joined by newlines.
    public let replyText: String?
    /// sendmail's exit status (or 128 + signal number when it was killed).
    public let exitStatus: Int32?
    /// What sendmail wrote to stderr and stdout, trimmed.
    public let output: String?

    public init(
        _ code: Code, reason: String, target: String, command: String? = nil, replyCode: Int? = nil,
        replyText: String? = nil, exitStatus: Int32? = nil, output: String? = nil
    ) {
        self.code = code
        self.reason = reason
        self.target = target
        self.command = command
        self.replyCode = replyCode
        self.replyText = replyText
        self.exitStatus = exitStatus
        self.output = output
    }

    public var description: String {
        var text = "\(TerminalText.escaped(target)): \(TerminalText.escaped(reason))"
        if let replyCode {
            // One reply line per continuation line; joined with spaces, each escaped on its own.
            let said = (replyText ?? "").split(separator: "\n", omittingEmptySubsequences: false).map {
                TerminalText.escaped(String($0))
            }
            text += " (the server said: \(replyCode) \(said.joined(separator: " ")))"
        }
        if let exitStatus {
            text += " (exit status \(exitStatus)"
            if let output, !output.isEmpty { text += ": \(TerminalText.escaped(output))" }
            text += ")"
        }
        return text
    }

    public static func == (lhs: DeliveryError, rhs: DeliveryError) -> Bool { lhs.code == rhs.code }
}

/// Hands a finished message (CRLF line ends, headers and body) to something that delivers mail.
public protocol MailTransport {
    /// Delivers `message` from `sender` to `recipients` (plain `local@domain` addresses).
    ///
    /// sendmail reads the recipients from the message's own To/Cc headers (`-t`) and ignores the
    /// envelope; SMTP uses the envelope and never looks into the message.
    func send(_ message: [UInt8], from sender: String, to recipients: [String]) throws(DeliveryError)
}

enum Envelope {
    /// Refuses an address that could break out of `MAIL FROM:<...>` / `RCPT TO:<...>`.
    static func check(_ address: String, role: String, target: String) throws(DeliveryError) {
        let bad = address.unicodeScalars.contains { $0.value <= 0x20 || $0.value >= 0x7F || $0 == "<" || $0 == ">" }
        if address.isEmpty || bad || !address.contains("@") {
            throw DeliveryError(
                .invalidEnvelope,
                reason: "the \(role) address \"\(address)\" is not a plain ASCII local@domain",
                target: target)
        }
    }
}
