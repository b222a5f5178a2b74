import Directory

/// Everything the audit and the reports know about one rule, declared by the rule itself.
///
/// The runner, the rule CSV, `findings.json`'s counts, the baseline comparison and `computers.csv`
/// read these declarations from the registry (`AuditRules.all`) instead of naming rules, so a new
/// rule is its own file and one line in that list.
public protocol Rule: SendableMetatype, Sendable {
    /// Id, title and rationale; the id is part of the interface (JSON, CSV, configuration).
    static var description: RuleDescription { get }
    /// The attributes the rule reads, in AD's spelling; what the sources fetch is their union.
    static var attributes: [String] { get }
    /// The evidence a finding carries, typed, in the rule's order: the keys of `Finding.details`,
    /// the rule CSV's detail columns and the `details` object in `findings.json`.
    static var detailColumns: [DetailColumn] { get }
    /// The rule CSV's columns; by default account, dn, severity, the detail columns, message, fix.
    static var csvColumns: [RuleColumn] { get }
    /// The detail that tells apart several findings of this rule for one account, so each is the
    /// same finding from run to run (the SPN for duplicate-spn); nil when a rule reports an account
    /// at most once.
    static var identity: DetailColumn? { get }
    /// The attributes without which the rule cannot judge an account at all (stale-password without
    /// pwdLastSet). When an export lacks one for every computer (a Global Catalog has no pwdLastSet),
    /// the summary says which rule could not judge how many accounts, and the rule's findings,
    /// which would then speak of the export rather than the domain, are withheld.
    static var judgingAttributes: [String] { get }
    /// The rule compares domain controllers (their views of an account, their clocks, their
    /// replication): it is part of an audit only when the audit read several DCs
    /// (`AuditInputs.domainControllers`), so a single-DC audit and its reports stay as they were.
    static var requiresDomainControllers: Bool { get }
}

extension Rule {
    public static var csvColumns: [RuleColumn] {
        [.account("account"), .distinguishedName, .severity] + detailColumns.map(RuleColumn.detail)
            + [.message, .fix]
    }

    public static var identity: DetailColumn? { nil }

    public static var judgingAttributes: [String] { [] }

    public static var requiresDomainControllers: Bool { false }
}

/// A rule that judges one computer account on its own, so accounts stream through it.
///
/// It sees each account once however many sources saw it (`AccountView`), and only enabled or
/// disabled computer accounts the configuration does not exclude; gMSAs, MSAs and other SPN holders
/// are for the collecting rules.
public protocol AccountRule: Rule {
    init()
    /// Appends this rule's findings for `account` (none when it is healthy).
    func evaluate(_ account: AccountView, in context: AuditContext, into findings: inout [Finding])
}

extension AccountRule {
    /// `evaluate` for an account read from one source.
    public func evaluate(_ computer: DirectoryObject, in context: AuditContext, into findings: inout [Finding]) {
        evaluate(AccountView(computer, origin: ""), in: context, into: &findings)
    }
}

/// A rule that has to see every account before it can speak (duplicate SPNs, the inventory match).
///
/// It is handed every object the audit decodes (computers, managed service accounts, other SPN
/// holders), each account once, and reports when the audit ends; what it keeps is what the audit's
/// memory grows with.
public protocol CollectingRule: Rule {
    /// The rule for one audit; nil when it does not run in it (missing-account without an inventory).
    init?(for audit: AuditInputs)
    /// Records `account`. `excluded`: a computer the configuration excludes, which still counts (an
    /// SPN it holds is still a duplicate) but gets no finding of its own.
    mutating func add(_ account: AccountView, excluded: Bool)
    /// The findings, once every account was added.
    func findings(in context: AuditContext) -> [Finding]
}

/// A collecting rule that judges each account as its first source saw it, and runs in every audit
/// unless it says otherwise: it writes `init()` and `add(_:excluded:)` for a `DirectoryObject`,
/// and gets the rest.
public protocol ObjectCollectingRule: CollectingRule {
    init()
    /// Records `object`; see `CollectingRule.add(_:excluded:)`.
    mutating func add(_ object: DirectoryObject, excluded: Bool)
}

extension ObjectCollectingRule {
    /// Runs in every audit.
    public init?(for audit: AuditInputs) {
        self.init()
    }

    public mutating func add(_ account: AccountView, excluded: Bool) {
        add(account.object, excluded: excluded)
    }
}

