/// A report that could not be written, with the path involved and what to do about it.
///
/// Equality compares the code only, so tests can assert which failure happened without
/// depending on the operating system's wording.
public struct ReportError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// HTML was requested but no templates directory was given.
        case templatesRequired = "templates-required"
        /// The templates directory has no readable `report.html`.
        case templateUnreadable = "template-unreadable"
        /// The output directory is missing and cannot be created, or is not a directory.
        case outputDirectoryUnusable = "output-directory-unusable"
        /// A temporary report file could not be created or written.
        case writeFailed = "write-failed"
        /// A finished report could not be moved into place; the previous set was restored.
        case renameFailed = "rename-failed"
        /// Another run holds the output directory's lock (`OutputLock`); nothing was read or written.
        case outputLocked = "output-locked"
    }

    /// What to do next, in terms of a setting. Reporting does not know how a frontend spells its
    /// settings (a flag, a key in a file), so it names the setting and a frontend may say the same
    /// in its own words (`trustaudit` names its options).
    public enum Advice: String, Sendable {
        /// Name the folder that holds report.html as the templates directory.
        case nameTemplatesDirectory = "name-templates-directory"
        /// Give a templates directory, or leave HTML out of the formats.
        case giveTemplatesOrLeaveOutHTML = "give-templates-or-leave-out-html"
        /// The output directory setting names a file; name a directory.
        case nameOutputDirectory = "name-output-directory"
        /// The output directory cannot be created; check its parent, or choose another one.
        case checkOutputDirectoryParent = "check-output-directory-parent"
        /// The lock file cannot be made: the output directory is not writable.
        case makeOutputDirectoryWritable = "make-output-directory-writable"
        /// The file system cannot lock (some network shares): use an output directory on a local disk.
        case outputDirectoryOnLocalDisk = "output-directory-on-local-disk"
        /// Another run holds the output directory: wait for it (the lock wait setting) or write elsewhere.
        case waitForTheOtherRun = "wait-for-the-other-run"

        /// The advice in the settings' own words, for a frontend that has no wording of its own.
        public var text: String {
            switch self {
            case .nameTemplatesDirectory:
                "set the templates directory to the folder that holds \(ReportWriter.templateFileName) (the Templates folder of TrustAudit)"
            case .giveTemplatesOrLeaveOutHTML:
                "give a templates directory, or leave html out of the report formats"
            case .nameOutputDirectory: "set the output directory to a directory"
            case .checkOutputDirectoryParent:
                "check that its parent exists and is writable, or choose another output directory"
            case .makeOutputDirectoryWritable: "check that the output directory is writable, or choose another one"
            case .outputDirectoryOnLocalDisk: "choose an output directory on a local disk"
            case .waitForTheOtherRun:
                "let it finish, or set a lock wait (seconds) to wait for it, or choose another output directory"
            }
        }
    }

    public let code: Code
    /// The file or directory the failure concerns.
    public let path: String
    /// What went wrong and what to do next, in one sentence an admin can act on.
    public let reason: String
    /// What went wrong, without the advice; `reason` when the advice is part of it.
    public let problem: String
    /// What to do, when it is a setting to change; then `reason` is `problem; advice.text`.
    public let advice: Advice?

    public init(code: Code, path: String, reason: String) {
        self.code = code
        self.path = path
        self.reason = reason
        problem = reason
        advice = nil
    }

    /// A failure whose remedy is a setting: the frontend may word `advice` as its own option.
    public init(code: Code, path: String, problem: String, advice: Advice) {
        self.code = code
        self.path = path
        self.problem = problem
        self.advice = advice
        reason = "\(problem); \(advice.text)"
    }

    public var description: String { "\(path): \(reason)" }

    public static func == (lhs: ReportError, rhs: ReportError) -> Bool { lhs.code == rhs.code }
}
