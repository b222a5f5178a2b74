import Audit
import Directory
import Foundation
import LDAPSource
import Reporting

/// The validated settings of one audit run, whichever frontend built them.
///
/// Everything here is already checked (files read, formats known, addresses parsed): the job
/// refuses nothing a frontend could have refused while parsing, so a usage error found here is one
/// only the run can find (a template that does not parse, a baseline that is not a findings.json).
public struct AuditJobSettings {
    /// Where the directory objects come from.
    public enum Source {
        /// An LDIF export (ldapsearch -LLL, ldifde -f).
        case ldif(LDIFReader)
        /// A live domain controller, connected and bound before anything is read.
        case ldap(LDAPSourceSettings)

        /// The source as the admin named it: the file, or the URI as given (not as resolved), for
        /// messages about a source that could not be read.
        public var description: String {
            switch self {
            case .ldif(let reader): return reader.description
            case .ldap(let settings): return settings.uri
            }
        }
    }

    /// Which earlier run the findings are compared with.
    public enum Baseline {
        /// The previous findings.json in the output directory, when this run writes a new one
        /// (otherwise the baseline would never move on). Missing is a first run; unusable is a
        /// warning, so one bad file cannot stop every nightly run after it.
        case previousRun
        /// This findings.json; it must exist and be one (a usage error otherwise).
        case file(String)
        /// No comparison.
        case none
    }

    public var source: Source
    public var configuration: AuditConfiguration
    public var inventory: Inventory?
    public var outputDirectory: URL
    public var formats: Set<ReportFormat>
    /// Nil when neither an HTML report nor a mail is wanted: a JSON-only job needs no templates.
    public var templatesDirectory: URL?
    public var baseline: Baseline
    /// Days of dated findings.json copies to keep in OUTPUT/history/; nil keeps no history.
    public var keepDays: Int?
    /// Nil sends no mail.
    public var mail: MailJob.Settings?
    /// Ages are computed from this time.
    public var now: Date
    /// How long to wait for another run writing to the output directory; 0 does not wait.
    public var waitLockSeconds: TimeInterval
    /// How the reports word a file this run did not write; a frontend passes its own terms.
    public var hints: ReportHints
    /// Which DCs a live audit reads; `.first` (the URI's) unless the frontend asks for more.
    public var domainControllers: DomainControllerSelection = .first
    /// A DC of the selection that cannot be read stops the run (nothing replaced) instead of
    /// being named in the report.
    public var requireAllDomainControllers = false
    /// A Global Catalog audit also reads each domain's computers from one DC of that domain, for
    /// what the Global Catalog does not hold (pwdLastSet), so stale-password judges the whole
    /// forest. Off, the Global Catalog alone is read (and stale-password says it cannot judge).
    public var readsPasswordsFromEachDomain = true
    /// How many findings the run holds before it writes them, sorted, to a temporary file in
    /// TMPDIR (`FindingStore`); nil holds them all in memory.
    public var findingsPerSpilledRun: Int? = FindingStore.findingsPerSpilledRun

    public init(
        source: Source, configuration: AuditConfiguration = AuditConfiguration(), inventory: Inventory? = nil,
        outputDirectory: URL, formats: Set<ReportFormat> = Set(ReportFormat.allCases), templatesDirectory: URL?,
        baseline: Baseline = .previousRun, keepDays: Int? = nil, mail: MailJob.Settings? = nil, now: Date = Date(),
        waitLockSeconds: TimeInterval = 0, hints: ReportHints = ReportHints()
    ) {
        self.source = source
        self.configuration = configuration
        self.inventory = inventory
        self.outputDirectory = outputDirectory
        self.formats = formats
        self.templatesDirectory = templatesDirectory
        self.baseline = baseline
        self.keepDays = keepDays
        self.mail = mail
        self.now = now
        self.waitLockSeconds = waitLockSeconds
        self.hints = hints
    }
}
