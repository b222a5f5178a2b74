import Audit
import Directory
import Foundation
import LDAPSource
import Reporting

/// One audit run from start to finish: the order of its steps and the invariants they keep, for
/// any frontend (the command line, a service, a test).
///
/// The order is the point. One run at a time per output directory, before anything in it is read
/// or written; what dead runs left there is removed. Everything that can be checked before the
/// source is read is checked first (templates, the baseline, the output directory), so a typo does
/// not surface after a ten-minute domain read. The baseline is read before it is replaced.
/// computers.csv is streamed while the audit runs and committed with the other reports, or
/// discarded. A read with no computer account replaces nothing. The history comes after the
/// reports, the mail last, from the files just written; a mail that does not go out leaves them.
///
/// The job never prints: it reports `AuditJobEvent`s as they happen and returns an
/// `AuditJobOutcome`. Stopping by a signal is the process's business (a handler is process-wide):
/// the frontend installs it before `run` and removes `temporaries` from it.
public struct AuditJob {
    /// A domain controller whose clock is further off than this (seconds) is warned about:
    /// Kerberos refuses tickets beyond five minutes of skew.
    public static let kerberosClockSkewTolerance: Double = AuditContext.clockToleranceSeconds

    /// Every temporary a run creates is registered here before it exists, so a signal handler can
    /// remove them (`TemporaryFiles.removeAllForExit()`).
    public static var temporaries: TemporaryFiles { TemporaryFiles.shared }

    public var settings: AuditJobSettings

    public init(_ settings: AuditJobSettings) {
        self.settings = settings
    }

    /// Runs the audit; `report` hears every event in order, on the calling thread.
    public func run(_ report: (AuditJobEvent) -> Void = { _ in }) -> AuditJobOutcome {
        var warnings: [AuditJobWarning] = []
        func warn(_ warning: AuditJobWarning) {
            warnings.append(warning)
            report(.warning(warning))
        }
        let output = settings.outputDirectory

        let outputLock: OutputLock
        do {
            outputLock = try OutputLock.acquire(output, waitingUpTo: settings.waitLockSeconds)
        } catch {
            return .outputLocked(error)
        }
        defer { outputLock.release() }
        ReportWriter.removeStaleTemporaries(in: output)

        var writer: ReportWriter
        do {
            writer = try ReportWriter(templatesDirectory: settings.templatesDirectory)
        } catch {
            return .usage(error)
        }
        writer.hints = settings.hints

        // Checked now, so a bad baseline stops the run before a long read; read once the source has
        // been, so the previous findings do not add to the read's peak memory.
        let baselinePath: String?
        do {
            baselinePath = try checkBaseline(warn)
        } catch {
            return .usage(error)
        }

        var computers: StreamedReport?
        if settings.formats.contains(.csv) {
            do {
                computers = try writer.beginStreamedReport(named: ComputersCSV.fileName, in: output)
            } catch {
                return .reportNotWritten(error)
            }
        }
        let perDomainController = settings.domainControllers != .first
        let computerSink = computers.map {
            ComputersCSV.sink(
                writingTo: $0, byteOrderMark: writer.csvByteOrderMark, perDomainController: perDomainController)
        }

        let result: AuditResult
        do {
            result = try read(computerSink: computerSink, warn)
            report(.sourceRead)
        } catch {
            computers?.discard()
            return .sourceUnreadable(.unreadable(source: settings.source.description, error))
        }
        guard result.summary.computers > 0 else {
            computers?.discard()
            return .sourceUnreadable(
                .noComputerAccount(source: settings.source.description, objectsRead: result.summary.objectsRead))
        }
        if result.summary.repeatedObjects > 0 {
            warn(.repeatedObjects(count: result.summary.repeatedObjects, source: settings.source.description))
        }
        if let failure = result.findingStore.spillFailure { warn(.findingsHeldInMemory(failure)) }
        if let sentence = HTMLReport.notInExport(result.summary) {
            warn(.attributesNotInExport(source: settings.source.description, sentence: sentence))
        }
        let baseline: Baseline?
        do {
            baseline = try loadBaseline(baselinePath, rules: result.registry, warn)
        } catch {
            computers?.discard()
            return .usage(error)
        }
        let changes = baseline.map { FindingChanges(result: result, baseline: $0) }
        // The nights kept so far and this one, for the chart in report.html and the mail; read
        // before this run's copy is kept, which it then joins.
        var trend: ReportTrend?
        if let keepDays = settings.keepDays, settings.formats.contains(.html) || settings.mail != nil {
            trend = ReportTrend.load(
                historyIn: output, current: result.summary, keepDays: keepDays, rules: result.registry)
        }

        let written: [URL]
        do {
            written = try writer.write(
                result, formats: settings.formats, to: output, changes: changes, trend: trend,
                streamed: computers.map { [$0] } ?? [])
        } catch {
            return .reportNotWritten(error)
        }

        // A history that cannot be kept is a warning: the reports are written, the mail still goes.
        if let keepDays = settings.keepDays {
            do {
                try ReportHistory.keep(
                    output.appendingPathComponent(ReportFormat.json.fileName),
                    generatedAt: result.summary.generatedAt, in: output, keepDays: keepDays)
            } catch {
                warn(.historyNotKept(error))
            }
        }
        report(.reportsWritten(result, written: written, changes: changes))

        var completion = AuditJobCompletion(
            result: result, written: written, changes: changes, warnings: warnings, mail: nil)
        if let mail = settings.mail {
            do {
                completion.mail = try MailJob.deliver(
                    mail, result: result, changes: changes, written: written, outputDirectory: output,
                    template: writer.template, formats: settings.formats, trend: trend, hints: settings.hints)
            } catch {
                return .mailNotDelivered(completion, error)
            }
        }
        return .completed(completion)
    }

