import Directory

/// A DC that is not replicating the domain: a repsFrom partner with consecutive failures or no
/// success for longer than `replicationFailureHours`, or inbound/outbound replication disabled.
///
/// repsFrom on the domain head is the DC's own record of each inbound partner (what
/// `repadmin /showrepl` prints). A DC that does not pull keeps old machine passwords, so the
/// machines sent to it fail to log on (password-not-replicated finds those accounts); this rule
/// finds the cause. Readable by an ordinary user on Samba.
public struct ReplicationFailureRule: CollectingRule {
    public static let description = RuleDescription(
        id: "replication-failure",
        title: "Domain controllers not replicating",
        rationale: """
            Each DC pulls the changes made on its partners. A DC that fails to pull, or has inbound or outbound \
            replication disabled, falls behind: machine passwords changed elsewhere do not reach it, and the machines \
            that authenticate against it fail. Past the tombstone lifetime it refuses to replicate at all.
            """)

    public static let attributes: [String] = []
    public static let requiresDomainControllers = true

    /// The partner DC (by host name, else its `_msdcs` address or DSA GUID), or `NTDS Settings options`.
    static let about = DetailColumn("about", .string)
    static let consecutiveFailures = DetailColumn("consecutiveFailures", .integer)
    /// The last result by code and name (`8457 ERROR_DS_DRA_SINK_DISABLED`).
    static let lastResult = DetailColumn("lastResult", .string)
    static let lastSuccess = DetailColumn("lastSuccess", .timestamp)
    static let lastAttempt = DetailColumn("lastAttempt", .timestamp)
    static let hoursSinceSuccess = DetailColumn("hoursSinceSuccess", .integer)
    public static let detailColumns = [
        about, consecutiveFailures, lastResult, lastSuccess, lastAttempt, hoursSinceSuccess,
    ]
    public static let identity: DetailColumn? = about

    static let optionsSubject = "NTDS Settings options"

    private let readings: [DomainControllerReading]

    public init?(for audit: AuditInputs) {
        guard !audit.domainControllers.isEmpty else { return nil }
        readings = audit.domainControllers
    }

    public mutating func add(_ account: AccountView, excluded: Bool) {}

    public func findings(in context: AuditContext) -> [Finding] {
        var findings: [Finding] = []
        let configuration = context.configuration
        let thresholdTicks = Int64(configuration.replicationFailureHours) * 3600 * FileTime.ticksPerSecond
        func finding(
            _ dc: DomainController, _ severity: Severity, _ message: String, _ fix: String,
            _ details: [(key: String, value: DetailValue)]
        ) -> Finding {
            Finding(
                rule: Self.description.id,
                severity: configuration.severity(for: Self.description.id, default: severity), account: dc.hostName,
                distinguishedName: dc.computerDN ?? dc.serverDN, message: message, remediation: fix, details: details)
        }
        for reading in readings where reading.answered {
            let dc = reading.domainController
            var disabled: [String] = []
            if dc.options.contains(.disableInboundReplication) { disabled.append("inbound") }
            if dc.options.contains(.disableOutboundReplication) { disabled.append("outbound") }
            if !disabled.isEmpty {
                findings.append(
                    finding(
                        dc, .high,
                        "\(dc.hostName) has \(disabled.joined(separator: " and ")) replication disabled (its NTDS Settings options \(dc.options.rawValue)): \(disabled.contains("inbound") ? "it takes no changes from its partners" : "its partners get no changes from it"), so machine passwords changed elsewhere do not converge.",
                        Self.optionsFix(dc, disabled: disabled), [(Self.about.key, .string(Self.optionsSubject))]))
            }
            for (index, value) in reading.repsFrom.enumerated() {
                let link: ReplicaLink
                do {
                    link = try ReplicaLink(repsFrom: value, source: "\(dc.hostName) repsFrom value \(index + 1)")
                } catch {
                    findings.append(
                        finding(
                            dc, .low, "A repsFrom value of \(dc.hostName) could not be read: \(error.reason).",
                            Self.linkFix(dc, partner: nil, result: nil),
                            [(Self.about.key, .string("repsFrom value \(index + 1)"))]))
                    continue
                }
                let partner = Self.partnerName(link, among: readings)
                let sinceSuccess =
                    link.neverSucceeded ? nil : context.nowFileTime.ticks - link.lastSuccess.ticks
                let stale = sinceSuccess.map { $0 > thresholdTicks } ?? true
                guard link.consecutiveFailures > 0 || stale else { continue }
                var details: [(key: String, value: DetailValue)] = [
                    (Self.about.key, .string(partner)),
                    (Self.consecutiveFailures.key, .integer(Int64(link.consecutiveFailures))),
                    (Self.lastResult.key, .string(link.lastResult.description)),
                ]
                if !link.neverSucceeded {
                    details.append((Self.lastSuccess.key, AuditContext.timeDetail(link.lastSuccess)))
                }
                if !link.lastAttempt.isNever {
                    details.append((Self.lastAttempt.key, AuditContext.timeDetail(link.lastAttempt)))
                }
                let hours = sinceSuccess.map { max(0, $0) / (3600 * FileTime.ticksPerSecond) }
                if let hours { details.append((Self.hoursSinceSuccess.key, .integer(hours))) }
                var message = "\(dc.hostName) does not replicate from \(partner): "
                if link.consecutiveFailures > 0 {
                    message +=
                        "\(link.consecutiveFailures) consecutive failure\(link.consecutiveFailures == 1 ? "" : "s"), the last with \(link.lastResult)"
                    if let cause = link.lastResult.cause { message += " (\(cause))" }
                    message += "; "
                }
                if link.neverSucceeded {
                    message += "it has never replicated from it."
                } else {
                    message += "last success \(AuditContext.timestamp(link.lastSuccess)) (\(hours ?? 0) hours ago"
                    if stale { message += ", more than \(configuration.replicationFailureHours)" }
                    message += ")."
                }
                // Stale: it has fallen behind by more than the threshold; failing with a recent
                // success: a fault that began within the threshold (or a transient one).
                let severity: Severity =
                    link.lastResult.code == 8614 ? .critical : stale ? .high : .medium
                findings.append(
                    finding(dc, severity, message, Self.linkFix(dc, partner: partner, result: link.lastResult), details)
                )
            }
        }
        return findings
    }

