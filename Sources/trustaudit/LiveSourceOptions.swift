import CommandLineOptions
import Foundation
import LDAPClient
import LDAPSource
import UntrustedInput

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The command-line side of a live audit: which DC, how to bind, how to trust its certificate.
///
/// Kept apart from `AuditCommand` because every rule about secrets lives here: a password never
/// comes from argv and is never printed; a simple bind never crosses the wire in clear text unless
/// the user says so in so many words.
enum LiveSourceOptions {
    static let options: [OptionSpec] = [
        OptionSpec(
            name: "--uri", valueName: "URI",
            help:
                "audit a domain controller live: ldaps://dc01.corp.example, ldap://dc01 (with --starttls or --sasl gssapi)"
        ),
        OptionSpec(name: "--base", valueName: "DN", help: "search base (default: the DC's defaultNamingContext)"),
        OptionSpec(
            name: "--bind-dn", valueName: "NAME", help: "simple bind as this account (svc-audit@corp.example or its DN)"
        ),
        OptionSpec(
            name: "--password-file", valueName: "FILE",
            help: "the bind password, first line of FILE (else $TRUSTAUDIT_PASSWORD, else a prompt)"),
        OptionSpec(
            name: "--sasl", valueName: "MECH",
            help: "gssapi: bind with the caller's Kerberos ticket (kinit -k from a keytab, for cron)"),
        OptionSpec(name: "--starttls", valueName: nil, help: "upgrade ldap:// to TLS before binding"),
        OptionSpec(
            name: "--ca-file", valueName: "FILE",
            help: "trust this CA (PEM) for the DC's certificate (default: the system store, ldap.conf, LDAPTLS_CACERT)"),
        OptionSpec(
            name: "--insecure", valueName: nil, help: "do not verify the DC's certificate (dangerous; for a lab only)"),
        OptionSpec(
            name: "--allow-plaintext", valueName: nil,
            help: "allow a simple bind over unencrypted ldap:// (the password crosses the network in clear)"),
        OptionSpec(
            name: "--gc", valueName: nil,
            help: "search the Global Catalog (port 3268/3269): SPN uniqueness across the forest, as setspn -X -F"),
        OptionSpec(
            name: "--deleted", valueName: nil,
            help:
                "also read the deleted computers (Show Deleted, the Deleted Objects container; Administrators by default)"
        ),
        OptionSpec(
            name: "--dcs", valueName: "all|LIST",
            help:
                "read every domain controller of the domain (all) or these (dc01,dc02): machine passwords that did not replicate, the true last logon, DC clocks and replication"
        ),
        OptionSpec(
            name: "--require-all-dcs", valueName: nil,
            help: "with --dcs: a DC that cannot be read stops the audit (exit 3) instead of being named in the report"),
        OptionSpec(
            name: "--network-timeout", valueName: "SECONDS",
            help: "give up connecting after this long (default 10, at most 86400)"),
        OptionSpec(
            name: "--timeout", valueName: "SECONDS",
            help: "give up on one LDAP operation after this long (default 120, at most 86400)"
        ),
        OptionSpec(
            name: "--page-size", valueName: "N",
            help: "entries per page of the paged search (default 1000, AD's MaxPageSize)"),
    ]

