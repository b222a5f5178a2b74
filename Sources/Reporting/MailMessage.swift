import Directory
import Foundation
import UntrustedInput

/// A mail message that could not be built, naming the value that was refused.
///
/// Equality compares the code only, so tests can assert which check failed. The offending value is
/// kept escaped by `TerminalText.escaped` (`\r\n`, `\e`, `\u{202E}`), so printing the error can
/// neither inject lines into a log nor send controls to a terminal.
public struct MailMessageError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// An address is not `local@domain` (or `"Name" <local@domain>`), or holds CR/LF.
        case invalidAddress = "invalid-address"
        /// A header value (the subject, a display name, a Message-ID) holds CR or LF.
        case invalidHeader = "invalid-header"
        /// An attachment's content type is not `type/subtype`, or its name is empty.
        case invalidAttachment = "invalid-attachment"
        /// The message has no recipient.
        case noRecipients = "no-recipients"
    }

    public let code: Code
    /// The refused value, escaped by `TerminalText.escaped`.
    public let value: String
    /// What is wrong with it, in one sentence an admin can act on.
    public let reason: String

    public init(code: Code, value: String, reason: String) {
        self.code = code
        self.value = MailMessageError.escaped(value)
        self.reason = reason
    }

    public var description: String { "\"\(value)\": \(reason)" }

    public static func == (lhs: MailMessageError, rhs: MailMessageError) -> Bool { lhs.code == rhs.code }

    /// The one policy for untrusted text on a terminal or in a log: `TerminalText.escaped`.
    static func escaped(_ value: String) -> String { TerminalText.escaped(value) }
}

/// A MIME mail message with a plain-text and an HTML body and attachments, rendered as bytes.
///
/// Every value is checked when the message is built, so `rendered()` cannot fail and cannot be
/// made to emit an extra header: CR/LF in the subject, a name or a content type is refused, and
/// anything that is not plain ASCII is encoded (RFC 2047 words in headers, RFC 2231 file names,
/// quoted-printable bodies, base64 attachments). The output uses CRLF line ends throughout and
/// keeps every line within 78 characters, ready for `sendmail -t -oi` or an SMTP `DATA`.
///
/// Structure: `multipart/mixed` { `multipart/alternative` { text/plain, text/html }, attachments }.
public struct MailMessage: Sendable {
    /// A file carried with the message; `contentType` is `type/subtype`, optionally with parameters.
    public typealias Attachment = (fileName: String, contentType: String, data: [UInt8])

    public let from: MailAddress
    public let to: [MailAddress]
    public let subject: String
    public let date: Date
    /// `<unique@from-domain>`, angle brackets included.
    public let messageID: String
    public let textBody: String
    public let htmlBody: String
    public let attachments: [Attachment]

    private let mixedBoundary: String
    private let alternativeBoundary: String

