import Audit
import Directory

/// `computers.csv`: every computer account, healthy or not, with the facts the audit derived.
///
/// Streamed while the audit runs (`sink(writingTo:)` as the runner's `computerSink`), one row per
/// computer in directory order, so a million computers are never held in memory. Not gMSAs, MSAs or
/// other SPN holders; the row count equals `summary.computers`. UTF-8, CRLF, formula-safe cells.
///
/// Columns:
/// - `sAMAccountName`, `dn`, `dNSHostName`, `operatingSystem`: as read (empty when absent)
/// - `enabled`, `isDomainController`: `true`/`false` from userAccountControl (empty when it is absent)
/// - `excluded`: `true` when the configuration excludes it; no rule judged it then
/// - `pwdLastSet`, `lastLogonTimestamp`: ISO 8601 UTC (`2026-05-28T10:15:02Z`); `never` when the
///   attribute is 0 (or the "never" maximum); empty when the attribute is absent; the raw value and
///   `(not a valid time)` when it is negative (`-1 (not a valid time)`), which no FILETIME can be
/// - `passwordAgeDays`, `lastLogonAgeDays`: whole days before the audit time; negative when in the
///   future; empty when never, absent or not a valid time
/// - `spnCount`: how many servicePrincipalName values it holds
/// - `spnStatus`: `ok`; `missing: HOST/PC01|HOST/pc01.corp.example` (the missing-spn finding's list,
///   plus `FQDN forms (no dNSHostName)` when it has none); or `not-checked` for disabled or excluded
///   computers, which the missing-spn rule does not judge
/// - `findings`: the ids of the per-account rules that reported it (`disabled-account|stale-password`);
///   duplicate-spn is known only when the audit ends and is not listed here (see duplicate-spn.csv)
/// - a multi-DC audit (`--dcs`) adds `lastLogon` (the newest lastLogon over the DCs that answered:
///   exact, unlike the replicated lastLogonTimestamp, which lags 9 to 14 days; formatted as
///   pwdLastSet) and `lastLogonDC` (the DC that saw it)
public enum ComputersCSV {
    public static let fileName = "computers.csv"
    public static let header = [
        "sAMAccountName", "dn", "dNSHostName", "operatingSystem", "enabled", "isDomainController", "excluded",
        "pwdLastSet",
        "passwordAgeDays", "lastLogonTimestamp", "lastLogonAgeDays", "spnCount", "spnStatus", "findings",
    ]

    /// The columns a multi-DC audit adds after `header`.
    public static let domainControllerHeader = ["lastLogon", "lastLogonDC"]

    /// `header`, and `domainControllerHeader` after it when every DC was read.
    public static func header(perDomainController: Bool) -> [String] {
        perDomainController ? header + domainControllerHeader : header
    }

    /// One computer's cells, in `header(perDomainController:)` order.
    public static func cells(_ facts: ComputerFacts, perDomainController: Bool) -> [String] {
        var cells = cells(facts)
        if perDomainController { cells += [time(facts.trueLastLogon), facts.trueLastLogonDC ?? ""] }
        return cells
    }

    /// One computer's cells, in `header` order.
    public static func cells(_ facts: ComputerFacts) -> [String] {
        let computer = facts.computer
        let control = computer.userAccountControl
        var spnStatus = "ok"
        if !facts.spnsChecked {
            spnStatus = "not-checked"
        } else if facts.hasMissingSPNFinding {
            var missing = facts.missingSPNs
            if computer.dnsHostName == nil { missing.append("FQDN forms (no dNSHostName)") }
            spnStatus = "missing: " + missing.joined(separator: "|")
        }
        var rules: [String] = []
        for finding in facts.findings where !rules.contains(finding.rule) { rules.append(finding.rule) }
        return [
            computer.samAccountName, computer.distinguishedName, computer.dnsHostName ?? "",
            computer.operatingSystem ?? "",
            control.map { $0.isDisabled ? "false" : "true" } ?? "",
            control.map { $0.isDomainController ? "true" : "false" } ?? "",
            facts.isExcluded ? "true" : "false",
            time(computer.passwordLastSet), facts.passwordAgeDays.map(String.init) ?? "",
            time(computer.lastLogonTimestamp), facts.lastLogonAgeDays.map(String.init) ?? "",
            String(computer.servicePrincipalNames.count), spnStatus, rules.joined(separator: "|"),
        ]
    }

    /// Writes the header to `report` and returns the sink that appends one row per computer.
    /// Write errors are kept by the report and thrown when it is committed.
    /// `perDomainController`: the audit reads every DC (`--dcs`), so the true last logon is known.
    public static func sink(
        writingTo report: StreamedReport, byteOrderMark: Bool = false, perDomainController: Bool = false
    ) -> ComputerFactsSink {
        if byteOrderMark { report.write(bytes: CSV.byteOrderMark) }
        report.writeCSVRow(header(perDomainController: perDomainController))
        if perDomainController { return { facts in report.writeCSVRow(cells(facts, perDomainController: true)) } }
        return { facts in report.writeCSVRow(cells(facts)) }
    }

    /// The whole file from facts already in memory (tests, small domains).
    public static func write(_ computers: [ComputerFacts], to output: ReportOutput, byteOrderMark: Bool = false) throws
    {
        if byteOrderMark { try output.write(bytes: CSV.byteOrderMark) }
        try CSV.writeRow(header, to: output)
        for facts in computers { try CSV.writeRow(cells(facts), to: output) }
    }

    private static func time(_ value: FileTime?) -> String {
        guard let value else { return "" }
        return value.isNever ? "never" : AuditContext.timestamp(value)
    }
}
