import Directory
import Foundation

/// Streams directory objects through the rules and gathers findings and summary counts.
///
/// Per-account rules run as each object arrives and keep nothing; only the collecting rules
/// (duplicate SPNs, the inventory match) index what they need. A source therefore never has to
/// hold the domain in memory, and the runner does not care whether entries came from LDIF or LDAP.
/// Which rules run is the list it is given (`AuditRules.all` unless a caller says otherwise); the
/// runner names none of them. Not thread-safe: one runner per audit, fed from one thread.
public struct AuditRunner {
    public private(set) var context: AuditContext
    /// The rules given, in report order, and those of them that run in this audit.
    private let registry: [any Rule.Type]
    private let running: [RuleDescription]
    private let accountRules: [any AccountRule]
    private var collectingRules: [any CollectingRule]
    /// Past `accountsBeforeCollectingThread` accounts the collecting rules run on their own thread
    /// (`CollectingRulesThread`), with what they collected so far; a small audit never starts one.
    private var collectingThread: CollectingRulesThread?
    private var accountsCollectedInline = 0
    /// Tests set it to 1 to run the threaded path on a small export.
    var accountsBeforeCollectingThread = 4096
    private let ruleOrder: [String: Int]
    private var summary: AuditSummary
    /// The findings not yet written to `spill`: all of them, unless there were more than
    /// `findingsPerRun`.
    private var findings: [Finding] = []
    private let findingsPerRun: Int?
    private var spill: FindingSpill?
    private let computerSink: ComputerFactsSink?
    private var accounts = AccountKeys()
    private let origin: String
    /// Several sources' names, by origin index; empty for a single-source (streaming) run.
    private var origins: [String]
    /// Merge mode only: the accounts some source but not yet every source gave, each with the
    /// order it was first seen in (`heldCount` counts them).
    private var held: [AccountKey: (order: Int, account: AccountView)] = [:]
    private var heldCount = 0
    /// Merge mode only: per origin, the accounts that source already gave (a repeat within one
    /// source is dropped and counted, as in a single-source run).
    private var seenByOrigin: [AccountKeys] = []
    /// Merge mode only: the origins asked only for what DCs are compared by
    /// (`SourceRequest.domainControllerComparison`), whose views no rule judges on their own.
    private var comparisonOnlyOrigins: Set<Int> = []
    /// Attributes whose absence from a whole export is told (those the rules need to judge, and the
    /// ages the report charts), and how many judged computers carried each.
    private let trackedAttributes: [String]
    /// The same, lower-cased once, for the per-computer count.
    private let trackedLowercased: [String]
    private var carried: [Int]
    private var judgedComputers = 0

    /// - Parameters:
    ///   - domain: the domain's DNS name when known up front (a live audit reads it from the rootDSE);
    ///     otherwise it is taken from the first computer's DN.
    ///   - domainController: the DC audited live, named in fix commands.
    ///   - computerSink: called once per computer account (not for gMSAs, MSAs or other SPN holders) as it
    ///     is audited, with its facts and the per-account rules' findings; for `computers.csv`.
    ///   - rules: the rules to run, in report order; a collecting rule whose `init?(for:)` declines
    ///     (missing-account without an inventory) does not run and has no section or CSV.
    ///   - findingsPerRun: past this many findings held, they are sorted and written to disk
    ///     (`FindingStore`), so memory does not grow with the findings; nil keeps them in memory.
    public init(
        configuration: AuditConfiguration, now: Date, source: String, inventory: Inventory? = nil,
        domain: String? = nil, domainController: String? = nil, computerSink: ComputerFactsSink? = nil,
        rules: [any Rule.Type] = AuditRules.all, domainControllers: [DomainControllerReading] = [],
        spillFindingsAfter findingsPerRun: Int? = FindingStore.findingsPerSpilledRun
    ) {
        self.computerSink = computerSink
        self.findingsPerRun = findingsPerRun.map { max(1, $0) }
        origin = source
        origins = []
        context = AuditContext(
            now: now, configuration: configuration, domain: domain, domainController: domainController)
        context.domainControllers = domainControllers
        let inputs = AuditInputs(inventory: inventory, domainControllers: domainControllers)
        // Without DC readings the rules that compare DCs are not part of the audit at all: no
        // section, no CSV, no zero count, so a single-DC audit reports exactly as before.
        let rules = domainControllers.isEmpty ? rules.filter { !$0.requiresDomainControllers } : rules
        var accountRules: [any AccountRule] = []
        var collectingRules: [any CollectingRule] = []
        var running: [RuleDescription] = []
        for rule in rules {
            if let type = rule as? any AccountRule.Type {
                accountRules.append(type.init())
            } else if let type = rule as? any CollectingRule.Type, let collecting = type.init(for: inputs) {
                collectingRules.append(collecting)
            } else {
                continue
            }
            running.append(rule.description)
        }
        self.accountRules = accountRules
        self.collectingRules = collectingRules
        var tracked: [String] = []
        for name in Self.chartedAttributes + rules.flatMap({ $0.judgingAttributes })
        where !tracked.contains(where: { $0.lowercased() == name.lowercased() }) {
            tracked.append(name)
        }
        trackedAttributes = tracked
        trackedLowercased = tracked.map { $0.lowercased() }
        carried = Array(repeating: 0, count: tracked.count)
        self.running = running
        registry = rules
        // Dense (a rule given twice keeps its first place), so a spilled audit's ranks are 0..<count
        // and rule ids outside them one rank after.
        var order: [String: Int] = [:]
        for rule in rules where order[rule.description.id] == nil { order[rule.description.id] = order.count }
        ruleOrder = order
        summary = AuditSummary(source: source, generatedAt: now, stalePasswordDays: configuration.stalePasswordDays)
        summary.domain = domain
        summary.inventoryNames = inventory?.items.count ?? 0
    }

