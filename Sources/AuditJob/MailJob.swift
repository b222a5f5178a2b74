import Audit
import Delivery
import Foundation
import Reporting

/// Mails the reports a run has just written: which files ride along, read from disk, composed
/// into one message and handed to sendmail or an SMTP server.
///
/// The mail is composed from the files on disk, never from a second rendering, so it cannot
/// disagree with them; a frontend only decides who gets it and how it leaves the host.
public enum MailJob {
    /// How the message leaves this host.
    public enum Route {
        case sendmail(SendmailTransport)
        case smtp(SMTPTransport)

        public var transport: any MailTransport {
            switch self {
            case .sendmail(let transport): return transport
            case .smtp(let transport): return transport
            }
        }

        /// `/usr/sbin/sendmail -t`, `SMTP mail.corp.example:587`, `SMTP [2001:db8::25]:25`.
        public var description: String {
            switch self {
            case .sendmail(let transport): return "\(transport.path) -t"
            case .smtp(let transport):
                let host = transport.host.contains(":") ? "[\(transport.host)]" : transport.host
                return "SMTP \(host):\(transport.port)"
            }
        }
    }

    /// The checked mail settings of one run.
    public struct Settings {
        public var recipients: [MailAddress]
        public var sender: MailAddress
        /// Replaces `MailReport.defaultSubject(for:changes:)`.
        public var subject: String?
        /// Send nothing when the audit found nothing.
        public var onlyOnFindings: Bool
        public var route: Route

        public init(
            recipients: [MailAddress], sender: MailAddress, subject: String? = nil, onlyOnFindings: Bool = false,
            route: Route
        ) {
            self.recipients = recipients
            self.sender = sender
            self.subject = subject
            self.onlyOnFindings = onlyOnFindings
            self.route = route
        }
    }

    /// What became of a mail that did not fail.
    public enum Delivery {
        /// Nothing was sent: no findings, and `onlyOnFindings`.
        case skippedNoFindings
        /// Handed to the route.
        case delivered(subject: String, recipients: [MailAddress], route: String)
    }

    /// The files attached, in order of preference: findings.csv, the per-rule CSVs, then
    /// computers.csv (`written` lists them so); findings.json when no CSV was written.
    public static func candidates(_ written: [URL]) -> [URL] {
        let csv = written.filter { $0.pathExtension == "csv" }
        if !csv.isEmpty { return csv }
        return written.filter { $0.lastPathComponent == ReportFormat.json.fileName }
    }

    /// The attachment's content type, by its extension.
    public static func contentType(ofFileNamed name: String) -> String {
        name.hasSuffix(".csv") ? "text/csv; charset=utf-8" : "application/json"
    }

    /// Composes the mail for the reports just written, without sending it.
    public static func compose(
        _ settings: Settings, result: AuditResult, changes: FindingChanges?, written: [URL], outputDirectory: URL,
        template: Template?, formats: Set<ReportFormat>, trend: ReportTrend? = nil, hints: ReportHints = ReportHints()
    ) throws -> (report: MailReport, message: MailMessage) {
        let files = try candidates(written).map { url in
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            return MailReport.File(
                name: url.lastPathComponent, path: url.path, byteCount: (attributes[.size] as? Int) ?? 0)
        }
        let report = try MailReport(
            result: result, changes: changes, files: files, outputDirectory: outputDirectory.path + "/",
            template: template, formats: formats, subject: settings.subject, trend: trend, hints: hints)
        let attachments: [MailMessage.Attachment] = try report.attached.map { file in
            let data = try Data(contentsOf: URL(fileURLWithPath: file.path))
            return (fileName: file.name, contentType: contentType(ofFileNamed: file.name), data: Array(data))
        }
        let message = try MailMessage(
            from: settings.sender, to: settings.recipients, subject: report.subject, textBody: report.textBody,
            htmlBody: report.htmlBody, attachments: attachments)
        return (report, message)
    }

    /// Mails the written reports; throws when the mail was not delivered (the reports stay).
    public static func deliver(
        _ settings: Settings, result: AuditResult, changes: FindingChanges?, written: [URL], outputDirectory: URL,
        template: Template?, formats: Set<ReportFormat>, trend: ReportTrend? = nil, hints: ReportHints = ReportHints()
    ) throws -> Delivery {
        if settings.onlyOnFindings && result.findingStore.isEmpty { return .skippedNoFindings }
        let (report, message) = try compose(
            settings, result: result, changes: changes, written: written, outputDirectory: outputDirectory,
            template: template, formats: formats, trend: trend, hints: hints)
        try settings.route.transport.send(
            message.rendered(), from: settings.sender.address, to: settings.recipients.map(\.address))
        return .delivered(subject: report.subject, recipients: settings.recipients, route: settings.route.description)
    }
}
