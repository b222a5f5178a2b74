import Directory
import Foundation

/// Counts of accounts by age, for the histograms in the HTML report.
///
/// Buckets are fixed so that two runs can be compared; each bucket is `[lowerDays, upperDays)`.
public struct AgeHistogram: Sendable, Equatable {
    public static let bucketBounds: [Int] = [0, 30, 60, 90, 180, 365, 730]

    /// One count per bucket in `bucketBounds` (the last is open-ended: 730 days and more).
    public private(set) var counts: [Int] = Array(repeating: 0, count: AgeHistogram.bucketBounds.count)
    /// The attribute was 0 or absent (never set, never logged on).
    public private(set) var never = 0
    /// The timestamp lies in the future: a clock problem, no age can be given.
    public private(set) var future = 0
    /// The attribute holds no valid time (negative ticks): its age is unknown, so it is in no age
    /// bucket, and it is not "never" either, because something was written there.
    public private(set) var notATime = 0
    /// The export carries the attribute for no computer at all (a Global Catalog has no pwdLastSet):
    /// its ages are unknown, which is not "never".
    public private(set) var notInExport = 0

    public init() {}

    /// Moves the "never" count to `notInExport`: the attribute was absent from every computer, so
    /// absent meant "not exported", not "never set".
    public mutating func markNotInExport() {
        notInExport += never
        never = 0
    }

    /// Counts one timestamp that is not a valid time.
    public mutating func addNotATime() { notATime += 1 }

    public mutating func add(ageDays: Int?) {
        guard let ageDays else { never += 1; return }
        if ageDays < 0 { future += 1; return }
        var bucket = Self.bucketBounds.count - 1
        while bucket > 0 && ageDays < Self.bucketBounds[bucket] { bucket -= 1 }
        counts[bucket] += 1
    }

    /// "0-29", "30-59", ..., "730+".
    public static func label(ofBucket index: Int) -> String {
        let lower = bucketBounds[index]
        if index + 1 < bucketBounds.count { return "\(lower)-\(bucketBounds[index + 1] - 1)" }
        return "\(lower)+"
    }
}

/// The whole-domain numbers that open every report.
public struct AuditSummary: Sendable, Equatable {
    /// Where the data came from (`corp.ldif`, `ldaps://dc01.corp.example`).
    public var source: String
    /// The DNS name of the audited domain, from the computers' DNs; nil if none was seen.
    public var domain: String?
    /// The moment ages were computed from (`--now`, or the real time).
    public var generatedAt: Date
    /// Entries read from the source, counting a repeated computer or SPN holder once (see `repeatedObjects`).
    public var objectsRead = 0
    public var computers = 0
    public var enabledComputers = 0
    public var disabledComputers = 0
    public var domainControllers = 0
    public var groupManagedServiceAccounts = 0
    public var managedServiceAccounts = 0
    /// Users and other non-computer objects that hold at least one SPN.
    public var otherSPNHolders = 0
    /// Computers skipped by the configuration's exclusions.
    public var excludedComputers = 0
    /// Deleted computer objects (tombstones, Recycle Bin objects) and replication conflict objects
    /// read: never counted as computers nor judged by the per-account rules; the deleted-account and
    /// conflict-object rules report them.
    public var deletedComputers = 0
    public var conflictComputers = 0
    /// Failover cluster name objects (CNOs and VCOs) among `computers`: accounts the cluster, not a
    /// machine, keeps (see `DirectoryObject.isClusterNameObject`).
    public var clusterNameObjects = 0
    /// Whether deleted objects were looked for, and whether they could be seen: zero tombstones
    /// means "none" only when the Deleted Objects container itself was read.
    public var deletedObjects: DeletedObjectsVisibility = .notRequested
    /// Audited attributes that no judged computer carried (in `AuditedAttributes` order), and the
    /// rules that could therefore not judge their accounts; empty for a complete export.
    public var attributesNotInExport: [String] = []
    public var unjudged: [UnjudgedRule] = []
    /// Computers and other accounts with at least one finding (told apart by DN), and inventory
    /// names reported: "94 findings on 71 of 300 computers".
    public var computersWithFindings = 0
    public var otherAccountsWithFindings = 0
    /// Findings about no account at all: inventory names without one.
    public var findingsWithoutAccount = 0
    public var inventoryNames = 0
    public var stalePasswordDays: Int
    public var passwordAge = AgeHistogram()
    public var lastLogonAge = AgeHistogram()
    /// Findings per severity and per rule id, filled when the audit ends.
    public var findingsBySeverity: [Severity: Int] = [:]
    public var findingsByRule: [String: Int] = [:]
    /// Seconds the DC's clock is ahead (+) or behind (-) the audit host, for live audits.
    public var clockSkewSeconds: Double?
    /// In a multi-DC audit (`--dcs`), each DC of the domain with what it answered (its clock, its
    /// repsFrom) or why it could not be read; empty for an audit of one source.
    public var domainControllerReadings: [DomainControllerReading] = []
    /// Objects that appeared again in the input (the same DN, compared as AD does) and were skipped:
    /// each object is audited once, as it first appeared. Repeats are not in `objectsRead` either.
    public var repeatedObjects = 0

