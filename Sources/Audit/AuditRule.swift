import Directory

/// A rule that judges one computer account on its own, so accounts can stream through it.
public protocol AccountRule: Sendable {
    static var description: RuleDescription { get }
    /// Appends this rule's findings for `computer` (none when it is healthy).
    func evaluate(_ computer: DirectoryObject, in context: AuditContext, into findings: inout [Finding])
}

/// The rules in report order; their ids are part of the interface (JSON, CSV, configuration).
public enum AuditRules {
    public static let descriptions: [RuleDescription] = [
        DisabledAccountRule.description,
        StalePasswordRule.description,
        MissingSPNRule.description,
        DuplicateSPNIndex.description,
        MissingAccountIndex.description,
    ]

    public static let ids: [String] = descriptions.map(\.id)

    /// Position of a rule in report order; unknown ids sort last.
    public static func order(of id: String) -> Int {
        ids.firstIndex(of: id) ?? ids.count
    }
}

/// Fix commands shared by several rules, with the account's own names filled in.
enum Remediation {
    /// A PowerShell single-quoted literal: names and DNs come from the directory and may hold quotes.
    static func quoted(_ value: String) -> String {
        if !value.utf8.contains(UInt8(ascii: "'")) { return "'" + value + "'" }
        return "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// `text` with `replacement` after every line feed; ASCII text is done bytewise, anything else
    /// through Foundation exactly as before.
    static func indentingContinuationLines(_ text: String, with indent: String) -> String {
        guard text.utf8.allSatisfy({ $0 < 0x80 }) else {
            return text.replacingOccurrences(of: "\n", with: "\n" + indent)
        }
        return text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n" + indent)
    }

    /// A cmd.exe argument for setspn: quoted only when it needs to be.
    static func argument(_ value: String) -> String {
        // None of these bytes: no Character can be one of them either.
        if !value.utf8.contains(where: {
            $0 == 0x20 || $0 == 0x22 || $0 == 0x26 || $0 == 0x7C || $0 == 0x3C || $0 == 0x3E || $0 == 0x5E
        }) {
            return value
        }
        return value.contains(where: {
            $0 == " " || $0 == "\"" || $0 == "&" || $0 == "|" || $0 == "<" || $0 == ">" || $0 == "^"
        })
            ? "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : value
    }

    /// What repairs a broken secure channel, on Windows or on a Linux (adcli/realmd) join.
    static func repairSecureChannel(_ subject: RemediationSubject) -> String {
        let host = subject.host
        if subject.isKnownNonWindows {
            return """
                On \(host) (not Windows: joined with adcli/realmd or sssd), as root: adcli testjoin; if it fails: adcli update --computer-password-lifetime=0 --domain-controller=\(subject.server)
                If that is refused, rejoin: realm leave && realm join \(subject.domain ?? subject.server)
                """
        }
        return """
            On \(host), as a local administrator: Test-ComputerSecureChannel -Verbose
            If it reports a broken channel: Test-ComputerSecureChannel -Repair -Credential (Get-Credential)
            or: Reset-ComputerMachinePassword -Server \(subject.server) -Credential (Get-Credential)
            or (cmd.exe): netdom resetpwd /Server:\(subject.server) /UserD:<domain admin> /PasswordD:*
            """
    }
}
