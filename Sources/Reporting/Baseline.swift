import Audit
import Foundation
import UntrustedInput

/// Who a finding is about, stable from one run to the next, so two runs can be compared.
///
/// The rule, the lower-cased account, the lower-cased DN, and for rules that can report one account
/// several times the detail that tells those findings apart, as the rule declares it
/// (`Rule.identity`: the SPN for duplicate-spn). Not the
/// message or the severity: ages in messages change every day, and a stale password that moved from
/// "alive-not-rotating" to "dormant" is still the same unsolved problem.
public struct FindingIdentity: Hashable, Sendable {
    public let rule: String
    public let account: String
    public let distinguishedName: String
    public let distinguishingDetail: String

    /// The detail key that separates several findings of one rule for one account, by rule id, as
    /// the rules in `rules` declare it (`Rule.identity`); rules not listed report an account at most once.
    public static func distinguishingDetails(_ rules: [any Rule.Type] = AuditRules.all) -> [String: String] {
        var keys: [String: String] = [:]
        for rule in rules {
            if let identity = rule.identity, keys[rule.description.id] == nil {
                keys[rule.description.id] = identity.key
            }
        }
        return keys
    }

    /// The distinguishing details of `AuditRules.all`.
    static let builtInDistinguishingDetails = distinguishingDetails()

    public init(rule: String, account: String, distinguishedName: String?, distinguishingDetail: String?) {
        self.rule = rule
        self.account = account.lowercased()
        self.distinguishedName = (distinguishedName ?? "").lowercased()
        // SPNs compare case-insensitively in AD, and which holder's spelling is reported can change.
        self.distinguishingDetail = (distinguishingDetail ?? "").lowercased()
    }

    public init(_ finding: Finding) {
        self.init(finding, distinguishingDetails: Self.builtInDistinguishingDetails)
    }

    /// The identity of `finding` with the distinguishing details of `distinguishingDetails(_:)`.
    public init(_ finding: Finding, distinguishingDetails: [String: String]) {
        var detail: String?
        if let key = distinguishingDetails[finding.rule], let value = finding.detail(key) {
            detail = FindingsCSV.text(value)
        }
        self.init(
            rule: finding.rule, account: finding.account, distinguishedName: finding.distinguishedName,
            distinguishingDetail: detail)
    }
}

/// Whether a finding was already there in the baseline run.
public enum FindingChange: String, Sendable {
    case new
    case persisting
}

/// A finding of the baseline run that this run no longer reports: fixed, or the account is gone.
public struct ResolvedFinding: Sendable, Equatable {
    public var rule: String
    /// The severity it had in the baseline run.
    public var severity: Severity
    public var account: String
    public var distinguishedName: String?
    /// The message as the baseline run wrote it.
    public var message: String

    public init(rule: String, severity: Severity, account: String, distinguishedName: String?, message: String) {
        self.rule = rule
        self.severity = severity
        self.account = account
        self.distinguishedName = distinguishedName
        self.message = message
    }
}

/// The findings of a previous run, read from its `findings.json`, to tell new findings from old ones.
public struct Baseline: Sendable {
    /// The previous run's `generatedAt`, as it wrote it.
    public let generatedAt: String
    /// The baseline file, as its path was given.
    public let source: String
    /// In the order the file lists them (report order).
    public let findings: [ResolvedFinding]
    let identities: [FindingIdentity]

    public init(generatedAt: String, source: String, findings: [(finding: ResolvedFinding, identity: FindingIdentity)])
    {
        self.generatedAt = generatedAt
        self.source = source
        self.findings = findings.map(\.finding)
        identities = findings.map(\.identity)
    }

    /// The largest findings.json read as a baseline: far beyond a million findings (about 1 GiB).
    public static let maximumFileBytes = 8 << 30

