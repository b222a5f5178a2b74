import Audit
import Directory
import Foundation
import UntrustedInput

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Findings per night over the kept history (`--keep`), for the report's trend chart and table.
///
/// Built from the dated copies in `history/` (only their summaries: `bySeverity` and `byRule`,
/// which come before the findings, so a night of a million findings costs a few kilobytes) and the
/// run being reported, which is not in the history yet (it is kept once the reports are written).
public struct ReportTrend: Sendable, Equatable {
    /// One run: when it was generated and what it counted.
    public struct Night: Sendable, Equatable {
        /// As the run wrote it: `2026-11-24T00:00:00Z`.
        public var generatedAt: String
        public var bySeverity: [Severity: Int]
        /// Findings per rule id; rules a run did not know are absent (read as 0).
        public var byRule: [String: Int]

        public init(generatedAt: String, bySeverity: [Severity: Int], byRule: [String: Int]) {
            self.generatedAt = generatedAt
            self.bySeverity = bySeverity
            self.byRule = byRule
        }

        public var total: Int { bySeverity.values.reduce(0, +) }
    }

    /// A rule whose finding count grew between the first and the last night shown.
    public struct Mover: Sendable, Equatable {
        public var rule: String
        public var first: Int
        public var last: Int
        public var growth: Int { last - first }
    }

    /// Oldest first; the run being reported last.
    public let nights: [Night]
    /// History files that looked like dated copies but could not be read as a findings.json; the
    /// report says how many, so a gap in the chart is explained.
    public let unreadable: [String]

    /// The most rules listed as top movers.
    public static let maximumMovers = 5
    /// The largest summary read from a history copy before its findings begin.
    static let maximumSummaryBytes = 4 << 20
    /// Where the findings begin in a findings.json as `FindingsJSON` lays it out: the top-level key
    /// on a line of its own, after the summary.
    static let findingsMarker = Array("\n  \"findings\": ".utf8)

    public init(nights: [Night], unreadable: [String] = []) {
        self.nights = nights
        self.unreadable = unreadable
    }

    /// The rules that grew most from the first night shown to the last, largest growth first (then
    /// by id), at most `maximumMovers`; rules that shrank or stayed are not movers.
    ///
    /// First to last, not last to the night before: the change since the previous run is already
    /// the report's "N new, N resolved"; what the chart adds is the drift over the whole window,
    /// which a rule creeping up by one a night never shows night to night.
    public var movers: [Mover] {
        guard let first = nights.first, let last = nights.last, nights.count >= 2 else { return [] }
        let rules = Set(first.byRule.keys).union(last.byRule.keys)
        return rules.map { Mover(rule: $0, first: first.byRule[$0] ?? 0, last: last.byRule[$0] ?? 0) }
            .filter { $0.growth > 0 }
            .sorted { $0.growth != $1.growth ? $0.growth > $1.growth : $0.rule < $1.rule }
            .prefix(Self.maximumMovers).map { $0 }
    }

    /// Short labels for the chart's axis: `11-24` when every night has a day of its own, else
    /// `11-24 05:30`; a time in another form is shown as written.
    public var labels: [String] {
        func parts(_ text: String) -> (day: String, minute: String)? {
            let characters = Array(text)
            guard characters.count >= 16, characters[4] == "-", characters[10] == "T" else { return nil }
            return (String(characters[5..<10]), String(characters[11..<16]))
        }
        let days = nights.compactMap { parts($0.generatedAt)?.day }
        let distinct = Set(days).count == nights.count
        return nights.map { night in
            guard let (day, minute) = parts(night.generatedAt) else { return night.generatedAt }
            return distinct ? day : "\(day) \(minute)"
        }
    }

    /// The night of `summary` (the run being reported).
    public static func night(_ summary: AuditSummary, rules: [any Rule.Type] = AuditRules.all) -> Night {
        Night(
            generatedAt: FindingsJSON.timestamp(summary.generatedAt), bySeverity: summary.findingsBySeverity,
            byRule: Dictionary(
                FindingsJSON.ruleCounts(summary, rules: rules).map { ($0.rule, $0.count) },
                uniquingKeysWith: { first, _ in first }))
    }