    /// A run over several sources (`Directory.MergedSource`), each named in `sources` and told
    /// apart by its index there (`MergedSource.Batch.origin`); feed it with `add(_:origin:)`.
    ///
    /// With more than one source the runner merges each account's views (by `AccountKey`) before any
    /// rule sees it, so per-account rules, counts, the collecting rules and the computer sink see
    /// each account once: as soon as every source has given it (DCs return a domain in much the same
    /// order, so the rules run while the DCs are still read, and only accounts in flight are held),
    /// and the rest in `finish()`, in the order they were first seen (an account some DC lacks, a
    /// DC much slower than the others). With one source this is the streaming runner of
    /// `init(configuration:now:source:...)`, named by that source.
    ///
    /// A multi-DC audit passes one source per DC, named as `AuditContext.reading(forOrigin:)`
    /// matches them, and the DCs' readings in `domainControllers`. `comparisonOnlyOrigins` are the
    /// sources read with `SourceRequest.domainControllerComparison`: their views count no account
    /// and are judged only beside a full view of it (see `accountsWithoutFullView`).
    public init(
        configuration: AuditConfiguration, now: Date, sources: [String], inventory: Inventory? = nil,
        domain: String? = nil, domainController: String? = nil, computerSink: ComputerFactsSink? = nil,
        rules: [any Rule.Type] = AuditRules.all, domainControllers: [DomainControllerReading] = [],
        comparisonOnlyOrigins: Set<Int> = [],
        spillFindingsAfter findingsPerRun: Int? = FindingStore.findingsPerSpilledRun
    ) {
        self.init(
            configuration: configuration, now: now, source: sources.joined(separator: " + "), inventory: inventory,
            domain: domain, domainController: domainController, computerSink: computerSink, rules: rules,
            domainControllers: domainControllers, spillFindingsAfter: findingsPerRun)
        guard sources.count > 1 else { return }
        origins = sources
        seenByOrigin = Array(repeating: AccountKeys(), count: sources.count)
        self.comparisonOnlyOrigins = comparisonOnlyOrigins.filter { sources.indices.contains($0) }
    }

    /// True when several sources' views are merged (and held) before the rules run.
    public var mergesSources: Bool { !origins.isEmpty }

    /// The accounts not yet given by every source, first seen first; empty for a single source.
    var heldAccounts: [AccountView] { held.values.sorted { $0.order < $1.order }.map(\.account) }

    /// Decodes one raw entry from source `origin` (its index in `sources`) and audits it, or in a
    /// several-source run keeps it for `finish()`; a single-source run ignores `origin`.
    public mutating func add(_ entry: DirectoryEntry, origin: Int) {
        guard let object = DirectoryObject(entry: entry) else {
            if !comparisonOnlyOrigins.contains(origin) { summary.objectsRead += 1 }
            return
        }
        add(object, origin: origin)
    }

