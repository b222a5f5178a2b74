import Directory

/// A computer whose machine password is older on some DCs than on another: the newest password has
/// not replicated to them.
///
/// Each view of the account is one DC's (its `origin`). The unicodePwd replication stamp's version
/// goes up by one with every password change and is the same on every DC that holds that change,
/// so a DC with a lower version lacks the newest password, and the difference is how many changes
/// it lacks. Without metadata (a source that did not return it) the rule compares pwdLastSet, which
/// replicates with the password, and can then only say "at least one". One view says nothing; a
/// read-only DC's view is left out, since an RODC holds only the passwords its policy caches.
public struct PasswordNotReplicatedRule: AccountRule {
    public static let description = RuleDescription(
        id: "password-not-replicated",
        title: "Machine passwords that did not replicate",
        rationale: """
            When a computer changes its machine password, the change is made on one DC and replicated to the others. \
            A DC that has not received it still holds the previous password, and a machine sent to it (by its site, \
            or when its usual DC is down) presents a password that DC rejects: "the trust relationship between this \
            workstation and the primary domain failed". Microsoft's first check for that error is replication.
            """)

    public static let attributes = [
        "pwdLastSet", "lastLogon", "lastLogonTimestamp", "replPropertyMetaData", "msDS-ReplAttributeMetaData",
    ]

    static let behindDCs = DetailColumn("behindDCs", .strings)
    static let newestDC = DetailColumn("newestDC", .string)
    /// `replication-metadata` (unicodePwd versions) or `pwdLastSet` (values only).
    static let comparedBy = DetailColumn("comparedBy", .string)
    static let newestVersion = DetailColumn("newestVersion", .integer)
    static let oldestVersion = DetailColumn("oldestVersion", .integer)
    /// How many password changes the DC furthest behind lacks; absent when only pwdLastSet was compared.
    static let missedChanges = DetailColumn("missedChanges", .integer)
    /// When the newest password was written.
    static let passwordChanged = DetailColumn("passwordChanged", .timestamp)
    /// When the first change the DC furthest behind lacks was made, when the stamps tell it.
    static let behindSince = DetailColumn("behindSince", .timestamp)
    static let lastLogon = DetailColumn("lastLogon", .timestamp)
    static let lastLogonDC = DetailColumn("lastLogonDC", .string)
    /// DCs that did not answer, so whether they are behind too is unknown.
    static let notCompared = DetailColumn("notCompared", .strings)
    public static let detailColumns = [
        behindDCs, newestDC, comparedBy, newestVersion, oldestVersion, missedChanges, passwordChanged, behindSince,
        lastLogon, lastLogonDC, notCompared,
    ]

    /// A change younger than this may still be on its way: inter-site replication runs every 180
    /// minutes by default. The finding is still made (a test harness holds replication back on
    /// purpose), but at most medium and saying so.
    public static let replicationLatencySeconds: Int64 = 3 * 3600

    public static let requiresDomainControllers = true

    public init() {}

    /// One DC's copy of the password.
    struct Copy {
        let origin: String
        /// The DC's host name, else the origin as given.
        let name: String
        let version: UInt32?
        let written: FileTime?
        let writtenBy: ObjectGUID?
        let writtenByDSA: String?
        let pwdLastSet: FileTime?
    }

    public func evaluate(_ account: AccountView, in context: AuditContext, into findings: inout [Finding]) {
        guard !account.others.isEmpty else { return }
        var copies: [Copy] = []
        for view in account.views {
            let reading = context.reading(forOrigin: view.origin)
            if reading?.domainController.isReadOnly == true { continue }
            let object = view.object
            let stamp = object.unicodePwdMetadata
            copies.append(
                Copy(
                    origin: view.origin, name: reading?.domainController.hostName ?? view.origin,
                    version: stamp?.version, written: stamp?.originatingChangeTime,
                    writtenBy: stamp?.originatingInvocationID, writtenByDSA: stamp?.originatingDSA,
                    pwdLastSet: object.passwordLastSet.flatMap { $0.isValid ? $0 : nil }))
        }
        guard copies.count > 1 else { return }
        let byMetadata = copies.allSatisfy { $0.version != nil }
        let newest: Copy
        let behind: [Copy]
        if byMetadata {
            let top = copies.map { $0.version ?? 0 }.max() ?? 0
            newest = copies.first { $0.version == top }!
            behind = copies.filter { ($0.version ?? 0) < top }
        } else {
            guard copies.allSatisfy({ $0.pwdLastSet != nil }) else { return }
            let top = copies.compactMap(\.pwdLastSet).max()!
            newest = copies.first { $0.pwdLastSet == top }!
            behind = copies.filter { $0.pwdLastSet! < top }
        }
        guard !behind.isEmpty else { return }
        report(account, newest: newest, behind: behind, copies: copies, byMetadata: byMetadata, in: context, &findings)
    }

