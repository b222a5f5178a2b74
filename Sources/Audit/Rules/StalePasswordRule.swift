import Directory

/// pwdLastSet older than the threshold, told apart by lastLogonTimestamp.
///
/// An old password alone does not say what is wrong. A machine that still logs on but no longer
/// rotates its password is the one whose trust is about to fail (or already has); a machine that
/// went quiet long ago is a cleanup candidate. lastLogonTimestamp tells the two apart, keeping in
/// mind that it is only replicated every 9 to 14 days.
///
/// Two kinds of account are told apart first. A failover cluster name object (CNO or VCO) is
/// rotated by the cluster, not a machine: its password is reported only past
/// `clusterStalePasswordDays`, with the cluster's repair. An account no machine ever joined (no
/// operatingSystem, no servicePrincipalName) has no machine whose trust could fail: its story is
/// the account itself, pre-staged or created by a user through ms-DS-MachineAccountQuota.
public struct StalePasswordRule: AccountRule {
    public static let description = RuleDescription(
        id: "stale-password",
        title: "Stale machine account passwords",
        rationale: """
            A domain member changes its machine password every 30 days by default, and AD keeps only the current \
            and the previous one. A machine that has missed two rotations, was restored from a snapshot or image, \
            or has DisablePasswordChange set, presents a password the domain no longer accepts, and its secure \
            channel (the trust relationship) fails.
            """)

    /// The stories an old (or odd) pwdLastSet tells; the `story` detail in the reports.
    public enum Story: String, Sendable {
        /// Logged on recently, well after a rotation was due: not rotating while alive.
        case aliveNotRotating = "alive-not-rotating"
        /// Was alive after a rotation was due, then went quiet.
        case rotationStopped = "rotation-stopped"
        /// Went quiet before its password was due: a dormant machine.
        case dormant
        /// An old password and no logon ever recorded.
        case neverLoggedOn = "never-logged-on"
        /// The password is old and lastLogonTimestamp lies in the future, which proves nothing.
        case logonInFuture = "logon-in-future"
        /// pwdLastSet 0 and no logon, or any logon on an account never joined: pre-created and not
        /// (yet) joined.
        case neverSet = "never-set"
        /// An old password on an account no machine ever joined (no operatingSystem, no SPN): it was
        /// pre-staged with a password or created by a user through ms-DS-MachineAccountQuota, and
        /// whoever set the password can log on as it.
        case neverJoined = "never-joined"
        /// A failover cluster name object whose password the cluster has not rotated for
        /// `clusterStalePasswordDays`, or which was reset (pwdLastSet 0).
        case clusterNameObject = "cluster-name-object"
        /// pwdLastSet 0 but the machine has logged on: the account was reset under a running machine.
        case resetPending = "reset-pending"
        /// pwdLastSet in the future: a DC clock was wrong when it was written.
        case passwordInFuture = "password-in-future"
        /// pwdLastSet is negative, which is no time at all: AD never stores one, so the export or the
        /// object is damaged (or crafted), and the password's age is unknown.
        case passwordNotATime = "password-not-a-time"
        /// The password is old and lastLogonTimestamp is negative, no time at all: no proof of life.
        case logonNotATime = "logon-not-a-time"

        /// Medium for the two that are no time: nothing shows the trust failing, but nothing shows it
        /// working, and data AD never writes deserves a look; as for the other stories that cannot tell.
        var defaultSeverity: Severity {
            switch self {
            case .aliveNotRotating, .resetPending, .passwordInFuture: return .high
            case .rotationStopped, .logonInFuture, .neverSet, .passwordNotATime, .logonNotATime, .neverJoined,
                .clusterNameObject:
                return .medium
            case .dormant, .neverLoggedOn: return .low
            }
        }
    }

    /// lastLogonTimestamp is written only when the stored value is older than
    /// ms-DS-Logon-Time-Sync-Interval (14 days by default, less a random 0-5 days).
    public static let lastLogonLagDays = 14
    /// Clocks on members and DCs may differ by this much before a future time means anything.

    /// lastLogon counts too, but only in a multi-DC audit, whose password-not-replicated rule asks for it.
    public static let attributes = ["pwdLastSet", "lastLogonTimestamp"]

    static let story = DetailColumn("story", .string)
    /// ISO 8601 UTC, or the integer 0 (never set) or the raw ticks (no valid time).
    static let pwdLastSet = DetailColumn("pwdLastSet", .timestamp)
    static let passwordAgeDays = DetailColumn("passwordAgeDays", .integer)
    static let lastLogonTimestamp = DetailColumn("lastLogonTimestamp", .timestamp)
    static let lastLogonAgeDays = DetailColumn("lastLogonAgeDays", .integer)
    public static let detailColumns = [story, pwdLastSet, passwordAgeDays, lastLogonTimestamp, lastLogonAgeDays]