    /// `add(_:origin:)` for an already decoded object.
    ///
    /// In a several-source run another source's view of an account already seen is merged into its
    /// `AccountView`; the same source giving the account again is only counted in
    /// `summary.repeatedObjects`, as in a single-source run. `origin` must index `sources`.
    public mutating func add(_ object: DirectoryObject, origin: Int) {
        guard mergesSources else {
            add(object)
            return
        }
        precondition(origins.indices.contains(origin), "origin \(origin) is not an index of the runner's sources")
        guard seenByOrigin[origin].insert(object) else {
            summary.repeatedObjects += 1
            return
        }
        let isComparisonOnly = comparisonOnlyOrigins.contains(origin)
        let view = AccountView.View(origin: origins[origin], object: object, isComparisonOnly: isComparisonOnly)
        let key = AccountKey(object)
        // Taken out while it changes: the dictionary then holds no second reference to its views.
        guard var entry = held.removeValue(forKey: key) else {
            if !isComparisonOnly { summary.objectsRead += 1 }
            held[key] = (heldCount, AccountView(view))
            heldCount += 1
            return
        }
        if !isComparisonOnly && !entry.account.hasFullView { summary.objectsRead += 1 }
        _ = entry.account.merge(view)
        // Every source gave it (each at most once, see `seenByOrigin`): nothing more can come.
        if entry.account.others.count + 1 == origins.count && entry.account.hasFullView {
            audit(entry.account.currentFirst)
        } else {
            held[key] = entry
        }
    }

    /// The accounts only comparison-only sources gave so far (a computer created on one DC and not
    /// yet replicated to the one read in full), each with the origin of its first view: what the
    /// caller reads again in full from that source and hands to `completeView(_:origin:)`. An
    /// account still without a full view at `finish()` is not audited: its absent values would
    /// read as empty (no SPNs, no host name) to every rule.
    public var accountsWithoutFullView: [(origin: Int, account: DirectoryObject)] {
        heldAccounts.filter { !$0.hasFullView }.compactMap { account in
            origins.firstIndex(of: account.first.origin).map { ($0, account.object) }
        }
    }

    /// Puts the full view `entry` (from a comparison-only source, read again with every audited
    /// attribute) in place of that source's comparison-only view of the same account; ignored for
    /// an account not held or not seen by that source.
    public mutating func completeView(_ entry: DirectoryEntry, origin: Int) {
        guard mergesSources, origins.indices.contains(origin), let object = DirectoryObject(entry: entry) else {
            return
        }
        let key = AccountKey(object)
        guard let (order, account) = held[key], account.views.contains(where: { $0.origin == origins[origin] })
        else { return }
        if !account.hasFullView { summary.objectsRead += 1 }
        held[key] = (order, account.replacing(AccountView.View(origin: origins[origin], object: object)))
    }

    /// Decodes and audits one raw entry; entries that are neither computers nor SPN holders are only counted.
    public mutating func add(_ entry: DirectoryEntry) {
        guard let object = DirectoryObject(entry: entry) else {
            summary.objectsRead += 1
            return
        }
        add(object)
    }

    /// Audits an already decoded object (used by tests and by sources that decode themselves).
    ///
    /// An account seen before (the same objectGUID, or without one the same DN; see `AccountKey`) is
    /// only counted in `summary.repeatedObjects`: its first view is the one audited, counted, handed
    /// to the computer sink and to the collecting rules, so no rule sees one account twice.
    public mutating func add(_ object: DirectoryObject) {
        if mergesSources {
            add(object, origin: 0)
            return
        }
        guard accounts.insert(object) else {
            summary.repeatedObjects += 1
            return
        }
        summary.objectsRead += 1
        audit(AccountView(object, origin: origin))
    }

