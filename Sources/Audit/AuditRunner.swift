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
    private let ruleOrder: [String: Int]
    private var summary: AuditSummary
    private var findings: [Finding] = []
    private let computerSink: ComputerFactsSink?
    private var accounts = AccountKeys()
    private let origin: String

    /// - Parameters:
    ///   - domain: the domain's DNS name when known up front (a live audit reads it from the rootDSE);
    ///     otherwise it is taken from the first computer's DN.
    ///   - domainController: the DC audited live, named in fix commands.
    ///   - computerSink: called once per computer account (not for gMSAs, MSAs or other SPN holders) as it
    ///     is audited, with its facts and the per-account rules' findings; for `computers.csv`.
    ///   - rules: the rules to run, in report order; a collecting rule whose `init?(for:)` declines
    ///     (missing-account without an inventory) does not run and has no section or CSV.
    public init(
        configuration: AuditConfiguration, now: Date, source: String, inventory: Inventory? = nil,
        domain: String? = nil, domainController: String? = nil, computerSink: ComputerFactsSink? = nil,
        rules: [any Rule.Type] = AuditRules.all
    ) {
        self.computerSink = computerSink
        origin = source
        context = AuditContext(
            now: now, configuration: configuration, domain: domain, domainController: domainController)
        let inputs = AuditInputs(inventory: inventory)
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
        self.running = running
        registry = rules
        ruleOrder = Dictionary(
            rules.enumerated().map { ($1.description.id, $0) }, uniquingKeysWith: { first, _ in first })
        summary = AuditSummary(source: source, generatedAt: now, stalePasswordDays: configuration.stalePasswordDays)
        summary.domain = domain
        summary.inventoryNames = inventory?.items.count ?? 0
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
        for index in collectingRules.indices {
            collectingRules[index].add(account, excluded: excluded)
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
        if context.domain == nil, let domain = DistinguishedName.domainDNSName(of: object.distinguishedName) {
            context.domain = domain
            summary.domain = domain
        }
        summary.computers += 1
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
                    findings: []))
            return
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
                findings: Array(findings[firstNew...])))
    }

    /// Runs the collecting rules and returns everything in report order.
    public mutating func finish() -> AuditResult {
        for rule in collectingRules {
            findings += rule.findings(in: context)
        }
        let order = ruleOrder
        findings.sort { Self.reportOrder($0, $1, ruleOrder: order) }
        var bySeverity: [Severity: Int] = [:]
        var byRule: [String: Int] = [:]
        for finding in findings {
            bySeverity[finding.severity, default: 0] += 1
            byRule[finding.rule, default: 0] += 1
        }
        summary.findingsBySeverity = bySeverity
        summary.findingsByRule = byRule
        // A rule that did not run (missing-account without an inventory) has no section or CSV.
        return AuditResult(summary: summary, findings: findings, rules: running, registry: registry)
    }

    /// Rule order, then highest severity first, then account and DN: stable from run to run.
    static func reportOrder(_ lhs: Finding, _ rhs: Finding) -> Bool {
        reportOrder(lhs, rhs, ruleOrder: defaultRuleOrder)
    }

    private static let defaultRuleOrder = Dictionary(
        AuditRules.ids.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })

    /// `reportOrder` with the rules' positions in `ruleOrder`; ids not in it sort last.
    static func reportOrder(_ lhs: Finding, _ rhs: Finding, ruleOrder: [String: Int]) -> Bool {
        let lhsRule = ruleOrder[lhs.rule] ?? ruleOrder.count
        let rhsRule = ruleOrder[rhs.rule] ?? ruleOrder.count
        if lhsRule != rhsRule { return lhsRule < rhsRule }
        if lhs.severity != rhs.severity { return lhs.severity > rhs.severity }
        let lhsAccount = lhs.account.lowercased()
        let rhsAccount = rhs.account.lowercased()
        if lhsAccount != rhsAccount { return lhsAccount < rhsAccount }
        if lhs.distinguishedName != rhs.distinguishedName {
            return (lhs.distinguishedName ?? "") < (rhs.distinguishedName ?? "")
        }
        return lhs.message < rhs.message
    }

    /// Sets the clock skew measured against a live DC, for the summary.
    public mutating func recordClockSkew(seconds: Double) {
        summary.clockSkewSeconds = seconds
    }
}
