import Directory
import Foundation

/// Streams directory objects through the rules and gathers findings and summary counts.
///
/// Per-account rules run as each object arrives and keep nothing; only the cross-object rules
/// (duplicate SPNs, the inventory match) index what they need. A source therefore never has to
/// hold the domain in memory, and the runner does not care whether entries came from LDIF or LDAP.
/// Not thread-safe: one runner per audit, fed from one thread.
public struct AuditRunner {
    public private(set) var context: AuditContext
    private let accountRules: [any AccountRule]
    private var duplicateSPNs = DuplicateSPNIndex()
    private var missingAccounts: MissingAccountIndex?
    private var summary: AuditSummary
    private var findings: [Finding] = []
    private let computerSink: ComputerFactsSink?
    private var seenObjects = SeenObjects()

    /// - Parameters:
    ///   - domain: the domain's DNS name when known up front (a live audit reads it from the rootDSE);
    ///     otherwise it is taken from the first computer's DN.
    ///   - domainController: the DC audited live, named in fix commands.
    ///   - computerSink: called once per computer account (not for gMSAs, MSAs or other SPN holders) as it
    ///     is audited, with its facts and the per-account rules' findings; for `computers.csv`.
    public init(
        configuration: AuditConfiguration, now: Date, source: String, inventory: Inventory? = nil,
        domain: String? = nil, domainController: String? = nil, computerSink: ComputerFactsSink? = nil
    ) {
        self.computerSink = computerSink
        context = AuditContext(
            now: now, configuration: configuration, domain: domain, domainController: domainController)
        accountRules = [DisabledAccountRule(), StalePasswordRule(), MissingSPNRule()]
        missingAccounts = inventory.map(MissingAccountIndex.init)
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
    /// An object whose DN was seen before is only counted in `summary.repeatedObjects`: the first
    /// occurrence is the one audited, counted, handed to the computer sink and indexed for SPNs.
    public mutating func add(_ object: DirectoryObject) {
        guard seenObjects.insert(object.distinguishedName) else {
            summary.repeatedObjects += 1
            return
        }
        summary.objectsRead += 1
        audit(object)
    }

    private mutating func audit(_ object: DirectoryObject) {
        let excluded = object.kind == .computer && context.configuration.isExcluded(object)
        duplicateSPNs.add(object, excluded: excluded)
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
        missingAccounts?.add(object)
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
            rule.evaluate(object, in: context, into: &findings)
        }
        computerSink?(
            ComputerFacts(
                computer: object, isExcluded: false, passwordAgeDays: passwordAge, lastLogonAgeDays: lastLogonAge,
                findings: Array(findings[firstNew...])))
    }

    /// Runs the cross-object rules and returns everything in report order.
    public mutating func finish() -> AuditResult {
        findings += duplicateSPNs.findings(in: context)
        if let missingAccounts { findings += missingAccounts.findings(in: context) }
        findings.sort(by: Self.reportOrder)
        var bySeverity: [Severity: Int] = [:]
        var byRule: [String: Int] = [:]
        for finding in findings {
            bySeverity[finding.severity, default: 0] += 1
            byRule[finding.rule, default: 0] += 1
        }
        summary.findingsBySeverity = bySeverity
        summary.findingsByRule = byRule
        // missing-account runs only with an inventory; a rule that did not run has no section or CSV.
        let rules = AuditRules.descriptions.filter {
            $0.id != MissingAccountIndex.description.id || missingAccounts != nil
        }
        return AuditResult(summary: summary, findings: findings, rules: rules)
    }

    /// Rule order, then highest severity first, then account and DN: stable from run to run.
    static func reportOrder(_ lhs: Finding, _ rhs: Finding) -> Bool {
        let lhsRule = AuditRules.order(of: lhs.rule)
        let rhsRule = AuditRules.order(of: rhs.rule)
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
