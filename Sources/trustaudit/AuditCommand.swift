import Audit
import Directory
import Foundation
import LDAPSource
import Reporting
import UntrustedInput

/// `trustaudit audit`: picks the source, runs the audit, writes the reports, maps failures to exit codes.
enum AuditCommand {
    static let name = "trustaudit audit"

    static let options: [OptionSpec] =
        fileOptions + LiveSourceOptions.options + reportOptions + MailOptions.options

    static let fileOptions: [OptionSpec] = [
        OptionSpec(name: "--ldif", valueName: "FILE", help: "audit an LDIF export (ldapsearch -LLL or ldifde -f)")
    ]

    static let reportOptions: [OptionSpec] = [
        OptionSpec(
            name: "--inventory", valueName: "FILE",
            help: "machines that should have accounts, one per line (missing-account)"),
        OptionSpec(
            name: "--config", valueName: "FILE",
            help: "JSON configuration: thresholds, required SPNs, severities, exclusions"),
        OptionSpec(name: "--output", valueName: "DIR", help: "where reports are written (default: Reports/)"),
        OptionSpec(name: "--format", valueName: "LIST", help: "any of csv,html,json (default: all three)"),
        OptionSpec(
            name: "--wait-lock", valueName: "SECONDS",
            help:
                "when another run is writing to --output, wait up to SECONDS (0-86400) for it; exit 4 when it still is (default: exit 4 at once)"
        ),
        OptionSpec(
            name: "--baseline", valueName: "FILE",
            help: "compare with this findings.json (default: the previous one in --output)"),
        OptionSpec(
            name: "--keep", valueName: "DAYS", help: "keep dated findings.json copies in OUTPUT/history/ for DAYS days"),
        OptionSpec(
            name: "--templates", valueName: "DIR",
            help: "HTML templates (default: $TRUSTAUDIT_TEMPLATES, ./Templates, or the installed copy)"),
        OptionSpec(
            name: "--now", valueName: "TIME",
            help: "compute ages from this UTC time (2026-11-24T00:00:00Z) instead of the clock"),
        OptionSpec(
            name: "--fail-on", valueName: "SEVERITY",
            help: "exit 1 when a finding is at or above info|low|medium|high|critical"),
        OptionSpec(
            name: "--quiet", valueName: nil, help: "print nothing on success (for cron); errors still go to stderr"),
        OptionSpec(name: "--help", valueName: nil, help: "show this help"),
    ]

    static func run(_ arguments: [String]) -> ExitCode {
        let parsed: ParsedArguments
        do {
            parsed = try ParsedArguments.parse(arguments, options: options, command: name)
        } catch {
            printError("\(error)")
            return .usage
        }
        if parsed.has("--help") {
            print(
                """
                Usage: trustaudit audit --ldif FILE [options]
                       trustaudit audit --uri ldaps://DC --bind-dn NAME --password-file FILE [options]
                       trustaudit audit --uri ldap://DC --sasl gssapi [options]

                An LDIF export:
                \(helpText(for: fileOptions))

                A live domain controller:
                \(helpText(for: LiveSourceOptions.options))

                Audit and reports:
                \(helpText(for: reportOptions))

                Mail the reports once they are written (exit 5 when the mail is not delivered):
                \(helpText(for: MailOptions.options))
                """)
            return .success
        }
        let settings: AuditSettings
        do {
            settings = try AuditSettings(parsed)
        } catch {
            printError("\(error)")
            return .usage
        }
        return execute(settings)
    }

