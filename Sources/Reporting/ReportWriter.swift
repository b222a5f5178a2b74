import Audit
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes the requested reports into one directory, all or nothing.
///
/// Reports are read by people and by scripts that compare runs, so a half-written set (a new JSON
/// beside last week's HTML, or a truncated CSV after a full disk) is worse than none. Every file is
/// first written to a hidden temporary name in the output directory (same file system, so the final
/// `rename(2)` is atomic), and only when all are complete are they renamed into place. If a rename
/// fails half-way, the files already replaced are put back from hard-link backups taken just before,
/// so the previous set stays as it was. Every temporary and backup is registered in `TemporaryFiles`,
/// so a run stopped by a signal removes them, and the renames hold its lock, so a signal waits for
/// them. Only a crash (SIGKILL, power loss) between the renames can still leave a mixed set; the
/// hidden `.NAME.tmp-PID` and `.NAME.old-PID` files a dead run leaves are removed by the next run
/// (`removeStaleTemporaries(in:)`).
public struct ReportWriter: Sendable {
    /// The template file looked for in the templates directory; partials sit beside it.
    public static let templateFileName = "report.html"

    /// Nil when the writer was made without templates; then only CSV and JSON can be written.
    public let template: Template?
    /// Adds a UTF-8 byte order mark to the CSV, for Excel users who open it by double-click.
    public var csvByteOrderMark = false
    /// How the HTML words a file this run did not write; a frontend passes its own.
    public var hints = ReportHints()
    /// Where the temporaries are registered; tests give a writer its own registry.
    var temporaries = TemporaryFiles.shared

    /// Loads and checks the HTML templates now, so a template error surfaces before a long audit.
    /// Pass nil when no HTML will be written.
    public init(templatesDirectory: URL?) throws {
        guard let templatesDirectory else {
            template = nil
            return
        }
        let url = templatesDirectory.appendingPathComponent(Self.templateFileName)
        guard FileManager.default.isReadableFile(atPath: url.path) else {
            throw ReportError(
                code: .templateUnreadable, path: url.path, problem: "cannot read the HTML template",
                advice: .nameTemplatesDirectory)
        }
        template = try Template(contentsOf: url)
    }

