import Audit
import Directory
import Foundation

/// `findings.json`: the machine-readable report, for scripts, SIEMs and comparing two runs.
///
/// Keys always appear in the order below and every key is always present (null when unknown), so a
/// consumer needs no existence checks and two runs diff line by line. Each finding is one line.
/// `schemaVersion` changes only when a key is removed or changes meaning; added keys keep it, which
/// is why the comparison with a baseline (`baseline`, `summary.changes`, `change`, `resolved`) kept 1.
///
/// ```
/// {
///   "schemaVersion": 1,
///   "generatedAt": "2026-11-24T00:00:00Z",        // UTC, the moment ages were computed from
///   "source": "corp.ldif",                         // the LDIF file or ldaps:// URL audited
///   "domain": "corp.example",                      // or null when no computer was seen
///   "baseline": {"generatedAt": "2026-11-23T00:00:00Z", "source": "Reports/findings.json"},
///                                                  // the run compared with (its generatedAt and the
///                                                  // findings.json read); null on a first run
///   "summary": {
///     "objectsRead": 0, "computers": 0, "enabledComputers": 0, "disabledComputers": 0,
///     "domainControllers": 0, "groupManagedServiceAccounts": 0, "managedServiceAccounts": 0,
///     "otherSPNHolders": 0, "excludedComputers": 0, "inventoryNames": 0,
///     "stalePasswordDays": 60,
///     "clockSkewSeconds": 1.5,                      // DC minus audit host; null unless audited live
///     "findings": 0,                                // total
///     "computersWithFindings": 0, "otherAccountsWithFindings": 0,   // distinct accounts, by DN
///     "findingsWithoutAccount": 0,                  // inventory names without an account
///     "clusterNameObjects": 0,                      // failover cluster name objects (CNO/VCO) among computers
///     "deletedComputers": 0, "conflictComputers": 0,  // read, never audited as live accounts
///     "deletedObjects": {"status": "not-requested"},  // or "visible" with "recycleBin": true/false/null,
///                                                  // or "not-visible" with "reason": "..."
///     "attributesNotInExport": ["pwdLastSet"],     // what no computer in the export carried
///     "unjudged": [{"rule": "stale-password", "missingAttributes": ["pwdLastSet"], "accounts": 300}],
///     "bySeverity": {"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0},   // all five, always
///     "byRule": {"disabled-account": 0, ...},       // every rule in report order, zeros included
///     "passwordAgeDays": {"buckets": [{"label": "0-29", "count": 0}, ...], "never": 0, "future": 0, "notATime": 0, "notInExport": 0},
///     "lastLogonAgeDays": {same shape},
///     "changes": {"new": 0, "persisting": 0, "resolved": 0}   // null without a baseline
///   },
///   "findings": [
///     {"rule": "stale-password", "severity": "high", "account": "WKS-0042$",
///      "dn": "CN=WKS-0042,OU=Workstations,DC=corp,DC=example",    // null for missing-account
///      "message": "...", "remediation": "one command per line\n...",
///      "details": {"story": "alive-not-rotating", "passwordAgeDays": 97, "missingSPNs": ["HOST/WKS-0042"]},
///      "change": "new"}                            // "new" or "persisting"; null without a baseline
///   ],
///   "resolved": [                                  // baseline findings no longer reported; null without a baseline
///     {"rule": "disabled-account", "severity": "medium", "account": "WKS-0007$", "dn": "CN=...",
///      "message": "..."}                           // severity and message as the baseline run wrote them
///   ]
/// }
/// ```
/// A finding is the same across runs when its rule, account (case-insensitively), DN and the detail
/// its rule names as its identity (`Rule.identity`: the SPN for duplicate-spn) match
/// (`FindingIdentity`); the message and severity may differ. `details` values are strings,
/// integers, booleans, arrays of strings or null, in the rule's order; their keys and types per rule
/// are the rule's `detailColumns`.
public enum FindingsJSON {
    public static let schemaVersion = 1