    private mutating func audit(_ account: AccountView) {
        let object = account.object
        let excluded = object.kind == .computer && context.configuration.isExcluded(object)
        if let collectingThread {
            collectingThread.add(account, excluded: excluded)
        } else {
            for index in collectingRules.indices {
                collectingRules[index].add(account, excluded: excluded)
            }
            accountsCollectedInline += 1
            if accountsCollectedInline == accountsBeforeCollectingThread && !collectingRules.isEmpty {
                collectingThread = CollectingRulesThread(taking: collectingRules)
                collectingRules = []
            }
        }
        switch object.kind {
        case .groupManagedServiceAccount:
            summary.groupManagedServiceAccounts += 1
            return
        case .managedServiceAccount:
            summary.managedServiceAccounts += 1
            return
        case .otherSPNHolder:
            summary.otherSPNHolders += 1
            return
        case .computer:
            break
        }
        // A tombstone or a conflict object is not an account a machine uses: the collecting rules
        // (deleted-account, conflict-object) report it; the per-account rules, the counts and
        // computers.csv never see it.
        if object.isDeleted {
            summary.deletedComputers += 1
            return
        }
        if object.isConflictObject {
            summary.conflictComputers += 1
            return
        }
        if context.domain == nil, let domain = DistinguishedName.domainDNSName(of: object.distinguishedName) {
            context.domain = domain
            summary.domain = domain
        }
        summary.computers += 1
        if object.isClusterNameObject { summary.clusterNameObjects += 1 }
        if let control = object.userAccountControl {
            if control.isDisabled { summary.disabledComputers += 1 } else { summary.enabledComputers += 1 }
            if control.isDomainController { summary.domainControllers += 1 }
        }
        let passwordAge = object.passwordLastSet.flatMap { $0.isNever ? nil : context.ageInDays($0) }
        let lastLogonAge = object.lastLogonTimestamp.flatMap { $0.isNever ? nil : context.ageInDays($0) }
        if excluded {
            summary.excludedComputers += 1
            computerSink?(
                ComputerFacts(
                    computer: object, isExcluded: true, passwordAgeDays: passwordAge, lastLogonAgeDays: lastLogonAge,
                    findings: [], trueLastLogon: account.trueLastLogon))
            return
        }
        judgedComputers += 1
        for (index, attribute) in trackedLowercased.enumerated() where object.holds(lowercased: attribute) == true {
            carried[index] += 1
        }
        if object.passwordLastSet?.isValid == false {
            summary.passwordAge.addNotATime()
        } else {
            summary.passwordAge.add(ageDays: passwordAge)
        }
        if object.lastLogonTimestamp?.isValid == false {
            summary.lastLogonAge.addNotATime()
        } else {
            summary.lastLogonAge.add(ageDays: lastLogonAge)
        }
        let firstNew = findings.count
        for rule in accountRules {
            rule.evaluate(account, in: context, into: &findings)
        }
        computerSink?(
            ComputerFacts(
                computer: object, isExcluded: false, passwordAgeDays: passwordAge, lastLogonAgeDays: lastLogonAge,
                findings: Array(findings[firstNew...]), trueLastLogon: account.trueLastLogon))
        if let findingsPerRun, findings.count >= findingsPerRun { spillHeldFindings() }
    }

    /// Sorts the findings held and writes them to disk as runs (`FindingSpill`).
    private mutating func spillHeldFindings() {
        if spill == nil { spill = FindingSpill(ruleOrder: ruleOrder) }
        spill!.write(sorted: Self.sortedInReportOrder(findings, ruleOrder: ruleOrder))
        findings.removeAll(keepingCapacity: true)
    }

    /// Runs the collecting rules and returns everything in report order; call it once, last (it
    /// lets go of what the rules collected).
    ///
    /// A several-source run audits here first the accounts not every source gave, in the order they
    /// were first seen.
    public mutating func finish() -> AuditResult {
        if mergesSources {
            let accounts = heldAccounts
            held = [:]
            for account in accounts where account.hasFullView { audit(account.currentFirst) }
        }
        if let collectingThread {
            collectingRules = collectingThread.finish()
            self.collectingThread = nil
        }
        for rule in collectingRules {
            findings += rule.findings(in: context)
        }
        // What the rules and the repeat guard indexed (most of the audit's memory) is not needed
        // while the reports are written.
        collectingRules = []
        accounts = AccountKeys()
        let withheld = withholdWhatTheExportCannotTell()
        let store: FindingStore
        if spill != nil {
            if !findings.isEmpty { spillHeldFindings() }
            let (spilled, tally) = spill!.finish(withholding: withheld)
            store = FindingStore(spilled: spilled)
            summary.record(tally)
        } else {
            if !withheld.isEmpty { findings.removeAll { withheld.contains($0.rule) } }
            let sorted = Self.sortedInReportOrder(findings, ruleOrder: ruleOrder)
            store = FindingStore(sorted)
            var tally = FindingTally()
            for finding in sorted { tally.add(finding) }
            summary.record(tally.counts())
        }
        findings = []
        // A rule that did not run (missing-account without an inventory) has no section or CSV.
        return AuditResult(summary: summary, findingStore: store, rules: running, registry: registry)
    }

    /// What the report charts whatever the rules: the two ages.
    static let chartedAttributes = ["pwdLastSet", "lastLogonTimestamp"]

    /// How many judged computers an attribute must be absent from before the export, not the
    /// domain, is taken to lack it: one for what AD sets on every computer (pwdLastSet,
    /// userAccountControl), ten for what a healthy computer may lack (a pre-staged account has no
    /// SPN, one that never logged on no lastLogonTimestamp), so a small export of such accounts
    /// is judged as it is.
    static func absenceThreshold(_ attribute: String) -> Int {
        ["pwdlastset", "useraccountcontrol"].contains(attribute.lowercased()) ? 1 : 10
    }