    private func report(
        _ account: AccountView, newest: Copy, behind: [Copy], copies: [Copy], byMetadata: Bool,
        in context: AuditContext,
        _ findings: inout [Finding]
    ) {
        let computer = account.object
        let configuration = context.configuration
        let changed = byMetadata ? newest.written : newest.pwdLastSet
        let writer =
            context.domainController(invocationID: newest.writtenBy)?.hostName
            ?? newest.writtenByDSA.flatMap(Self.serverName(ofDSA:))
        // The DC furthest behind, and the first change it lacks when a copy holds exactly that version.
        let furthest = behind.min { ($0.version ?? 0) < ($1.version ?? 0) }!
        var since: FileTime?
        var missed: Int64?
        if byMetadata, let oldest = furthest.version, let top = newest.version {
            missed = Int64(top - oldest)
            since = copies.first { $0.version == oldest + 1 }?.written
        }

        // The machine's logons: the true last logon over the DCs when lastLogon was read, else the
        // newest lastLogonTimestamp of the views (which lags by up to 14 days).
        let exactLogon = account.trueLastLogon
        var logon = exactLogon
        for view in account.views {
            guard let stamp = view.object.lastLogonTimestamp, stamp.isValid, !stamp.isNever else { continue }
            if logon.map({ stamp > $0.time }) ?? true { logon = (stamp, view.origin) }
        }
        let isExact = exactLogon != nil && logon?.time == exactLogon?.time
        let lag = isExact ? 0 : StalePasswordRule.lastLogonLagDays
        // High when the machine is in use: it logged on within one rotation interval (plus
        // lastLogonTimestamp's lag when that is all there is), as stale-password judges "alive". Such
        // a machine already uses the new password, so every logon a behind DC serves fails now; a
        // machine silent for longer has not been hurt yet, and is medium.
        let logonAge = logon.flatMap { context.isInFuture($0.time) ? 0 : context.ageInDays($0.time) }
        let inUse = logonAge.map { $0 <= configuration.passwordRotationDays + lag } ?? false
        let recent =
            changed.map {
                context.nowFileTime.ticks - $0.ticks < Self.replicationLatencySeconds * FileTime.ticksPerSecond
            }
            ?? false
        let severity: Severity = inUse && !recent ? .high : .medium

        var details: [(key: String, value: DetailValue)] = [
            (Self.behindDCs.key, .strings(behind.map(\.name))), (Self.newestDC.key, .string(newest.name)),
            (Self.comparedBy.key, .string(byMetadata ? "replication-metadata" : "pwdLastSet")),
        ]
        if byMetadata, let top = newest.version, let oldest = furthest.version {
            details.append((Self.newestVersion.key, .integer(Int64(top))))
            details.append((Self.oldestVersion.key, .integer(Int64(oldest))))
        }
        if let missed { details.append((Self.missedChanges.key, .integer(missed))) }
        if let changed { details.append((Self.passwordChanged.key, AuditContext.timeDetail(changed))) }
        if let since { details.append((Self.behindSince.key, AuditContext.timeDetail(since))) }
        if let logon {
            details.append((Self.lastLogon.key, AuditContext.timeDetail(logon.time)))
            let dc = context.reading(forOrigin: logon.origin)?.domainController.hostName ?? logon.origin
            details.append((Self.lastLogonDC.key, .string(dc)))
        }
        let unanswered = context.unansweredDomainControllers
        if !unanswered.isEmpty { details.append((Self.notCompared.key, .strings(unanswered))) }

        var message: String
        if byMetadata {
            let clauses = behind.map { copy in
                let count = Int64((newest.version ?? 0) - (copy.version ?? 0))
                let own = copy.written.map { ", written \(AuditContext.timestamp($0))" } ?? ""
                return
                    "\(copy.name) holds unicodePwd version \(copy.version ?? 0)\(own) and misses \(count) password change\(count == 1 ? "" : "s")"
            }
            message =
                "Machine password of \(computer.shortName) not replicated: \(newest.name) holds unicodePwd version \(newest.version ?? 0), written \(changed.map(AuditContext.timestamp) ?? "at an unknown time")\(writer.map { " by \($0)" } ?? ""); "
                + clauses.joined(separator: "; ")
            if let since { message += " (since \(AuditContext.timestamp(since)))" }
            message += "."
        } else {
            let clauses = behind.map { "\($0.name) holds pwdLastSet \(AuditContext.timestamp($0.pwdLastSet!))" }
            message =
                "Machine password of \(computer.shortName) not replicated: \(newest.name) holds pwdLastSet \(AuditContext.timestamp(newest.pwdLastSet!)); "
                + clauses.joined(separator: "; ")
                + ", so they miss at least one password change (no replication metadata was read to count them)."
        }
        if let logon, let logonAge {
            let dc = context.reading(forOrigin: logon.origin)?.domainController.hostName ?? logon.origin
            let kind = lag == 0 ? "last logon" : "lastLogonTimestamp"
            message += " Its \(kind) is \(AuditContext.day(logon.time)) (\(logonAge) days ago, on \(dc))"
            message += inUse ? ": it is in use, and a logon through a DC that is behind fails." : "."
        }
        if recent {
            message +=
                " The change is less than 3 hours old and may still be replicating (inter-site replication runs every 180 minutes by default): audit again before acting."
        }
        if !unanswered.isEmpty {
            message += " Not compared (did not answer): \(unanswered.joined(separator: ", "))."
        }
        findings.append(
            Finding(
                rule: Self.description.id,
                severity: configuration.severity(for: Self.description.id, default: severity),
                account: computer.accountName, distinguishedName: computer.distinguishedName, message: message,
                renderer: Fix(
                    behind: behind.map(\.name), source: newest.name,
                    namingContext: Self.namingContext(of: computer.distinguishedName),
                    subject: RemediationSubject(computer, in: context)),
                details: details))
    }