    /// Builds the LDAP source settings, or nil when no `--uri` was given.
    ///
    /// The URI and security rules (every URI of a list, the Global Catalog ports, no simple bind
    /// in clear) are `LDAPSourceSettings.validate()`'s; this maps its errors to usage messages in
    /// terms of the options, before a password is asked for.
    static func settings(_ parsed: ParsedArguments, showsProgress: Bool) throws -> LDAPSourceSettings? {
        let command = AuditCommand.name
        guard let uri = parsed.value("--uri") else {
            for name in options.map(\.name) where parsed.has(name) {
                throw UsageError(message: "\(command): \(name) only applies to a live audit; add --uri ldaps://DC.")
            }
            return nil
        }

        let bind: LDAPBind
        switch (parsed.value("--sasl")?.lowercased(), parsed.value("--bind-dn")) {
        case ("gssapi", nil):
            bind = .gssapi
        case (let mechanism?, nil):
            throw UsageError(
                message:
                    "\(command): --sasl '\(mechanism)' is not supported; use --sasl gssapi, or --bind-dn with a password."
            )
        case (_?, _?):
            throw UsageError(message: "\(command): give either --bind-dn (simple bind) or --sasl gssapi, not both.")
        case (nil, let bindDN?):
            // The password is read once the settings have passed validation, below.
            bind = .simple(dn: bindDN, password: [])
        case (nil, nil):
            throw UsageError(
                message: "\(command): say how to bind to \(uri): --bind-dn NAME with --password-file, or --sasl gssapi."
            )
        }
        if parsed.has("--password-file") && parsed.value("--bind-dn") == nil {
            throw UsageError(message: "\(command): --password-file needs --bind-dn.")
        }

        let insecure = parsed.has("--insecure")
        if insecure {
            printError(
                "trustaudit: WARNING: --insecure: the DC's certificate is NOT verified; anyone on the path can read the bind password and forge the audit. Use --ca-file instead."
            )
        }
        if let caFile = parsed.value("--ca-file") {
            // libldap opens the file itself: a FIFO would hang it, /dev/zero would never end.
            do {
                try InputFile.validate(caFile, kind: "CA file", limit: InputFile.Limit.certificateBundle)
            } catch {
                throw UsageError(message: "\(command): --ca-file: \(error)")
            }
        }

        var settings = LDAPSourceSettings(uri: uri, bind: bind)
        settings.base = parsed.value("--base")
        settings.startTLS = parsed.has("--starttls")
        settings.caFile = parsed.value("--ca-file")
        settings.verifyCertificate = !insecure
        settings.globalCatalog = parsed.has("--gc")
        settings.allowPlaintext = parsed.has("--allow-plaintext")
        settings.readsDeletedObjects = parsed.has("--deleted")
        if let value = parsed.value("--network-timeout") {
            settings.networkTimeout = try seconds(value, option: "--network-timeout")
        }
        if let value = parsed.value("--timeout") { settings.operationTimeout = try seconds(value, option: "--timeout") }
        if let value = parsed.value("--page-size") {
            guard let size = Int(value), (1...1000).contains(size) else {
                throw UsageError(
                    message:
                        "\(command): --page-size '\(value)' must be a whole number from 1 to 1000 (AD's MaxPageSize).")
            }
            settings.pageSize = size
        }
        do {
            try settings.validate()
        } catch {
            throw usageError(error, uri: uri, bind: bind)
        }
        if case .simple(let dn, _) = settings.bind {
            settings.bind = .simple(dn: dn, password: try password(parsed))
        }
        // The policy is `TerminalPolicy`'s (a terminal on stderr, no --quiet), as for an LDIF read.
        if showsProgress {
            let reporter = ProgressReporter()
            settings.progress = { pages, entries in reporter.live(pages: pages, entries: entries) }
        }
        return settings
    }

    /// The usage message for a settings error, in terms of the options that caused it.
    static func usageError(_ error: LDAPError, uri: String, bind: LDAPBind) -> UsageError {
        let command = AuditCommand.name
        let reason = TerminalText.escaped(error.diagnosticMessage ?? "\(error)")
        switch error.code {
        case .plaintextBind:
            let offending = TerminalText.escaped(error.serverURI)
            return UsageError(
                message:
                    "\(command): refusing a simple bind over unencrypted \(offending): the password would cross the network in clear (libldap tries every URI of --uri in turn). Use ldaps:// for every URI, --starttls, or --sasl gssapi (or --allow-plaintext in a lab)."
            )
        case .invalidTimeout:
            return UsageError(message: "\(command): \(reason); give --network-timeout and --timeout in seconds.")
        case .invalidURI where reason.hasPrefix("StartTLS"):
            return UsageError(message: "\(command): \(reason); drop --starttls or use ldap:// URIs.")
        case .invalidURI where reason.contains("Kerberos"):
            return UsageError(
                message:
                    "\(command): --sasl gssapi runs over plain ldap:// (Kerberos seals it); drop ldaps:// and --starttls."
            )
        default:
            return UsageError(
                message:
                    "\(command): --uri '\(TerminalText.escaped(uri))': \(reason). Give one or more ldap:// or ldaps:// URIs (ldaps://dc01.corp.example)."
            )
        }
    }

