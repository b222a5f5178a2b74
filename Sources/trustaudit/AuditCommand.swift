import Audit
import AuditJob
import CommandLineOptions
import Foundation
import Reporting
import UntrustedInput

/// `trustaudit audit`: parses the options, runs the `AuditJob`, prints what it says and maps its
/// outcome to an exit code. The run's order and invariants are the job's, not the command line's.
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

    /// Runs the job and says what happened: the job decides the order, this only prints and picks
    /// the exit code.
    static func execute(_ settings: AuditSettings) -> ExitCode {
        // Before any temporary exists: a stopped run removes its own (Signals).
        Signals.removeTemporariesWhenStopped()
        StatusLine.shared.erasesWithEscape = settings.terminal.erasesWithEscape
        let output = settings.job.outputDirectory
        let outcome = AuditJob(settings.job).run { event in report(event, settings) }
        switch outcome {
        case .outputLocked(let error):
            printError("\(name): \(OptionWording.describe(error))")
            return .reportNotWritten
        case .usage(let error):
            printError("\(name): \(OptionWording.describe(error))")
            return .usage
        case .reportNotWritten(let error):
            printError("\(name): \(OptionWording.describe(error))")
            printError("The previous reports in \(output.path) are unchanged.")
            return .reportNotWritten
        case .sourceUnreadable(.unreadable(let source, let error)):
            printError("\(name): cannot read \(source): \(OptionWording.describe(error))")
            printError("No report was written; the previous reports in \(output.path) are unchanged.")
            return .sourceUnreadable
        case .sourceUnreadable(.noComputerAccount(let source, let objectsRead)):
            printError(
                "\(name): \(TerminalText.escaped(source)) holds \(objectsRead) entr\(objectsRead == 1 ? "y" : "ies") but no computer account (objectClass computer); export the computers, e.g. ldapsearch ... '(objectClass=computer)', or check --base."
            )
            printError(
                "No report was written; the previous reports in \(TerminalText.escaped(output.path)) are unchanged."
            )
            return .sourceUnreadable
        case .mailNotDelivered(let completion, let error):
            printError("\(name): the reports were written, but the mail was not delivered: \(error)")
            let recipients = settings.job.mail?.recipients.map(\.address).joined(separator: ", ") ?? ""
            printError("The reports are in \(output.path); nothing was mailed to \(recipients).")
            return completion.historyKept ? .mailNotDelivered : .reportNotWritten
        case .completed(let completion):
            if !settings.quiet {
                switch completion.mail {
                case nil: break
                case .skippedNoFindings:
                    print("trustaudit: no findings, so no mail was sent (--mail-only-on-findings).")
                case .delivered(let subject, let recipients, let route):
                    print(
                        "trustaudit: mailed \"\(subject)\" to \(recipients.map(\.address).joined(separator: ", ")) through \(route)."
                    )
                }
            }
            // A history that cannot be kept is exit 4, though the reports are written and mailed.
            guard completion.historyKept else { return .reportNotWritten }
            return isAtThreshold(completion.result, settings) ? .findingsAtThreshold : .success
        }
    }

    /// Prints what the job reports while it runs, as it happens.
    static func report(_ event: AuditJobEvent, _ settings: AuditSettings) {
        switch event {
        case .warning(.domainControllerNotRead(let host, let reason)):
            printError(
                "trustaudit: warning: domain controller \(TerminalText.escaped(host)) was not read: \(TerminalText.escaped(reason)); the findings that compare DCs name it among those they could not compare (--require-all-dcs makes this an error)."
            )
        case .warning(.clockSkew(let source, let skew)):
            printError(
                "trustaudit: warning: \(TerminalText.escaped(source)) is \(Int(abs(skew))) s \(skew > 0 ? "ahead of" : "behind") this host; Kerberos fails beyond 5 minutes. Check time sync (w32tm /query /status on the DC, chronyc tracking here)."
            )
        case .warning(.baselineUnusable(let error)):
            printError("trustaudit: warning: not comparing with the previous run: \(OptionWording.describe(error))")
        case .warning(.repeatedObjects(let count, let source)):
            printError(
                "trustaudit: warning: \(count) object\(count == 1 ? "" : "s") appeared more than once in \(TerminalText.escaped(source)) (the same account, by objectGUID or else DN: exports concatenated, or a query repeated); each was audited once, as first read."
            )
        case .warning(.attributesNotInExport(let source, let sentence)):
            printError(
                "trustaudit: warning: \(TerminalText.escaped(source)): \(sentence) A Global Catalog (port 3268/3269) holds no pwdLastSet; export from a DC of the domain (389/636) with the attributes the README lists."
            )
        case .warning(.findingsHeldInMemory(let failure)):
            printError(
                "trustaudit: warning: the findings were kept in memory, not on disk: \(TerminalText.escaped(failure.description)). The reports are complete, but a large audit needs memory for every finding."
            )
        case .warning(.historyNotKept(let error)):
            printError(
                "\(name): the reports were written, but the history was not kept: \(OptionWording.describe(error))")
        case .sourceRead:
            // The read's progress line (LDIF or live) goes before anything else is said.
            StatusLine.shared.clear()
        case .reportsWritten(let result, let written, let changes):
            if !settings.quiet || isAtThreshold(result, settings) {
                printOutput(
                    summaryLine(result, written: written, changes: changes), colour: settings.terminal.coloursOutput)
            }
        }
    }

    /// `--fail-on`: a finding at or above the threshold.
    static func isAtThreshold(_ result: AuditResult, _ settings: AuditSettings) -> Bool {
        guard let threshold = settings.failOn else { return false }
        return result.findingStore.contains { $0.severity >= threshold }
    }

    /// One line an admin (or a cron mail) can read at a glance; in pieces, so a terminal can show
    /// the total in bold and each severity in its colour (`StyledText.render`).
    static func summaryLine(_ result: AuditResult, written: [URL], changes: FindingChanges? = nil) -> [StyledText] {
        let summary = result.summary
        var line = [StyledText("trustaudit: \(summary.computers) computer accounts audited")]
        if let domain = summary.domain { line.append(StyledText(" in \(TerminalText.escaped(domain))")) }
        line.append(StyledText(" from \(TerminalText.escaped(summary.source)); "))
        line.append(
            StyledText("\(summary.totalFindings) finding\(summary.totalFindings == 1 ? "" : "s")", .bold))
        // The words of `AuditSummary.severityCounts`, each its own piece.
        let severities = summary.severityTallies.map {
            StyledText("\($0.count) \($0.severity.rawValue)", .severity($0.severity))
        }
        if !severities.isEmpty {
            line.append(StyledText(" ("))
            for (index, piece) in severities.enumerated() {
                if index > 0 { line.append(StyledText(", ")) }
                line.append(piece)
            }
            line.append(StyledText(")"))
        }
        if let changes {
            line.append(
                StyledText(
                    "; \(changes.newCount) new, \(changes.resolved.count) resolved since \(changes.baselineGeneratedAt)"
                ))
        }
        if let first = written.first {
            line.append(
                StyledText(
                    "; reports in \(first.deletingLastPathComponent().path)/: "
                        + written.map(\.lastPathComponent).joined(separator: ", ")))
        }
        return line
    }
}
