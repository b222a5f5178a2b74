import AuditJob
import CommandLineOptions
import Delivery
import Foundation
import Reporting

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The command-line side of mailing the reports: who gets them, and how the mail leaves the host.
///
/// Everything is checked before the source is read (a typo in an address is exit 2, not a failure
/// after a ten-minute domain read); the mail is sent only after the reports are on disk, and a mail
/// that cannot be delivered is exit 5 with the reports left in place. Like the LDAP password, the
/// SMTP password never comes from argv and is never printed.
enum MailOptions {
    static let options: [OptionSpec] = [
        OptionSpec(
            name: "--mail-to", valueName: "LIST", help: "mail the report to these addresses (a@x,b@y) after writing it"),
        OptionSpec(
            name: "--mail-from", valueName: "ADDRESS", help: "the sender (default: trustaudit@ this host's name)"),
        OptionSpec(
            name: "--mail-subject", valueName: "TEXT",
            help: "the subject (default: TrustAudit DOMAIN: 3 high, 5 medium findings (2 new))"),
        OptionSpec(name: "--mail-only-on-findings", valueName: nil, help: "send no mail when the audit found nothing"),
        OptionSpec(
            name: "--sendmail", valueName: "PATH",
            help: "hand the mail to this sendmail -t (default: /usr/sbin/sendmail)"),
        OptionSpec(name: "--smtp", valueName: "HOST:PORT", help: "deliver by SMTP to this server instead of sendmail"),
        OptionSpec(
            name: "--mail-timeout", valueName: "SECONDS",
            help:
                "give up on the mail after SECONDS in all, however slowly it goes (default: 300 SMTP, 120 sendmail; max 86400)"
        ),
        OptionSpec(
            name: "--smtp-security", valueName: "MODE",
            help: "starttls (default, port 587), tls (port 465) or none (port 25)"),
        OptionSpec(
            name: "--smtp-user", valueName: "NAME", help: "log in (AUTH PLAIN/LOGIN, over TLS only) as this user"),
        OptionSpec(
            name: "--smtp-password-file", valueName: "FILE",
            help: "the SMTP password, first line of FILE (else $TRUSTAUDIT_SMTP_PASSWORD)"),
        OptionSpec(
            name: "--smtp-ca-file", valueName: "FILE",
            help: "trust this CA (PEM) for the SMTP server's certificate (default: the system store)"),
    ]

    static let defaultSendmail = "/usr/sbin/sendmail"

    /// Builds the mail settings, or nil when no `--mail-to` was given.
    static func settings(_ parsed: ParsedArguments) throws -> MailJob.Settings? {
        let command = AuditCommand.name
        guard let list = parsed.value("--mail-to") else {
            for name in options.map(\.name) where parsed.has(name) {
                throw UsageError(
                    message: "\(command): \(name) only applies when mailing the report; add --mail-to ADDRESS.")
            }
            return nil
        }
        let recipients: [MailAddress]
        do {
            recipients = try MailAddress.list(list)
        } catch {
            throw UsageError(message: "\(command): --mail-to \(error)")
        }

        let sender: MailAddress
        if let text = parsed.value("--mail-from") {
            do {
                sender = try MailAddress(text)
            } catch {
                throw UsageError(message: "\(command): --mail-from \(error)")
            }
        } else {
            sender = try defaultSender()
        }

        let subject = parsed.value("--mail-subject")
        if let subject {
            do {
                try MailMessage.checkSubject(subject)
            } catch {
                throw UsageError(message: "\(command): --mail-subject: \(error.reason).")
            }
            if subject.trimmingCharacters(in: .whitespaces).isEmpty {
                throw UsageError(message: "\(command): --mail-subject is empty; leave it out for the default subject.")
            }
        }

        let deadline = try mailTimeout(parsed)
        let route: MailJob.Route
        if let server = parsed.value("--smtp") {
            if parsed.has("--sendmail") {
                throw UsageError(message: "\(command): give either --sendmail PATH or --smtp HOST:PORT, not both.")
            }
            var transport = try smtpTransport(server, parsed)
            if let deadline { transport.deadline = deadline }
            do {
                try transport.validate()
            } catch {
                throw UsageError(message: "\(command): --smtp \(server): \(error.reason).")
            }
            route = .smtp(transport)
        } else {
            for name in ["--smtp-security", "--smtp-user", "--smtp-password-file", "--smtp-ca-file"]
            where parsed.has(name) {
                throw UsageError(message: "\(command): \(name) only applies to --smtp HOST:PORT.")
            }
            var transport = SendmailTransport(path: parsed.value("--sendmail") ?? defaultSendmail)
            if let deadline { transport.timeout = deadline }
            do {
                try transport.validate()
            } catch {
                throw UsageError(
                    message:
                        "\(command): cannot mail the report: sendmail program \(error.reason) (--sendmail PATH, or --smtp HOST:PORT)."
                )
            }
            route = .sendmail(transport)
        }
        return MailJob.Settings(
            recipients: recipients, sender: sender, subject: subject,
            onlyOnFindings: parsed.has("--mail-only-on-findings"),
            route: route)
    }