    public init() {}

    public func evaluate(_ account: AccountView, in context: AuditContext, into findings: inout [Finding]) {
        let computer = account.object
        guard let password = computer.passwordLastSet else { return }
        let configuration = context.configuration
        let replicatedLogon = computer.lastLogonTimestamp.flatMap { $0.isNever ? nil : $0 }
        // In a multi-DC audit where every DC answered, the newest lastLogon over them is the true
        // last logon, exact to the logon; it replaces lastLogonTimestamp and its 14-day lag (unless
        // lastLogonTimestamp is newer, which only a DC that did not report lastLogon can explain).
        var exactLogon: (time: FileTime, dc: String)?
        if context.allDomainControllersAnswered, let newest = account.trueLastLogon,
            replicatedLogon.map({ !$0.isValid || newest.time >= $0 }) ?? true
        {
            exactLogon = (
                newest.time, context.reading(forOrigin: newest.origin)?.domainController.hostName ?? newest.origin
            )
        }
        let logon = exactLogon?.time ?? replicatedLogon
        /// The lastLogonTimestamp detail: the replicated value itself, also when the story used the true last logon.
        func logonDetail(_ logon: FileTime, asString: Bool = false) -> (key: String, value: DetailValue)? {
            let shown = exactLogon == nil ? logon : replicatedLogon
            guard let shown else { return nil }
            return (
                Self.lastLogonTimestamp.key,
                asString ? .string(AuditContext.timestamp(shown)) : AuditContext.timeDetail(shown)
            )
        }
        let logonInFuture = logon.map(context.isInFuture) ?? false
        let logonNotATime = logon.map { !$0.isValid } ?? false
        let logonIsValid = logon != nil && !logonInFuture && !logonNotATime
        // Looked up only for an account the rule reports: a healthy one returns before.
        lazy var isCluster = computer.isClusterNameObject
        lazy var neverJoined = computer.wasNeverJoined
        var details: [(key: String, value: DetailValue)] = []
        let story: Story
        let message: String

        if !password.isValid {
            story = .passwordNotATime
            message = .passwordNotATime(computer, password: password)
            details.append((Self.pwdLastSet.key, .integer(password.ticks)))
        } else if password.ticks == 0 {
            details.append((Self.pwdLastSet.key, .integer(0)))
            if isCluster {
                story = .clusterNameObject
                message = .clusterReset(computer)
            } else if neverJoined {
                // No machine holds the account, so a logon is no reset under a running machine.
                story = .neverSet
                message = .neverSetNeverJoined(computer, logon: logonIsValid ? logon : nil)
                if let logon, logonIsValid, let detail = logonDetail(logon, asString: true) {
                    details.append(detail)
                }
            } else if let logon, logonIsValid {
                story = .resetPending
                message = .resetPending(computer, logon: logon)
                if let detail = logonDetail(logon, asString: true) { details.append(detail) }
            } else {
                story = .neverSet
                message = .neverSet(computer)
            }
        } else if context.isInFuture(password) {
            story = .passwordInFuture
            message = .passwordInFuture(computer, password: password, days: context.daysAhead(password))
            details.append((Self.pwdLastSet.key, .string(AuditContext.timestamp(password))))
        } else {
            // A valid time, so it has an age.
            guard let passwordAge = context.ageInDays(password),
                passwordAge >= min(configuration.stalePasswordDays, configuration.clusterStalePasswordDays)
            else { return }
            let threshold = isCluster ? configuration.clusterStalePasswordDays : configuration.stalePasswordDays
            guard passwordAge >= threshold else { return }
            details.append((Self.pwdLastSet.key, .string(AuditContext.timestamp(password))))
            details.append((Self.passwordAgeDays.key, .integer(Int64(passwordAge))))
            if isCluster || neverJoined {
                var logonAge: Int?
                if let logon {
                    if let detail = logonDetail(logon) { details.append(detail) }
                    if logonIsValid {
                        logonAge = context.ageInDays(logon) ?? 0
                        details.append((Self.lastLogonAgeDays.key, .integer(Int64(logonAge ?? 0))))
                    }
                }
                let lastLogon = Self.lastLogonClause(logon, age: logonAge, inFuture: logonInFuture)
                if isCluster {
                    story = .clusterNameObject
                    message = .clusterPasswordOld(
                        computer, password: password, passwordAge: passwordAge, threshold: threshold,
                        lastLogon: lastLogon)
                } else {
                    story = .neverJoined
                    message = .neverJoined(
                        computer, password: password, passwordAge: passwordAge, lastLogon: lastLogon,
                        used: logonIsValid)
                }
            } else if let logon {
                if let detail = logonDetail(logon) { details.append(detail) }
                if logonInFuture {
                    story = .logonInFuture
                    message = .logonInFuture(computer, password: password, passwordAge: passwordAge, logon: logon)
                } else if logonNotATime {
                    story = .logonNotATime
                    message = .logonNotATime(computer, password: password, passwordAge: passwordAge, logon: logon)
                } else {
                    let logonAge = context.ageInDays(logon) ?? 0
                    details.append((Self.lastLogonAgeDays.key, .integer(Int64(logonAge))))
                    let rotationDue = AuditContext.adding(days: configuration.passwordRotationDays, to: password)
                    // The true last logon has no lag to allow for.
                    let recentLogonDays =
                        configuration.passwordRotationDays + (exactLogon == nil ? Self.lastLogonLagDays : 0)
                    if logon.ticks > rotationDue && logonAge <= recentLogonDays {
                        story = .aliveNotRotating
                        message = .aliveNotRotating(
                            computer, password: password, passwordAge: passwordAge, logon: logon, logonAge: logonAge,
                            seenBy: exactLogon?.dc, domainControllers: context.domainControllers.count)
                    } else if logon.ticks > rotationDue {
                        story = .rotationStopped
                        message = .rotationStopped(
                            computer, password: password, passwordAge: passwordAge, logon: logon, logonAge: logonAge,
                            rotationDays: configuration.passwordRotationDays, seenBy: exactLogon?.dc)
                    } else {
                        story = .dormant
                        message = .dormant(
                            computer, password: password, passwordAge: passwordAge, logon: logon, logonAge: logonAge,
                            seenBy: exactLogon?.dc)
                    }
                }
            } else {
                story = .neverLoggedOn
                message = .neverLoggedOn(computer, password: password, passwordAge: passwordAge)
            }
        }
        details.insert((Self.story.key, .string(story.rawValue)), at: 0)
        findings.append(
            Finding(
                rule: Self.description.id,
                severity: configuration.severity(for: Self.description.id, default: story.defaultSeverity),
                account: computer.accountName,
                distinguishedName: computer.distinguishedName,
                message: message,
                renderer: Fix(story: story, subject: RemediationSubject(computer, in: context), isCluster: isCluster),
                details: details))
    }