    /// Reads a TrustAudit `findings.json` (schemaVersion 1).
    ///
    /// Large files are read line by line in the layout TrustAudit writes (one finding per line), with
    /// the file memory-mapped, so a baseline of a million findings does not go through one giant
    /// JSON tree; any other valid layout (pretty-printed by jq, minified) is parsed as a whole.
    ///
    /// `rules` says which detail identifies a finding of each rule (pass the registry the audit runs).
    public static func load(from path: String, rules: [any Rule.Type] = AuditRules.all) throws -> Baseline {
        guard FileManager.default.fileExists(atPath: path) else {
            throw BaselineError(
                code: .missing, path: path,
                reason: "no such file; name a findings.json written by TrustAudit as the baseline")
        }
        // Only a regular file: a FIFO or a device named as the baseline would block or never end.
        do {
            try InputFile.validate(path, kind: "baseline", limit: Self.maximumFileBytes)
        } catch {
            throw BaselineError(code: .unreadable, path: path, reason: error.reason)
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw BaselineError(
                code: .unreadable, path: path,
                reason: "cannot read the file (\(error.localizedDescription)); check its permissions")
        }
        return try parse(data, source: path, rules: rules)
    }

    /// Parses the text of a `findings.json`; `source` names it in errors and in the reports.
    public static func parse(_ data: Data, source: String, rules: [any Rule.Type] = AuditRules.all) throws -> Baseline {
        let keys = FindingIdentity.distinguishingDetails(rules)
        if let baseline = try parseLines(data, source: source, keys: keys) { return baseline }
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw BaselineError(
                code: .notFindingsJSON, path: source,
                reason: "not valid JSON, so not a findings.json written by TrustAudit")
        }
        guard let object = root as? [String: Any] else {
            throw BaselineError(
                code: .notFindingsJSON, path: source,
                reason: "the top level is not an object, so this is not a TrustAudit findings.json")
        }
        let generatedAt = try header(object, source: source)
        guard let list = object["findings"] as? [Any] else {
            throw BaselineError(
                code: .notFindingsJSON, path: source,
                reason: "has no \"findings\" array, so this is not a TrustAudit findings.json")
        }
        var findings: [(ResolvedFinding, FindingIdentity)] = []
        findings.reserveCapacity(list.count)
        for (index, item) in list.enumerated() {
            findings.append(try finding(item, index: index, source: source, keys: keys))
        }
        return Baseline(generatedAt: generatedAt, source: source, findings: findings)
    }

    /// The fast path for the layout FindingsJSON writes; nil when the file is laid out otherwise.
    private static func parseLines(_ data: Data, source: String, keys: [String: String]) throws -> Baseline? {
        var header: [String: Any] = [:]
        var findings: [(ResolvedFinding, FindingIdentity)] = []
        var inFindings = false
        var findingsClosed = false
        var sawOpen = false
        var closed = false
        var index = 0
        let ok = try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> Bool in
            let bytes = buffer.bindMemory(to: UInt8.self)
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count && bytes[end] != 0x0A { end += 1 }
                var line = bytes[start..<end]
                start = end + 1
                if line.last == UInt8(ascii: ",") { line = line.dropLast() }
                if closed { if line.isEmpty { continue } else { return false } }
                if !sawOpen {
                    guard line.elementsEqual("{".utf8) else { return false }
                    sawOpen = true
                    continue
                }
                if inFindings {
                    if line.elementsEqual("  ]".utf8) {
                        inFindings = false
                        findingsClosed = true
                        continue
                    }
                    guard line.starts(with: "    {".utf8),
                        let item = try? JSONSerialization.jsonObject(with: Data(line))
                    else { return false }
                    findings.append(try finding(item, index: index, source: source, keys: keys))
                    index += 1
                    continue
                }
                if line.elementsEqual("}".utf8) {
                    closed = true
                    continue
                }
                // A top-level key at two spaces; nested lines (the summary) start deeper.
                guard line.starts(with: "  \"".utf8) else { continue }
                if line.elementsEqual("  \"findings\": [".utf8) {
                    guard !findingsClosed else { return false }
                    inFindings = true
                    continue
                }
                if line.elementsEqual("  \"findings\": []".utf8) {
                    findingsClosed = true
                    continue
                }
                // A scalar or one-line value: parse it wrapped in braces; anything opening a block is skipped.
                if let last = line.last, last == UInt8(ascii: "{") || last == UInt8(ascii: "[") { continue }
                guard
                    let parsed = try? JSONSerialization.jsonObject(
                        with: Data([UInt8(ascii: "{")] + line + [UInt8(ascii: "}")])) as? [String: Any]
                else {
                    return false
                }
                header.merge(parsed) { first, _ in first }
            }
            return closed && findingsClosed
        }
        guard ok else { return nil }
        let generatedAt = try Self.header(header, source: source)
        return Baseline(generatedAt: generatedAt, source: source, findings: findings)
    }

    private static func header(_ object: [String: Any], source: String) throws -> String {
        guard let version = object["schemaVersion"] as? Int, let generatedAt = object["generatedAt"] as? String else {
            throw BaselineError(
                code: .notFindingsJSON, path: source,
                reason: "has no \"schemaVersion\" and \"generatedAt\", so this is not a TrustAudit findings.json")
        }
        guard version >= 1 && version <= FindingsJSON.schemaVersion else {
            throw BaselineError(
                code: .unsupportedSchemaVersion, path: source,
                reason:
                    "schemaVersion \(version) is not one this TrustAudit reads (1 to \(FindingsJSON.schemaVersion)); compare with a report written by this version"
            )
        }
        return generatedAt
    }

    private static func finding(_ item: Any, index: Int, source: String, keys: [String: String]) throws -> (
        ResolvedFinding, FindingIdentity
    ) {
        guard let object = item as? [String: Any], let rule = object["rule"] as? String,
            let account = object["account"] as? String,
            let severityText = object["severity"] as? String, let severity = Severity(rawValue: severityText)
        else {
            throw BaselineError(
                code: .notFindingsJSON, path: source,
                reason:
                    "finding \(index + 1) has no rule, account and severity, so this is not a TrustAudit findings.json")
        }
        let dn = object["dn"] as? String
        let message = object["message"] as? String ?? ""
        var detail: String?
        if let key = keys[rule], let details = object["details"] as? [String: Any] {
            detail = details[key] as? String
        }
        return (
            ResolvedFinding(rule: rule, severity: severity, account: account, distinguishedName: dn, message: message),
            FindingIdentity(rule: rule, account: account, distinguishedName: dn, distinguishingDetail: detail)
        )
    }
}

