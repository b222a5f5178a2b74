import Audit
import AuditJob
import Codecs
import CommandLineOptions
import Directory
import Foundation
import Reporting
import UntrustedInput

/// The validated settings of one `trustaudit audit` run, built from the command line and the files
/// it names: the job's settings, and what only the command line does with the outcome.
struct AuditSettings {
    var job: AuditJobSettings
    var failOn: Severity?
    var quiet: Bool
    /// Progress line and colour: the same rules for the LDIF and the live read.
    var terminal: TerminalPolicy

    /// The reports' wording for a file this run did not write, and the mail's signature, in terms
    /// of the options: what every report said before the wording left Reporting.
    static let hints = ReportHints(
        findingsCSVNotWritten: "findings.csv (run again with --format csv,html)",
        findingsJSONNotWritten: "findings.json (run again with json in --format)",
        mailSignature: "Sent by TrustAudit (trustaudit audit --mail-to). The HTML part of this mail is report.html.")

    init(_ parsed: ParsedArguments) throws {
        let command = AuditCommand.name
        if let stray = parsed.positionals.first {
            throw UsageError(message: "\(command): unexpected argument '\(stray)'. See '\(command) --help'.")
        }
        quiet = parsed.has("--quiet")
        terminal = TerminalPolicy.forProcess(quiet: quiet)
        // Mail settings first: a mistyped address is a usage error before any password prompt or read.
        let mail = try MailOptions.settings(parsed)
        let live = try LiveSourceOptions.settings(parsed, showsProgress: terminal.showsProgress)
        let source: AuditJobSettings.Source
        switch (parsed.value("--ldif"), live) {
        case (let path?, nil):
            var reader = LDIFReader(path: path)
            if terminal.showsProgress {
                let reporter = ProgressReporter()
                reader.progress = { reporter.ldif($0) }
            }
            source = .ldif(reader)
        case (nil, let live?):
            source = .ldap(live)
        case (_?, _?):
            throw UsageError(message: "\(command): give either --ldif FILE or --uri URI, not both.")
        case (nil, nil):
            throw UsageError(
                message: "\(command): say what to audit: --ldif FILE or --uri ldaps://DC. See '\(command) --help'.")
        }

        var configuration = AuditConfiguration()
        if let path = parsed.value("--config") {
            configuration = try AuditConfiguration.load(from: path)
        }
        var inventory: Inventory?
        if let path = parsed.value("--inventory") {
            inventory = try Inventory.load(path: path)
        }
        let outputDirectory = URL(fileURLWithPath: parsed.value("--output") ?? "Reports", isDirectory: true)

        let formats = try Self.formats(parsed.value("--format"))

        // The mail's HTML body is report.html, so mailing needs the templates even without html in --format.
        let templatesDirectory =
            formats.contains(.html) || mail != nil ? try TemplateLocator.find(parsed.value("--templates")) : nil

        var now = Date()
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
        }

        // `--baseline`: an explicit baseline must exist and be a findings.json (usage error otherwise).
        let baseline: AuditJobSettings.Baseline = parsed.value("--baseline").map { .file($0) } ?? .previousRun
        var keepDays: Int?
        if let text = parsed.value("--keep") {
            guard let days = Int(text), (1...36_500).contains(days) else {
                throw UsageError(message: "\(command): --keep '\(text)' is not a number of days from 1 to 36500.")
            }
            guard formats.contains(.json) else {
                throw UsageError(message: "\(command): --keep keeps copies of findings.json; add json to --format.")
            }
            keepDays = days
        }

        var waitLockSeconds: TimeInterval = 0
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

        job = AuditJobSettings(
            source: source, configuration: configuration, inventory: inventory, outputDirectory: outputDirectory,
            formats: formats, templatesDirectory: templatesDirectory, baseline: baseline, keepDays: keepDays,
            mail: mail, now: now, waitLockSeconds: waitLockSeconds, hints: Self.hints)
        job.domainControllers = try Self.domainControllers(parsed)
        job.requireAllDomainControllers = parsed.has("--require-all-dcs")
    }

    /// `--dcs all` or `--dcs dc01,dc02.corp.example`; `.first` without it.
    static func domainControllers(_ parsed: ParsedArguments) throws -> DomainControllerSelection {
        let command = AuditCommand.name
        guard let value = parsed.value("--dcs") else {
            if parsed.has("--require-all-dcs") {
                throw UsageError(message: "\(command): --require-all-dcs only applies with --dcs all or --dcs LIST.")
            }
            return .first
        }
        if parsed.has("--gc") {
            throw UsageError(
                message:
                    "\(command): --dcs reads the DCs of one domain; it cannot be combined with --gc (a forest audit) yet."
            )
        }
        if value.lowercased() == "all" { return .all }
        let names = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let isHostName: (String) -> Bool = { name in
            name.utf8.allSatisfy {
                ASCII.isLetter($0) || ASCII.isDigit($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".")
            }
        }
        guard !names.isEmpty, names.allSatisfy(isHostName) else {
            throw UsageError(
                message:
                    "\(command): --dcs '\(TerminalText.escaped(value))' must be all, or DC names separated by commas (dc01,dc02.corp.example)."
            )
        }
        return .named(names)
    }

    /// `--format LIST`: any of csv, html, json, comma-separated; all three when not given.
    static func formats(_ list: String?) throws -> Set<ReportFormat> {
        guard let list else { return Set(ReportFormat.allCases) }
        let command = AuditCommand.name
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
        return formats
    }

    /// `--now`: the RFC 3339 forms (`2026-11-24`, `2026-11-24T00:00:00Z`, with an offset or a fraction).
    static func parseTime(_ text: String) -> Date? { UTCTime.date(iso8601: text) }
}