    /// `last logon 2026-11-02 (22 days ago)`, `no logon recorded`, or why the recorded one proves nothing.
    private static func lastLogonClause(_ logon: FileTime?, age: Int?, inFuture: Bool) -> String {
        guard let logon else { return "no logon recorded" }
        if !logon.isValid { return "lastLogonTimestamp \(logon.ticks) is not a valid time" }
        if inFuture { return "lastLogonTimestamp \(AuditContext.day(logon)) is in the future" }
        return "last logon \(AuditContext.day(logon)) (\(age ?? 0) days ago)"
    }

    /// Renders the fix for the story when the finding's remediation is read.
    struct Fix: RemediationRenderer {
        let story: Story
        let subject: RemediationSubject
        /// A failover cluster name object: the cluster repairs its password, not the machine.
        var isCluster = false
        var text: String { StalePasswordRule.remediation(for: story, subject, isCluster: isCluster) }
    }

    /// What repairs a cluster name object's password: the cluster, never Reset-ComputerMachinePassword
    /// (which would leave the cluster holding a password the domain no longer accepts).
    static let clusterRepair = """
        Repair it from the cluster, not with Reset-ComputerMachinePassword: in Failover Cluster Manager, right-click the name resource, More Actions > Repair Active Directory Object; or on a cluster node, as an administrator: Repair-ClusterNameAccount
        A virtual computer object (a clustered role's name) is repaired by the cluster name object once the cluster's own name is healthy.
        """

