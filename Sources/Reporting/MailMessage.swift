import Codecs
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

/// One mailbox: `local@domain` with an optional display name.
///
/// Only ASCII dot-atom addresses are accepted (no quoted local parts, no SMTPUTF8), because the
/// address also travels in SMTP commands and sendmail's header parsing; display names may be any
/// Unicode text without CR/LF and are encoded when rendered.
public struct MailAddress: Sendable, Hashable, CustomStringConvertible {
    /// `local@domain`, as used in SMTP's `MAIL FROM` and `RCPT TO`.
    public let address: String
    public let displayName: String?

    /// Parses `a@x`, `<a@x>`, `Name <a@x>` or `"Name, Quoted" <a@x>`.
    public init(_ text: String) throws(MailMessageError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        try MailAddress.rejectLineBreaks(in: text, code: .invalidAddress)
        guard trimmed.hasSuffix(">"), let open = trimmed.lastIndex(of: "<") else {
            try self.init(address: trimmed, displayName: nil)
            return
        }
        let address = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
        var name = trimmed[..<open].trimmingCharacters(in: .whitespaces)
        if name.hasPrefix("\"") {
            guard name.count >= 2, name.hasSuffix("\""),
                let unquoted = MailAddress.unquoted(name.dropFirst().dropLast())
            else {
                throw MailMessageError(
                    code: .invalidAddress, value: text, reason: "the display name's quotes are not balanced")
            }
            name = unquoted
        } else if name.contains("\"") || name.contains("<") || name.contains(">") {
            throw MailMessageError(
                code: .invalidAddress, value: text,
                reason: "a display name with quotes or angle brackets must be written as \"Name\" <local@domain>")
        }
        try self.init(address: address, displayName: name.isEmpty ? nil : name)
    }

    /// Builds a mailbox from its parts, checking both.
    public init(address: String, displayName: String? = nil) throws(MailMessageError) {
        try MailAddress.rejectLineBreaks(in: address, code: .invalidAddress)
        if let displayName {
            try MailAddress.rejectLineBreaks(in: displayName, code: .invalidAddress)
            if displayName.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                throw MailMessageError(
                    code: .invalidAddress, value: displayName, reason: "a display name may not hold control characters")
            }
        }
        if let problem = MailAddress.problem(with: address) {
            throw MailMessageError(code: .invalidAddress, value: address, reason: problem)
        }
        self.address = address
        self.displayName = displayName.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Parses a comma-separated list (`a@x, "Ops, Night" <b@y>`); commas inside quotes do not split.
    public static func list(_ text: String) throws(MailMessageError) -> [MailAddress] {
        var items: [String] = []
        var current = ""
        var inQuotes = false
        var escaped = false
        for character in text {
            if escaped {
                escaped = false
            } else if inQuotes && character == "\\" {
                escaped = true
            } else if character == "\"" {
                inQuotes.toggle()
            } else if character == "," && !inQuotes {
                items.append(current)
                current = ""
                continue
            }
            current.append(character)
        }
        items.append(current)
        var addresses: [MailAddress] = []
        for item in items where !item.trimmingCharacters(in: .whitespaces).isEmpty {
            addresses.append(try MailAddress(item))
        }
        if addresses.isEmpty {
            throw MailMessageError(code: .noRecipients, value: text, reason: "no address was given")
        }
        return addresses
    }

    /// The part after `@`.
    public var domain: String { String(address[address.index(after: address.lastIndex(of: "@")!)...]) }

    /// `Name <a@x>` or `a@x`, unencoded, for messages to people.
    public var description: String {
        guard let displayName else { return address }
        return "\(displayName) <\(address)>"
    }

