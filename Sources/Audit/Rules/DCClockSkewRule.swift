import Directory
import Foundation

/// A DC whose clock (rootDSE currentTime) is more than `maxClockSkewMinutes` from the audit host's
/// or from the PDC emulator's.
///
/// Kerberos refuses a ticket whose time is more than 5 minutes from the KDC's by default, so every
/// machine that authenticates against a DC whose clock drifted fails ("the trust relationship
/// failed", KRB_AP_ERR_SKEW) while the domain looks healthy from every other DC. The PDC emulator
/// is the domain's time source: a DC far from it has lost its time sync; a DC far from this host
/// but close to the PDC may mean this host's clock, or the PDC's NTP source, is the one that is wrong.
public struct DCClockSkewRule: CollectingRule {
    public static let description = RuleDescription(
        id: "dc-clock-skew",
        title: "Domain controller clocks out of step",
        rationale: """
            Kerberos rejects authentication when the clocks of a machine and its domain controller differ by more \
            than 5 minutes. The DCs take their time from the PDC emulator, which should take it from a reliable \
            NTP source; a DC whose clock drifted fails every machine sent to it.
            """)

    public static let attributes: [String] = []
    public static let requiresDomainControllers = true

    static let currentTime = DetailColumn("currentTime", .timestamp)
    /// The DC's clock minus the audit host's, in seconds (positive: the DC is ahead).
    static let offsetSeconds = DetailColumn("offsetSeconds", .integer)
    /// The DC's clock minus the PDC emulator's (each measured against the audit host).
    static let offsetFromPDCSeconds = DetailColumn("offsetFromPDCSeconds", .integer)
    static let pdcEmulator = DetailColumn("pdcEmulator", .string)
    public static let detailColumns = [currentTime, offsetSeconds, offsetFromPDCSeconds, pdcEmulator]

    private let readings: [DomainControllerReading]

    public init?(for audit: AuditInputs) {
        guard !audit.domainControllers.isEmpty else { return nil }
        readings = audit.domainControllers
    }

    public mutating func add(_ account: AccountView, excluded: Bool) {}

    /// A DC's clock minus the audit host's when it answered, in whole seconds.
    static func offset(_ reading: DomainControllerReading) -> Int64? {
        guard reading.answered, let time = reading.currentTime, let asked = reading.askedAt else { return nil }
        let seconds = time.timeIntervalSince(asked)
        guard seconds.isFinite, abs(seconds) < 1e15 else { return nil }
        return Int64(seconds.rounded())
    }

    public func findings(in context: AuditContext) -> [Finding] {
        let limit = Int64(context.configuration.maxClockSkewMinutes) * 60
        let pdc = readings.first { $0.domainController.isPDCEmulator }
        let pdcOffset = pdc.flatMap(Self.offset)
        var findings: [Finding] = []
        for reading in readings {
            guard let offset = Self.offset(reading), let time = reading.currentTime else { continue }
            let dc = reading.domainController
            let isPDC = dc.isPDCEmulator
            let fromPDC = isPDC ? nil : pdcOffset.map { offset - $0 }
            let offHost = abs(offset) > limit
            let offPDC = fromPDC.map { abs($0) > limit } ?? false
            guard offHost || offPDC else { continue }
            var details: [(key: String, value: DetailValue)] = [
                (Self.currentTime.key, .string(UTCTime.timestamp(time))), (Self.offsetSeconds.key, .integer(offset)),
            ]
            if let fromPDC { details.append((Self.offsetFromPDCSeconds.key, .integer(fromPDC))) }
            if let pdc, !isPDC { details.append((Self.pdcEmulator.key, .string(pdc.domainController.hostName))) }
            var message = "The clock of \(dc.hostName) is \(Self.span(offset)) this host's"
            if let fromPDC, let pdc {
                message += " and \(Self.span(fromPDC)) the PDC emulator \(pdc.domainController.hostName)'s"
            }
            message += " (more than \(context.configuration.maxClockSkewMinutes) minutes)"
            let severity: Severity
            if isPDC {
                message +=
                    ": it is the PDC emulator, the domain's time source; if this host's clock is right, the PDC's NTP source is wrong and every DC follows it."
                severity = .high
            } else if offPDC {
                message += ": Kerberos fails for every machine that authenticates against it."
                severity = .high
            } else {
                message +=
                    ", yet within \(context.configuration.maxClockSkewMinutes) minutes of the PDC emulator: check this host's clock first, then the PDC's NTP source."
                severity = pdcOffset == nil ? .high : .medium
            }
            findings.append(
                Finding(
                    rule: Self.description.id,
                    severity: context.configuration.severity(for: Self.description.id, default: severity),
                    account: dc.hostName, distinguishedName: dc.computerDN ?? dc.serverDN, message: message,
                    remediation: Self.remediation(dc, pdc: pdc?.domainController), details: details))
        }
        return findings
    }

    /// `3 minutes 20 seconds ahead of`, `2 hours behind`.
    static func span(_ seconds: Int64) -> String {
        let magnitude = seconds.magnitude
        let direction = seconds >= 0 ? "ahead of" : "behind"
        let hours = magnitude / 3600
        let minutes = magnitude % 3600 / 60
        let rest = magnitude % 60
        var parts: [String] = []
        if hours > 0 { parts.append("\(hours) hour\(hours == 1 ? "" : "s")") }
        if minutes > 0 { parts.append("\(minutes) minute\(minutes == 1 ? "" : "s")") }
        if rest > 0 || parts.isEmpty { parts.append("\(rest) second\(rest == 1 ? "" : "s")") }
        return parts.joined(separator: " ") + " " + direction
    }

    static func remediation(_ dc: DomainController, pdc: DomainController?) -> String {
        let monitor = Remediation.command(
            .commandPrompt, tool: "w32tm", instead: "run w32tm /query /status on that DC itself"
        ) { writer throws(UnwritableValue) in
            "w32tm /monitor /computers:\(try writer.argument(dc.hostName, "DC name"))"
        }
        var lines = [
            "Compare the DCs' clocks (cmd.exe): \(monitor)",
            "On \(Remediation.prose(dc.hostName)), as an administrator: w32tm /query /source",
            "Then resynchronize it: w32tm /resync /rediscover",
        ]
        if dc.isPDCEmulator {
            lines.append(
                "On the PDC emulator, point it at a reliable NTP source: w32tm /config /manualpeerlist:<ntp server> /syncfromflags:manual /reliable:yes /update"
            )
        } else {
            lines.append(
                "A DC takes its time from the domain hierarchy: w32tm /config /syncfromflags:domhier /update, then net stop w32time && net start w32time"
            )
            if let pdc {
                lines.append(
                    "Check the PDC emulator \(Remediation.prose(pdc.hostName)) too: w32tm /query /source")
            }
        }
        lines.append("On a Samba DC, check its NTP daemon: chronyc tracking (or ntpq -p)")
        return lines.joined(separator: "\n")
    }
}