    /// `DC01` from `CN=NTDS Settings,CN=DC01,CN=Servers,...`.
    static func serverName(ofDSA dn: String) -> String? {
        let names = DistinguishedName.relativeNames(of: dn)
        guard names.count > 1, names[0].lowercased() == "cn=ntds settings", names[1].lowercased().hasPrefix("cn=")
        else { return nil }
        return String(names[1].dropFirst(3))
    }

    /// `DC=corp,DC=example` from a DN in it: the domain naming context samba-tool replicates.
    static func namingContext(of dn: String) -> String? {
        let parts = DistinguishedName.relativeNames(of: dn).filter { $0.lowercased().hasPrefix("dc=") }
        return parts.isEmpty ? nil : parts.joined(separator: ",")
    }

    /// Renders the fix when the finding's remediation is read.
    struct Fix: RemediationRenderer {
        let behind: [String]
        let source: String
        let namingContext: String?
        let subject: RemediationSubject

        var text: String {
            var lines: [String] = []
            for dc in behind {
                let (show, sync) = Remediation.repadminShowAndSync(dc)
                let samba = Remediation.command(
                    .posix, tool: "samba-tool",
                    instead: "on that DC, name the partner by its DSA GUID, which drs showrepl lists"
                ) { writer throws(UnwritableValue) in
                    var nc = "<naming context>"
                    if let namingContext { nc = try writer.argument(namingContext, "naming context") }
                    return
                        "samba-tool drs replicate \(try writer.argument(dc, "DC name")) \(try writer.argument(source, "DC name")) \(nc)"
                }
                lines.append("See why \(Remediation.prose(dc)) did not replicate (on a DC, cmd.exe): \(show)")
                lines.append("Then replicate to it from all its partners: \(sync)")
                lines.append("On a Samba DC, as root: \(samba)")
            }
            let withoutServer = "run it on the machine without -Server"
            let test = Remediation.command(.powerShell, tool: "Test-ComputerSecureChannel", instead: withoutServer) {
                writer throws(UnwritableValue) in
                "Test-ComputerSecureChannel -Server \(try writer.server(behind.first)) -Verbose"
            }
            let repair = Remediation.command(.powerShell, tool: "Test-ComputerSecureChannel", instead: withoutServer) {
                writer throws(UnwritableValue) in
                "Test-ComputerSecureChannel -Repair -Server \(try writer.server(behind.first)) -Credential (Get-Credential)"
            }
            lines.append(
                "Once replication works, on \(Remediation.prose(subject.host)), as a local administrator: \(test)")
            lines.append("If it reports a broken channel: \(repair)")
            return lines.joined(separator: "\n")
        }
    }
}