    /// `--mail-timeout SECONDS`: how long the whole delivery may take, within the library's bounds.
    static func mailTimeout(_ parsed: ParsedArguments) throws -> Double? {
        guard let text = parsed.value("--mail-timeout") else { return nil }
        let maximum = DeliveryTimeLimit.maximum
        guard let seconds = Double(text), seconds.isFinite, seconds > 0, seconds <= maximum else {
            throw UsageError(
                message:
                    "\(AuditCommand.name): --mail-timeout '\(text)' is not a number of seconds above 0 and at most \(Int(maximum)) (one day)."
            )
        }
        return seconds
    }

    static func smtpTransport(_ server: String, _ parsed: ParsedArguments) throws -> SMTPTransport {
        let command = AuditCommand.name
        var security = SMTPTransport.Security.startTLS
        if let text = parsed.value("--smtp-security") {
            guard let value = SMTPTransport.Security(rawValue: text.lowercased()) else {
                throw UsageError(message: "\(command): --smtp-security '\(text)' is not one of starttls, tls, none.")
            }
            security = value
        }
        guard let (host, port) = hostAndPort(server) else {
            throw UsageError(
                message: "\(command): --smtp '\(server)' is not HOST:PORT (mail.corp.example:587, [2001:db8::25]:25).")
        }

        var username: String?
        var password: [UInt8]?
        if let user = parsed.value("--smtp-user") {
            if user.isEmpty || user.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                throw UsageError(message: "\(command): --smtp-user may not be empty or hold control characters.")
            }
            if security == .none {
                // Refused here, before the password is read, not only by the transport when it sends.
                throw UsageError(
                    message:
                        "\(command): refusing to send the SMTP password over an unencrypted connection (--smtp-security none); use starttls (port 587) or tls (port 465)."
                )
            }
            username = user
            password = try smtpPassword(parsed)
        } else if parsed.has("--smtp-password-file") {
            throw UsageError(message: "\(command): --smtp-password-file needs --smtp-user.")
        }

        let caFile = parsed.value("--smtp-ca-file")
        if let caFile {
            if security == .none {
                throw UsageError(
                    message: "\(command): --smtp-ca-file needs TLS; it does nothing with --smtp-security none.")
            }
            if !FileManager.default.isReadableFile(atPath: caFile) {
                throw UsageError(message: "\(command): --smtp-ca-file \(caFile) cannot be read.")
            }
        }
        return SMTPTransport(
            host: host, port: port, security: security, caFile: caFile, username: username, password: password)
    }

    /// `host:port`, `[v6]:port`, or a bare host (the port then follows the security mode).
    static func hostAndPort(_ text: String) -> (String, Int?)? {
        func port(_ digits: Substring) -> Int? {
            guard let value = Int(digits), (1...65535).contains(value), digits.allSatisfy(\.isASCII) else { return nil }
            return value
        }
        func validHost(_ host: Substring) -> Bool {
            !host.isEmpty
                && host.unicodeScalars.allSatisfy {
                    $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "." || $0 == "_")
                }
        }
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = text[text.index(after: text.startIndex)..<close]
            var address = in6_addr()
            guard inet_pton(AF_INET6, String(host), &address) == 1 else { return nil }
            let rest = text[text.index(after: close)...]
            if rest.isEmpty { return (String(host), nil) }
            guard rest.hasPrefix(":"), let value = port(rest.dropFirst()) else { return nil }
            return (String(host), value)
        }
        let pieces = text.split(separator: ":", omittingEmptySubsequences: false)
        switch pieces.count {
        case 1 where validHost(pieces[0]): return (String(pieces[0]), nil)
        case 2 where validHost(pieces[0]):
            guard let value = port(pieces[1]) else { return nil }
            return (String(pieces[0]), value)
        default: return nil
        }
    }

    /// The SMTP password from the file or the environment; never from argv, never a prompt (mail is for cron).
    static func smtpPassword(_ parsed: ParsedArguments) throws -> [UInt8] {
        let command = AuditCommand.name
        if let path = parsed.value("--smtp-password-file") {
            return try LiveSourceOptions.secret(fromFile: path, option: "--smtp-password-file")
        }
        if let fromEnvironment = ProcessInfo.processInfo.environment["TRUSTAUDIT_SMTP_PASSWORD"],
            !fromEnvironment.isEmpty
        {
            return Array(fromEnvironment.utf8)
        }
        throw UsageError(
            message:
                "\(command): no password for --smtp-user: give --smtp-password-file FILE or set TRUSTAUDIT_SMTP_PASSWORD."
        )
    }

    /// `trustaudit@<this host's name>`, qualified through the resolver when the name is short.
    static func defaultSender() throws -> MailAddress {
        var name = SMTPTransport.systemHostName() ?? ""
        if !name.contains(".") && !name.isEmpty {
            var hints = addrinfo()
            hints.ai_flags = AI_CANONNAME
            var info: UnsafeMutablePointer<addrinfo>?
            if getaddrinfo(name, nil, &hints, &info) == 0, let info {
                // Freed right here; the canonical name is copied out first.
                if let canonical = info.pointee.ai_canonname.map({ String(cString: $0) }), canonical.contains(".") {
                    name = canonical
                }
                freeaddrinfo(info)
            }
        }
        do {
            return try MailAddress(address: "trustaudit@\(name)")
        } catch {
            throw UsageError(
                message:
                    "\(AuditCommand.name): this host's name '\(name)' makes no valid sender address; pass --mail-from ADDRESS."
            )
        }
    }
}