    public static func write(_ result: AuditResult, changes: FindingChanges? = nil, to output: ReportOutput) throws {
        let json = JSONWriter(output: output)
        let summary = result.summary
        try json.beginObject()
        try json.field("schemaVersion", schemaVersion)
        try json.field("generatedAt", timestamp(summary.generatedAt))
        try json.field("source", summary.source)
        try json.field("domain", summary.domain)
        try json.key("baseline")
        if let changes {
            try json.beginObject(inline: true)
            try json.field("generatedAt", changes.baselineGeneratedAt)
            try json.field("source", changes.baselineSource)
            try json.endObject()
        } else {
            try json.null()
        }

        try json.key("summary")
        try json.beginObject()
        try json.field("objectsRead", summary.objectsRead)
        try json.field("computers", summary.computers)
        try json.field("enabledComputers", summary.enabledComputers)
        try json.field("disabledComputers", summary.disabledComputers)
        try json.field("domainControllers", summary.domainControllers)
        try json.field("groupManagedServiceAccounts", summary.groupManagedServiceAccounts)
        try json.field("managedServiceAccounts", summary.managedServiceAccounts)
        try json.field("otherSPNHolders", summary.otherSPNHolders)
        try json.field("excludedComputers", summary.excludedComputers)
        try json.field("inventoryNames", summary.inventoryNames)
        try json.field("stalePasswordDays", summary.stalePasswordDays)
        try json.key("clockSkewSeconds")
        try json.value(summary.clockSkewSeconds)
        try json.field("findings", summary.totalFindings)
        try json.field("computersWithFindings", summary.computersWithFindings)
        try json.field("otherAccountsWithFindings", summary.otherAccountsWithFindings)
        try json.field("findingsWithoutAccount", summary.findingsWithoutAccount)
        try json.field("clusterNameObjects", summary.clusterNameObjects)
        try json.field("deletedComputers", summary.deletedComputers)
        try json.field("conflictComputers", summary.conflictComputers)
        try json.key("deletedObjects")
        try json.beginObject(inline: true)
        switch summary.deletedObjects {
        case .notRequested:
            try json.field("status", "not-requested")
        case .visible(let recycleBin):
            try json.field("status", "visible")
            try json.key("recycleBin")
            if let recycleBin { try json.value(recycleBin) } else { try json.null() }
        case .notVisible(let reason):
            try json.field("status", "not-visible")
            try json.field("reason", reason)
        }
        try json.endObject()
        if !summary.domainControllerReadings.isEmpty {
            try writeDomainControllers(DomainControllerSummary.summaries(summary.domainControllerReadings), to: json)
        }
        try json.key("attributesNotInExport")
        try json.beginArray(inline: true)
        for attribute in summary.attributesNotInExport { try json.value(attribute) }
        try json.endArray()
        try json.key("unjudged")
        try json.beginArray()
        for entry in summary.unjudged {
            try json.beginObject(inline: true)
            try json.field("rule", entry.rule)
            try json.key("missingAttributes")
            try json.beginArray(inline: true)
            for attribute in entry.missingAttributes { try json.value(attribute) }
            try json.endArray()
            try json.field("accounts", entry.accounts)
            try json.endObject()
        }
        try json.endArray()
        try json.key("bySeverity")
        try json.beginObject(inline: true)
        for severity in Severity.allCases.reversed() {
            try json.field(severity.rawValue, summary.findingsBySeverity[severity] ?? 0)
        }
        try json.endObject()
        try json.key("byRule")
        try json.beginObject()
        for (rule, count) in ruleCounts(summary, rules: result.registry) {
            try json.field(rule, count)
        }
        try json.endObject()
        try json.key("passwordAgeDays")
        try write(summary.passwordAge, to: json)
        try json.key("lastLogonAgeDays")
        try write(summary.lastLogonAge, to: json)
        try json.key("changes")
        if let changes {
            try json.beginObject(inline: true)
            try json.field("new", changes.newCount)
            try json.field("persisting", changes.persistingCount)
            try json.field("resolved", changes.resolved.count)
            try json.endObject()
        } else {
            try json.null()
        }
        try json.endObject()

        try json.key("findings")
        try json.beginArray()
        for (index, finding) in result.findingStore.enumerated() {
            try write(finding, change: changes?.change(at: index), to: json)
        }
        try json.endArray()
        try json.key("resolved")
        if let changes {
            try json.beginArray()
            for finding in changes.resolved {
                try json.beginObject(inline: true)
                try writeWhatAndWho(
                    finding.rule, finding.severity, finding.account, finding.distinguishedName, finding.message,
                    to: json)
                try json.endObject()
            }
            try json.endArray()
        } else {
            try json.null()
        }
        try json.endObject()
    }

