import Directory
import UntrustedInput

/// The rules, in report order: the one list the runner, the reports and the sources read.
///
/// Adding a rule is its file in `Rules/` and one line in `all`. Their ids are part of the interface
/// (JSON, CSV, configuration).
public enum AuditRules {
    public static let all: [any Rule.Type] = [
        DisabledAccountRule.self,
        StalePasswordRule.self,
        MissingSPNRule.self,
        DuplicateSPNRule.self,
        MissingAccountRule.self,
        DuplicateHostnameRule.self,
        ConflictObjectRule.self,
        DeletedAccountRule.self,
        PasswordNotReplicatedRule.self,
        DCClockSkewRule.self,
        ReplicationFailureRule.self,
    ]

    public static let descriptions: [RuleDescription] = all.map { $0.description }

    /// The rules of an audit of one source: `all` without those that compare DCs
    /// (`Rule.requiresDomainControllers`), which the runner leaves out when it has no DC readings.
    public static let singleSource: [any Rule.Type] = all.filter { !$0.requiresDomainControllers }

    public static let ids: [String] = descriptions.map(\.id)

    /// What every audit reads whatever the rules: what an object is (its classes and category, and
    /// whether it is deleted: the runner keeps tombstones away from the per-account rules), who it
    /// is (its names, the additional names a rename or alias left, its objectGUID), and where it
    /// came from (when it was made and changed, who made it, its last parent); `computers.csv` adds
    /// the operating system's version.
    public static let accountAttributes = [
        "objectClass", "objectCategory", "sAMAccountName", "cn", "dNSHostName", "operatingSystem",
        "operatingSystemVersion", "whenCreated", "objectGUID", "whenChanged", "isDeleted", "isRecycled",
        "lastKnownParent", "msDS-AdditionalDnsHostName", "msDS-AdditionalSamAccountName", "mS-DS-CreatorSID",
    ]

    /// What the sources fetch for `all`: `attributes(for: all)`, equal to `AuditedAttributes.all`
    /// (`SourceRequest.domainControllerView`); a single-source audit's `attributes(for: singleSource)`
    /// is `AuditedAttributes.singleSource` (`SourceRequest.audit`).
    public static let attributes: [String] = attributes(for: all)

    /// `attributes` lower-cased, for filtering while parsing (`LDIFReader`'s `keptAttributes`).
    public static let lowercasedAttributes: Set<String> = Set(attributes.map { $0.lowercased() })

    /// The union of what `rules` read and `accountAttributes`, each once (compared as LDAP does,
    /// case-insensitively), in `AuditedAttributes.all` order, so the LDAP request stays the same;
    /// an attribute that table does not know goes last, in rule order.
    public static func attributes(for rules: [any Rule.Type]) -> [String] {
        var wanted: [String] = []
        var seen = Set<String>()
        for name in accountAttributes + rules.flatMap({ $0.attributes }) where seen.insert(name.lowercased()).inserted {
            wanted.append(name)
        }
        let known = AuditedAttributes.all.filter { seen.contains($0.lowercased()) }
        let knownSet = Set(known.map { $0.lowercased() })
        return known + wanted.filter { !knownSet.contains($0.lowercased()) }
    }

    /// Position of a rule in report order; unknown ids sort last.
    public static func order(of id: String) -> Int {
        ids.firstIndex(of: id) ?? ids.count
    }

    /// The rule in `rules` with this id, if any.
    public static func rule(_ id: String, in rules: [any Rule.Type] = all) -> (any Rule.Type)? {
        rules.first { $0.description.id == id }
    }
}

/// Fix commands shared by several rules, with the account's own names filled in.
///
/// Every directory value goes into a command through a `CommandWriter`, which quotes it for the shell
/// that command is written for (see `Shell`). A value that shell cannot take safely turns the whole
/// command into a line saying why there is none, so no pasted line ever runs directory text.
enum Remediation {
    /// The way out when no command can be given: the change made by hand, where nothing is parsed.
    static let byHand = "make the change in ADSI Edit or Active Directory Users and Computers instead"