    /// Writes `formats` into `directory` (created if missing) and returns the files in the order
    /// findings.json; findings.csv, one `<rule>.csv` per rule that ran, the `streamed` reports; report.html.
    ///
    /// - Parameters:
    ///   - changes: the comparison with a baseline run, shown in every report; nil on a first run.
    ///   - trend: the kept nights, charted in report.html; nil without a history of two nights.
    ///   - streamed: reports already written during the audit (`beginStreamedReport`), committed with
    ///     the others, all or nothing; on failure their temporaries are removed too.
    public func write(
        _ result: AuditResult, formats: Set<ReportFormat>, to directory: URL, changes: FindingChanges? = nil,
        trend: ReportTrend? = nil, streamed: [StreamedReport] = []
    ) throws -> [URL] {
        let pid = ProcessInfo.processInfo.processIdentifier
        let temporaries = self.temporaries
        let hints = self.hints
        var staged: [(temporary: URL, final: URL)] = []
        func discardAll() {
            for file in staged { temporaries.remove(file.temporary.path) }
            for report in streamed { report.discard() }
        }
        if formats.contains(.html) && template == nil {
            discardAll()
            throw ReportError(
                code: .templatesRequired, path: directory.appendingPathComponent(ReportFormat.html.fileName).path,
                problem: "the HTML report needs templates", advice: .giveTemplatesOrLeaveOutHTML)
        }

        var files: [(name: String, body: (ReportOutput) throws -> Void)] = []
        if formats.contains(.json) {
            files.append((ReportFormat.json.fileName, { try FindingsJSON.write(result, changes: changes, to: $0) }))
        }
        if formats.contains(.csv) {
            let bom = csvByteOrderMark
            files.append(
                (
                    FindingsCSV.fileName,
                    { output in
                        try FindingsCSV.write(result.findingStore, changes: changes, to: output, byteOrderMark: bom)
                    }
                ))
            for rule in result.rules {
                guard let name = RuleCSV.fileName(for: rule.id) else { continue }
                if streamed.contains(where: { $0.fileName == name }) { continue }
                files.append(
                    (
                        name,
                        { output in
                            try RuleCSV.write(
                                rule: rule.id, findings: result.findingStore, changes: changes, to: output,
                                byteOrderMark: bom, rules: result.registry)
                        }
                    ))
            }
        }

        // The reports are independent, so they are rendered side by side: the HTML, findings.json,
        // and the CSVs. A template failure must leave no trace, so when the directory does not exist
        // yet the HTML is rendered first, before anything touches the disk; otherwise a failure
        // removes the temporaries already written, as any other failure does.
        let work = ParallelReports(files: files)
        let renderHTMLFirst = formats.contains(.html) && !FileManager.default.fileExists(atPath: directory.path)
        if renderHTMLFirst, let template {
            do {
                work.html = try HTMLReport.render(
                    result, template: template, formats: formats, changes: changes, trend: trend, hints: hints)
            } catch {
                discardAll()
                throw error
            }
        }
        do {
            try Self.prepare(directory)
        } catch {
            discardAll()
            throw error
        }
        for file in files {
            let final = directory.appendingPathComponent(file.name)
            staged.append((directory.appendingPathComponent(".\(file.name).tmp-\(pid)"), final))
        }
        let stagedFiles = staged
        // Task 0: the HTML (unless already rendered); task 1: findings.json; task 2: the CSVs, in order.
        let jsonCount = formats.contains(.json) ? 1 : 0
        let renderHTML = formats.contains(.html) && !renderHTMLFirst
        DispatchQueue.concurrentPerform(iterations: 3) { task in
            switch task {
            case 0:
                guard renderHTML, let template else { return }
                do {
                    work.html = try HTMLReport.render(
                        result, template: template, formats: formats, changes: changes, trend: trend, hints: hints)
                } catch {
                    work.htmlError = error
                }
            case 1:
                for index in 0..<jsonCount {
                    work.write(index, staged: stagedFiles[index], in: directory, registry: temporaries)
                }
            default:
                for index in jsonCount..<work.files.count {
                    work.write(index, staged: stagedFiles[index], in: directory, registry: temporaries)
                }
            }
        }
        do {
            if let error = work.htmlError { throw error }
            if let error = work.errors.compactMap({ $0 }).first { throw error }
            for report in streamed {
                precondition(
                    report.directory.standardizedFileURL.path == directory.standardizedFileURL.path,
                    "a streamed report is committed into the directory it was begun in (rename(2) cannot cross file systems)"
                )
                try report.close()
                staged.append((report.temporary, directory.appendingPathComponent(report.fileName)))
            }
            if let html = work.html {
                let final = directory.appendingPathComponent(ReportFormat.html.fileName)
                let temporary = directory.appendingPathComponent(".\(ReportFormat.html.fileName).tmp-\(pid)")
                staged.append((temporary, final))
                try Self.writeFile(at: temporary, reportingAs: final, in: directory, registry: temporaries) {
                    try $0.write(html)
                }
            }
        } catch {
            discardAll()
            throw error
        }
        for report in streamed { report.markCommitting() }
        try Self.commit(staged, in: directory, pid: pid, registry: temporaries)
        return staged.map(\.final)
    }

    /// Opens a report to be written while the audit runs (computers.csv), as a hidden temporary in
    /// `directory` (created if missing); pass it to `write(_:formats:to:changes:streamed:)` to commit it
    /// with the others, or `discard()` it. Fails now, before the audit, if the directory is unusable.
    public func beginStreamedReport(named fileName: String, in directory: URL) throws -> StreamedReport {
        try Self.prepare(directory)
        let final = directory.appendingPathComponent(fileName)
        let pid = ProcessInfo.processInfo.processIdentifier
        let temporary = directory.appendingPathComponent(".\(fileName).tmp-\(pid)")
        let descriptor = try Self.openTemporary(temporary, reportingAs: final, in: directory, registry: temporaries)
        return StreamedReport(
            fileName: fileName, directory: directory, temporary: temporary, descriptor: descriptor,
            registry: temporaries)
    }