    /// The kept nights in `directory/history/` that `ReportHistory.keep` will still hold after this
    /// run (no more than `keepDays` days before it, and not after it), then this run; nil when that
    /// makes fewer than two nights, where a trend says nothing.
    ///
    /// A copy with this run's own second is left out: this run replaces it. Never throws: a history
    /// that cannot be listed gives no trend, a copy that cannot be read is named in `unreadable`.
    public static func load(
        historyIn directory: URL, current: AuditSummary, keepDays: Int, rules: [any Rule.Type] = AuditRules.all
    ) -> ReportTrend? {
        let history = directory.appendingPathComponent(ReportHistory.directoryName, isDirectory: true)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: history.path)) ?? []
        let now = UTCTime.date(unixSeconds: UTCTime.unixSeconds(current.generatedAt))
        let cutoff = now.addingTimeInterval(-Double(keepDays) * 86_400)
        var nights: [(date: Date, night: Night)] = []
        var unreadable: [String] = []
        for name in names.sorted() {
            guard let date = ReportHistory.date(fromFileName: name), date >= cutoff, date < now else { continue }
            if let night = readSummary(history.appendingPathComponent(name)) {
                nights.append((date, night))
            } else {
                unreadable.append(name)
            }
        }
        nights.sort { $0.date < $1.date }
        let all = nights.map(\.night) + [night(current, rules: rules)]
        guard all.count >= 2 else { return nil }
        return ReportTrend(nights: all, unreadable: unreadable)
    }

    /// The night a findings.json records, from its summary alone; nil when it is not one (schema 1).
    ///
    /// The layout TrustAudit writes puts the findings after `summary` on a line of their own, so only
    /// the text before `"findings":` is parsed (closed with a brace). Any other layout is parsed
    /// whole when it is small enough.
    static func readSummary(_ url: URL) -> Night? {
        guard let prefix = try? readPrefix(url, limit: maximumSummaryBytes) else { return nil }
        var document = prefix.bytes
        if let cut = find(findingsMarker, in: document) {
            document.removeSubrange(cut...)
            while let last = document.last, last == 0x20 || last == 0x0A || last == 0x0D { document.removeLast() }
            guard document.last == UInt8(ascii: ",") else { return nil }
            document.removeLast()
            document += Array("\n}".utf8)
        } else if !prefix.complete {
            return nil
        }
        guard let root = try? StrictJSON.parse(document), root["schemaVersion"]?.integer == 1,
            let generatedAt = root["generatedAt"]?.string, let summary = root["summary"],
            case .object(let severities)? = summary["bySeverity"], case .object(let rules)? = summary["byRule"]
        else { return nil }
        var bySeverity: [Severity: Int] = [:]
        for (key, value) in severities {
            guard let severity = Severity(rawValue: key), let count = value.integer, count >= 0 else { return nil }
            bySeverity[severity] = count
        }
        var byRule: [String: Int] = [:]
        for (key, value) in rules {
            guard let count = value.integer, count >= 0 else { return nil }
            byRule[key] = count
        }
        return Night(generatedAt: generatedAt, bySeverity: bySeverity, byRule: byRule)
    }

    /// At most `limit` bytes from the start of a regular file, and whether that is all of it.
    private static func readPrefix(_ url: URL, limit: Int) throws -> (bytes: [UInt8], complete: Bool) {
        try InputFile.validate(url.path, kind: "history copy", limit: Int.max)
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        let marker = findingsMarker
        var bytes: [UInt8] = []
        while bytes.count < limit {
            guard let chunk = try handle.read(upToCount: min(1 << 16, limit - bytes.count)), !chunk.isEmpty else {
                return (bytes, true)
            }
            let searchFrom = max(0, bytes.count - marker.count)
            bytes += chunk
            // The summary is a few kilobytes; stop reading once the findings begin.
            if find(marker, in: bytes, from: searchFrom) != nil { return (bytes, false) }
        }
        return (bytes, false)
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int = 0) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var index = start
        while index + needle.count <= haystack.count {
            if haystack[index] == needle[0] && haystack[index..<(index + needle.count)].elementsEqual(needle) {
                return index
            }
            index += 1
        }
        return nil
    }
}
