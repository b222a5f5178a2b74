import Directory

/// userAccountControl has ACCOUNTDISABLE (0x2): the machine can no longer log on to the domain.
public struct DisabledAccountRule: AccountRule {
    public static let description = RuleDescription(
        id: "disabled-account",
        title: "Disabled computer accounts",
        rationale: """
            A disabled computer account is one of the causes of "The trust relationship between this workstation \
            and the primary domain failed": the machine can no longer authenticate to a domain controller. \
            If the machine is still in use it needs the account enabled and its secure channel repaired; \
            if it is retired the account is a cleanup candidate.
            """)

    public static let attributes = ["userAccountControl", "lastLogonTimestamp"]

    /// userAccountControl as AD stores it (signed), and the last logon when one is recorded.
    static let userAccountControl = DetailColumn("userAccountControl", .integer)
    static let lastLogonTimestamp = DetailColumn("lastLogonTimestamp", .timestamp)
    public static let detailColumns = [userAccountControl, lastLogonTimestamp]

    public init() {}

    public func evaluate(_ account: AccountView, in context: AuditContext, into findings: inout [Finding]) {
        let computer = account.object
        guard let control = computer.userAccountControl, control.isDisabled else { return }
        // AD stores the attribute as a signed 32-bit integer; show it as ADUC and PowerShell do.
        let stored = Int32(bitPattern: control.rawValue)
        var details: [(key: String, value: DetailValue)] = [(Self.userAccountControl.key, .integer(Int64(stored)))]
        var evidence = "userAccountControl \(stored) has ACCOUNTDISABLE (0x2)"
        if let logon = computer.lastLogonTimestamp, !logon.isNever {
            evidence +=
                logon.isValid
                ? "; last logon \(AuditContext.day(logon))" : "; lastLogonTimestamp \(AuditContext.notATime(logon))"
            details.append((Self.lastLogonTimestamp.key, AuditContext.timeDetail(logon)))
        }
        findings.append(
            Finding(
                rule: Self.description.id,
                severity: context.configuration.severity(for: Self.description.id, default: .medium),
                account: computer.accountName,
                distinguishedName: computer.distinguishedName,
                message: .disabled(computer, evidence: evidence),
                renderer: Fix(
                    subject: RemediationSubject(computer, in: context), isCluster: computer.isClusterNameObject),
                details: details))
    }
}

extension DisabledAccountRule {
    /// Renders the fix when the finding's remediation is read.
    struct Fix: RemediationRenderer {
        let subject: RemediationSubject
        /// A failover cluster name object: the cluster repairs its password, not a machine.
        var isCluster = false
        var text: String { DisabledAccountRule.remediation(subject, isCluster: isCluster) }
    }

    static func remediation(_ subject: RemediationSubject, isCluster: Bool = false) -> String {
        let enable = Remediation.command(.powerShell, tool: "Enable-ADComputer") { writer throws(UnwritableValue) in
            "Enable-ADComputer -Identity \(try writer.quoted(subject.accountName, "sAMAccountName")) -Server \(try writer.server(subject.server))"
        }
        let remove = Remediation.command(.powerShell, tool: "Remove-ADComputer") { writer throws(UnwritableValue) in
            "Remove-ADComputer -Identity \(try writer.quoted(subject.distinguishedName, "distinguishedName")) -Server \(try writer.server(subject.server))"
        }
        return """
            If \(Remediation.prose(subject.shortName)) is still in use: \(enable)
            \(isCluster ? StalePasswordRule.clusterRepair : Remediation.repairSecureChannel(subject))
            If it is retired: \(remove)
            """
    }
}

extension String {
    fileprivate static func disabled(_ computer: DirectoryObject, evidence: String) -> String {
        if computer.isClusterNameObject {
            return
                "Failover cluster name object \(computer.accountName) (it holds MSClusterVirtualServer/ SPNs) is disabled (\(evidence)): the cluster cannot bring the name \(computer.shortName) online."
        }
        return
            "Computer account \(computer.accountName) is disabled (\(evidence)): \(computer.shortName) cannot log on to the domain."
    }

}