    /// Shared by the tasks of one `write`: each task touches only its own slots.
    private final class ParallelReports: @unchecked Sendable {
        let files: [(name: String, body: (ReportOutput) throws -> Void)]
        /// One slot per file, so tasks never write to the same storage.
        private let slots: [ErrorSlot]
        var html: String?
        var htmlError: Error?

        final class ErrorSlot: @unchecked Sendable { var error: Error? }

        init(files: [(name: String, body: (ReportOutput) throws -> Void)]) {
            self.files = files
            slots = files.map { _ in ErrorSlot() }
        }

        var errors: [Error?] { slots.map(\.error) }

        func write(_ index: Int, staged: (temporary: URL, final: URL), in directory: URL, registry: TemporaryFiles) {
            do {
                try ReportWriter.writeFile(
                    at: staged.temporary, reportingAs: staged.final, in: directory, registry: registry,
                    files[index].body)
            } catch {
                slots[index].error = error
            }
        }
    }

    static func prepare(_ directory: URL) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw ReportError(
                    code: .outputDirectoryUnusable, path: directory.path,
                    problem: "is a file, not a directory", advice: .nameOutputDirectory)
            }
            return
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ReportError(
                code: .outputDirectoryUnusable, path: directory.path,
                problem: "cannot create the output directory (\(error.localizedDescription))",
                advice: .checkOutputDirectoryParent)
        }
    }

    /// Creates (or truncates) `temporary` for writing, registered in `registry` before it exists.
    static func openTemporary(
        _ temporary: URL, reportingAs final: URL, in directory: URL, registry: TemporaryFiles
    ) throws -> Int32 {
        let (descriptor, reason) = registry.create(temporary.path) {
            let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            let reason = descriptor < 0 ? String(cString: strerror(errno)) : ""
            return (descriptor >= 0, (descriptor, reason))
        }
        guard descriptor >= 0 else {
            throw ReportError(
                code: .writeFailed, path: final.path,
                reason:
                    "cannot create \(temporary.lastPathComponent) (\(reason)); check that \(directory.path) exists and is writable"
            )
        }
        return descriptor
    }

    fileprivate static func writeFile(
        at temporary: URL, reportingAs final: URL, in directory: URL, registry: TemporaryFiles,
        _ body: (ReportOutput) throws -> Void
    ) throws {
        let descriptor = try openTemporary(temporary, reportingAs: final, in: directory, registry: registry)
        // The handle owns the descriptor from here and closes it on every path.
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do {
            let output = ReportOutput(fileHandle: handle)
            try body(output)
            try output.flush()
            try handle.close()
        } catch let error as TemplateError {
            throw error
        } catch {
            throw ReportError(
                code: .writeFailed, path: final.path,
                reason:
                    "cannot write the report (\(error.localizedDescription)); check that \(directory.path) is writable and has free space"
            )
        }
    }

    /// Renames every temporary into place; on the first failure, undoes the renames already made.
    /// Holds the registry's lock throughout, so a signal arriving now is handled after the last rename
    /// (or the undo), never between two.
    private static func commit(
        _ staged: [(temporary: URL, final: URL)], in directory: URL, pid: Int32, registry: TemporaryFiles
    ) throws {
        try registry.withCommitLock { try commitLocked(staged, in: directory, pid: pid, registry: registry) }
    }

    private static func commitLocked(
        _ staged: [(temporary: URL, final: URL)], in directory: URL, pid: Int32, registry: TemporaryFiles
    ) throws {
        var committed: [(final: URL, backup: URL?)] = []
        func removeBackups() {
            for entry in committed { if let backup = entry.backup { registry.remove(backup.path) } }
        }
        for (index, file) in staged.enumerated() {
            // A hard link keeps the previous report reachable without copying it; where links are
            // not possible (some network shares), that file simply cannot be restored.
            let backup = directory.appendingPathComponent(".\(file.final.lastPathComponent).old-\(pid)")
            unlink(backup.path)
            let hasBackup = registry.create(backup.path) {
                let linked = link(file.final.path, backup.path) == 0
                return (linked, linked)
            }
            if rename(file.temporary.path, file.final.path) != 0 {
                let reason = String(cString: strerror(errno))
                if hasBackup { registry.remove(backup.path) }
                for entry in committed.reversed() {
                    if let previous = entry.backup {
                        rename(previous.path, entry.final.path)
                        registry.unregister(previous.path)
                    } else {
                        unlink(entry.final.path)
                    }
                }
                for remaining in staged[index...] { registry.remove(remaining.temporary.path) }
                throw ReportError(
                    code: .renameFailed, path: file.final.path,
                    reason:
                        "cannot replace the report (\(reason)); the previous reports were kept. Check that \(directory.path) is writable and that \(file.final.lastPathComponent) is a file, not a directory"
                )
            }
            registry.unregister(file.temporary.path)
            committed.append((file.final, hasBackup ? backup : nil))
        }
        removeBackups()
    }
}