    public init(source: String, generatedAt: Date, stalePasswordDays: Int) {
        self.source = source
        self.generatedAt = generatedAt
        self.stalePasswordDays = stalePasswordDays
    }

    /// Sets `computersWithFindings`, `otherAccountsWithFindings` (distinct DNs; a computer is an
    /// account whose sAMAccountName ends in `$`, gMSAs and MSAs included, which are computer objects,
    /// or a conflict object's `$DUPLICATE-...`)
    /// and `findingsWithoutAccount` (inventory names) from `findings`.
    public mutating func countAccounts(with findings: some Sequence<Finding>) {
        var tally = FindingTally()
        for finding in findings { tally.add(finding) }
        let counts = tally.counts()
        computersWithFindings = counts.computers
        otherAccountsWithFindings = counts.others
        findingsWithoutAccount = counts.withoutAccount
    }

    /// Takes every count of a tally: by severity, by rule, and the accounts named.
    mutating func record(_ counts: FindingTally.Counts) {
        findingsBySeverity = counts.bySeverity
        findingsByRule = counts.byRule
        computersWithFindings = counts.computers
        otherAccountsWithFindings = counts.others
        findingsWithoutAccount = counts.withoutAccount
    }

    public var totalFindings: Int { findingsBySeverity.values.reduce(0, +) }

    /// `["3 high", "5 medium"]`: the counts by severity, most severe first, none for a severity
    /// without findings. The one wording the summary line, the HTML verdict and the mail share.
    public var severityCounts: [String] {
        severityTallies.map { "\($0.count) \($0.severity.rawValue)" }
    }

    /// The same counts as pairs, for a frontend that shows each severity its own way.
    public var severityTallies: [(severity: Severity, count: Int)] {
        Severity.allCases.reversed().compactMap { severity in
            let count = findingsBySeverity[severity] ?? 0
            return count > 0 ? (severity, count) : nil
        }
    }
}

/// Everything an audit produced: the summary, the findings in a stable order, and the rules that ran.
public struct AuditResult: Sendable {
    public var summary: AuditSummary
    /// Sorted by rule (in the order of the rules the runner was given, `AuditRules.all` by default),
    /// then severity (highest first), then account and DN; in memory or spilled to disk. Reports
    /// iterate it, so a spilled audit is streamed.
    public var findingStore: FindingStore
    /// The same findings as one array: a spilled audit's are read back whole, so reports use
    /// `findingStore`.
    public var findings: [Finding] {
        get { findingStore.all }
        set { findingStore = FindingStore(newValue) }
    }
    /// The rules that ran, in report order.
    public var rules: [RuleDescription]
    /// The rules the audit was given (those that ran and those that declined, such as missing-account
    /// without an inventory): what the reports read columns, identities and counts from.
    public var registry: [any Rule.Type]

    public init(
        summary: AuditSummary, findings: [Finding], rules: [RuleDescription],
        registry: [any Rule.Type] = AuditRules.all
    ) {
        self.init(summary: summary, findingStore: FindingStore(findings), rules: rules, registry: registry)
    }

    public init(
        summary: AuditSummary, findingStore: FindingStore, rules: [RuleDescription],
        registry: [any Rule.Type] = AuditRules.all
    ) {
        self.summary = summary
        self.findingStore = findingStore
        self.rules = rules
        self.registry = registry
    }
}

/// What an audit could see of deleted objects.
public enum DeletedObjectsVisibility: Sendable, Equatable {
    /// Not asked for: a live audit without the deleted-objects setting, or an export made without the
    /// Show Deleted control that holds no deleted object.
    case notRequested
    /// Read: the Deleted Objects container was returned (live), or the export holds tombstones.
    /// `recycleBin`: whether the Recycle Bin optional feature is enabled; nil when unknown.
    case visible(recycleBin: Bool?)
    /// Asked for but not visible with the credentials given (only Administrators see the container by
    /// default; a plain user gets no entry and no error). The reason says what was tried.
    case notVisible(reason: String)
}

/// A rule that could not judge the accounts of an export that lacks an attribute it needs.
public struct UnjudgedRule: Sendable, Equatable {
    public var rule: String
    /// The attributes it needs that the export lacks.
    public var missingAttributes: [String]
    /// The computers it would have judged.
    public var accounts: Int

    public init(rule: String, missingAttributes: [String], accounts: Int) {
        self.rule = rule
        self.missingAttributes = missingAttributes
        self.accounts = accounts
    }
}

