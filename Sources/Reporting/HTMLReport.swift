import Audit
import Foundation

/// Builds the values `report.html` renders: every directory string as `.string` (escaped), only the
/// charts drawn here as `.html`.
///
/// The names below are the template's interface; users edit the template, so renaming one breaks
/// their copies. Keep them, add new ones.
///
/// Top level: `title`, `domain` (absent when unknown), `source`, `generatedAt`, `clockSkew` (absent
/// unless audited live), `verdict`, `summary.*` (the AuditSummary counts), `severities[]`
/// {`name`, `count`, `badgeStyle`}, `rules[]` {`id`, `title`, `count`, `anchor`}, `ruleChart`,
/// `staleDays`, `passwordAge` and `lastLogonAge` {`chart`, `buckets[]` {`label`, `count`}},
/// `maximumFindingsPerRule`, `fullListFile`, `sections[]` (below), `generator`.
///
/// `sections[]`: `id`, `anchor`, `title`, `rationale`, `count`, `hasFindings`, `truncated`, `shown`,
/// `more` {`count`, `file`} (absent unless truncated), `findings[]` {`severity`, `badgeStyle`, `account`,
/// `dn` (absent for missing accounts), `message`, `remediation`, `isNew`}, and `newCount` (absent without
/// a baseline).
///
/// Compared with a baseline run (all absent on a first run): `changes` {`since` (the baseline's
/// generatedAt), `source` (its file), `new`, `persisting`, `resolved`, `text` (one sentence)},
/// `resolvedFindings[]` {`rule`, `severity`, `badgeStyle`, `account`, `dn`, `message`} (at most
/// `maximumFindingsPerRule`), `hasResolved`, `resolvedMore` {`count`, `file`} (absent unless capped).
///
/// With a kept history of two nights or more (`--keep`; absent otherwise): `trend` {`chart`,
/// `count` (nights), `first`, `last` (their generatedAt), `nights[]` {`generatedAt`, `label`,
/// `critical`, `high`, `medium`, `low`, `info`, `total`} oldest first, `movers[]` {`rule`, `first`,
/// `last`, `growth` ("+3")}, `hasMovers`, `unreadable` {`count`, `names`} (absent when every copy was read)}.
public enum HTMLReport {
    /// The most findings shown per rule. A report for a domain where 40,000 machines share one
    /// problem must still open in a browser and a mail client; the full list is in the CSV and JSON.
    public static let maximumFindingsPerRule = 500

    /// The filled-in report. `formats` says which other files exist, so "N more in ..." names one that
    /// does; `hints` words how to get a file this run did not write.
    public static func render(
        _ result: AuditResult, template: Template, formats: Set<ReportFormat>, changes: FindingChanges? = nil,
        trend: ReportTrend? = nil, hints: ReportHints = ReportHints()
    ) throws -> String {
        try template.render(context(for: result, formats: formats, changes: changes, trend: trend, hints: hints))
    }

