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

    public let code: Code
    /// The file or directory the failure concerns.
    public let path: String
    /// What went wrong and what to do next, in one sentence an admin can act on.
    public let reason: String

    public init(code: Code, path: String, reason: String) {
        self.code = code
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }

    public static func == (lhs: ReportError, rhs: ReportError) -> Bool { lhs.code == rhs.code }
}