    /// The findings.json to compare with (see `AuditJobSettings.Baseline`), checked; nil for none.
    /// A named baseline that cannot be used throws; the previous run's is a warning and no comparison.
    func checkBaseline(_ warn: (AuditJobWarning) -> Void) throws -> String? {
        switch settings.baseline {
        case .none:
            return nil
        case .file(let path):
            try Baseline.check(path)
            return path
        case .previousRun:
            guard settings.formats.contains(.json) else { return nil }
            let previous = settings.outputDirectory.appendingPathComponent(ReportFormat.json.fileName).path
            do {
                try Baseline.check(previous)
                return previous
            } catch let error as BaselineError where error.code == .missing {
                return nil
            } catch {
                warn(.baselineUnusable(error))
                return nil
            }
        }
    }

    /// The baseline `checkBaseline` chose, read whole; its errors as `checkBaseline` treats them.
    func loadBaseline(_ path: String?, rules: [any Rule.Type], _ warn: (AuditJobWarning) -> Void) throws -> Baseline? {
        guard let path else { return nil }
        do {
            return try Baseline.load(from: path, rules: rules)
        } catch {
            guard case .previousRun = settings.baseline else { throw error }
            warn(.baselineUnusable(error))
            return nil
        }
    }

    /// Streams the whole source through the rules. A live source is connected and bound first,
    /// so a wrong password or an untrusted certificate is reported at once and names the DC.
    func read(computerSink: ComputerFactsSink?, _ warn: (AuditJobWarning) -> Void) throws -> AuditResult {
        if case .ldap(let ldapSettings) = settings.source, settings.domainControllers != .first {
            return try readDomainControllers(ldapSettings, computerSink: computerSink, warn)
        }
        if case .ldap(let ldapSettings) = settings.source, ldapSettings.searchesGlobalCatalog,
            settings.readsPasswordsFromEachDomain
        {
            return try readForest(ldapSettings, computerSink: computerSink, warn)
        }
        let source: any DirectorySource =
            switch settings.source {
            case .ldif(let reader): reader
            case .ldap(let ldapSettings): LDAPDirectorySource(settings: ldapSettings)
            }
        // What the source says about itself (a live one connects and binds here), not a switch on its kind.
        let metadata = try source.readMetadata()
        var runner = AuditRunner(
            configuration: settings.configuration, now: settings.now, source: metadata.name,
            inventory: settings.inventory, domain: metadata.domain,
            domainController: metadata.domainControllerHostName, computerSink: computerSink,
            spillFindingsAfter: settings.findingsPerSpilledRun)
        if let time = metadata.currentTime {
            let skew = time.timeIntervalSince(Date())
            runner.recordClockSkew(seconds: skew)
            if abs(skew) > Self.kerberosClockSkewTolerance {
                warn(.clockSkew(source: metadata.name, seconds: skew))
            }
        }
        try source.forEachEntry { entry in runner.add(entry) }
        let deletedObjects = try readDeletedObjects(from: source, into: &runner)
        var result = runner.finish()
        result.summary.deletedObjects =
            deletedObjects ?? (result.summary.deletedComputers > 0 ? .visible(recycleBin: nil) : .notRequested)
        return result
    }

    /// With `LDAPSourceSettings.readsDeletedObjects`, the deleted computers of a live source, through
    /// the same runner (which hands them to the collecting rules only), and what could be seen of
    /// them. Nil for an export: its deleted objects came with the other entries, and it is visible
    /// when it holds any.
    ///
    /// `origin`: in a several-source run, the index of the source the deleted objects are that
    /// source's view of; nil for a single-source run.
    func readDeletedObjects(
        from source: any DirectorySource, into runner: inout AuditRunner, origin: Int? = nil
    ) throws -> DeletedObjectsVisibility? {
        guard let live = source as? LDAPDirectorySource else { return nil }
        guard live.settings.readsDeletedObjects else { return .notRequested }
        let read = try live.readDeletedObjects { entry in
            if let origin { runner.add(entry, origin: origin) } else { runner.add(entry) }
        }
        if let reason = read.notVisibleReason { return .notVisible(reason: reason) }
        runner.recordRecycleBin(enabled: read.recycleBin)
        return .visible(recycleBin: read.recycleBin)
    }
}