/// A report written while the audit runs, to a hidden temporary beside the final file.
///
/// Writes never throw (the runner's sink cannot): the first failure is kept, later writes are
/// dropped, and `ReportWriter.write` throws it when it commits the report. Whoever does not commit
/// it calls `discard()`; if neither happens, `deinit` removes the temporary.
/// Not `Sendable`: written from the one thread that feeds the runner.
public final class StreamedReport {
    /// The final name inside the output directory (`computers.csv`).
    public let fileName: String
    let directory: URL
    let temporary: URL
    /// Where `temporary` is registered; it is forgotten there once renamed or removed.
    let registry: TemporaryFiles
    /// Owns the descriptor; closed by `close()`, `discard()` or deinit.
    private let handle: FileHandle
    private let output: ReportOutput
    private var failure: Error?
    private var isClosed = false
    private var isFinished = false

    init(fileName: String, directory: URL, temporary: URL, descriptor: Int32, registry: TemporaryFiles) {
        self.fileName = fileName
        self.directory = directory
        self.temporary = temporary
        self.registry = registry
        handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        output = ReportOutput(fileHandle: handle)
    }

    deinit {
        if !isFinished { registry.remove(temporary.path) }
    }

    public func write(_ text: String) {
        guard failure == nil, !isClosed else { return }
        do { try output.write(text) } catch { failure = error }
    }

    public func write(bytes: [UInt8]) {
        guard failure == nil, !isClosed else { return }
        do { try output.write(bytes: bytes) } catch { failure = error }
    }

    /// One CSV record, written without building it as a String.
    func writeCSVRow(_ fields: [String]) {
        guard failure == nil, !isClosed else { return }
        do { try output.writeCSVRow(fields) } catch { failure = error }
    }

    /// Flushes and closes the file; throws the first write failure.
    func close() throws {
        if !isClosed {
            isClosed = true
            if failure == nil {
                do { try output.flush() } catch { failure = error }
            }
            do { try handle.close() } catch { if failure == nil { failure = error } }
        }
        if let failure {
            throw ReportError(
                code: .writeFailed, path: directory.appendingPathComponent(fileName).path,
                reason:
                    "cannot write the report (\(failure.localizedDescription)); check that \(directory.path) is writable and has free space"
            )
        }
    }

    /// The writer now owns the temporary: it renames it into place or removes it.
    func markCommitting() { isFinished = true }

    /// Closes and removes the temporary; for a run that failed before its reports were written.
    public func discard() {
        if !isClosed {
            isClosed = true
            try? handle.close()
        }
        if !isFinished {
            isFinished = true
            registry.remove(temporary.path)
        }
    }
}
