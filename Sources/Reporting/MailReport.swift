import Audit
import Foundation
import UntrustedInput

/// What the nightly mail says: its subject, a plain-text body and an HTML body, and which report
/// files ride along as attachments.
///
/// Built from the same result and changes as the files on disk, so the mail never disagrees with
/// them. The HTML body is `report.html` itself (self-contained, inline styles: what mail clients
/// need); the text body is a shorter read for a phone or a terminal: the verdict, what changed, and
/// the first findings of each rule with their fixes. Nothing here touches the disk or the network.
public struct MailReport: Sendable {
    /// A report file that may be attached: its name, where it is, and its size in bytes.
    public struct File: Sendable, Equatable {
        public var name: String
        public var path: String
        public var byteCount: Int

        public init(name: String, path: String, byteCount: Int) {
            self.name = name
            self.path = path
            self.byteCount = byteCount
        }
    }

    /// The largest file attached (10 MiB): base64 grows it by a third, and many mail servers refuse
    /// messages over 20-25 MB. A larger file is named in the body as left on disk.
    public static let attachmentLimit = 10 << 20
    /// The most the attachments may add up to (15 MiB, about 20 MB once encoded).
    public static let totalAttachmentLimit = 15 << 20
    /// Findings listed per rule in the text body; the rest are in the CSVs and the HTML body.
    public static let findingsPerRuleInText = 10
    /// Resolved findings listed in the text body.
    public static let resolvedInText = 10

    public let subject: String
    public let textBody: String
    public let htmlBody: String
    /// The files to attach, in the order given (findings.csv first, computers.csv last).
    public let attached: [File]
    /// Files left out because they are too large; the body says where they are.
    public let notAttached: [File]

    /// Builds the mail for one run.
    ///
    /// - Parameters:
    ///   - files: candidate attachments, in order of preference; those over the limits are left out.
    ///   - outputDirectory: where the reports were written, named in the body.
    ///   - template: the `report.html` template for the HTML body; nil gives a plain HTML rendering
    ///     of the text body.
    ///   - formats: the reports that were written, so the HTML's "N more in ..." names one that exists.
    ///   - subject: replaces `defaultSubject(for:changes:)`.
    ///   - trend: the kept nights, charted in the HTML body as in report.html.
    ///   - hints: the frontend's wording for the signature and for files this run did not write.
    public init(
        result: AuditResult, changes: FindingChanges?, files: [File], outputDirectory: String, template: Template?,
        formats: Set<ReportFormat>, subject: String? = nil, trend: ReportTrend? = nil,
        hints: ReportHints = ReportHints()
    ) throws {
        let (attached, notAttached) = Self.selectAttachments(files)
        self.attached = attached
        self.notAttached = notAttached
        self.subject = subject ?? Self.defaultSubject(for: result, changes: changes)
        let text = Self.text(
            result, changes: changes, attached: attached, notAttached: notAttached, outputDirectory: outputDirectory,
            signature: hints.mailSignature)
        textBody = text
        if let template {
            htmlBody = try HTMLReport.render(
                result, template: template, formats: formats, changes: changes, trend: trend, hints: hints)
        } else {
            htmlBody =
                "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>\(HTML.escape(self.subject))</title></head>"
                + "<body><pre style=\"font-family:Consolas,Menlo,monospace;font-size:13px;\">\(HTML.escape(text))</pre></body></html>\n"
        }
    }

    /// `TrustAudit corp.example: 3 high, 5 medium findings (2 new)`, or `TrustAudit corp.example: no findings`.
    ///
    /// The counts lead so a mail list shows the night's state without opening it; "(N new)" only
    /// appears when the run was compared with a previous one.
    ///
    /// The domain comes from the DNs read (an LDIF can spell a DN in base64, CR and LF included)
    /// and the source name from the command line, so both go through `TerminalText.escaped`: the
    /// subject is always one valid header line and shows no terminal controls in a mail list or on
    /// stdout.
    public static func defaultSubject(for result: AuditResult, changes: FindingChanges?) -> String {
        let summary = result.summary
        let name = TerminalText.escaped(summary.domain ?? URL(fileURLWithPath: summary.source).lastPathComponent)
        let total = summary.totalFindings
        var subject = "TrustAudit \(name): "
        if total == 0 {
            subject += "no findings"
            if let changes, !changes.resolved.isEmpty { subject += " (\(changes.resolved.count) resolved)" }
            return subject
        }
        subject += severityCounts(summary).joined(separator: ", ") + (total == 1 ? " finding" : " findings")
        if let changes { subject += " (\(changes.newCount) new)" }
        return subject
    }