    /// Every rule of `rules` in report order (zeros included, so a rule that stopped firing still
    /// shows), then any other rule id that produced findings, by name.
    static func ruleCounts(_ summary: AuditSummary, rules: [any Rule.Type] = AuditRules.all) -> [(
        rule: String, count: Int
    )] {
        let ids = rules.map { $0.description.id }
        var counts = ids.map { (rule: $0, count: summary.findingsByRule[$0] ?? 0) }
        let others = summary.findingsByRule.keys.filter { !ids.contains($0) }.sorted()
        counts += others.map { (rule: $0, count: summary.findingsByRule[$0] ?? 0) }
        return counts
    }

    private static func write(_ histogram: AgeHistogram, to json: JSONWriter) throws {
        try json.beginObject(inline: true)
        try json.key("buckets")
        try json.beginArray()
        for (index, count) in histogram.counts.enumerated() {
            try json.beginObject()
            try json.field("label", AgeHistogram.label(ofBucket: index))
            try json.field("count", count)
            try json.endObject()
        }
        try json.endArray()
        try json.field("never", histogram.never)
        try json.field("future", histogram.future)
        try json.field("notATime", histogram.notATime)
        try json.field("notInExport", histogram.notInExport)
        try json.endObject()
    }

    /// The fields a resolved finding keeps, and every finding starts with.
    private static func writeWhatAndWho(
        _ rule: String, _ severity: Severity, _ account: String, _ distinguishedName: String?, _ message: String,
        to json: JSONWriter
    ) throws {
        try json.field("rule", rule)
        try json.field("severity", severity.rawValue)
        try json.field("account", account)
        try json.field("dn", distinguishedName)
        try json.field("message", message)
    }

    private static func write(_ finding: Finding, change: FindingChange?, to json: JSONWriter) throws {
        try json.beginObject(inline: true)
        try writeWhatAndWho(
            finding.rule, finding.severity, finding.account, finding.distinguishedName, finding.message, to: json)
        try json.field("remediation", finding.remediation)
        try json.key("details")
        try json.beginObject()
        // A repeated key would make the object ambiguous (parsers keep either one); the first wins.
        var seen = Set<String>()
        for (key, value) in finding.details where seen.insert(key).inserted {
            try json.key(key)
            switch value {
            case .string(let text): try json.value(text)
            case .integer(let number): try json.value(number)
            case .bool(let flag): try json.value(flag)
            case .null: try json.null()
            case .strings(let list):
                try json.beginArray()
                for item in list { try json.value(item) }
                try json.endArray()
            }
        }
        try json.endObject()
        try json.field("change", change?.rawValue)
        try json.endObject()
    }

    /// `2026-11-24T00:00:00Z`: UTC to the second, the form `--now` accepts back.
    /// Whole seconds, rounded down, as the history file names are.
    static func timestamp(_ date: Date) -> String { UTCTime.timestamp(date) }

    /// `"domainControllersRead"`: a multi-DC audit's DCs, each with its roles, whether it answered,
    /// its clock offset and its inbound partners (only in a multi-DC audit's summary).
    private static func writeDomainControllers(_ summaries: [DomainControllerSummary], to json: JSONWriter) throws {
        try json.key("domainControllersRead")
        try json.beginArray()
        for dc in summaries {
            try json.beginObject()
            try json.field("hostName", dc.hostName)
            try json.field("site", dc.site)
            try json.key("globalCatalog")
            try json.value(dc.isGlobalCatalog)
            try json.key("readOnly")
            try json.value(dc.isReadOnly)
            try json.key("pdcEmulator")
            try json.value(dc.isPDCEmulator)
            try json.key("inboundReplicationDisabled")
            try json.value(dc.inboundDisabled)
            try json.key("outboundReplicationDisabled")
            try json.value(dc.outboundDisabled)
            try json.field("status", dc.failure == nil ? "answered" : "not-read")
            if let failure = dc.failure { try json.field("reason", failure) }
            try json.key("clockOffsetSeconds")
            try json.value(dc.clockOffsetSeconds)
            try json.key("inboundPartners")
            try json.beginArray()
            for partner in dc.partners {
                try json.beginObject(inline: true)
                try json.field("partner", partner.name)
                try json.field(
                    "lastSuccess", partner.lastSuccess.isNever ? nil : AuditContext.timestamp(partner.lastSuccess))
                try json.field(
                    "lastAttempt", partner.lastAttempt.isNever ? nil : AuditContext.timestamp(partner.lastAttempt))
                try json.field("consecutiveFailures", partner.consecutiveFailures)
                try json.field("lastResult", Int(partner.lastResult.signedCode))
                try json.field("lastResultName", partner.lastResult.name)
                try json.endObject()
            }
            try json.endArray()
            try json.endObject()
        }
        try json.endArray()
    }
}