    static func remediation(for story: Story, _ computer: RemediationSubject, isCluster: Bool = false) -> String {
        // Each command is rendered only for the stories that show it: a report renders this text once
        // per format for every finding, and a strict policy makes nearly every computer one.
        var repair: String { isCluster ? clusterRepair : Remediation.repairSecureChannel(computer) }
        let fromTheMachine = isCluster ? "from the cluster" : "from the machine"
        var name: String { Remediation.prose(computer.shortName) }
        func adComputer(_ verb: String, identity: String, _ attribute: String, parameters: String = "") -> String {
            Remediation.command(.powerShell, tool: verb) { writer throws(UnwritableValue) in
                "\(verb) -Identity \(try writer.quoted(identity, attribute))\(parameters) -Server \(try writer.server(computer.server))"
            }
        }
        var disable: String { adComputer("Disable-ADComputer", identity: computer.accountName, "sAMAccountName") }
        var remove: String {
            adComputer("Remove-ADComputer", identity: computer.distinguishedName, "distinguishedName")
        }
        switch story {
        case .aliveNotRotating, .rotationStopped, .logonInFuture, .logonNotATime:
            return """
                \(repair)
                Then find why it stopped rotating: DisablePasswordChange must not be 1 under HKLM\\SYSTEM\\CurrentControlSet\\Services\\Netlogon\\Parameters, \
                the policy "Domain member: Disable machine account password changes" must be off, the machine must not be \
                restored from a snapshot, and the time must be within 5 minutes of the DC (w32tm /query /source). Check replication: repadmin /showrepl
                """
        case .dormant, .neverLoggedOn:
            return """
                Confirm with the owner that \(name) is retired, then: \(disable)
                After a grace period: \(remove)
                If it comes back into use instead: \(Remediation.indentingContinuationLines(repair, with: "  "))
                """
        case .neverSet, .neverJoined:
            let join = Remediation.command(.powerShell, tool: "Add-Computer") { writer throws(UnwritableValue) in
                "Add-Computer -DomainName \(try writer.domain(computer.domain)) -Credential (Get-Credential) -Restart"
            }
            return """
                If the account was pre-staged for a machine not yet joined, join it: \(join)
                If no machine will use it, remove it: \(remove)
                """
        case .clusterNameObject:
            return """
                If the cluster is in use: \(repair)
                If the cluster was retired: \(disable)
                After a grace period: \(remove)
                """
        case .resetPending:
            return """
                The account was reset while \(name) was in use; the machine's own password no longer matches.
                \(repair)
                """
        case .passwordInFuture:
            return """
                A domain controller's clock was ahead when this password was written. Check time service on the DCs: w32tm /monitor, and on the PDC emulator: w32tm /query /source
                Then reset the password \(fromTheMachine): \(Remediation.indentingContinuationLines(repair, with: "  "))
                """
        case .passwordNotATime:
            let read = adComputer(
                "Get-ADComputer", identity: computer.accountName, "sAMAccountName",
                parameters: " -Properties pwdLastSet")
            return """
                AD never stores such a pwdLastSet; read it from a DC to tell a damaged export from a damaged object: \(read)
                If \(name) is in use, reset its password \(fromTheMachine), which writes a valid pwdLastSet: \(Remediation.indentingContinuationLines(repair, with: "  "))
                """
        }
    }
}

extension String {
    fileprivate static func resetPending(_ computer: DirectoryObject, logon: FileTime) -> String {
        "pwdLastSet is 0 (the account was reset or must change its password) but \(computer.shortName) last logged on \(AuditContext.day(logon)): its own machine password no longer matches, so its trust relationship fails."
    }

    fileprivate static func passwordNotATime(_ computer: DirectoryObject, password: FileTime) -> String {
        "pwdLastSet \(password.ticks) is not a valid time (a FILETIME is never negative, and AD never stores one): the export or the object is damaged, and whether \(computer.shortName) still rotates its password is unknown."
    }

    fileprivate static func logonNotATime(
        _ computer: DirectoryObject, password: FileTime, passwordAge: Int, logon: FileTime
    ) -> String {
        "Machine password last set \(AuditContext.day(password)) (\(passwordAge) days ago); lastLogonTimestamp \(logon.ticks) is not a valid time, which is no proof of life: whether \(computer.shortName) is alive is unknown."
    }

    fileprivate static func neverSetNeverJoined(_ computer: DirectoryObject, logon: FileTime?) -> String {
        var text =
            "pwdLastSet is 0 and it has no operatingSystem and no servicePrincipalName, which a join writes: the account was pre-created and no machine ever joined it."
        if let logon {
            text +=
                " Yet a logon is recorded on \(AuditContext.day(logon)): something used the account without joining a machine to it."
        }
        return text + creator(computer)
    }

    fileprivate static func neverJoined(
        _ computer: DirectoryObject, password: FileTime, passwordAge: Int, lastLogon: String, used: Bool
    ) -> String {
        let use = used ? ": something used it without joining a machine" : ""
        let origin =
            computer.creatorSID.map {
                "It was created by \($0) (mS-DS-CreatorSID), an ordinary user, through ms-DS-MachineAccountQuota: worth a look; whoever set its password can log on as it."
            }
            ?? "It was pre-staged with a password, or created by a user through ms-DS-MachineAccountQuota; whoever set that password can log on as it."
        return
            "Never joined: it has no operatingSystem and no servicePrincipalName, which a join writes, yet its password was set \(AuditContext.day(password)) (\(passwordAge) days ago); \(lastLogon)\(use). \(origin)"
    }

