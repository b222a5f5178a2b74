import Foundation

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
