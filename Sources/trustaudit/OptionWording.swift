import Reporting

/// The command line's words for the libraries' advice: a library names a setting ("the templates
/// directory"), the admin at a shell needs the option that sets it (`--templates DIR`). Every
/// library error printed by `trustaudit` goes through `describe(_:)`.
enum OptionWording {
    /// The error as the admin should read it, its advice in terms of the options.
    static func describe(_ error: any Error) -> String {
        if let error = error as? ReportError, let advice = error.advice {
            return "\(error.path): \(error.problem); \(words(for: advice))"
        }
        return "\(error)"
    }

    static func words(for advice: ReportError.Advice) -> String {
        switch advice {
        case .nameTemplatesDirectory:
            "pass --templates DIR naming the folder that holds \(ReportWriter.templateFileName) (the Templates folder of TrustAudit)"
        case .giveTemplatesOrLeaveOutHTML: "pass --templates DIR, or leave html out of --format"
        case .nameOutputDirectory: "pass --output DIR naming a directory"
        case .checkOutputDirectoryParent: "check that its parent exists and is writable, or pass --output DIR"
        }
    }
}
