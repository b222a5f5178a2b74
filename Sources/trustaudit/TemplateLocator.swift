import CommandLineOptions
import Foundation

/// Finds the HTML templates: the ones a user edits live beside the checkout or the installed
/// binary, so look where they would be.
enum TemplateLocator {
    /// `--templates DIR` when given (it must hold report.html), else `$TRUSTAUDIT_TEMPLATES`,
    /// ./Templates, the installed copy, or the checkout a `swift build` binary sits in.
    static func find(_ explicit: String?) throws -> URL {
        let fileManager = FileManager.default
        func isTemplates(_ url: URL) -> Bool {
            fileManager.fileExists(atPath: url.appendingPathComponent("report.html").path)
        }
        if let explicit {
            let url = URL(fileURLWithPath: explicit, isDirectory: true)
            guard isTemplates(url) else {
                throw UsageError(message: "\(AuditCommand.name): --templates \(explicit) has no report.html.")
            }
            return url
        }
        var candidates: [URL] = []
        if let fromEnvironment = ProcessInfo.processInfo.environment["TRUSTAUDIT_TEMPLATES"] {
            candidates.append(URL(fileURLWithPath: fromEnvironment, isDirectory: true))
        }
        candidates.append(URL(fileURLWithPath: "Templates", isDirectory: true))
        let executable = executableURL().deletingLastPathComponent()
        candidates.append(executable.appendingPathComponent("../share/trustaudit/Templates").standardizedFileURL)
        // A `swift build` binary lives in .build/<config>/ (or .build/<triple>/<config>/) under the checkout.
        for up in ["../..", "../../.."] {
            candidates.append(executable.appendingPathComponent(up + "/Templates").standardizedFileURL)
        }
        guard let found = candidates.first(where: isTemplates) else {
            throw UsageError(
                message:
                    "\(AuditCommand.name): cannot find the report templates (looked in \(candidates.map(\.path).joined(separator: ", "))); pass --templates DIR."
            )
        }
        return found
    }

    /// The running binary, symlinks resolved. Not argv[0]: run from cron through PATH it is a bare
    /// `trustaudit`, which names nothing in the working directory.
    static func executableURL() -> URL {
        #if os(Linux)
            if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
                return URL(fileURLWithPath: path)
            }
        #endif
        return (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])).resolvingSymlinksInPath()
    }
}
