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

    /// The keys of every identity's fingerprint, one per process, so a baseline's and a run's compare.
    private static let fingerprintSeeds = Fingerprint.Seeds()

    /// What a baseline keeps of a finding instead of the identity's four Strings.
    var fingerprint: Fingerprint {
        Fingerprint([rule, account, distinguishedName, distinguishingDetail], seeds: Self.fingerprintSeeds)
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
///
/// Of each previous finding only a fingerprint of its identity and the place of its line are held:
/// a nightly run against a million previous findings would otherwise hold them all as Strings
/// through the whole audit, for the few it lists as resolved. Those few are read again from the
/// file, which stays open; this run's reports replace it by rename, so the old text stays readable.
public struct Baseline: Sendable {
    /// The previous run's `generatedAt`, as it wrote it.
    public let generatedAt: String
    /// The baseline file, as its path was given.
    public let source: String
    /// In the order the file lists them (report order).
    public let findings: BaselineFindings
    /// `FindingIdentity.fingerprint` of each of `findings`, in the same order.
    let identities: [Fingerprint]

    public init(generatedAt: String, source: String, findings: [(finding: ResolvedFinding, identity: FindingIdentity)])
    {
        self.init(
            generatedAt: generatedAt, source: source, findings: BaselineFindings(findings.map(\.finding)),
            identities: findings.map(\.identity.fingerprint))
    }

    init(generatedAt: String, source: String, findings: BaselineFindings, identities: [Fingerprint]) {
        self.generatedAt = generatedAt
        self.source = source
        self.findings = findings
        self.identities = identities
    }

    /// The largest findings.json read as a baseline: far beyond a million findings (about 1 GiB).
    public static let maximumFileBytes = 8 << 30

    /// Reads a TrustAudit `findings.json` (schemaVersion 1).
    ///
    /// The layout TrustAudit writes (one finding per line) is read line by line through a small
    /// buffer, so a baseline of a million findings is never in memory whole; any other valid layout
    /// (pretty-printed by jq, minified) is parsed as a whole.
    ///
    /// `rules` says which detail identifies a finding of each rule (pass the registry the audit runs).
    public static func load(from path: String, rules: [any Rule.Type] = AuditRules.all) throws -> Baseline {
        let text = try open(path)
        let keys = FindingIdentity.distinguishingDetails(rules)
        if let baseline = try parseLines(text, keys: keys) { return baseline }
        return try parseWhole(try text.readAll(), source: path, keys: keys)
    }

    /// Whether `path` is a findings.json this version can compare with, read only up to its
    /// findings in TrustAudit's own layout (any other layout is read whole), with the errors
    /// `load(from:rules:)` would give: checked before a long audit, read after it.
    public static func check(_ path: String) throws {
        let text = try open(path)
        if try parseLines(text, keys: [:], headerOnly: true) != nil { return }
        _ = try parseWhole(try text.readAll(), source: path, keys: [:])
    }

    private static func open(_ path: String) throws -> BaselineText {
        guard FileManager.default.fileExists(atPath: path) else {
            throw BaselineError(
                code: .missing, path: path,
                reason: "no such file; name a findings.json written by TrustAudit as the baseline")
        }
        // Only a regular file: a FIFO or a device named as the baseline would block or never end.
        let descriptor: Int32
        do {
            descriptor = try InputFile.open(path, kind: "baseline", limit: Self.maximumFileBytes)
        } catch {
            throw BaselineError(code: .unreadable, path: path, reason: error.reason)
        }
        return BaselineText(descriptor: descriptor, source: path)
    }

    /// Parses the text of a `findings.json`; `source` names it in errors and in the reports.
    public static func parse(_ data: Data, source: String, rules: [any Rule.Type] = AuditRules.all) throws -> Baseline {
        let keys = FindingIdentity.distinguishingDetails(rules)
        let text = BaselineText(data: data, source: source)
        if let baseline = try parseLines(text, keys: keys) { return baseline }
        return try parseWhole([UInt8](data), source: source, keys: keys)
    }

    /// Any layout of a findings.json, parsed as one JSON document; every finding is held.
    private static func parseWhole(_ bytes: [UInt8], source: String, keys: [String: String]) throws -> Baseline {
        let root: JSONValue
        do {
            root = try StrictJSON.parse(bytes)
        } catch {
            throw BaselineError(
                code: .notFindingsJSON, path: source,
                reason: "not valid JSON (\(error)), so not a findings.json written by TrustAudit")
        }
        guard case .object(let members) = root else {
            throw BaselineError(
                code: .notFindingsJSON, path: source,
                reason: "the top level is not an object, so this is not a TrustAudit findings.json")
        }
        let generatedAt = try header(Dictionary(members, uniquingKeysWith: { first, _ in first }), source: source)
        guard case .array(let list)? = root["findings"] else {
            throw BaselineError(
                code: .notFindingsJSON, path: source,
                reason: "has no \"findings\" array, so this is not a TrustAudit findings.json")
        }
        var findings: [ResolvedFinding] = []
        var identities: [Fingerprint] = []
        findings.reserveCapacity(list.count)
        identities.reserveCapacity(list.count)
        for (index, item) in list.enumerated() {
            let (finding, identity) = try finding(item, index: index, source: source, keys: keys)
            findings.append(finding)
            identities.append(identity.fingerprint)
        }
        return Baseline(
            generatedAt: generatedAt, source: source, findings: BaselineFindings(findings), identities: identities)
    }

    /// The fast path for the layout FindingsJSON writes; nil when the file is laid out otherwise.
    /// `headerOnly` stops where the findings begin, with none read.
    private static func parseLines(_ text: BaselineText, keys: [String: String], headerOnly: Bool = false) throws
        -> Baseline?
    {
        var header: [String: JSONValue] = [:]
        var identities: [Fingerprint] = []
        var lines = BaselineText.Lines()
        var inFindings = false
        var findingsClosed = false
        var sawOpen = false
        var closed = false
        let ok = try text.forEachLine { (whole, offset) -> Bool in
            var line = whole
            if line.last == UInt8(ascii: ",") { line = UnsafeBufferPointer(rebasing: line.dropLast()) }
            if closed { return line.isEmpty }
            if !sawOpen {
                guard line.elementsEqual("{".utf8) else { return false }
                sawOpen = true
                return true
            }
            if inFindings {
                if line.elementsEqual("  ]".utf8) {
                    lines.end = offset
                    inFindings = false
                    findingsClosed = true
                    return true
                }
                guard line.starts(with: "    {".utf8), let item = try? StrictJSON.parse(Array(line)) else {
                    return false
                }
                let identity = try finding(item, index: identities.count, source: text.source, keys: keys).identity
                identities.append(identity.fingerprint)
                lines.starts.append(offset)
                return true
            }
            if line.elementsEqual("}".utf8) {
                closed = true
                return true
            }
            // A top-level key at two spaces; nested lines (the summary) start deeper.
            guard line.starts(with: "  \"".utf8) else { return true }
            if line.elementsEqual("  \"findings\": [".utf8) {
                guard !findingsClosed else { return false }
                if headerOnly {
                    // What follows is not read: taken as well-formed here, checked by `load`.
                    (findingsClosed, closed) = (true, true)
                    return false
                }
                inFindings = true
                return true
            }
            if line.elementsEqual("  \"findings\": []".utf8) {
                findingsClosed = true
                return true
            }
            // A scalar or one-line value: parse it wrapped in braces; anything opening a block is skipped.
            if let last = line.last, last == UInt8(ascii: "{") || last == UInt8(ascii: "[") { return true }
            guard case .object(let members)? = try? StrictJSON.parse([UInt8(ascii: "{")] + line + [UInt8(ascii: "}")])
            else { return false }
            for (key, value) in members where header[key] == nil { header[key] = value }
            return true
        }
        guard (ok || headerOnly) && closed && findingsClosed else { return nil }
        let generatedAt = try Self.header(header, source: text.source)
        // Held through the whole audit: without the up to half of each array that growing left
        // spare (about 25 MB for a million previous findings).
        identities = Array(identities[...])
        lines.starts = Array(lines.starts[...])
        return Baseline(
            generatedAt: generatedAt, source: text.source,
            findings: BaselineFindings(text: text, lines: lines, keys: keys), identities: identities)
    }

    private static func header(_ object: [String: JSONValue], source: String) throws -> String {
        guard let version = object["schemaVersion"]?.integer, let generatedAt = object["generatedAt"]?.string else {
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

    static func finding(_ item: JSONValue, index: Int, source: String, keys: [String: String]) throws -> (
        finding: ResolvedFinding, identity: FindingIdentity
    ) {
        guard let rule = item["rule"]?.string, let account = item["account"]?.string,
            let severityText = item["severity"]?.string, let severity = Severity(rawValue: severityText)
        else {
            throw BaselineError(
                code: .notFindingsJSON, path: source,
                reason:
                    "finding \(index + 1) has no rule, account and severity, so this is not a TrustAudit findings.json")
        }
        let dn = item["dn"]?.string
        let message = item["message"]?.string ?? ""
        let detail = keys[rule].flatMap { item["details"]?[$0]?.string }
        return (
            ResolvedFinding(rule: rule, severity: severity, account: account, distinguishedName: dn, message: message),
            FindingIdentity(rule: rule, account: account, distinguishedName: dn, distinguishingDetail: detail)
        )
    }
}

/// Findings of a baseline run, in its order. Those of a file in TrustAudit's one-per-line layout
/// are read from it again when asked for, so holding them costs eight bytes each.
public struct BaselineFindings: RandomAccessCollection, Sendable, Equatable, ExpressibleByArrayLiteral {
    private enum Storage: Sendable {
        case held([ResolvedFinding])
        /// The file's findings at `picked` (all of them when nil), by their index in the file.
        case lines(BaselineText, BaselineText.Lines, keys: [String: String], picked: [UInt32]?)
    }

    private let storage: Storage

    private init(storage: Storage) { self.storage = storage }

    public init(_ findings: [ResolvedFinding]) { storage = .held(findings) }

    public init(arrayLiteral findings: ResolvedFinding...) { self.init(findings) }

    init(text: BaselineText, lines: BaselineText.Lines, keys: [String: String]) {
        storage = .lines(text, lines, keys: keys, picked: nil)
    }

    public var startIndex: Int { 0 }

    public var endIndex: Int {
        switch storage {
        case .held(let findings): return findings.count
        case .lines(_, let lines, _, let picked): return picked?.count ?? lines.count
        }
    }

    public subscript(position: Int) -> ResolvedFinding {
        switch storage {
        case .held(let findings):
            return findings[position]
        case .lines(let text, let lines, let keys, let picked):
            let index = picked.map { Int($0[position]) } ?? position
            return text.finding(at: lines.span(index), index: index, keys: keys)
        }
    }

    /// The findings at `positions` (ascending), in that order.
    func picking(_ positions: [UInt32]) -> BaselineFindings {
        switch storage {
        case .held(let findings):
            return BaselineFindings(positions.map { findings[Int($0)] })
        case .lines(let text, let lines, let keys, let picked):
            let inFile = picked.map { picked in positions.map { picked[Int($0)] } } ?? positions
            return BaselineFindings(storage: .lines(text, lines, keys: keys, picked: inFile))
        }
    }

    public static func == (lhs: BaselineFindings, rhs: BaselineFindings) -> Bool { lhs.elementsEqual(rhs) }
}

/// The text of a baseline findings.json: the open file, or bytes given in memory.
final class BaselineText: Sendable {
    /// Where each finding's line starts. A line ends where the next one starts, the last where the
    /// findings array closes (`end`); its line feed and comma are dropped when it is read again.
    struct Lines: Sendable {
        var starts: [UInt64] = []
        var end: UInt64 = 0

        var count: Int { starts.count }

        func span(_ index: Int) -> (offset: UInt64, length: Int) {
            let next = index + 1 < starts.count ? starts[index + 1] : end
            return (starts[index], Int(next - starts[index]))
        }
    }

    private enum Bytes: Sendable {
        case file(Int32)
        case memory(Data)
    }

    private let bytes: Bytes
    let source: String

    /// Takes over `descriptor`, which is closed when the last finding that may be read from it is gone.
    init(descriptor: Int32, source: String) {
        bytes = .file(descriptor)
        self.source = source
    }

    init(data: Data, source: String) {
        bytes = .memory(data)
        self.source = source
    }

    deinit {
        if case .file(let descriptor) = bytes { close(descriptor) }
    }

    /// Calls `body` with each line (without its line feed) and its offset, until `body` returns false.
    /// Returns false if it did.
    func forEachLine(_ body: (UnsafeBufferPointer<UInt8>, UInt64) throws -> Bool) throws -> Bool {
        switch bytes {
        case .memory(let data):
            return try data.withUnsafeBytes { raw in
                try Self.lines(of: raw.bindMemory(to: UInt8.self), from: 0, final: true, body).keepGoing
            }
        case .file(let descriptor):
            // A window of the file; a line longer than the window grows it.
            var window = [UInt8](repeating: 0, count: 1 << 20)
            var filled = 0
            var windowOffset: UInt64 = 0
            while true {
                if filled == window.count { window += [UInt8](repeating: 0, count: window.count) }
                let count = window.withUnsafeMutableBytes { raw in
                    read(descriptor, raw.baseAddress! + filled, raw.count - filled)
                }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw BaselineError(
                        code: .unreadable, path: source,
                        reason: "cannot read the file (\(String(cString: strerror(errno)))); check the disk")
                }
                filled += count
                let atEnd = count == 0
                let (keepGoing, consumed) = try window.withUnsafeBufferPointer { buffer in
                    try Self.lines(
                        of: UnsafeBufferPointer(rebasing: buffer[0..<filled]), from: windowOffset, final: atEnd, body)
                }
                if !keepGoing { return false }
                if atEnd { return true }
                window.withUnsafeMutableBufferPointer { buffer in
                    _ = UnsafeMutableBufferPointer(rebasing: buffer[0..<(filled - consumed)])
                        .update(fromContentsOf: buffer[consumed..<filled])
                }
                filled -= consumed
                windowOffset += UInt64(consumed)
            }
        }
    }

    /// The complete lines of `buffer` (and the unterminated last one when `final`), and how many
    /// bytes they took.
    private static func lines(
        of buffer: UnsafeBufferPointer<UInt8>, from offset: UInt64, final: Bool,
        _ body: (UnsafeBufferPointer<UInt8>, UInt64) throws -> Bool
    ) throws -> (keepGoing: Bool, consumed: Int) {
        var start = 0
        while start < buffer.count {
            guard let end = buffer[start...].firstIndex(of: 0x0A) else {
                guard final else { break }
                let keepGoing = try body(UnsafeBufferPointer(rebasing: buffer[start...]), offset + UInt64(start))
                return (keepGoing, buffer.count)
            }
            guard try body(UnsafeBufferPointer(rebasing: buffer[start..<end]), offset + UInt64(start)) else {
                return (false, start)
            }
            start = end + 1
        }
        return (true, start)
    }

    /// The whole text, for the layouts read as one document.
    func readAll() throws -> [UInt8] {
        switch bytes {
        case .memory(let data):
            return [UInt8](data)
        case .file(let descriptor):
            do throws(InputFileError) {
                guard lseek(descriptor, 0, SEEK_SET) == 0 else {
                    throw InputFileError(
                        .unreadable, path: source, kind: "baseline", reason: String(cString: strerror(errno)))
                }
                return try InputFile.read(descriptor, path: source, kind: "baseline", limit: Baseline.maximumFileBytes)
            } catch {
                throw BaselineError(code: .unreadable, path: source, reason: error.reason)
            }
        }
    }

    /// The finding on `line`, read again; the `index`th of the file, for the message if it cannot be.
    func finding(at line: (offset: UInt64, length: Int), index: Int, keys: [String: String]) -> ResolvedFinding {
        var text = [UInt8](repeating: 0, count: line.length)
        var filled = 0
        switch bytes {
        case .memory(let data):
            text = [UInt8](data[(data.startIndex + Int(line.offset))...].prefix(line.length))
            filled = text.count
        case .file(let descriptor):
            while filled < text.count {
                let count = text.withUnsafeMutableBytes {
                    pread(descriptor, $0.baseAddress! + filled, $0.count - filled, off_t(line.offset) + off_t(filled))
                }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                filled += count
            }
        }
        let complete = filled == text.count
        if text.last == 0x0A { text.removeLast() }
        if text.last == UInt8(ascii: ",") { text.removeLast() }
        if complete, let item = try? StrictJSON.parse(text),
            let read = try? Baseline.finding(item, index: index, source: source, keys: keys)
        {
            return read.finding
        }
        // Only if the file was changed in place while this run read it.
        return ResolvedFinding(
            rule: "unknown", severity: .info, account: "", distinguishedName: nil,
            message:
                "Finding \(index + 1) of the baseline \(source) could not be read again: the file changed during this run."
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
    /// Baseline findings this run no longer reports, in the baseline's order, each identity once.
    public let resolved: BaselineFindings
    public let newCount: Int
    public let persistingCount: Int

    /// Compares `result` with `baseline`.
    public init(result: AuditResult, baseline: Baseline) {
        // The first baseline finding of each identity, and whether this run reports it again.
        let firstOfIdentity = FirstOfIdentity(baseline.identities)
        var reportedAgain = [UInt64](repeating: 0, count: (baseline.identities.count + 63) / 64)
        var changes: [FindingChange] = []
        changes.reserveCapacity(result.findingStore.count)
        var newCount = 0
        let keys = FindingIdentity.distinguishingDetails(result.registry)
        for finding in result.findingStore {
            if let first = firstOfIdentity.first(of: FindingIdentity(finding, distinguishingDetails: keys).fingerprint)
            {
                changes.append(.persisting)
                reportedAgain[Int(first) / 64] |= 1 << (first % 64)
            } else {
                changes.append(.new)
                newCount += 1
            }
        }
        var resolved: [UInt32] = []
        for (index, identity) in baseline.identities.enumerated()
        where reportedAgain[index / 64] & (1 << (index % 64)) == 0
            && firstOfIdentity.first(of: identity) == UInt32(index)
        {
            resolved.append(UInt32(index))
        }
        baselineGeneratedAt = baseline.generatedAt
        baselineSource = baseline.source
        self.changes = changes
        self.resolved = baseline.findings.picking(resolved)
        self.newCount = newCount
        persistingCount = changes.count - newCount
    }

    /// The change of the finding at `index` of the result, nil when out of range.
    public func change(at index: Int) -> FindingChange? {
        changes.indices.contains(index) ? changes[index] : nil
    }
}

/// The first of a baseline's findings with each identity, by fingerprint: open-addressed slots
/// holding positions into the baseline's fingerprints, 4 bytes a slot at most 2/3 full, where a
/// Dictionary of fingerprints took 20 bytes a slot (42 MB for a million previous findings).
struct FirstOfIdentity {
    private static let empty = UInt32.max
    private let identities: [Fingerprint]
    private var slots: [UInt32]

    init(_ identities: [Fingerprint]) {
        self.identities = identities
        slots = [UInt32](repeating: Self.empty, count: identities.count + identities.count / 2 + 16)
        for (index, identity) in identities.enumerated() {
            let slot = self.slot(of: identity)
            if slots[slot] == Self.empty { slots[slot] = UInt32(index) }
        }
    }

    /// The position of the first baseline finding with `identity`, nil when there is none.
    func first(of identity: Fingerprint) -> UInt32? {
        let position = slots[slot(of: identity)]
        return position == Self.empty ? nil : position
    }

    /// The slot holding `identity`'s first position, or the empty one where it goes (linear probing).
    private func slot(of identity: Fingerprint) -> Int {
        let capacity = slots.count
        let hash = UInt64(bitPattern: Int64(identity.hashValue))
        var slot = Int(truncatingIfNeeded: hash.multipliedFullWidth(by: UInt64(capacity)).high)
        while slots[slot] != Self.empty && identities[Int(slots[slot])] != identity {
            slot += 1
            if slot == capacity { slot = 0 }
        }
        return slot
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