    /// Seconds for a timeout option: more than 0 and at most a day, the library's bound.
    static func seconds(_ text: String, option: String) throws -> Double {
        guard let value = Double(text), LDAPConnectionOptions.isValidTimeout(value) else {
            throw UsageError(
                message:
                    "\(AuditCommand.name): \(option) '\(TerminalText.escaped(text))' must be a number of seconds more than 0 and at most \(Int(LDAPConnectionOptions.maximumTimeout)) (a day)."
            )
        }
        return value
    }

    /// The bind password, from the file, the environment, or a terminal prompt; never from argv.
    static func password(_ parsed: ParsedArguments) throws -> [UInt8] {
        let command = AuditCommand.name
        if let path = parsed.value("--password-file") {
            return try secret(fromFile: path, option: "--password-file")
        }
        if let fromEnvironment = ProcessInfo.processInfo.environment["TRUSTAUDIT_PASSWORD"], !fromEnvironment.isEmpty {
            return Array(fromEnvironment.utf8)
        }
        guard isatty(STDIN_FILENO) == 1 else {
            throw UsageError(
                message:
                    "\(command): no password for --bind-dn: give --password-file FILE or TRUSTAUDIT_PASSWORD, or run on a terminal to be asked. For cron, --sasl gssapi with a keytab needs none."
            )
        }
        return try promptPassword("Password for \(parsed.value("--bind-dn") ?? "the bind account"): ")
    }

    /// A secret from the first line of `path`, warning when other users can read the file.
    ///
    /// Read with `InputFile` and its password cap: a 1 MiB file, a FIFO or /dev/zero is a usage
    /// error naming the file, never a bind that fails for a reason the admin cannot see.
    static func secret(fromFile path: String, option: String) throws -> [UInt8] {
        let command = AuditCommand.name
        let data: [UInt8]
        do {
            data = try InputFile.read(path, kind: "password file", limit: InputFile.Limit.password)
        } catch {
            throw UsageError(message: "\(command): \(option): \(error)")
        }
        if let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0
        {
            printError(
                "trustaudit: warning: \(TerminalText.escaped(path)) is readable by other users (mode \(String(mode, radix: 8))); chmod 600 it."
            )
        }
        let secret = firstLine(data)
        guard !secret.isEmpty else {
            throw UsageError(message: "\(command): \(option) \(TerminalText.escaped(path)) is empty.")
        }
        return secret
    }

    /// The first line, without its line end: a password file written by `echo` ends in a newline.
    static func firstLine(_ bytes: [UInt8]) -> [UInt8] {
        var line = Array(bytes.prefix { $0 != 0x0A })
        if line.last == 0x0D { line.removeLast() }
        return line
    }

    /// Reads a line from the terminal with echo off, restoring the terminal even on error.
    static func promptPassword(_ prompt: String) throws -> [UInt8] {
        FileHandle.standardError.write(Data(prompt.utf8))
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while read(STDIN_FILENO, &byte, 1) == 1 && byte != 0x0A { bytes.append(byte) }
        if bytes.last == 0x0D { bytes.removeLast() }
        guard !bytes.isEmpty else { throw UsageError(message: "\(AuditCommand.name): no password given.") }
        return bytes
    }
}