    static func execute(_ settings: AuditSettings) -> ExitCode {
        // Before any temporary exists: a stopped run removes its own (Signals). One run at a time
        // per output directory, before anything in it is read (the baseline) or written; then what
        // dead runs left there is removed. Exit 4: nothing was touched.
        Signals.removeTemporariesWhenStopped()
        let outputLock: OutputLock
        do {
            outputLock = try OutputLock.acquire(settings.outputDirectory, waitingUpTo: settings.waitLockSeconds)
        } catch {
            printError("\(name): \(error)")
            return .reportNotWritten
        }
        defer { outputLock.release() }
        ReportWriter.removeStaleTemporaries(in: settings.outputDirectory)

        // Everything that can be checked before reading the source is checked first, so a typo in a
        // template does not surface after a ten-minute domain read.
        let writer: ReportWriter
        do {
            writer = try ReportWriter(templatesDirectory: settings.templatesDirectory)
        } catch {
            printError("\(name): \(error)")
            return .usage
        }

        // The previous findings.json is read now, before it is replaced and before the long read.
        let baseline: Baseline?
        do {
            baseline = try settings.loadBaseline()
        } catch {
            printError("\(name): \(error)")
            return .usage
        }

        // computers.csv is streamed to a temporary in the output directory while the audit runs, and
        // committed with the other reports; an unusable output directory is reported before the read.
        var computers: StreamedReport?
        if settings.formats.contains(.csv) {
            do {
                computers = try writer.beginStreamedReport(named: ComputersCSV.fileName, in: settings.outputDirectory)
            } catch {
                printError("\(name): \(error)")
                printError("The previous reports in \(settings.outputDirectory.path) are unchanged.")
                return .reportNotWritten
            }
        }
        let computerSink = computers.map { ComputersCSV.sink(writingTo: $0, byteOrderMark: writer.csvByteOrderMark) }

        let source: any DirectorySource
        var runner: AuditRunner
        do {
            switch settings.source {
            case .ldif(let reader):
                source = reader
                runner = AuditRunner(
                    configuration: settings.configuration, now: settings.now, source: reader.description,
                    inventory: settings.inventory, computerSink: computerSink)
            case .ldap(let ldapSettings):
                let live = LDAPDirectorySource(settings: ldapSettings)
                // Connect and bind before anything else, so a wrong password or an untrusted
                // certificate is reported at once and names the DC.
                let domainController = try live.connect()
                source = live
                runner = AuditRunner(
                    configuration: settings.configuration, now: settings.now, source: live.description,
                    inventory: settings.inventory, domain: domainController.domain,
                    domainController: domainController.dnsHostName, computerSink: computerSink)
                if let time = domainController.currentTime {
                    let skew = time.timeIntervalSince(Date())
                    runner.recordClockSkew(seconds: skew)
                    if abs(skew) > 300 {
                        printError(
                            "trustaudit: warning: \(live.description) is \(Int(abs(skew))) s \(skew > 0 ? "ahead of" : "behind") this host; Kerberos fails beyond 5 minutes. Check time sync (w32tm /query /status on the DC, chronyc tracking here)."
                        )
                    }
                }
            }
            try source.forEachEntry { entry in runner.add(entry) }
            if case .ldap(let ldapSettings) = settings.source, ldapSettings.progress != nil { printError("") }
        } catch {
            computers?.discard()
            printError("\(name): cannot read \(settings.sourceDescription): \(error)")
            printError("No report was written; the previous reports in \(settings.outputDirectory.path) are unchanged.")
            return .sourceUnreadable
        }
        let result = runner.finish()
        // A read that found no computer account is a wrong export or a wrong base, not a clean
        // domain (every domain has at least its DCs): replacing the reports would mark every
        // finding resolved and mail "no findings".
        guard result.summary.computers > 0 else {
            computers?.discard()
            printError(
                "\(name): \(TerminalText.escaped(settings.sourceDescription)) holds \(result.summary.objectsRead) entr\(result.summary.objectsRead == 1 ? "y" : "ies") but no computer account (objectClass computer); export the computers, e.g. ldapsearch ... '(objectClass=computer)', or check --base."
            )
            printError(
                "No report was written; the previous reports in \(TerminalText.escaped(settings.outputDirectory.path)) are unchanged."
            )
            return .sourceUnreadable
        }
        if result.summary.repeatedObjects > 0 {
            let count = result.summary.repeatedObjects
            printError(
                "trustaudit: warning: \(count) object\(count == 1 ? "" : "s") appeared more than once in \(TerminalText.escaped(settings.sourceDescription)) (the same DN twice: exports concatenated, or a query repeated); each was audited once, as first read."
            )
        }
        let changes = baseline.map { FindingChanges(result: result, baseline: $0) }

        let written: [URL]
        do {
            written = try writer.write(
                result, formats: settings.formats, to: settings.outputDirectory, changes: changes,
                streamed: computers.map { [$0] } ?? [])
        } catch {
            printError("\(name): \(error)")
            printError("The previous reports in \(settings.outputDirectory.path) are unchanged.")
            return .reportNotWritten
        }

        // A history that cannot be kept is exit 4, but the reports are written: the mail still goes.
        var historyFailed = false
        if let keepDays = settings.keepDays {
            do {
                try ReportHistory.keep(
                    settings.outputDirectory.appendingPathComponent(ReportFormat.json.fileName),
                    generatedAt: result.summary.generatedAt, in: settings.outputDirectory, keepDays: keepDays)
            } catch {
                printError("\(name): the reports were written, but the history was not kept: \(error)")
                historyFailed = true
            }
        }

        let atThreshold =
            settings.failOn.map { threshold in
                result.findings.contains { $0.severity >= threshold }
            } ?? false
        if !settings.quiet || atThreshold {
            printOutput(summaryLine(result, written: written, changes: changes))
        }

        // Mailed last, from the files just written; a mail that does not go out leaves them in place.
        if let mail = settings.mail {
            let delivered = MailOptions.deliver(
                mail, result: result, changes: changes, written: written, outputDirectory: settings.outputDirectory,
                template: writer.template, formats: settings.formats, quiet: settings.quiet)
            if historyFailed { return .reportNotWritten }
            if !delivered { return .mailNotDelivered }
        }
        if historyFailed { return .reportNotWritten }
        return atThreshold ? .findingsAtThreshold : .success
    }