    /// ` It was created by S-1-5-21-...-1110 (mS-DS-CreatorSID), an ordinary user, ...`, or nothing.
    private static func creator(_ computer: DirectoryObject) -> String {
        guard let sid = computer.creatorSID else { return "" }
        return
            " It was created by \(sid) (mS-DS-CreatorSID), an ordinary user, through ms-DS-MachineAccountQuota: worth a look."
    }

    fileprivate static func clusterPasswordOld(
        _ computer: DirectoryObject, password: FileTime, passwordAge: Int, threshold: Int, lastLogon: String
    ) -> String {
        "Failover cluster name object (it holds MSClusterVirtualServer/ SPNs), whose password the cluster rotates: last set \(AuditContext.day(password)) (\(passwordAge) days ago, past the \(threshold)-day cluster threshold); \(lastLogon). A cluster in use can no longer update its account; a retired cluster left it behind."
    }

    fileprivate static func clusterReset(_ computer: DirectoryObject) -> String {
        "Failover cluster name object (it holds MSClusterVirtualServer/ SPNs) with pwdLastSet 0: the account was reset, so the cluster can no longer log on as \(computer.shortName) with the password it keeps until the name is repaired."
    }

    fileprivate static func neverSet(_ computer: DirectoryObject) -> String {
        "pwdLastSet is 0 and no logon is recorded: the account was pre-created and never joined (or reset before first use)."
    }

    fileprivate static func passwordInFuture(_ computer: DirectoryObject, password: FileTime, days: Int) -> String {
        "pwdLastSet \(AuditContext.day(password)) is \(days) day(s) in the future: a domain controller's clock was wrong when it was set."
    }

    fileprivate static func logonInFuture(
        _ computer: DirectoryObject, password: FileTime, passwordAge: Int, logon: FileTime
    ) -> String {
        "Machine password last set \(AuditContext.day(password)) (\(passwordAge) days ago); lastLogonTimestamp \(AuditContext.day(logon)) is in the future, which is no proof of life (a clock problem or a known Windows bug): whether \(computer.shortName) is alive is unknown."
    }

    /// `seenBy`: the DC whose lastLogon is the true last logon (a multi-DC audit where every DC
    /// answered); nil when the logon is lastLogonTimestamp, whose lag the text then mentions.
    fileprivate static func aliveNotRotating(
        _ computer: DirectoryObject, password: FileTime, passwordAge: Int, logon: FileTime, logonAge: Int,
        seenBy: String? = nil, domainControllers: Int = 0
    ) -> String {
        let source =
            seenBy.map { "on \($0), the newest lastLogon of all \(domainControllers) DCs" }
            ?? "lastLogonTimestamp lags up to 14 days"
        return
            "Alive but not rotating its password: last logon \(AuditContext.day(logon)) (\(logonAge) days ago, \(source)) while the machine password was last set \(AuditContext.day(password)) (\(passwordAge) days ago). Its secure channel is broken or password changes are disabled."
    }

    fileprivate static func rotationStopped(
        _ computer: DirectoryObject, password: FileTime, passwordAge: Int, logon: FileTime, logonAge: Int,
        rotationDays: Int, seenBy: String? = nil
    ) -> String {
        "Stopped rotating while alive, then went quiet: machine password last set \(AuditContext.day(password)) (\(passwordAge) days ago), yet it logged on \(AuditContext.day(logon)) (\(logonAge) days ago\(seenBy.map { ", on \($0)" } ?? "")), after its \(rotationDays)-day rotation was due. Expect a trust failure if it returns."
    }

    fileprivate static func dormant(
        _ computer: DirectoryObject, password: FileTime, passwordAge: Int, logon: FileTime, logonAge: Int,
        seenBy: String? = nil
    ) -> String {
        "Dormant: machine password last set \(AuditContext.day(password)) (\(passwordAge) days ago) and last logon \(AuditContext.day(logon)) (\(logonAge) days ago\(seenBy.map { ", on \($0)" } ?? "")). A cleanup candidate; if it returns it will need its secure channel repaired."
    }

    fileprivate static func neverLoggedOn(_ computer: DirectoryObject, password: FileTime, passwordAge: Int) -> String {
        "Machine password last set \(AuditContext.day(password)) (\(passwordAge) days ago) and no logon ever recorded: pre-created or never used. A cleanup candidate."
    }
}
