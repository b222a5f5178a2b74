import Codecs
import Directory

/// An enabled computer lacks an SPN that a healthy join registers.
///
/// Windows joins and Linux adcli/realmd joins both register HOST/ and RestrictedKrbHost/ in the short
/// and the FQDN form; Remote Desktop adds TERMSRV/ on servers. Which classes are required where is
/// configuration (`requiredSPNs`), because sites differ.
///
/// Two kinds of computer account are held to less. A failover cluster name object (CNO or VCO,
/// `isClusterNameObject`) gets its SPNs from the cluster, which registers HOST/ only: only the HOST
/// requirement applies to it. An account no machine ever joined (`wasNeverJoined`) has no SPNs
/// because the join is what registers them: the rule does not judge it (stale-password tells its
/// story). Additional names (msDS-AdditionalDnsHostName, msDS-AdditionalSamAccountName) require
/// nothing: their SPNs are ordinary SPNs, counted by duplicate-spn like any other.
public struct MissingSPNRule: AccountRule {
    public static let description = RuleDescription(
        id: "missing-spn",
        title: "Missing service principal names",
        rationale: """
            Kerberos finds a computer by its servicePrincipalName values (HOST/, RestrictedKrbHost/, TERMSRV/, \
            in short and FQDN form). When they are missing, logons and remote administration by that name fail \
            or fall back to NTLM, and the DC logs "The security database on the server does not have a computer \
            account for this workstation trust relationship".
            """)

    public static let attributes = [
        "userAccountControl", "dNSHostName", "servicePrincipalName", "operatingSystem",
    ]

    /// The SPNs missing in the forms that can be named (none without a dNSHostName for the FQDN forms).
    public static let missingSPNs = DetailColumn("missingSPNs", .strings)
    static let dnsHostName = DetailColumn("dNSHostName", .string)
    static let operatingSystem = DetailColumn("operatingSystem", .string)
    public static let detailColumns = [missingSPNs, dnsHostName, operatingSystem]
    public static let csvColumns: [RuleColumn] = [
        .account("account"), .distinguishedName, .severity, .detail(dnsHostName), .detail(operatingSystem),
        .detail(missingSPNs), .message, .fix,
    ]

    public init() {}

    /// Whether the rule judges `computer` at all: enabled computer accounts (a disabled one cannot
    /// log on, so its SPNs matter to nobody) that a machine joined (the join registers the SPNs; an
    /// account never joined has none to miss). `computers.csv`'s `not-checked` reads this.
    public static func judges(_ computer: DirectoryObject) -> Bool {
        guard computer.kind == .computer, let control = computer.userAccountControl else { return false }
        return !control.isDisabled && !computer.wasNeverJoined
    }

    /// The requirements that apply to `computer`: for a cluster name object only HOST's, since the
    /// cluster registers neither RestrictedKrbHost/ nor TERMSRV/.
    static func requirements(for computer: DirectoryObject, in configuration: AuditConfiguration)
        -> [SPNRequirement]
    {
        guard computer.isClusterNameObject else { return configuration.requiredSPNs }
        return configuration.requiredSPNs.filter { $0.serviceClass.caseInsensitiveCompare("HOST") == .orderedSame }
    }

    public func evaluate(_ account: AccountView, in context: AuditContext, into findings: inout [Finding]) {
        let computer = account.object
        guard Self.judges(computer) else { return }
        let shortName = computer.shortName
        let fqdn = computer.dnsHostName
        var missing: [String] = []
        var severity: Severity?
        var fqdnUnknownClasses: [String] = []

        for requirement in Self.requirements(for: computer, in: context.configuration) where requirement.scope != .none
        {
            let serviceClass = requirement.serviceClass
            let hasShort = Self.holds(computer, serviceClass: serviceClass, host: shortName)
            let hasFQDN = fqdn.map { Self.holds(computer, serviceClass: serviceClass, host: $0) } ?? false
            let required: Bool
            switch requirement.scope {
            case .all: required = true
            case .servers: required = computer.isWindowsServer || hasShort || hasFQDN
            case .paired: required = hasShort || hasFQDN
            case .none: required = false
            }
            guard required else { continue }
            var missedHere = false
            if !hasShort {
                missing.append("\(serviceClass)/\(shortName)")
                missedHere = true
            }
            if let fqdn, !hasFQDN {
                missing.append("\(serviceClass)/\(fqdn)")
                missedHere = true
            }
            if fqdn == nil {
                fqdnUnknownClasses.append(serviceClass)
                missedHere = true
            }
            if missedHere { severity = max(severity ?? requirement.severity, requirement.severity) }
        }
        guard let severity else { return }

        var details: [(key: String, value: DetailValue)] = [
            (Self.missingSPNs.key, .strings(missing)),
            (Self.dnsHostName.key, fqdn.map(DetailValue.string) ?? .null),
        ]
        if let operatingSystem = computer.operatingSystem {
            details.append((Self.operatingSystem.key, .string(operatingSystem)))
        }
        findings.append(
            Finding(
                rule: Self.description.id,
                severity: context.configuration.severity(for: Self.description.id, default: severity),
                account: computer.accountName,
                distinguishedName: computer.distinguishedName,
                message: .missingSPNs(computer, missing: missing, fqdnUnknownClasses: fqdnUnknownClasses),
                remediation: .addSPNs(computer, missing: missing, fqdnUnknownClasses: fqdnUnknownClasses, in: context),
                details: details))
    }