    public static func context(
        for result: AuditResult, formats: Set<ReportFormat>, changes: FindingChanges? = nil,
        trend: ReportTrend? = nil, hints: ReportHints = ReportHints()
    ) -> TemplateValue {
        let summary = result.summary
        let fullListFile: String
        if formats.contains(.csv) {
            fullListFile = ReportFormat.csv.fileName
        } else if formats.contains(.json) {
            fullListFile = ReportFormat.json.fileName
        } else {
            fullListFile = hints.findingsCSVNotWritten
        }

        var context: [String: TemplateValue] = [
            "title": .string("TrustAudit: computer account trust" + (summary.domain.map { " in \($0)" } ?? "")),
            "source": .string(summary.source),
            "generatedAt": .string(FindingsJSON.timestamp(summary.generatedAt)),
            "verdict": .string(verdict(summary)),
            "staleDays": .number(summary.stalePasswordDays),
            "maximumFindingsPerRule": .number(maximumFindingsPerRule),
            "fullListFile": .string(fullListFile),
            "generator": "TrustAudit",
        ]
        if let domain = summary.domain { context["domain"] = .string(domain) }
        if let skew = summary.clockSkewSeconds { context["clockSkew"] = .string(describeSkew(skew)) }
        context["summary"] = .object([
            "objectsRead": .number(summary.objectsRead),
            "computers": .number(summary.computers),
            "enabledComputers": .number(summary.enabledComputers),
            "disabledComputers": .number(summary.disabledComputers),
            "domainControllers": .number(summary.domainControllers),
            "groupManagedServiceAccounts": .number(summary.groupManagedServiceAccounts),
            "managedServiceAccounts": .number(summary.managedServiceAccounts),
            "otherSPNHolders": .number(summary.otherSPNHolders),
            "excludedComputers": .number(summary.excludedComputers),
            "inventoryNames": .number(summary.inventoryNames),
            "clusterNameObjects": .number(summary.clusterNameObjects),
            "findings": .number(summary.totalFindings),
        ])
        context["deletedObjects"] = .string(deletedObjectsText(summary))
        if !summary.domainControllerReadings.isEmpty {
            let summaries = DomainControllerSummary.summaries(summary.domainControllerReadings)
            context["hasDomainControllers"] = .bool(true)
            context["domainControllers"] = .list(
                summaries.map { dc in
                    [
                        "hostName": .string(dc.hostName), "site": .string(dc.site ?? "unknown"),
                        "roles": .string(dc.roles),
                        "status": .string(dc.failure.map { "not read: \($0)" } ?? "answered"),
                        "clock": .string(dc.clockOffsetSeconds.map(describeSkew) ?? "unknown"),
                        "partners": .list(dc.partnerLines.map { ["line": .string($0)] }),
                    ]
                })
        }
        context["severities"] = .list(
            Severity.allCases.reversed().map { severity in
                [
                    "name": .string(severity.rawValue),
                    "count": .number(summary.findingsBySeverity[severity] ?? 0),
                    "badgeStyle": .string(badgeStyle(severity)),
                ]
            })

        let descriptions = ruleDescriptions(result)
        let counts = Dictionary(
            FindingsJSON.ruleCounts(summary, rules: result.registry).map { ($0.rule, $0.count) },
            uniquingKeysWith: { first, _ in first })
        context["rules"] = .list(
            descriptions.map { rule in
                [
                    "id": .string(rule.id), "title": .string(rule.title), "count": .number(counts[rule.id] ?? 0),
                    "anchor": .string(anchor(rule.id)),
                ]
            })
        context["ruleChart"] = .html(
            SVGChart.horizontalBars(
                title: "Findings per rule", bars: descriptions.map { (label: $0.id, value: counts[$0.id] ?? 0) }))
        let thresholdLabel = "stale: \(summary.stalePasswordDays)+ days"
        context["passwordAge"] = ages(
            summary.passwordAge, title: "Machine password age (pwdLastSet), computers per age in days",
            threshold: summary.stalePasswordDays, thresholdLabel: thresholdLabel)
        context["lastLogonAge"] = ages(
            summary.lastLogonAge, title: "Last logon age (lastLogonTimestamp), computers per age in days",
            threshold: summary.stalePasswordDays, thresholdLabel: thresholdLabel)

        // Per rule its counts and at most the cap of its first findings (a spilled store reads no more).
        var excerpts: [String: FindingStore.RuleExcerpt] = [:]
        var shown: [String: [TemplateValue]] = [:]
        let isNew = { (index: Int) in changes?.change(at: index) == .new }
        for excerpt in result.findingStore.excerpts(perRule: maximumFindingsPerRule, isNew: isNew) {
            excerpts[excerpt.rule] = excerpt
            shown[excerpt.rule] = excerpt.first.map { index, finding in
                var row: [String: TemplateValue] = [
                    "severity": .string(finding.severity.rawValue),
                    "badgeStyle": .string(badgeStyle(finding.severity)),
                    "account": .string(finding.account),
                    "message": .string(finding.message),
                    "remediation": .string(finding.remediation),
                    "isNew": .bool(isNew(index)),
                ]
                if let dn = finding.distinguishedName { row["dn"] = .string(dn) }
                return .object(row)
            }
        }
        context["sections"] = .list(
            descriptions.map { rule in
                let count = excerpts[rule.id]?.count ?? 0
                let rows = shown[rule.id] ?? []
                var section: [String: TemplateValue] = [
                    "id": .string(rule.id),
                    "anchor": .string(anchor(rule.id)),
                    "title": .string(rule.title),
                    "rationale": .string(rule.rationale),
                    "count": .number(count),
                    "hasFindings": .bool(count > 0),
                    "truncated": .bool(count > rows.count),
                    "shown": .number(rows.count),
                    "findings": .list(rows),
                ]
                if count > rows.count {
                    section["more"] = ["count": .number(count - rows.count), "file": .string(fullListFile)]
                }
                if changes != nil { section["newCount"] = .number(excerpts[rule.id]?.newCount ?? 0) }
                return .object(section)
            })
        if let changes { addChanges(changes, formats: formats, hints: hints, to: &context) }
        if let trend, trend.nights.count >= 2 { context["trend"] = trendValue(trend) }
        return .object(context)
    }

