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
/// so the previous set stays as it was. A crash between the renames can still leave a mixed set;
/// the hidden `.NAME.tmp-PID` and `.NAME.old-PID` files it leaves may be deleted.
public struct ReportWriter: Sendable {
    /// The template file looked for in the templates directory; partials sit beside it.
    public static let templateFileName = "report.html"

    /// Nil when the writer was made without templates; then only CSV and JSON can be written.
    public let template: Template?
    /// Adds a UTF-8 byte order mark to the CSV, for Excel users who open it by double-click.
    public var csvByteOrderMark = false

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
                code: .templateUnreadable, path: url.path,
                reason: "cannot read the HTML template; pass --templates DIR naming the folder that holds \(Self.templateFileName) (the Templates folder of TrustAudit)")
        }
        template = try Template(contentsOf: url)
    }

    /// Writes `formats` into `directory` (created if missing) and returns the files in json, csv, html order.
    public func write(_ result: AuditResult, formats: Set<ReportFormat>, to directory: URL) throws -> [URL] {
        let ordered = ReportFormat.allCases.filter(formats.contains)
        // Rendered before anything touches the disk: a template failure must leave no trace.
        var html: String?
        if formats.contains(.html) {
            guard let template else {
                throw ReportError(
                    code: .templatesRequired, path: directory.appendingPathComponent(ReportFormat.html.fileName).path,
                    reason: "the HTML report needs templates; pass --templates DIR, or leave html out of --format")
            }
            html = try HTMLReport.render(result, template: template, formats: formats)
        }

        try Self.prepare(directory)
        let pid = ProcessInfo.processInfo.processIdentifier
        var staged: [(temporary: URL, final: URL)] = []
        do {
            for format in ordered {
                let final = directory.appendingPathComponent(format.fileName)
                let temporary = directory.appendingPathComponent(".\(format.fileName).tmp-\(pid)")
                staged.append((temporary, final))
                try Self.writeFile(at: temporary, reportingAs: final, in: directory) { output in
                    switch format {
                    case .json: try FindingsJSON.write(result, to: output)
                    case .csv: try FindingsCSV.write(result.findings, to: output, byteOrderMark: csvByteOrderMark)
                    case .html: try output.write(html ?? "")
                    }
                }
            }
        } catch {
            for file in staged { unlink(file.temporary.path) }
            throw error
        }
        try Self.commit(staged, in: directory, pid: pid)
        return staged.map(\.final)
    }

    private static func prepare(_ directory: URL) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw ReportError(
                    code: .outputDirectoryUnusable, path: directory.path,
                    reason: "is a file, not a directory; pass --output DIR naming a directory")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ReportError(
                code: .outputDirectoryUnusable, path: directory.path,
                reason: "cannot create the output directory (\(error.localizedDescription)); check that its parent exists and is writable, or pass --output DIR")
        }
    }

    private static func writeFile(
        at temporary: URL, reportingAs final: URL, in directory: URL, _ body: (ReportOutput) throws -> Void
    ) throws {
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ReportError(
                code: .writeFailed, path: final.path,
                reason: "cannot create \(temporary.lastPathComponent) (\(String(cString: strerror(errno)))); check that \(directory.path) exists and is writable")
        }
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
                reason: "cannot write the report (\(error.localizedDescription)); check that \(directory.path) is writable and has free space")
        }
    }

    /// Renames every temporary into place; on the first failure, undoes the renames already made.
    private static func commit(_ staged: [(temporary: URL, final: URL)], in directory: URL, pid: Int32) throws {
        var committed: [(final: URL, backup: URL?)] = []
        func removeBackups() {
            for entry in committed { if let backup = entry.backup { unlink(backup.path) } }
        }
        for (index, file) in staged.enumerated() {
            // A hard link keeps the previous report reachable without copying it; where links are
            // not possible (some network shares), that file simply cannot be restored.
            let backup = directory.appendingPathComponent(".\(file.final.lastPathComponent).old-\(pid)")
            unlink(backup.path)
            let hasBackup = link(file.final.path, backup.path) == 0
            if rename(file.temporary.path, file.final.path) != 0 {
                let reason = String(cString: strerror(errno))
                if hasBackup { unlink(backup.path) }
                for entry in committed.reversed() {
                    if let previous = entry.backup {
                        rename(previous.path, entry.final.path)
                    } else {
                        unlink(entry.final.path)
                    }
                }
                for remaining in staged[index...] { unlink(remaining.temporary.path) }
                throw ReportError(
                    code: .renameFailed, path: file.final.path,
                    reason: "cannot replace the report (\(reason)); the previous reports were kept. Check that \(directory.path) is writable and that \(file.final.lastPathComponent) is a file, not a directory")
            }
            committed.append((file.final, hasBackup ? backup : nil))
        }
        removeBackups()
    }
}