    /// True when the account holds exactly `serviceClass/host` (no port, no service name), case-insensitively.
    static func holds(_ computer: DirectoryObject, serviceClass: String, host: String) -> Bool {
        if let found = holdsASCII(computer, serviceClass: serviceClass, host: host) { return found }
        let wanted = (serviceClass + "/" + host).lowercased()
        return computer.servicePrincipalNames.contains { $0.normalized == wanted }
    }
}

extension MissingSPNRule {
    /// `holds` without building the lower-cased SPN, when the service class and host are ASCII
    /// (lower-casing is then bytewise); nil otherwise.
    fileprivate static func holdsASCII(_ computer: DirectoryObject, serviceClass: String, host: String) -> Bool? {
        var serviceClass = serviceClass
        var host = host
        return serviceClass.withUTF8 { classBytes in
            host.withUTF8 { hostBytes -> Bool? in
                for byte in classBytes where byte >= 0x80 { return nil }
                for byte in hostBytes where byte >= 0x80 { return nil }
                let length = classBytes.count + 1 + hostBytes.count
                for spn in computer.servicePrincipalNames where spn.normalized.utf8.count == length {
                    var normalized = spn.normalized
                    let equal = normalized.withUTF8 { spnBytes in
                        for index in 0..<classBytes.count where spnBytes[index] != ASCII.lowercased(classBytes[index]) {
                            return false
                        }
                        guard spnBytes[classBytes.count] == UInt8(ascii: "/") else { return false }
                        let offset = classBytes.count + 1
                        for index in 0..<hostBytes.count
                        where spnBytes[offset + index] != ASCII.lowercased(hostBytes[index]) {
                            return false
                        }
                        return true
                    }
                    if equal { return true }
                }
                return false
            }
        }
    }
}

extension String {
    fileprivate static func missingSPNs(_ computer: DirectoryObject, missing: [String], fqdnUnknownClasses: [String])
        -> String
    {
        var parts: [String] = []
        if !missing.isEmpty {
            parts.append(
                "Missing SPNs: \(missing.joined(separator: ", ")); Kerberos to \(computer.shortName) by these names fails or falls back to NTLM."
            )
        }
        if !fqdnUnknownClasses.isEmpty {
            let forms = fqdnUnknownClasses.map { "\($0)/<fqdn>" }.joined(separator: ", ")
            parts.append("It has no dNSHostName, so its FQDN SPNs (\(forms)) cannot exist and Kerberos by FQDN fails.")
        }
        return parts.joined(separator: " ")
    }

    fileprivate static func addSPNs(
        _ computer: DirectoryObject, missing: [String], fqdnUnknownClasses: [String], in context: AuditContext
    ) -> String {
        var lines: [String] = []
        if computer.isClusterNameObject {
            lines.append(
                "A failover cluster name object: the cluster registers its SPNs when the name comes online; in Failover Cluster Manager, take the name resource offline and back online (or More Actions > Repair Active Directory Object), else add them:"
            )
        }
        let server = context.knownServer(for: computer)
        let foreign = context.isOutsideAuditedDomain(computer)
        if !fqdnUnknownClasses.isEmpty {
            // The computer's own domain: a child domain's computer in a forest export is named there.
            let fqdn = "\(computer.shortName.lowercased()).\(context.domain(of: computer) ?? "<domain>")"
            let setName = Remediation.command(.powerShell, tool: "Set-ADComputer") { writer throws(UnwritableValue) in
                "Set-ADComputer -Identity \(try writer.quoted(computer.accountName, "sAMAccountName")) -DNSHostName \(try writer.argument(fqdn, "DNS name")) -Server \(try writer.server(server))"
            }
            lines.append("Set its DNS name (or rejoin the machine, which sets it): \(setName)")
            for serviceClass in fqdnUnknownClasses {
                lines.append(addSPN("\(serviceClass)/\(fqdn)", to: computer, server: server, foreign: foreign))
            }
        }
        for spn in missing {
            lines.append(addSPN(spn, to: computer, server: server, foreign: foreign))
        }
        lines.append(
            "setspn -S refuses an SPN another account already holds; if it does, resolve that duplicate first (setspn -X)."
        )
        return lines.joined(separator: "\n")
    }

    /// `setspn -S spn name`; where cmd.exe cannot take the SPN or the name, or the computer lies in
    /// another domain than the audited one (setspn works in the current domain), the same change in
    /// PowerShell against the computer's own domain.
    private static func addSPN(_ spn: String, to computer: DirectoryObject, server: String?, foreign: Bool) -> String {
        func powerShell() -> String {
            Remediation.command(.powerShell, tool: "Set-ADComputer") { writer throws(UnwritableValue) in
                "Set-ADComputer -Identity \(try writer.quoted(computer.accountName, "sAMAccountName")) -ServicePrincipalNames @{Add=\(try writer.quoted(spn, "SPN"))} -Server \(try writer.server(server))"
            }
        }
        if foreign { return powerShell() }
        return Remediation.command(.commandPrompt, tool: "setspn", instead: "add it with PowerShell: " + powerShell()) {
            writer throws(UnwritableValue) in
            "setspn -S \(try writer.argument(spn, "SPN")) \(try writer.argument(computer.shortName, "account name"))"
        }
    }
}