    /// Attaches files in order while each stays within `attachmentLimit` and all within
    /// `totalAttachmentLimit`; the rest are returned as not attached.
    public static func selectAttachments(
        _ files: [File], limit: Int = attachmentLimit, totalLimit: Int = totalAttachmentLimit
    ) -> (attached: [File], notAttached: [File]) {
        var attached: [File] = []
        var notAttached: [File] = []
        var total = 0
        for file in files {
            if file.byteCount <= limit && total + file.byteCount <= totalLimit {
                attached.append(file)
                total += file.byteCount
            } else {
                notAttached.append(file)
            }
        }
        return (attached, notAttached)
    }

    static func severityCounts(_ summary: AuditSummary) -> [String] { summary.severityCounts }

    /// `1.2 MB`, `840 KB`, `312 bytes`.
    static func size(_ bytes: Int) -> String {
        if bytes >= 1 << 20 { return String(format: "%.1f MB", Double(bytes) / Double(1 << 20)) }
        if bytes >= 1 << 10 { return "\(bytes >> 10) KB" }
        return "\(bytes) bytes"
    }

    // MARK: The text body

    static func text(
        _ result: AuditResult, changes: FindingChanges?, attached: [File], notAttached: [File], outputDirectory: String,
        signature: String = ReportHints().mailSignature
    ) -> String {
        let summary = result.summary
        var lines: [String] = []
        lines.append("TrustAudit: " + HTMLReport.verdict(summary))
        if let changes { lines.append(HTMLReport.changeText(changes)) }
        lines.append("")
        // The same untrusted text as in the subject; a CR or LF here would forge a line of the body.
        lines.append(
            "Domain:     " + (summary.domain.map(TerminalText.escaped) ?? "unknown (no computer account was read)"))
        lines.append("Source:     " + TerminalText.escaped(summary.source))
        lines.append("Audited at: \(FindingsJSON.timestamp(summary.generatedAt)) (ages are counted from this time)")
        lines.append(
            "Computers:  \(summary.computers) (\(summary.enabledComputers) enabled, \(summary.disabledComputers) disabled, "
                + "\(summary.domainControllers) domain controllers, \(summary.excludedComputers) excluded)")
        if let skew = summary.clockSkewSeconds { lines.append("Clock skew: " + HTMLReport.describeSkew(skew)) }

        let descriptions = HTMLReport.ruleDescriptions(result)
        func isNew(_ index: Int) -> Bool { changes?.change(at: index) == .new }
        // Per rule: the counts, and the candidates for its first findings (at most the cap per
        // severity, new and not new), so a million findings are counted, not held.
        var byRule: [String: RuleTally] = [:]
        for (index, finding) in result.findingStore.enumerated() {
            byRule[finding.rule, default: RuleTally()].add(index, finding, isNew: isNew(index))
        }

        if summary.totalFindings > 0 {
            lines.append("")
            lines.append("Findings by rule:")
            let width = descriptions.map(\.id.count).max() ?? 0
            for rule in descriptions {
                let entries = byRule[rule.id] ?? RuleTally()
                var line = "  " + rule.id.padding(toLength: width, withPad: " ", startingAt: 0)
                line += String(repeating: " ", count: max(1, 6 - String(entries.count).count)) + "\(entries.count)"
                if changes != nil { line += "  (\(entries.newCount) new)" }
                lines.append(line)
            }
        }

        if let changes, !changes.resolved.isEmpty {
            lines.append("")
            lines.append("Resolved since the last run (fixed, or the account is gone):")
            for finding in changes.resolved.prefix(resolvedInText) {
                lines.append(
                    "  [\(finding.severity.rawValue)] \(finding.rule) \(TerminalText.escaped(finding.account)): \(TerminalText.escaped(finding.message))"
                )
            }
            if changes.resolved.count > resolvedInText {
                lines.append(
                    "  ... and \(changes.resolved.count - resolvedInText) more, listed in report.html and findings.json"
                )
            }
        }

        for rule in descriptions {
            guard let entries = byRule[rule.id], entries.count > 0 else { continue }
            lines.append("")
            var heading = "== \(rule.title) (\(rule.id)): \(entries.count) finding\(entries.count == 1 ? "" : "s")"
            if changes != nil { heading += ", \(entries.newCount) new" }
            lines.append(heading + " ==")
            if !rule.rationale.isEmpty { lines.append(rule.rationale) }
            // Highest severity first; within one severity, what is new tonight first.
            let top = entries.candidates.sorted { a, b in
                if a.finding.severity != b.finding.severity { return a.finding.severity > b.finding.severity }
                if isNew(a.index) != isNew(b.index) { return isNew(a.index) }
                return a.index < b.index
            }.prefix(findingsPerRuleInText)
            if entries.count > top.count {
                let file = RuleCSV.fileName(for: rule.id) ?? FindingsCSV.fileName
                lines.append("The first \(top.count) by severity; all \(entries.count) are in \(file) and report.html.")
            }
            for (index, finding) in top {
                lines.append("")
                // The text part is read in terminal mail readers too (mailx, mutt): directory text in it is
                // escaped as on stderr. The fix commands are not: they carry no control character (one
                // that would need it gets no command) and must stay pasteable.
                lines.append(
                    "[\(finding.severity.rawValue)] \(TerminalText.escaped(finding.account))"
                        + (isNew(index) ? "  (new)" : ""))
                if let dn = finding.distinguishedName { lines.append("  " + TerminalText.escaped(dn)) }
                lines.append("  " + TerminalText.escaped(finding.message))
                let fixes = finding.remediation.split(whereSeparator: \.isNewline).filter {
                    !$0.trimmingCharacters(in: .whitespaces).isEmpty
                }
                if !fixes.isEmpty {
                    lines.append("  Fix:")
                    for fix in fixes { lines.append("    " + fix) }
                }
            }
        }

        lines.append("")
        if attached.isEmpty {
            lines.append("No report is attached.")
        } else {
            lines.append("Attached: " + attached.map { describe($0.name) }.joined(separator: ", ") + ".")
        }
        for file in notAttached {
            lines.append(
                "Not attached, too large for mail (\(size(file.byteCount))): \(file.name), on disk at \(file.path)")
        }
        lines.append("The reports are in \(outputDirectory).")
        lines.append("")
        lines.append("-- ")
        lines.append(signature)
        return lines.joined(separator: "\n") + "\n"
    }

    private static func describe(_ name: String) -> String {
        switch name {
        case FindingsCSV.fileName: return "\(name) (every finding)"
        case ComputersCSV.fileName: return "\(name) (every computer account)"
        case ReportFormat.json.fileName: return "\(name) (every finding, for scripts)"
        default: return name
        }
    }
}

/// One rule's findings as the mail's text part needs them: how many, how many new, and the first
/// `MailReport.findingsPerRuleInText` of each severity, new and not new, in report order; the
/// first of those by severity, then new, then order, are the rule's first findings in the mail.
private struct RuleTally {
    var count = 0
    var newCount = 0
    private var kept: [Int: Int] = [:]
    private(set) var candidates: [(index: Int, finding: Finding)] = []

    mutating func add(_ index: Int, _ finding: Finding, isNew: Bool) {
        count += 1
        if isNew { newCount += 1 }
        let slot = finding.severity.rank * 2 + (isNew ? 1 : 0)
        guard kept[slot, default: 0] < MailReport.findingsPerRuleInText else { return }
        kept[slot, default: 0] += 1
        candidates.append((index, finding))
    }
}