    private static func rejectLineBreaks(in value: String, code: MailMessageError.Code) throws(MailMessageError) {
        if value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) {
            throw MailMessageError(
                code: code, value: value, reason: "CR, LF and NUL are not allowed (they would start a new header line)")
        }
    }

    private static func unquoted(_ quoted: Substring) -> String? {
        var result = ""
        var escaped = false
        for character in quoted {
            if escaped {
                result.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "\"" {
                return nil
            } else {
                result.append(character)
            }
        }
        return escaped ? nil : result
    }

    private static let localCharacters = Set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~.".unicodeScalars)
    private static let domainCharacters = Set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.".unicodeScalars)

    /// Why `address` is not an ASCII dot-atom `local@domain`, or nil when it is.
    private static func problem(with address: String) -> String? {
        guard let at = address.lastIndex(of: "@") else { return "the address has no @" }
        let local = address[..<at]
        let domain = address[address.index(after: at)...]
        if local.isEmpty { return "the part before @ is empty" }
        if domain.isEmpty { return "the part after @ is empty" }
        if address.utf8.count > 254 { return "the address is longer than 254 characters" }
        if !local.unicodeScalars.allSatisfy(localCharacters.contains) {
            return
                "the part before @ may only hold letters, digits and !#$%&'*+-/=?^_`{|}~. (no spaces, quotes or non-ASCII)"
        }
        if local.hasPrefix(".") || local.hasSuffix(".") || local.contains("..") {
            return "the part before @ may not start or end with a dot or hold two dots in a row"
        }
        if domain.hasPrefix("[") && domain.hasSuffix("]") {
            let literal = domain.dropFirst().dropLast()
            var ipv4 = in_addr()
            var ipv6 = in6_addr()
            let isIPv4 = inet_pton(AF_INET, String(literal), &ipv4) == 1
            let isIPv6 =
                literal.lowercased().hasPrefix("ipv6:") && inet_pton(AF_INET6, String(literal.dropFirst(5)), &ipv6) == 1
            return isIPv4 || isIPv6 ? nil : "the address literal after @ is not [IPv4] or [IPv6:address]"
        }
        if !domain.unicodeScalars.allSatisfy(domainCharacters.contains) {
            return "the domain may only hold ASCII letters, digits, hyphens and dots (write IDN domains as xn--)"
        }
        for label in domain.split(separator: ".", omittingEmptySubsequences: false) {
            if label.isEmpty { return "the domain has an empty label (two dots, or a leading or trailing dot)" }
            if label.hasPrefix("-") || label.hasSuffix("-") {
                return "a domain label may not start or end with a hyphen"
            }
            if label.count > 63 { return "a domain label is longer than 63 characters" }
        }
        return nil
    }
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

    /// Checks and keeps the parts; the Message-ID is generated from random bytes unless given.
    public init(
        from: MailAddress, to: [MailAddress], subject: String, date: Date = Date(), messageID: String? = nil,
        textBody: String, htmlBody: String, attachments: [Attachment] = []
    ) throws(MailMessageError) {
        guard !to.isEmpty else {
            throw MailMessageError(
                code: .noRecipients, value: "", reason: "a mail message needs at least one recipient")
        }
        if subject.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) {
            throw MailMessageError(
                code: .invalidHeader, value: subject,
                reason: "the subject may not hold CR, LF or NUL (they would start a new header line)")
        }
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
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let offset = timeZone.secondsFromGMT(for: date) / 60
        return String(
            format: "%@, %02d %@ %04d %02d:%02d:%02d %@%02d%02d", days[parts.weekday! - 1], parts.day!,
            months[parts.month! - 1], parts.year!, parts.hour!, parts.minute!, parts.second!, offset < 0 ? "-" : "+",
            abs(offset) / 60, abs(offset) % 60)
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

/// The encoders behind `MailMessage`: RFC 2045 bodies, RFC 2047 header words, RFC 2231 parameters.
enum MIME {
    static let lineLimit = 78

    static func isTokenCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value > 0x20 && scalar.value < 0x7F && !"()<>@,;:\\\"/[]?=".unicodeScalars.contains(scalar)
    }

    static func isAtomCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value > 0x20 && scalar.value < 0x7F && !"()<>[]:;@\\,.\"".unicodeScalars.contains(scalar)
    }

    /// Quoted-printable (RFC 2045 section 6.7): any line end in the input becomes CRLF, lines stay
    /// within 76 characters with soft breaks, trailing blanks and `=` are escaped.
    static func quotedPrintable(_ bytes: [UInt8]) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 8 + 16)
        var lineLength = 0
        func emit(_ chunk: [UInt8]) {
            if lineLength + chunk.count > 75 {  // leave room for the soft break's "="
                out += [61, 13, 10]
                lineLength = 0
            }
            out += chunk
            lineLength += chunk.count
        }
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 13 || byte == 10 {
                out += [13, 10]
                lineLength = 0
                index += (byte == 13 && index + 1 < bytes.count && bytes[index + 1] == 10) ? 2 : 1
                continue
            }
            let nextIsLineEnd = index + 1 == bytes.count || bytes[index + 1] == 13 || bytes[index + 1] == 10
            let literal = (byte >= 33 && byte <= 126 && byte != 61) || ((byte == 32 || byte == 9) && !nextIsLineEnd)
            emit(literal ? [byte] : [61, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            index += 1
        }
        return out
    }

    /// Base64 in lines of 76 characters, each ending in CRLF.
    static func base64Lines(_ bytes: [UInt8]) -> [UInt8] {
        let encoded = base64(bytes)
        var out: [UInt8] = []
        out.reserveCapacity(encoded.count + encoded.count / 38 + 2)
        var start = 0
        while start < encoded.count {
            let end = min(start + 76, encoded.count)
            out += encoded[start..<end]
            out += [13, 10]
            start = end
        }
        return out
    }

    static func base64(_ bytes: [UInt8]) -> [UInt8] {
        Array(Base64.encode(bytes).utf8)
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        let first = needle[0]
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == first && haystack[index..<index + needle.count].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }

    /// `Name: word word`, folded with CRLF SP before a word that would pass 78 characters.
    static func foldedHeader(_ name: String, _ words: [String]) -> String {
        var result = name + ":"
        var lineLength = result.count
        for word in words {
            if lineLength + 1 + word.count > lineLimit && lineLength > name.count + 1 {
                result += "\r\n "
                lineLength = 1
            } else {
                result += " "
                lineLength += 1
            }
            result += word
            lineLength += word.count
        }
        return result
    }

    /// RFC 2047 B-encoded words of at most 64 characters each, never splitting a character.
    static func encodedWords(_ text: String) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > 39 {  // 39 bytes = 52 base64 characters + 12 of framing
                words.append(encodedWord(chunk))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append(encodedWord(chunk)) }
        return words
    }

    private static func encodedWord(_ bytes: [UInt8]) -> String {
        "=?UTF-8?B?" + String(decoding: base64(bytes), as: UTF8.self) + "?="
    }

    /// The words of an unstructured header (the subject): as typed when it is plain ASCII that
    /// folds cleanly, encoded words otherwise.
    static func unstructuredWords(_ text: String) -> [String] {
        let plain =
            text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) && !text.contains("=?")
            && !text.hasPrefix(" ") && !text.hasSuffix(" ") && !text.contains("  ")
        let words = text.split(separator: " ").map(String.init)
        if plain && words.allSatisfy({ $0.count <= 60 }) { return words }
        return encodedWords(text)
    }

    /// The words of an address list: each mailbox as `Name <a@x>` or `a@x`, commas between.
    static func addressWords(_ addresses: [MailAddress]) -> [String] {
        var words: [String] = []
        for (index, mailbox) in addresses.enumerated() {
            var mailboxWords: [String] = []
            if let name = mailbox.displayName {
                mailboxWords = phraseWords(name)
                mailboxWords.append("<\(mailbox.address)>")
            } else {
                mailboxWords = [mailbox.address]
            }
            if index + 1 < addresses.count { mailboxWords[mailboxWords.count - 1] += "," }
            words += mailboxWords
        }
        return words
    }

    /// A display name: atoms when it is plain words, a quoted string when it holds specials, encoded
    /// words when it is not ASCII or too long to fold.
    private static func phraseWords(_ name: String) -> [String] {
        let words = name.split(separator: " ", omittingEmptySubsequences: false)
        if words.allSatisfy({ !$0.isEmpty && $0.unicodeScalars.allSatisfy(isAtomCharacter) }) && !name.contains("=?")
            && words.allSatisfy({ $0.count <= 60 })
        {
            return words.map(String.init)
        }
        if name.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) && name.count <= 60
            && !name.contains("=?")
        {
            return [
                "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                    + "\""
            ]
        }
        return encodedWords(name)
    }

    /// `name="file.csv"` for short plain names; RFC 2231 `name*0*=utf-8''...` pieces otherwise.
    static func fileNameParameters(_ parameter: String, _ fileName: String) -> [String] {
        let plain = fileName.unicodeScalars.allSatisfy {
            $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\"
        }
        if plain && fileName.count <= 60 { return ["\(parameter)=\"\(fileName)\""] }
        let hex = Array("0123456789ABCDEF".unicodeScalars)
        var pieces: [String] = []
        var current = "utf-8''"
        for byte in fileName.utf8 {
            let scalar = Unicode.Scalar(byte)
            let encoded =
                byte < 0x80 && isTokenCharacter(scalar) && scalar != "*" && scalar != "'" && scalar != "%"
                ? String(scalar) : "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 15)])
            if current.count + encoded.count > 50 {
                pieces.append(current)
                current = ""
            }
            current += encoded
        }
        pieces.append(current)
        if pieces.count == 1 { return ["\(parameter)*=\(pieces[0])"] }
        return pieces.enumerated().map { index, piece in
            "\(parameter)*\(index)*=\(piece)" + (index + 1 < pieces.count ? ";" : "")
        }
    }
}
