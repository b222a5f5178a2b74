import Directory

/// How urgently an admin should act on a finding. Ordered: `info` < `low` < ... < `critical`.
public enum Severity: String, Sendable, CaseIterable, Comparable, Codable {
    case info, low, medium, high, critical

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }

    public var rank: Int {
        switch self {
        case .info: return 0
        case .low: return 1
        case .medium: return 2
        case .high: return 3
        case .critical: return 4
        }
    }
}

/// A typed value in a finding's evidence, so JSON keeps numbers as numbers.
public enum DetailValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case bool(Bool)
    case strings([String])
    case null
}

/// One problem with one account (or inventory name), with the evidence and the fix.
///
/// `details` keeps the evidence machine-readable for the JSON and CSV consumers; its order is the
/// order the rule gave, which keeps the reports stable from run to run.
public struct Finding: Sendable, Equatable {
    public var rule: String
    public var severity: Severity
    /// sAMAccountName (`PC01$`), or for missing-account the inventory name as written.
    public var account: String
    /// Nil only for accounts that do not exist (missing-account).
    public var distinguishedName: String?
    /// One line with the evidence: dates, the SPN, the other holders.
    public var message: String
    /// The commands that fix this cause, with the account's own names filled in; one per line.
    ///
    /// The per-account rules do not build this text when they report: it is the longest part of a
    /// finding and is only read when a report is written, so they keep what it is made from and it is
    /// rendered on each read (the same text every time).
    public var remediation: String {
        get { deferredRemediation.text }
        set { deferredRemediation = .text(newValue) }
    }
    var deferredRemediation: DeferredRemediation
    public var details: [(key: String, value: DetailValue)]

    public init(
        rule: String, severity: Severity, account: String, distinguishedName: String?, message: String,
        remediation: String, details: [(key: String, value: DetailValue)] = []
    ) {
        self.rule = rule
        self.severity = severity
        self.account = account
        self.distinguishedName = distinguishedName
        self.message = message
        self.deferredRemediation = .text(remediation)
        self.details = details
    }

    /// A finding whose remediation is rendered when it is read.
    init(
        rule: String, severity: Severity, account: String, distinguishedName: String?, message: String,
        remediation: DeferredRemediation, details: [(key: String, value: DetailValue)]
    ) {
        self.rule = rule
        self.severity = severity
        self.account = account
        self.distinguishedName = distinguishedName
        self.message = message
        self.deferredRemediation = remediation
        self.details = details
    }

    public func detail(_ key: String) -> DetailValue? {
        details.first { $0.key == key }?.value
    }

    public static func == (lhs: Finding, rhs: Finding) -> Bool {
        lhs.rule == rhs.rule && lhs.severity == rhs.severity && lhs.account == rhs.account
            && lhs.distinguishedName == rhs.distinguishedName && lhs.message == rhs.message
            && lhs.remediation == rhs.remediation && lhs.details.elementsEqual(rhs.details) { $0 == $1 }
    }
}

/// What a rule is and why it exists; shown in the reports beside its findings.
public struct RuleDescription: Sendable {
    public let id: String
    public let title: String
    /// One or two sentences on why this breaks logons or Kerberos, from the causes of a failed trust.
    public let rationale: String

    public init(id: String, title: String, rationale: String) {
        self.id = id
        self.title = title
        self.rationale = rationale
    }
}

/// A finding's remediation: the text itself, or what a per-account rule builds it from.
enum DeferredRemediation: Sendable {
    case text(String)
    case disabledAccount(RemediationSubject)
    case stalePassword(StalePasswordRule.Story, RemediationSubject)

    var text: String {
        switch self {
        case .text(let text): return text
        case .disabledAccount(let subject): return DisabledAccountRule.remediation(subject)
        case .stalePassword(let story, let subject): return StalePasswordRule.remediation(for: story, subject)
        }
    }
}

/// The names and context values a per-account remediation is built from, captured when the rule ran
/// (the audit context's domain can still change later). One small object per finding; the Strings
/// share their storage with the finding's own fields and with the context.
final class RemediationSubject: Sendable {
    let shortName: String
    let accountName: String
    let distinguishedName: String
    /// dNSHostName, else the short name: the machine named in secure-channel repairs.
    let host: String
    /// An operating system is known and it is not Windows (an adcli/realmd or sssd join).
    let isKnownNonWindows: Bool
    /// The `-Server` value; nil when none is known (commands then show the `<DC>` placeholder).
    let server: String?
    let domain: String?

    init(_ computer: DirectoryObject, in context: AuditContext) {
        shortName = computer.shortName
        accountName = computer.accountName
        distinguishedName = computer.distinguishedName
        host = computer.dnsHostName ?? shortName
        isKnownNonWindows = computer.operatingSystem != nil && !computer.isWindows
        server = context.knownServer
        domain = context.domain
    }
}