    /// `text` as prose in a remediation. An admin may paste a whole line ("On HOST, as a local
    /// administrator: ...") into a shell, so a name in the prose must be as inert as one in the
    /// command: control and bidirectional characters, and every character that means something to
    /// PowerShell, cmd.exe or sh, are shown as `\uXXXX`, which reads as plain text in all three. No
    /// quoting would do, since each shell's quotes are live text in the others (`'a&b'` runs `b` in
    /// cmd.exe, `"$(x)"` runs `x` in PowerShell). Ordinary names are shown as AD shows them; the
    /// account column holds the exact name.
    static func prose(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        // A `$` that ends a word (`gmsa-web$`, every sAMAccountName of a computer) expands nothing in
        // any of the three shells, so it stays as AD shows it.
        func isSpecial(_ index: Int) -> Bool {
            let scalar = scalars[index]
            if TerminalText.isUnsafe(scalar) { return true }
            guard scalar == "$" else { return isShellSpecial(scalar) }
            return index + 1 < scalars.count && scalars[index + 1] != " "
        }
        guard scalars.indices.contains(where: isSpecial) else { return text }
        var result = ""
        for (index, scalar) in scalars.enumerated() {
            guard isSpecial(index) else {
                result.unicodeScalars.append(scalar)
                continue
            }
            let hex = String(scalar.value, radix: 16, uppercase: true)
            let width = scalar.value > 0xFFFF ? 8 : 4
            result += (width == 8 ? "\\U" : "\\u") + String(repeating: "0", count: width - hex.count) + hex
        }
        return result
    }

    /// Characters that start an expansion, a quote, a redirection or a second command in PowerShell,
    /// cmd.exe or sh, and the lookalikes PowerShell or Windows' best-fit mapping read as quotes.
    private static func isShellSpecial(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "$", "`", "'", "\"", "&", "|", "<", ">", "^", "(", ")", ";", "%", "!", "{", "}", "@", "\\", "#", "*",
            "?", "[", "]", "~", "=", ",":
            return true
        default:
            // The quotes PowerShell ends a string at, and what Windows' best fit turns into `"`, `%` or `!`;
            // beyond ASCII only (`'` is above), so the common name is judged without hashing a scalar.
            guard !scalar.isASCII else { return false }
            return PowerShell.singleQuotes.contains(Character(scalar))
                || CommandPrompt.bestFitLookalikes.contains(scalar)
        }
    }

    /// `build`'s command for `shell`, or, when a value cannot be written for it, a line naming `tool`,
    /// the value and why, followed by `instead` (another way to make the change).
    static func command(
        _ shell: Shell, tool: String, instead: @autoclosure () -> String = byHand,
        _ build: (CommandWriter) throws(UnwritableValue) -> String
    ) -> String {
        do throws(UnwritableValue) {
            return try build(CommandWriter(shell: shell))
        } catch {
            return refusal(tool: tool, error) + "; " + instead()
        }
    }

    /// `no safe setspn command: the SPN HOST/a\nb holds a line break, which cmd.exe cannot quote safely`.
    static func refusal(tool: String, _ error: UnwritableValue) -> String {
        "no safe \(tool) command: the \(error.attribute) \(TerminalText.escaped(error.value)) holds \(error.reason), which \(error.shell.name) cannot quote safely"
    }

    /// `text` with `indent` after every line feed, bytewise: a line feed byte is never part of a
    /// longer UTF-8 sequence, so this is the literal replacement Foundation would make, without a
    /// Character walk (remediation texts are indented once per finding and report).
    static func indentingContinuationLines(_ text: String, with indent: String) -> String {
        var text = text
        var indent = indent
        return text.withUTF8 { bytes in
            indent.withUTF8 { indentBytes in
                var lineFeeds = 0
                for byte in bytes where byte == 0x0A { lineFeeds += 1 }
                guard lineFeeds > 0 else { return String(decoding: bytes, as: UTF8.self) }
                let count = bytes.count + lineFeeds * indentBytes.count
                return String(unsafeUninitializedCapacity: count) { output in
                    var written = 0
                    for byte in bytes {
                        output[written] = byte
                        written += 1
                        if byte == 0x0A {
                            for indentByte in indentBytes {
                                output[written] = indentByte
                                written += 1
                            }
                        }
                    }
                    return written
                }
            }
        }
    }

    /// `repadmin /showrepl DC` and `repadmin /syncall DC /AdeP` for a DC named by the directory (its
    /// dNSHostName), quoted for cmd.exe, or, for a name cmd.exe cannot take, the way to run them on
    /// that DC itself: what the replication rules tell an admin to look at, then to force.
    static func repadminShowAndSync(_ domainController: String) -> (show: String, sync: String) {
        let onTheDC = "run it on that DC itself, where it needs no DC name"
        let show = command(.commandPrompt, tool: "repadmin", instead: onTheDC) { writer throws(UnwritableValue) in
            "repadmin /showrepl \(try writer.argument(domainController, "DC name"))"
        }
        let sync = command(.commandPrompt, tool: "repadmin", instead: onTheDC) { writer throws(UnwritableValue) in
            "repadmin /syncall \(try writer.argument(domainController, "DC name")) /AdeP"
        }
        return (show, sync)
    }

    /// What repairs a broken secure channel, on Windows or on a Linux (adcli/realmd) join.
    static func repairSecureChannel(_ subject: RemediationSubject) -> String {
        let host = prose(subject.host)
        if subject.isKnownNonWindows {
            let update = command(.posix, tool: "adcli update") { writer throws(UnwritableValue) in
                "adcli update --computer-password-lifetime=0 --domain-controller=\(try writer.server(subject.server))"
            }
            let join = command(.posix, tool: "realm join") { writer throws(UnwritableValue) in
                if let domain = subject.domain { return "realm join \(try writer.argument(domain, "domain name"))" }
                return "realm join \(try writer.server(subject.server))"
            }
            return """
                On \(host) (not Windows: joined with adcli/realmd or sssd), as root: adcli testjoin; if it fails: \(update)
                If that is refused, rejoin: realm leave && \(join)
                """
        }
        let reset = command(.powerShell, tool: "Reset-ComputerMachinePassword") { writer throws(UnwritableValue) in
            "Reset-ComputerMachinePassword -Server \(try writer.server(subject.server)) -Credential (Get-Credential)"
        }
        let powerShellFits = subject.server.map { Shell.powerShell.argument($0) != nil } ?? true
        let netdom = command(
            .commandPrompt, tool: "netdom", instead: powerShellFits ? "use the PowerShell command above" : byHand
        ) {
            writer throws(UnwritableValue) in
            "netdom resetpwd /Server:\(try writer.server(subject.server)) /UserD:<domain admin> /PasswordD:*"
        }
        return """
            On \(host), as a local administrator: Test-ComputerSecureChannel -Verbose
            If it reports a broken channel: Test-ComputerSecureChannel -Repair -Credential (Get-Credential)
            or: \(reset)
            or (cmd.exe): \(netdom)
            """
    }
}