/// What an audit's findings count: by severity, by rule, and the distinct accounts they name, told
/// apart by DN (lower-cased) as computers (a `$` name, or a conflict object's `$DUPLICATE-` one) or
/// other accounts. Counted per rule rank as the findings are written, so a spilled audit needs no
/// pass over its file and can leave out a rule withheld at the end.
struct FindingTally {
    /// What the findings come to, the withheld ranks left out.
    struct Counts {
        var bySeverity: [Severity: Int] = [:]
        var byRule: [String: Int] = [:]
        var computers = 0
        var others = 0
        var withoutAccount = 0
    }

    private let seeds = Fingerprint.Seeds()
    private var ranks: [Counts]
    private var computers: NamedAccounts
    private var others: NamedAccounts

    /// A tally of findings of ranks `0..<rankCount`.
    init(ranks rankCount: Int = 1) {
        ranks = Array(repeating: Counts(), count: max(1, rankCount))
        computers = NamedAccounts(ranks: ranks.count)
        others = NamedAccounts(ranks: ranks.count)
    }

    mutating func add(_ finding: Finding, rank: Int = 0) {
        ranks[rank].bySeverity[finding.severity, default: 0] += 1
        ranks[rank].byRule[finding.rule, default: 0] += 1
        guard let dn = finding.distinguishedName else {
            ranks[rank].withoutAccount += 1
            return
        }
        let fingerprint = Fingerprint(dn.lowercased(), seeds: seeds)
        // A conflict object's sAMAccountName (`$DUPLICATE-1f4`) lost its `$` to the rename.
        if finding.account.hasSuffix("$") || finding.account.hasPrefix("$DUPLICATE-") {
            computers.insert(fingerprint, rank: rank)
        } else {
            others.insert(fingerprint, rank: rank)
        }
    }

    /// The counts of every rank but those in `withheld`.
    func counts(withholding withheld: Set<Int> = []) -> Counts {
        var total = Counts()
        for (rank, counts) in ranks.enumerated() where !withheld.contains(rank) {
            total.bySeverity.merge(counts.bySeverity, uniquingKeysWith: +)
            total.byRule.merge(counts.byRule, uniquingKeysWith: +)
            total.withoutAccount += counts.withoutAccount
        }
        total.computers = computers.count(withholding: withheld)
        total.others = others.count(withholding: withheld)
        return total
    }
}

/// Distinct accounts by fingerprint, each with the set of ranks that named it: one table for every
/// rule, not a `Set` per rule summed at the end (a strict audit names a million computers, which
/// cost 34 MB in Sets, more while they were merged; this keeps about 19 bytes an account).
///
/// Partitioned and worded as `FirstHolderTable` is (`WordSlots.place`), each slot's value the
/// account's ranks as a bit set, one 64-bit word per 64 ranks.
struct NamedAccounts {
    private let stride: Int
    private var partitions: [Partition]
    /// The ranks of the one fingerprint whose word is 0, which marks an empty slot.
    private var zeroWordRanks: [UInt64]?

    private struct Partition {
        var words: [UInt64] = []
        var ranks: [UInt64] = []
        var count = 0

        mutating func insert(_ word: UInt64, rank: Int, stride: Int) {
            if WordSlots.isFull(count: count, capacity: words.count) { grow(stride: stride) }
            let slot = WordSlots.slot(of: word, in: words)
            if words[slot] != word {
                words[slot] = word
                count += 1
            }
            ranks[slot * stride + rank / 64] |= 1 << UInt64(rank % 64)
        }

        private mutating func grow(stride: Int) { WordSlots.grow(&words, &ranks, empty: 0, valuesPerSlot: stride) }
    }

    init(ranks rankCount: Int) {
        stride = (rankCount + 63) / 64
        partitions = Array(repeating: Partition(), count: WordSlots.fingerprintPartitions)
    }

    mutating func insert(_ fingerprint: Fingerprint, rank: Int) {
        let (partition, word) = WordSlots.place(fingerprint)
        guard word != 0 else {
            var ranks = zeroWordRanks ?? Array(repeating: 0, count: stride)
            ranks[rank / 64] |= 1 << UInt64(rank % 64)
            zeroWordRanks = ranks
            return
        }
        partitions[partition].insert(word, rank: rank, stride: stride)
    }

    /// The accounts named by at least one rank not in `withheld`.
    func count(withholding withheld: Set<Int>) -> Int {
        var kept = [UInt64](repeating: .max, count: stride)
        for rank in withheld where rank / 64 < stride { kept[rank / 64] &= ~(1 << UInt64(rank % 64)) }
        func isKept(_ ranks: ArraySlice<UInt64>) -> Bool {
            zip(ranks, kept).contains { $0 & $1 != 0 }
        }
        var count = zeroWordRanks.map { isKept($0[...]) ? 1 : 0 } ?? 0
        for partition in partitions {
            for (slot, word) in partition.words.enumerated() where word != 0 {
                if isKept(partition.ranks[slot * stride..<(slot + 1) * stride]) { count += 1 }
            }
        }
        return count
    }
}