    /// Finds the attributes the export lacks for every judged computer; the rules that need one
    /// cannot judge, so their findings (which would describe the export) are withheld and the summary
    /// says why; an age chart of an absent attribute counts "not in the export", not "never".
    /// Returns the rules whose findings are withheld.
    private mutating func withholdWhatTheExportCannotTell() -> Set<String> {
        var absent: [String] = []
        for (index, attribute) in trackedAttributes.enumerated()
        where carried[index] == 0 && judgedComputers >= Self.absenceThreshold(attribute) {
            absent.append(attribute)
        }
        guard !absent.isEmpty else { return [] }
        let isAbsent = { (name: String) in absent.contains { $0.lowercased() == name.lowercased() } }
        summary.attributesNotInExport = absent
        if isAbsent("pwdLastSet") { summary.passwordAge.markNotInExport() }
        if isAbsent("lastLogonTimestamp") { summary.lastLogonAge.markNotInExport() }
        var withheld = Set<String>()
        for rule in registry where running.contains(where: { $0.id == rule.description.id }) {
            let missing = rule.judgingAttributes.filter(isAbsent)
            guard !missing.isEmpty else { continue }
            summary.unjudged.append(
                UnjudgedRule(rule: rule.description.id, missingAttributes: missing, accounts: judgedComputers))
            withheld.insert(rule.description.id)
        }
        return withheld
    }

    /// Rule order, then highest severity first, then account and DN: stable from run to run.
    static func reportOrder(_ lhs: Finding, _ rhs: Finding) -> Bool {
        reportOrder(lhs, rhs, ruleOrder: defaultRuleOrder)
    }

    private static let defaultRuleOrder = Dictionary(
        AuditRules.ids.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })

    /// `reportOrder` with the rules' positions in `ruleOrder`; ids not in it sort last.
    static func reportOrder(_ lhs: Finding, _ rhs: Finding, ruleOrder: [String: Int]) -> Bool {
        ReportOrderKey(lhs, ruleOrder: ruleOrder).compare(ReportOrderKey(rhs, ruleOrder: ruleOrder)) < 0
    }

    /// `findings` in report order, findings that compare equal in the order given (the spill's
    /// merge keeps the same rule, so both paths give the same reports).
    ///
    /// Sorted as indices over keys worked out once: sorting the findings themselves moved every
    /// one many times, and comparing findings copied two of them (a dozen retains) and lower-cased
    /// both accounts at every comparison, which was most of a spill's cost.
    static func sortedInReportOrder(_ findings: [Finding], ruleOrder: [String: Int]) -> [Finding] {
        let keys = findings.map { ReportOrderKey($0, ruleOrder: ruleOrder) }
        var ranked = Array(findings.indices)
        keys.withUnsafeBufferPointer { keys in
            ranked.sort { lhs, rhs in
                let order = keys[lhs].compare(keys[rhs])
                return order != 0 ? order < 0 : lhs < rhs
            }
        }
        return ranked.map { findings[$0] }
    }

    /// Records what a live read of deleted objects found out about the Recycle Bin, before
    /// `finish()`: the deleted-account findings then name the one way back that applies.
    public mutating func recordRecycleBin(enabled: Bool?) {
        context.recycleBinEnabled = enabled
    }

    /// Sets the clock skew measured against a live DC, for the summary.
    public mutating func recordClockSkew(seconds: Double) {
        summary.clockSkewSeconds = seconds
    }
}

/// What places a finding in the reports, worked out once per finding: its rule's position and its
/// severity (highest first) in one integer, which decides most comparisons, then its account
/// lower-cased, its DN and its message. The one definition of report order, for the in-memory
/// sort, the spill's sorted runs and the merge that reads them back.
struct ReportOrderKey {
    private let major: Int
    private let account: String
    private let distinguishedName: String
    private let message: String

    /// `ruleOrder` gives the rule's position (ids not in it sort last); nil when only findings of
    /// one rule are compared, as in a merge of that rule's runs.
    init(_ finding: Finding, ruleOrder: [String: Int]?) {
        let rank = ruleOrder.map { $0[finding.rule] ?? $0.count } ?? 0
        major = rank << 8 | (Severity.critical.rank - finding.severity.rank)
        account = finding.account.lowercased()
        distinguishedName = finding.distinguishedName ?? ""
        message = finding.message
    }

    /// -1, 0 or 1.
    func compare(_ other: ReportOrderKey) -> Int {
        if major != other.major { return major < other.major ? -1 : 1 }
        if account != other.account { return account < other.account ? -1 : 1 }
        if distinguishedName != other.distinguishedName { return distinguishedName < other.distinguishedName ? -1 : 1 }
        if message != other.message { return message < other.message ? -1 : 1 }
        return 0
    }
}