/// What an audit is given besides the directory, for the collecting rules that need it.
public struct AuditInputs: Sendable {
    /// The machines that should have an account; nil when none was given.
    public var inventory: Inventory?
    /// In a multi-DC audit, what each DC answered: its clock, its repsFrom; empty otherwise. The
    /// rules about DCs rather than accounts (dc-clock-skew, replication-failure) run only with it.
    public var domainControllers: [DomainControllerReading]

    public init(inventory: Inventory? = nil, domainControllers: [DomainControllerReading] = []) {
        self.inventory = inventory
        self.domainControllers = domainControllers
    }
}

/// One typed piece of a rule's evidence: its key in `Finding.details` and `findings.json`, its
/// header in the rule CSV, and what kind of value it holds.
public struct DetailColumn: Sendable, Equatable {
    public enum ValueType: String, Sendable {
        /// Text; a timestamp is ISO 8601 UTC text.
        case string
        case integer
        case bool
        /// A list, `|`-joined in CSV cells.
        case strings
        /// An ISO 8601 UTC string, or the raw integer when it is no valid time.
        case timestamp
    }

    public let key: String
    public let header: String
    public let type: ValueType

    /// A column whose CSV header is its key, as for every built-in rule.
    public init(_ key: String, _ type: ValueType, header: String? = nil) {
        self.key = key
        self.header = header ?? key
        self.type = type
    }
}

/// One column of a rule's CSV (`change` is always appended).
public enum RuleColumn: Sendable, Equatable {
    /// `Finding.account`, under the given header (`inventoryName` for missing-account).
    case account(String)
    case distinguishedName
    case severity
    case detail(DetailColumn)
    case message
    case fix

    public var header: String {
        switch self {
        case .account(let header): return header
        case .distinguishedName: return "dn"
        case .severity: return "severity"
        case .detail(let column): return column.header
        case .message: return "message"
        case .fix: return "fix"
        }
    }
}

/// One account as one or more sources saw it: each source's decoded values and where they came from.
///
/// Accounts are told apart by objectGUID, or by DN (compared as AD compares DNs) when a source
/// exports no GUID. An audit of one export or one DC is the trivial case: one view. The runner
/// merges repeats by this key before any rule runs, so no rule counts one account twice.
public struct AccountView: Sendable {
    /// What one source returned for the account.
    public struct View: Sendable {
        /// The source, as the summary names it (`corp.ldif`, `ldaps://dc01.corp.example`).
        public let origin: String
        public let object: DirectoryObject
        /// True when the source was asked only for what a comparison of DCs reads
        /// (`SourceRequest.domainControllerComparison`): its other values are absent, not empty.
        public let isComparisonOnly: Bool

        public init(origin: String, object: DirectoryObject, isComparisonOnly: Bool = false) {
            self.origin = origin
            self.object = object
            self.isComparisonOnly = isComparisonOnly
        }
    }

    /// The first source's view: what single-source rules read.
    public let first: View
    /// Further sources' views of the same account, in the order they arrived; empty for one source
    /// (no array is allocated then).
    public private(set) var others: [View] = []

    public init(_ object: DirectoryObject, origin: String) {
        first = View(origin: origin, object: object)
    }

    public init(_ view: View) {
        first = view
    }

    /// The account as the first source saw it.
    public var object: DirectoryObject { first.object }

    /// Every view, first source first.
    public var views: [View] { [first] + others }

    /// What identifies the account across sources.
    public var key: AccountKey { AccountKey(object) }

    /// Adds another source's view of this account; false (and nothing added) when it is another account.
    public mutating func merge(_ view: View) -> Bool {
        guard AccountKey(view.object) == key else { return false }
        others.append(view)
        return true
    }
}

/// What identifies one account across sources: its objectGUID, else its DN as AD compares DNs
/// (ASCII case folded, insignificant spaces dropped).
public enum AccountKey: Hashable, Sendable {
    case objectGUID(ObjectGUID)
    case distinguishedName(String)

    public init(_ object: DirectoryObject) {
        if let guid = object.objectGUID {
            self = .objectGUID(guid)
        } else {
            var normalized: [UInt8] = []
            AccountKeys.normalize(object.distinguishedName, into: &normalized)
            self = .distinguishedName(String(decoding: normalized, as: UTF8.self))
        }
    }
}