    static func partnerName(_ link: ReplicaLink, among readings: [DomainControllerReading]) -> String {
        link.partnerName(among: readings) ?? "an unknown partner"
    }

    static func linkFix(_ dc: DomainController, partner: String?, result: ReplicationResult?) -> String {
        let (show, sync) = Remediation.repadminShowAndSync(dc.hostName)
        let samba = Remediation.command(
            .posix, tool: "samba-tool", instead: "run it on that DC itself, without the name"
        ) {
            writer throws(UnwritableValue) in
            "samba-tool drs showrepl \(try writer.argument(dc.hostName, "DC name"))"
        }
        var lines = [
            "See the partners and their errors (on a DC, cmd.exe): \(show)",
            "Summarize replication across the forest: repadmin /replsum",
        ]
        if let result, let name = result.name, let cause = result.cause, !result.isSuccess {
            lines.append("\(result.signedCode) \(name) usually means: \(cause)")
        }
        lines.append("Once the cause is fixed, replicate to it from all its partners: \(sync)")
        lines.append("On a Samba DC, as root: \(samba)")
        return lines.joined(separator: "\n")
    }

    static func optionsFix(_ dc: DomainController, disabled: [String]) -> String {
        var lines: [String] = []
        for direction in disabled {
            let option = direction == "inbound" ? "DISABLE_INBOUND_REPL" : "DISABLE_OUTBOUND_REPL"
            let windows = Remediation.command(
                .commandPrompt, tool: "repadmin", instead: "run it on that DC itself, naming no DC"
            ) {
                writer throws(UnwritableValue) in
                "repadmin /options \(try writer.argument(dc.hostName, "DC name")) -\(option)"
            }
            let samba = Remediation.command(.posix, tool: "samba-tool", instead: "run it on that DC itself") {
                writer throws(UnwritableValue) in
                "samba-tool drs options \(try writer.argument(dc.hostName, "DC name")) --dsa-option=-\(option)"
            }
            lines.append(
                "If nobody disabled \(direction) replication on purpose (maintenance, a restore), enable it (cmd.exe): \(windows)"
            )
            lines.append("On a Samba DC, as root: \(samba)")
        }
        return lines.joined(separator: "\n")
    }
}
