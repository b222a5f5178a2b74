/// The few sentences in a report that tell the reader how to get what this run left out.
///
/// They are the frontend's words, not the renderer's: the command line says "run again with
/// --format csv,html", a service would name its own setting. Reporting never names a flag, so the
/// defaults say it in terms of the settings; `trustaudit` passes its own wording in, which keeps
/// its reports byte for byte what they were.
public struct ReportHints: Sendable, Equatable {
    /// Where the full list of findings is when neither the CSV nor the JSON was written (the HTML
    /// says "N more in ..." with this).
    public var findingsCSVNotWritten: String
    /// Where the full list of resolved findings is when findings.json was not written.
    public var findingsJSONNotWritten: String
    /// The last line of the mail's text part, after the "-- " separator.
    public var mailSignature: String

    public init(
        findingsCSVNotWritten: String = "findings.csv (run again with the CSV and HTML formats)",
        findingsJSONNotWritten: String = "findings.json (run again with the JSON format too)",
        mailSignature: String = "Sent by TrustAudit. The HTML part of this mail is report.html."
    ) {
        self.findingsCSVNotWritten = findingsCSVNotWritten
        self.findingsJSONNotWritten = findingsJSONNotWritten
        self.mailSignature = mailSignature
    }
}