    /// One line an admin (or a cron mail) can read at a glance.
    static func summaryLine(_ result: AuditResult, written: [URL], changes: FindingChanges? = nil) -> String {
        let summary = result.summary
        let severities = Severity.allCases.reversed().compactMap { severity -> String? in
            let count = summary.findingsBySeverity[severity] ?? 0
            return count > 0 ? "\(count) \(severity.rawValue)" : nil
        }
        var line = "trustaudit: \(summary.computers) computer accounts audited"
        if let domain = summary.domain { line += " in \(TerminalText.escaped(domain))" }
        line +=
            " from \(TerminalText.escaped(summary.source)); \(summary.totalFindings) finding\(summary.totalFindings == 1 ? "" : "s")"
        if !severities.isEmpty { line += " (\(severities.joined(separator: ", ")))" }
        if let changes {
            line += "; \(changes.newCount) new, \(changes.resolved.count) resolved since \(changes.baselineGeneratedAt)"
        }
        if let first = written.first {
            line += "; reports in \(first.deletingLastPathComponent().path)/: "
            line += written.map(\.lastPathComponent).joined(separator: ", ")
        }
        return line
    }
}

/// The validated settings of one audit run, built from the command line and the files it names.
struct AuditSettings {
    enum Source {
        case ldif(LDIFReader)
        case ldap(LDAPSourceSettings)
    }

    var source: Source
    var configuration = AuditConfiguration()
    var inventory: Inventory?
    var outputDirectory: URL
    var formats: Set<ReportFormat>
    /// Nil when neither an HTML report nor a mail was asked for: a JSON-only cron job needs no templates.
    var templatesDirectory: URL?
    var now: Date
    var failOn: Severity?
    var quiet: Bool
    /// `--baseline`: an explicit baseline must exist and be a findings.json (usage error otherwise).
    var baselinePath: String?
    /// `--keep`: days of dated findings.json copies to keep in OUTPUT/history/; nil keeps no history.
    var keepDays: Int?
    /// `--wait-lock`: how long to wait for another run writing to the output directory; 0 does not wait.
    var waitLockSeconds: TimeInterval = 0
    /// `--mail-to` and friends; nil sends no mail.
    var mail: MailOptions.Settings?

    init(_ parsed: ParsedArguments) throws {
        let command = AuditCommand.name
        if let stray = parsed.positionals.first {
            throw UsageError(message: "\(command): unexpected argument '\(stray)'. See '\(command) --help'.")
        }
        quiet = parsed.has("--quiet")
        // Mail settings first: a mistyped address is a usage error before any password prompt or read.
        mail = try MailOptions.settings(parsed)
        let live = try LiveSourceOptions.settings(parsed, quiet: quiet)
        switch (parsed.value("--ldif"), live) {
        case (let path?, nil):
            source = .ldif(LDIFReader(path: path))
        case (nil, let live?):
            source = .ldap(live)
        case (_?, _?):
            throw UsageError(message: "\(command): give either --ldif FILE or --uri URI, not both.")
        case (nil, nil):
            throw UsageError(
                message: "\(command): say what to audit: --ldif FILE or --uri ldaps://DC. See '\(command) --help'.")
        }

        if let path = parsed.value("--config") {
            configuration = try AuditConfiguration.load(from: path)
        }
        if let path = parsed.value("--inventory") {
            inventory = try Inventory.load(path: path)
        }
        outputDirectory = URL(fileURLWithPath: parsed.value("--output") ?? "Reports", isDirectory: true)

        if let list = parsed.value("--format") {
            var formats: Set<ReportFormat> = []
            for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
                guard let format = ReportFormat(rawValue: name) else {
                    throw UsageError(
                        message: "\(command): unknown format '\(name)'; use csv, html, json (comma-separated).")
                }
                formats.insert(format)
            }
            guard !formats.isEmpty else {
                throw UsageError(message: "\(command): --format needs at least one of csv, html, json.")
            }
            self.formats = formats
        } else {
            formats = Set(ReportFormat.allCases)
        }

        // The mail's HTML body is report.html, so mailing needs the templates even without html in --format.
        templatesDirectory =
            formats.contains(.html) || mail != nil ? try Self.findTemplates(parsed.value("--templates")) : nil

