import Directory

/// What the audit learnt about one computer account, handed to a sink as the account is audited.
///
/// This is the per-computer view (`computers.csv`): every computer account, healthy or not, with the
/// facts the rules derived. It is produced one account at a time and never collected by the runner,
/// so a domain of a million computers streams through without being held in memory.
public struct ComputerFacts: Sendable {
    /// The account as read from the directory.
    public var computer: DirectoryObject
    /// Skipped by the configuration's exclusions: counted, but no rule judged it.
    public var isExcluded: Bool
    /// Whole days since pwdLastSet; nil when absent, 0 (never set) or not a valid time (negative
    /// ticks, age unknown). Negative when in the future.
    public var passwordAgeDays: Int?
    /// Whole days since lastLogonTimestamp; nil when absent, never or not a valid time. Negative when
    /// in the future.
    public var lastLogonAgeDays: Int?
    /// The findings of the per-account rules (disabled-account, stale-password, missing-spn), in rule
    /// order. The cross-account rules (duplicate-spn, missing-account) are known only when the audit
    /// ends and are not included.
    public var findings: [Finding]
    /// The newest `lastLogon` over the DCs whose views were read (exact, not replicated), and the
    /// DC (the view's origin) that saw it; nil when no view carried lastLogon (a single-DC audit
    /// does not ask for it). Complete only when every DC answered
    /// (`AuditContext.allDomainControllersAnswered`); otherwise a newer logon may sit on a DC that did not.
    public var trueLastLogon: FileTime?
    public var trueLastLogonDC: String?

    public init(
        computer: DirectoryObject, isExcluded: Bool, passwordAgeDays: Int?, lastLogonAgeDays: Int?, findings: [Finding],
        trueLastLogon: (time: FileTime, origin: String)? = nil
    ) {
        self.computer = computer
        self.isExcluded = isExcluded
        self.passwordAgeDays = passwordAgeDays
        self.lastLogonAgeDays = lastLogonAgeDays
        self.findings = findings
        self.trueLastLogon = trueLastLogon?.time
        self.trueLastLogonDC = trueLastLogon?.origin
    }

    /// Whether the missing-spn rule looked at this account: not excluded, and what the rule itself
    /// judges (`MissingSPNRule.judges`: enabled, and joined by a machine), so this column cannot
    /// drift from the rule; an account never joined is `not-checked`, as a disabled one is.
    public var spnsChecked: Bool {
        !isExcluded && MissingSPNRule.judges(computer)
    }

    /// The SPNs the missing-spn rule found missing; empty when none are (or the rule did not check it).
    public var missingSPNs: [String] {
        guard let finding = findings.first(where: { $0.rule == MissingSPNRule.description.id }) else { return [] }
        if case .strings(let list)? = finding.detail(MissingSPNRule.missingSPNs) { return list }
        return []
    }

    /// True when missing-spn reported this account (possibly only because it has no dNSHostName).
    public var hasMissingSPNFinding: Bool {
        findings.contains { $0.rule == MissingSPNRule.description.id }
    }
}

/// Receives each computer account's facts as the runner audits it, in directory order.
///
/// Called synchronously on the thread that feeds the runner. It cannot throw: a sink that writes to
/// disk keeps its first error and reports it when the caller finishes it.
public typealias ComputerFactsSink = (ComputerFacts) -> Void