/// A directory value that the shell of a command cannot take safely.
struct UnwritableValue: Error {
    /// What the value is, in AD's words: `sAMAccountName`, `SPN`, `distinguishedName`.
    let attribute: String
    let value: String
    /// `a line break`, `` `%` (...)``.
    let reason: String
    let shell: Shell
}

/// Writes directory values into one command for one shell; throws when a value cannot be written.
struct CommandWriter {
    let shell: Shell

    /// `value` as one argument, bare when that is safe.
    func argument(_ value: String, _ attribute: String) throws(UnwritableValue) -> String {
        guard let written = shell.argument(value) else { throw unwritable(value, attribute) }
        return written
    }

    /// `value` as one quoted argument (PowerShell `-Identity` values are always quoted).
    func quoted(_ value: String, _ attribute: String) throws(UnwritableValue) -> String {
        guard let written = shell.quoted(value) else { throw unwritable(value, attribute) }
        return written
    }

    /// The DC or domain for `-Server`; `<DC>` when none is known (a placeholder for the admin to fill in).
    func server(_ value: String?) throws(UnwritableValue) -> String {
        guard let value else { return "<DC>" }
        return try argument(value, "server name")
    }

    /// The domain's DNS name; `<domain>` when none is known.
    func domain(_ value: String?) throws(UnwritableValue) -> String {
        guard let value else { return "<domain>" }
        return try argument(value, "domain name")
    }

    private func unwritable(_ value: String, _ attribute: String) -> UnwritableValue {
        UnwritableValue(
            attribute: attribute, value: value, reason: shell.problem(with: value) ?? "a character it cannot quote",
            shell: shell)
    }
}
