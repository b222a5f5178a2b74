import Audit

/// `<rule>.csv`: one CSV per rule that ran, with the columns the rule declares (`Rule.csvColumns`).
///
/// Written for every rule in `AuditResult.rules` (missing-account only with an inventory), with its
/// header even when the rule found nothing, so a script can always open the file. Same encoding as
/// `findings.csv` (UTF-8, CRLF, formula-safe cells); lists are joined by `|`; `fix` holds one command
/// per line inside the cell; `change` is `new`/`persisting` against a baseline, else empty. Columns:
///
/// - `disabled-account.csv`: account, dn, severity, userAccountControl (decimal),
///   lastLogonTimestamp (ISO 8601 UTC, empty if never), message, fix, change
/// - `stale-password.csv`: account, dn, severity, story (alive-not-rotating, rotation-stopped, dormant,
///   never-logged-on, logon-in-future, never-set, reset-pending, password-in-future), pwdLastSet
///   (ISO 8601 UTC, or 0 when never set), passwordAgeDays, lastLogonTimestamp, lastLogonAgeDays,
///   message, fix, change. Empty cells where the story has no such value.
/// - `missing-spn.csv`: account, dn, severity, dNSHostName, operatingSystem, missingSPNs (`|`-joined;
///   empty when only the FQDN forms are missing because there is no dNSHostName), message,
///   fix (the Set-ADComputer and `setspn -S` commands), change
/// - `duplicate-spn.csv`: spn, account, dn, severity, otherHolders (`|`-joined sAMAccountNames),
///   otherHolderDNs (`|`-joined, same order), message, fix, change. One row per holder of each SPN.
/// - `missing-account.csv`: inventoryName (as written in the inventory), inventoryFile, inventoryLine,
///   severity, message, fix, change
/// - a rule added later: the columns it declares (`Rule.csvColumns`: by default account, dn,
///   severity, its detail columns, message, fix), then change
/// - a rule id not in the registry: account, dn, severity, details (as in findings.csv), message, fix, change
public enum RuleCSV {
    /// The columns of one rule's CSV and how a finding fills them (`change` is appended to both).
    struct Layout {
        let columns: [String]
        let cells: (Finding) -> [String]
    }

    /// `<rule>.csv`, or nil when the id is not a plain file name or would replace another report.
    public static func fileName(for rule: String) -> String? {
        let plain =
            !rule.isEmpty
            && rule.unicodeScalars.allSatisfy { scalar in
                (scalar >= "a" && scalar <= "z") || (scalar >= "0" && scalar <= "9") || scalar == "-"
            }
        guard plain, rule != "findings", rule != "computers" else { return nil }
        return rule + ".csv"
    }

    /// The header row of `rule`'s CSV, as the rule in `rules` declares it.
    public static func header(for rule: String, rules: [any Rule.Type] = AuditRules.all) -> [String] {
        layout(for: rule, rules: rules).columns + ["change"]
    }

    /// Writes `rule`'s CSV: the findings of that rule among `findings`, in their order, in the columns
    /// the rule in `rules` declares (pass the result's `registry`).
    public static func write(
        rule: String, findings: [Finding], changes: FindingChanges? = nil, to output: ReportOutput,
        byteOrderMark: Bool = false, rules: [any Rule.Type] = AuditRules.all
    ) throws {
        try write(
            rule: rule, findings: FindingStore(findings), changes: changes, to: output, byteOrderMark: byteOrderMark,
            rules: rules)
    }

    /// `write(rule:findings:...)` reading only that rule's findings from `findings` (a spilled
    /// store merges only that rule's runs).
    public static func write(
        rule: String, findings: FindingStore, changes: FindingChanges? = nil, to output: ReportOutput,
        byteOrderMark: Bool = false, rules: [any Rule.Type] = AuditRules.all
    ) throws {
        let layout = layout(for: rule, rules: rules)
        if byteOrderMark { try output.write(bytes: CSV.byteOrderMark) }
        try CSV.writeRow(layout.columns + ["change"], to: output)
        for (index, finding) in findings.enumerated(ofRule: rule) {
            try CSV.writeRow(layout.cells(finding) + [changes?.change(at: index)?.rawValue ?? ""], to: output)
        }
    }

    /// The rule's declared `csvColumns`; a rule not in `rules` gets account, dn, severity, details
    /// (as in findings.csv), message, fix.
    static func layout(for rule: String, rules: [any Rule.Type] = AuditRules.all) -> Layout {
        guard let declared = AuditRules.rule(rule, in: rules) else {
            return Layout(columns: ["account", "dn", "severity", "details", "message", "fix"]) { finding in
                [
                    finding.account, finding.distinguishedName ?? "", finding.severity.rawValue,
                    FindingsCSV.details(finding.details),
                    finding.message, finding.remediation,
                ]
            }
        }
        let columns = declared.csvColumns
        return Layout(columns: columns.map(\.header)) { finding in
            columns.map { column in
                switch column {
                case .account: return finding.account
                case .distinguishedName: return finding.distinguishedName ?? ""
                case .severity: return finding.severity.rawValue
                case .detail(let detail): return Self.detail(finding, detail.key)
                case .message: return finding.message
                case .fix: return finding.remediation
                }
            }
        }
    }

    private static func detail(_ finding: Finding, _ key: String) -> String {
        finding.detail(key).map(FindingsCSV.text) ?? ""
    }
}
