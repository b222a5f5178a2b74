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
    /// finding and is only read when a report is written, so they keep a renderer holding what it is
    /// made from, and it is rendered on each read (the same text every time).
    public var remediation: String {
        get { renderer.text }
        set { renderer = RemediationText(newValue) }
    }
    /// What renders `remediation`; kept small (a renderer of a word or two is stored inline).
    public var renderer: any RemediationRenderer
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
        self.renderer = RemediationText(remediation)
        self.details = details
    }

    /// A finding whose remediation `renderer` renders when it is read.
    public init(
        rule: String, severity: Severity, account: String, distinguishedName: String?, message: String,
        renderer: some RemediationRenderer, details: [(key: String, value: DetailValue)]
    ) {
        self.rule = rule
        self.severity = severity
        self.account = account
        self.distinguishedName = distinguishedName
        self.message = message
        self.renderer = renderer
        self.details = details
    }

    public func detail(_ key: String) -> DetailValue? {
        details.first { $0.key == key }?.value
    }

    public func detail(_ column: DetailColumn) -> DetailValue? {
        detail(column.key)
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

/// Renders a finding's remediation when it is read; each rule brings its own.
///
/// A renderer holds what the text is made from (a `RemediationSubject`, a story), not the text, so
/// a million findings do not hold a million fix texts until a report writes them.
public protocol RemediationRenderer: Sendable {
    var text: String { get }
}

/// A remediation already rendered (the collecting rules' findings, and findings built by hand).
public struct RemediationText: RemediationRenderer {
    public let text: String

    public init(_ text: String) {
        self.text = text
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
    /// The `-Server` value (`AuditContext.knownServer(for:)`); nil when none is known (commands then
    /// show the `<DC>` placeholder).
    let server: String?
    let domain: String?

    init(_ computer: DirectoryObject, in context: AuditContext) {
        shortName = computer.shortName
        accountName = computer.accountName
        distinguishedName = computer.distinguishedName
        host = computer.dnsHostName ?? shortName
        isKnownNonWindows = computer.operatingSystem != nil && !computer.isWindows
        // The object's own domain: a child domain's computer in a forest export is repaired there.
        server = context.knownServer(for: computer)
        domain = context.domain(of: computer)
    }
}