/// What changed between a baseline run and this one; handed to every renderer beside the result.
public struct FindingChanges: Sendable {
    /// The baseline's `generatedAt` and file, for "compared with" lines.
    public let baselineGeneratedAt: String
    public let baselineSource: String
    /// One entry per finding of the result, in the same order.
    public let changes: [FindingChange]
    /// Baseline findings this run no longer reports, in the baseline's order.
    public let resolved: [ResolvedFinding]
    public let newCount: Int
    public let persistingCount: Int

    /// Compares `result` with `baseline`.
    public init(result: AuditResult, baseline: Baseline) {
        let before = Set(baseline.identities)
        var now = Set<FindingIdentity>()
        now.reserveCapacity(result.findingStore.count)
        var changes: [FindingChange] = []
        changes.reserveCapacity(result.findingStore.count)
        var newCount = 0
        let keys = FindingIdentity.distinguishingDetails(result.registry)
        for finding in result.findingStore {
            let identity = FindingIdentity(finding, distinguishingDetails: keys)
            now.insert(identity)
            if before.contains(identity) {
                changes.append(.persisting)
            } else {
                changes.append(.new)
                newCount += 1
            }
        }
        var resolved: [ResolvedFinding] = []
        var reported = Set<FindingIdentity>()
        for (finding, identity) in zip(baseline.findings, baseline.identities) where !now.contains(identity) {
            if reported.insert(identity).inserted { resolved.append(finding) }
        }
        baselineGeneratedAt = baseline.generatedAt
        baselineSource = baseline.source
        self.changes = changes
        self.resolved = resolved
        self.newCount = newCount
        persistingCount = changes.count - newCount
    }

    /// The change of the finding at `index` of the result, nil when out of range.
    public func change(at index: Int) -> FindingChange? {
        changes.indices.contains(index) ? changes[index] : nil
    }
}

/// A baseline that cannot be used, with the file and what to do. Equality compares the code only.
public struct BaselineError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The file does not exist (an error only when the baseline was named explicitly).
        case missing
        /// The file exists but cannot be read.
        case unreadable
        /// The file is not JSON, or not the shape of a TrustAudit findings.json.
        case notFindingsJSON = "not-findings-json"
        /// Written by a TrustAudit with a schema this one does not know.
        case unsupportedSchemaVersion = "unsupported-schema-version"
    }

    public let code: Code
    public let path: String
    public let reason: String

    public init(code: Code, path: String, reason: String) {
        self.code = code
        self.path = path
        self.reason = reason
    }

    public var description: String { "baseline \(path): \(reason)" }

    public static func == (lhs: BaselineError, rhs: BaselineError) -> Bool { lhs.code == rhs.code }
}