    /// Refuses a subject with control characters: CR or LF would start a new header line, and the
    /// rest (NUL, ESC, DEL) have no business in a header a mail reader shows. A tab is allowed.
    /// Called by `init`, and by a frontend when it reads the settings, before the audit runs.
    public static func checkSubject(_ subject: String) throws(MailMessageError) {
        if subject.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
            throw MailMessageError(
                code: .invalidHeader, value: subject,
                reason:
                    "the subject may not hold line breaks or other control characters (CR or LF would start a new header line)"
            )
        }
    }

    /// Checks and keeps the parts; the Message-ID is generated from random bytes unless given.
    public init(
        from: MailAddress, to: [MailAddress], subject: String, date: Date = Date(), messageID: String? = nil,
        textBody: String, htmlBody: String, attachments: [Attachment] = []
    ) throws(MailMessageError) {
        guard !to.isEmpty else {
            throw MailMessageError(
                code: .noRecipients, value: "", reason: "a mail message needs at least one recipient")
        }
        try Self.checkSubject(subject)
        if let messageID {
            let inner = messageID.hasPrefix("<") && messageID.hasSuffix(">") ? messageID.dropFirst().dropLast() : nil
            guard let inner, inner.contains("@"),
                inner.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != "<" && $0 != ">" })
            else {
                throw MailMessageError(
                    code: .invalidHeader, value: messageID, reason: "a Message-ID must look like <unique@domain>")
            }
        }
        for attachment in attachments {
            if attachment.fileName.isEmpty {
                throw MailMessageError(code: .invalidAttachment, value: "", reason: "an attachment needs a file name")
            }
            if !MailMessage.isValidContentType(attachment.contentType) {
                throw MailMessageError(
                    code: .invalidAttachment, value: attachment.contentType,
                    reason:
                        "the content type of \(MailMessageError.escaped(attachment.fileName)) must be type/subtype in printable ASCII"
                )
            }
        }
        self.from = from
        self.to = to
        self.subject = subject
        self.date = date
        self.messageID = messageID ?? "<\(MailMessage.randomHex(16)).\(Int(date.timeIntervalSince1970))@\(from.domain)>"
        self.textBody = textBody
        self.htmlBody = htmlBody
        self.attachments = attachments
        // "=_" never occurs in quoted-printable or base64 text, so these cannot collide with a body;
        // rendered() still checks.
        self.mixedBoundary = "=_TrustAudit_mixed_" + MailMessage.randomHex(12)
        self.alternativeBoundary = "=_TrustAudit_alt_" + MailMessage.randomHex(12)
    }

    /// The whole message: headers, a blank line, the MIME body; CRLF line ends.
    public func rendered() -> [UInt8] {
        let text = MIME.quotedPrintable(Array(textBody.utf8))
        let html = MIME.quotedPrintable(Array(htmlBody.utf8))
        let encodedAttachments = attachments.map { MIME.base64Lines($0.data) }
        var mixed = mixedBoundary
        var alternative = alternativeBoundary
        let bodies = [text, html] + encodedAttachments
        while bodies.contains(where: { MIME.contains($0, Array(mixed.utf8)) }) { mixed += MailMessage.randomHex(4) }
        while bodies.contains(where: { MIME.contains($0, Array(alternative.utf8)) }) {
            alternative += MailMessage.randomHex(4)
        }

        var out: [UInt8] = []
        out.reserveCapacity(text.count + html.count + encodedAttachments.reduce(0) { $0 + $1.count } + 4096)
        func line(_ string: String) {
            out += Array(string.utf8)
            out += [13, 10]
        }
        line(MIME.foldedHeader("From", MIME.addressWords([from])))
        line(MIME.foldedHeader("To", MIME.addressWords(to)))
        line(MIME.foldedHeader("Subject", MIME.unstructuredWords(subject)))
        line("Date: " + MailMessage.rfc5322Date(date))
        line("Message-ID: " + messageID)
        line("MIME-Version: 1.0")
        line("Auto-Submitted: auto-generated")
        line("Content-Type: multipart/mixed;")
        line(" boundary=\"\(mixed)\"")
        line("")
        line("This is a MIME message; your mail program shows its parts.")
        line("--" + mixed)
        line("Content-Type: multipart/alternative;")
        line(" boundary=\"\(alternative)\"")
        line("")
        line("--" + alternative)
        line("Content-Type: text/plain; charset=utf-8")
        line("Content-Transfer-Encoding: quoted-printable")
        line("")
        out += text
        line("")
        line("--" + alternative)
        line("Content-Type: text/html; charset=utf-8")
        line("Content-Transfer-Encoding: quoted-printable")
        line("")
        out += html
        line("")
        line("--" + alternative + "--")
        for (attachment, encoded) in zip(attachments, encodedAttachments) {
            line("")
            line("--" + mixed)
            line("Content-Type: " + attachment.contentType + ";")
            for parameter in MIME.fileNameParameters("name", attachment.fileName) { line(" " + parameter) }
            line("Content-Transfer-Encoding: base64")
            line("Content-Disposition: attachment;")
            for parameter in MIME.fileNameParameters("filename", attachment.fileName) { line(" " + parameter) }
            line("")
            out += encoded
        }
        line("")
        line("--" + mixed + "--")
        return out
    }

    /// `Wed, 25 Nov 2026 06:00:00 +0000` (RFC 5322 section 3.3), in the given zone.
    public static func rfc5322Date(_ date: Date, timeZone: TimeZone = TimeZone(identifier: "UTC")!) -> String {
        UTCTime.rfc5322(date, offsetSeconds: timeZone.secondsFromGMT(for: date))
    }

    private static func isValidContentType(_ value: String) -> Bool {
        guard value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) else { return false }
        let typeAndSubtype = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let pieces = typeAndSubtype.trimmingCharacters(in: .whitespaces).split(
            separator: "/", omittingEmptySubsequences: false)
        return pieces.count == 2
            && pieces.allSatisfy { !$0.isEmpty && $0.unicodeScalars.allSatisfy(MIME.isTokenCharacter) }
    }

    private static func randomHex(_ byteCount: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<byteCount).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }
            .joined()
    }
}