    /// The trend section's values: the chart, its table twin (the same numbers) and the top movers.
    static func trendValue(_ trend: ReportTrend) -> TemplateValue {
        let severities = Array(Severity.allCases.reversed())
        let labels = trend.labels
        let chart = SVGChart.stackedBars(
            title: "Findings per night, by severity, over the last \(trend.nights.count) nights",
            columns: zip(labels, trend.nights).map { label, night in
                (
                    label: label, title: night.generatedAt,
                    // Most severe at the bottom, where the eye starts.
                    counts: severities.map { (severity: $0, count: night.bySeverity[$0] ?? 0) }
                )
            })
        let nights: [TemplateValue] = zip(labels, trend.nights).map { label, night in
            var row: [String: TemplateValue] = [
                "generatedAt": .string(night.generatedAt), "label": .string(label), "total": .number(night.total),
            ]
            for severity in severities { row[severity.rawValue] = .number(night.bySeverity[severity] ?? 0) }
            return .object(row)
        }
        let movers: [TemplateValue] = trend.movers.map { mover in
            [
                "rule": .string(mover.rule), "first": .number(mover.first), "last": .number(mover.last),
                "growth": .string("+\(mover.growth)"),
            ]
        }
        var value: [String: TemplateValue] = [
            "chart": .html(chart),
            "count": .number(trend.nights.count),
            "first": .string(trend.nights.first?.generatedAt ?? ""),
            "last": .string(trend.nights.last?.generatedAt ?? ""),
            "nights": .list(nights),
            "movers": .list(movers),
            "hasMovers": .bool(!movers.isEmpty),
        ]
        if !trend.unreadable.isEmpty {
            value["unreadable"] = [
                "count": .number(trend.unreadable.count), "names": .string(trend.unreadable.joined(separator: ", ")),
            ]
        }
        return .object(value)
    }

    private static func addChanges(
        _ changes: FindingChanges, formats: Set<ReportFormat>, hints: ReportHints,
        to context: inout [String: TemplateValue]
    ) {
        context["changes"] = [
            "since": .string(changes.baselineGeneratedAt),
            "source": .string(changes.baselineSource),
            "new": .number(changes.newCount),
            "persisting": .number(changes.persistingCount),
            "resolved": .number(changes.resolved.count),
            "text": .string(changeText(changes)),
        ]
        let rows: [TemplateValue] = changes.resolved.prefix(maximumFindingsPerRule).map { finding in
            var row: [String: TemplateValue] = [
                "rule": .string(finding.rule),
                "severity": .string(finding.severity.rawValue),
                "badgeStyle": .string(badgeStyle(finding.severity)),
                "account": .string(finding.account),
                "message": .string(finding.message),
            ]
            if let dn = finding.distinguishedName { row["dn"] = .string(dn) }
            return .object(row)
        }
        context["resolvedFindings"] = .list(rows)
        context["hasResolved"] = .bool(!rows.isEmpty)
        if changes.resolved.count > rows.count {
            let file = formats.contains(.json) ? ReportFormat.json.fileName : hints.findingsJSONNotWritten
            context["resolvedMore"] = ["count": .number(changes.resolved.count - rows.count), "file": .string(file)]
        }
    }

    /// "Since the run of 2026-11-23T00:00:00Z: 2 new, 1 resolved, 7 still open."
    static func changeText(_ changes: FindingChanges) -> String {
        "Since the run of \(changes.baselineGeneratedAt): \(changes.newCount) new, \(changes.resolved.count) resolved, "
            + "\(changes.persistingCount) still open."
    }

    /// The rules that ran, then any rule id that has findings but no description (so none is hidden).
    static func ruleDescriptions(_ result: AuditResult) -> [RuleDescription] {
        var descriptions = result.rules.isEmpty ? result.registry.map { $0.description } : result.rules
        var known = Set(descriptions.map(\.id))
        for rule in result.findingStore.rules(notIn: known) {
            known.insert(rule)
            descriptions.append(RuleDescription(id: rule, title: rule, rationale: ""))
        }
        return descriptions
    }

