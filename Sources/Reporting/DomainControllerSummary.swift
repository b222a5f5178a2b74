import Audit
import Directory
import Foundation

/// One DC of a multi-DC audit as the reports list it: what it is, whether it answered, its clock,
/// and the inbound replication partners its repsFrom records.
///
/// Worked out once from `AuditSummary.domainControllerReadings` for findings.json and report.html
/// alike, so both say the same of each DC.
struct DomainControllerSummary {
    struct Partner {
        /// The partner's host name, when its DSA GUID is one of the audited DCs'; else its GUID.
        let name: String
        let lastSuccess: FileTime
        let lastAttempt: FileTime
        let consecutiveFailures: Int
        let lastResult: ReplicationResult
    }

    let hostName: String
    let site: String?
    let isGlobalCatalog: Bool
    let isReadOnly: Bool
    let isPDCEmulator: Bool
    let inboundDisabled: Bool
    let outboundDisabled: Bool
    /// Nil when it answered; otherwise why it could not be read.
    let failure: String?
    /// The DC's clock minus the audit host's, in seconds; nil when unknown.
    let clockOffsetSeconds: Double?
    let partners: [Partner]
    /// repsFrom values that could not be decoded, said as the decoder said.
    let unreadablePartners: [String]

    static func summaries(_ readings: [DomainControllerReading]) -> [DomainControllerSummary] {
        readings.map { reading in
            let dc = reading.domainController
            var partners: [Partner] = []
            var unreadable: [String] = []
            for value in reading.repsFrom {
                do {
                    let link = try ReplicaLink(repsFrom: value, source: dc.hostName)
                    partners.append(
                        Partner(
                            name: link.partnerName(among: readings) ?? "unknown",
                            lastSuccess: link.lastSuccess, lastAttempt: link.lastAttempt,
                            consecutiveFailures: Int(link.consecutiveFailures), lastResult: link.lastResult))
                } catch {
                    unreadable.append("\(error)")
                }
            }
            var failure: String?
            if case .failed(let reason) = reading.outcome { failure = reason }
            let offset = reading.currentTime.flatMap { time in reading.askedAt.map { time.timeIntervalSince($0) } }
            return DomainControllerSummary(
                hostName: dc.hostName, site: dc.site, isGlobalCatalog: dc.isGlobalCatalog, isReadOnly: dc.isReadOnly,
                isPDCEmulator: dc.isPDCEmulator, inboundDisabled: dc.options.contains(.disableInboundReplication),
                outboundDisabled: dc.options.contains(.disableOutboundReplication), failure: failure,
                clockOffsetSeconds: offset, partners: partners, unreadablePartners: unreadable)
        }
    }

    /// `GC, PDC emulator, inbound replication disabled` or `` for the report's role column.
    var roles: String {
        var roles: [String] = []
        if isReadOnly { roles.append("read-only (RODC)") }
        if isGlobalCatalog { roles.append("Global Catalog") }
        if isPDCEmulator { roles.append("PDC emulator") }
        if inboundDisabled { roles.append("inbound replication disabled") }
        if outboundDisabled { roles.append("outbound replication disabled") }
        return roles.joined(separator: ", ")
    }

    /// `dc01.corp.example: last success 2026-11-30T02:00:00Z, 3 failures, last result 8457 ...`.
    var partnerLines: [String] {
        partners.map { partner in
            var line = "from \(partner.name): last success "
            line += partner.lastSuccess.isNever ? "never" : AuditContext.timestamp(partner.lastSuccess)
            if partner.consecutiveFailures > 0 || !partner.lastResult.isSuccess {
                line +=
                    ", \(partner.consecutiveFailures) consecutive failure\(partner.consecutiveFailures == 1 ? "" : "s")"
                line += ", last result \(partner.lastResult)"
            }
            return line
        } + unreadablePartners.map { "a repsFrom value could not be read: \($0)" }
    }
}