        if let text = parsed.value("--now") {
            guard let date = Self.parseTime(text) else {
                throw UsageError(
                    message:
                        "\(command): --now '\(TerminalText.escaped(text))' is not a UTC time like 2026-11-24T00:00:00Z or 2026-11-24."
                )
            }
            // AD's timestamps (FILETIME) run from 1601-01-01 to 30828; ages from another "now" mean nothing.
            guard FileTime.isRepresentable(date) else {
                throw UsageError(
                    message:
                        "\(command): --now '\(TerminalText.escaped(text))' is outside AD's time range (FILETIME: from 1601-01-01 to 30828-09-14)."
                )
            }
            now = date
        } else {
            now = Date()
        }

        baselinePath = parsed.value("--baseline")
        if let text = parsed.value("--keep") {
            guard let days = Int(text), (1...36_500).contains(days) else {
                throw UsageError(message: "\(command): --keep '\(text)' is not a number of days from 1 to 36500.")
            }
            guard formats.contains(.json) else {
                throw UsageError(message: "\(command): --keep keeps copies of findings.json; add json to --format.")
            }
            keepDays = days
        }

        if let text = parsed.value("--wait-lock") {
            guard let seconds = Int(text), (0...Int(OutputLock.maximumWait)).contains(seconds) else {
                throw UsageError(
                    message: "\(command): --wait-lock '\(text)' is not a number of seconds from 0 to 86400.")
            }
            waitLockSeconds = TimeInterval(seconds)
        }

        if let text = parsed.value("--fail-on") {
            guard let severity = Severity(rawValue: text.lowercased()) else {
                throw UsageError(
                    message: "\(command): --fail-on '\(text)' is not one of info, low, medium, high, critical.")
            }
            failOn = severity
        }
    }

    /// The run to compare with: `--baseline`, else the previous findings.json in the output directory
    /// when this run writes a new one (otherwise it would never move on). No previous file is a first
    /// run; a previous file that cannot be used is warned about and skipped, so one bad file cannot
    /// stop every nightly run after it (this run's findings.json replaces it).
    func loadBaseline() throws -> Baseline? {
        if let baselinePath { return try Baseline.load(from: baselinePath) }
        guard formats.contains(.json) else { return nil }
        let previous = outputDirectory.appendingPathComponent(ReportFormat.json.fileName).path
        do {
            return try Baseline.load(from: previous)
        } catch let error as BaselineError where error.code == .missing {
            return nil
        } catch {
            printError("trustaudit: warning: not comparing with the previous run: \(error)")
            return nil
        }
    }

    var sourceDescription: String {
        switch source {
        case .ldif(let reader): return reader.description
        case .ldap(let settings): return settings.uri
        }
    }

    static func parseTime(_ text: String) -> Date? {
        let full = ISO8601DateFormatter()
        full.formatOptions = [.withInternetDateTime]
        if let date = full.date(from: text) { return date }
        full.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = full.date(from: text) { return date }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        day.timeZone = TimeZone(identifier: "UTC")
        return day.date(from: text)
    }

    /// The running binary, symlinks resolved. Not argv[0]: run from cron through PATH it is a bare
    /// `trustaudit`, which names nothing in the working directory.
    static func executableURL() -> URL {
        #if os(Linux)
            if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
                return URL(fileURLWithPath: path)
            }
        #endif
        return (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])).resolvingSymlinksInPath()
    }

    /// The templates a user edits live beside the checkout or the installed binary; look where they would be.
    static func findTemplates(_ explicit: String?) throws -> URL {
        let fileManager = FileManager.default
        func isTemplates(_ url: URL) -> Bool {
            fileManager.fileExists(atPath: url.appendingPathComponent("report.html").path)
        }
        if let explicit {
            let url = URL(fileURLWithPath: explicit, isDirectory: true)
            guard isTemplates(url) else {
                throw UsageError(message: "\(AuditCommand.name): --templates \(explicit) has no report.html.")
            }
            return url
        }
        var candidates: [URL] = []
        if let fromEnvironment = ProcessInfo.processInfo.environment["TRUSTAUDIT_TEMPLATES"] {
            candidates.append(URL(fileURLWithPath: fromEnvironment, isDirectory: true))
        }
        candidates.append(URL(fileURLWithPath: "Templates", isDirectory: true))
        let executable = executableURL().deletingLastPathComponent()
        candidates.append(executable.appendingPathComponent("../share/trustaudit/Templates").standardizedFileURL)
        // A `swift build` binary lives in .build/<config>/ (or .build/<triple>/<config>/) under the checkout.
        for up in ["../..", "../../.."] {
            candidates.append(executable.appendingPathComponent(up + "/Templates").standardizedFileURL)
        }
        guard let found = candidates.first(where: isTemplates) else {
            throw UsageError(
                message:
                    "\(AuditCommand.name): cannot find the report templates (looked in \(candidates.map(\.path).joined(separator: ", "))); pass --templates DIR."
            )
        }
        return found
    }
}