    /// An id attribute value: rule ids are code-defined, but keep it to safe characters anyway.
    static func anchor(_ id: String) -> String {
        "rule-"
            + String(
                id.unicodeScalars.map { scalar -> Character in
                    scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "-")
                        ? Character(scalar) : "_"
                })
    }

    /// "94 findings on 71 of 300 computer accounts: 3 high, 91 low.", then what the export could not
    /// tell (attributes it lacks, deleted objects that could not be seen).
    static func verdict(_ summary: AuditSummary) -> String {
        let computers = "\(summary.computers) computer account\(summary.computers == 1 ? "" : "s")"
        let total = summary.totalFindings
        var text: String
        if total == 0 {
            text = "No findings in \(computers)."
        } else {
            var on = ["\(summary.computersWithFindings) of \(computers)"]
            let others = summary.otherAccountsWithFindings
            if others > 0 { on.append("\(others) other account\(others == 1 ? "" : "s")") }
            let names = summary.findingsWithoutAccount
            if names > 0 { on.append("\(names) inventory name\(names == 1 ? "" : "s") without an account") }
            let listed = on.count == 1 ? on[0] : on.dropLast().joined(separator: ", ") + " and " + on.last!
            let parts = summary.severityCounts
            text = "\(total) finding\(total == 1 ? "" : "s") on \(listed): \(parts.joined(separator: ", "))."
        }
        if let unjudged = notInExport(summary) { text += " " + unjudged }
        if case .notVisible = summary.deletedObjects {
            text += " Deleted objects were asked for but are not visible with these credentials, so none are reported."
        }
        return text
    }

    /// The report's "Deleted objects" row: whether they were read, what was found, and the Recycle
    /// Bin when a live read could tell; "not visible" is never "none".
    static func deletedObjectsText(_ summary: AuditSummary) -> String {
        let counts =
            "\(summary.deletedComputers) deleted computer\(summary.deletedComputers == 1 ? "" : "s"), "
            + "\(summary.conflictComputers) conflict object\(summary.conflictComputers == 1 ? "" : "s")"
        switch summary.deletedObjects {
        case .notRequested:
            return "not read (neither asked for nor in the export); \(summary.conflictComputers) conflict object"
                + (summary.conflictComputers == 1 ? "" : "s")
        case .visible(let recycleBin):
            let bin =
                switch recycleBin {
                case true?: "; the Recycle Bin is enabled"
                case false?: "; the Recycle Bin is not enabled"
                case nil: ""
                }
            return "read: " + counts + bin
        case .notVisible(let reason):
            return
                "asked for but not visible (\(reason)); none can be reported; \(summary.conflictComputers) conflict object"
                + (summary.conflictComputers == 1 ? "" : "s")
        }
    }

    /// What the export lacks for every computer and which rules therefore could not judge how many
    /// accounts ("The export has no pwdLastSet for any computer: stale-password could not judge 300
    /// computer accounts."); nil for a complete export.
    public static func notInExport(_ summary: AuditSummary) -> String? {
        guard !summary.attributesNotInExport.isEmpty else { return nil }
        var text = "The export has no \(summary.attributesNotInExport.joined(separator: ", ")) for any computer"
        if summary.unjudged.isEmpty { return text + "." }
        let rules = summary.unjudged.map {
            "\($0.rule) could not judge \($0.accounts) computer account\($0.accounts == 1 ? "" : "s")"
        }
        text += ": " + rules.joined(separator: "; ") + "."
        return text
    }

    static func describeSkew(_ seconds: Double) -> String {
        let magnitude = String(format: "%.1f", abs(seconds))
        if abs(seconds) < 0.05 { return "none measured (0.0 s)" }
        let direction = seconds > 0 ? "the domain controller is ahead" : "the domain controller is behind"
        let warning = abs(seconds) > AuditContext.clockToleranceSeconds ? "; Kerberos fails beyond 5 minutes" : ""
        return "\(magnitude) s: \(direction)\(warning)"
    }

    /// Dark text on a light tint: at least 7:1 contrast, and readable when printed in grey.
    /// Inline because Outlook drops classes in some views.
    static func badgeStyle(_ severity: Severity) -> String {
        let (background, foreground): (String, String)
        switch severity {
        case .critical: (background, foreground) = ("#fde2e1", "#7f1d1d")
        case .high: (background, foreground) = ("#ffedd5", "#7c2d12")
        case .medium: (background, foreground) = ("#fef9c3", "#713f12")
        case .low: (background, foreground) = ("#e0f2fe", "#0c4a6e")
        case .info: (background, foreground) = ("#f1f5f9", "#334155")
        }
        return "background-color:\(background);color:\(foreground);padding:1px 6px;font-weight:bold;white-space:nowrap"
    }

    private static func ages(_ histogram: AgeHistogram, title: String, threshold: Int, thresholdLabel: String)
        -> TemplateValue
    {
        var buckets: [TemplateValue] = histogram.counts.enumerated().map { index, count in
            ["label": .string(AgeHistogram.label(ofBucket: index)), "count": .number(count)]
        }
        buckets.append(["label": "never", "count": .number(histogram.never)])
        buckets.append(["label": "future", "count": .number(histogram.future)])
        // Shown only when there is one: a negative timestamp is damage, not a category every domain has.
        if histogram.notATime > 0 { buckets.append(["label": "not a time", "count": .number(histogram.notATime)]) }
        if histogram.notInExport > 0 {
            buckets.append(["label": "not in the export", "count": .number(histogram.notInExport)])
        }
        return [
            "chart": .html(
                SVGChart.histogram(
                    title: title, histogram: histogram, thresholdDays: threshold, thresholdLabel: thresholdLabel)),
            "buckets": .list(buckets),
        ]
    }
}
