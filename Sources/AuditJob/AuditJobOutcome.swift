import Audit
import Foundation
import Reporting

/// Something a run says on its way, in order; a frontend prints it (the library never does).
public enum AuditJobEvent {
    /// A problem that does not stop the run; also listed in `AuditJobCompletion.warnings`.
    case warning(AuditJobWarning)
    /// The whole source was read (a live read's progress line can end now).
    case sourceRead
    /// The reports are in place (and the history kept, or warned about); only the mail follows,
    /// which may take minutes, so a frontend prints its summary now.
    case reportsWritten(AuditResult, written: [URL], changes: FindingChanges?)
}

/// A problem that does not stop the run.
public enum AuditJobWarning {
    /// The domain controller's clock is more than `AuditJob.kerberosClockSkewTolerance` seconds
    /// off this host's (positive: the DC is ahead); `source` is the DC as resolved.
    case clockSkew(source: String, seconds: Double)
    /// The previous findings.json could not be used, so this run is not compared with it.
    case baselineUnusable(any Error)
    /// `count` objects appeared more than once in `source` (each was audited once, as first read).
    case repeatedObjects(count: Int, source: String)
    /// The reports were written, but the history copy was not kept.
    case historyNotKept(any Error)
    /// `source` carries some audited attributes for no computer (`AuditSummary.attributesNotInExport`),
    /// so the rules that need them could not judge (`AuditSummary.unjudged`); `sentence` says so.
    case attributesNotInExport(source: String, sentence: String)
    /// A DC of a multi-DC audit could not be read (`reason` in the error's own words, untrusted:
    /// it can quote the DC's name); the audit went on with the others.
    case domainControllerNotRead(host: String, reason: String)
    /// The findings were to be written to a temporary file (`FindingStore.spillFailure`) and
    /// could not be: the reports are complete, but the run held every finding in memory.
    case findingsHeldInMemory(FindingSpillError)
}

/// Why nothing was written after the source was opened.
public enum AuditJobSourceFailure {
    /// The source (an LDIF file, a domain controller) could not be read to the end; `source` is
    /// as the admin named it.
    case unreadable(source: String, any Error)
    /// The read found entries but not one computer account: a wrong export or a wrong search base,
    /// not a clean domain (every domain has at least its DCs). Replacing the reports would mark
    /// every finding resolved and mail "no findings".
    case noComputerAccount(source: String, objectsRead: Int)
}

/// A run whose reports were written.
public struct AuditJobCompletion {
    public var result: AuditResult
    /// The files written, findings.json first, report.html last.
    public var written: [URL]
    /// The comparison with the baseline run; nil on a first run.
    public var changes: FindingChanges?
    /// Every warning of the run, in the order they were reported.
    public var warnings: [AuditJobWarning]
    /// What became of the mail; nil when none was asked for (or it was not delivered, see
    /// `AuditJobOutcome.mailNotDelivered`).
    public var mail: MailJob.Delivery?

    /// False when the reports were written but the history was not kept (`historyNotKept`).
    public var historyKept: Bool {
        !warnings.contains {
            if case .historyNotKept = $0 { return true }
            return false
        }
    }
}

/// How a run ended. A frontend maps it to its exit code and its text; each case says what is
/// left on disk.
public enum AuditJobOutcome {
    /// The reports were written, and mailed when asked.
    case completed(AuditJobCompletion)
    /// A template or the baseline cannot be used; nothing was read or written.
    case usage(any Error)
    /// The source could not be read, or held no computer account; nothing was written and the
    /// previous reports are unchanged.
    case sourceUnreadable(AuditJobSourceFailure)
    /// A report could not be written (the output directory is unusable, the disk is full, a rename
    /// failed); the previous reports are unchanged.
    case reportNotWritten(any Error)
    /// The reports were written, but the mail was not delivered; the reports stay in place.
    case mailNotDelivered(AuditJobCompletion, any Error)
    /// The output directory's lock was not taken: another run holds it (`output-locked`), or the
    /// lock file cannot be made (`output-directory-unusable`). Nothing was read or written.
    case outputLocked(any Error)
}
