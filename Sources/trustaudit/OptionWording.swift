import LDAPClient
import Reporting

/// The command line's words for the libraries' advice: a library names a setting ("the templates
/// directory", "the CA file"), the admin at a shell needs the option that sets it (`--templates
/// DIR`, `--ca-file`). Every library error printed by `trustaudit` goes through `describe(_:)`.
enum OptionWording {
    /// The error as the admin should read it, its advice in terms of the options.
    static func describe(_ error: any Error) -> String {
        if let error = error as? ReportError, let advice = error.advice {
            return "\(error.path): \(error.problem); \(words(for: advice))"
        }
        if let error = error as? LDAPError {
            return error.description(naming: option(for:))
        }
        return "\(error)"
    }

    /// The option that sets an LDAP connection setting, as the advice names it.
    static func option(for setting: LDAPSetting) -> String {
        switch setting {
        case .caFile: "--ca-file"
        case .networkTimeout: "--network-timeout"
        case .operationTimeout: "--timeout"
        case .base: "--base"
        case .startTLS: "--starttls"
        case .gssapiBind: "--sasl gssapi"
        }
    }

    static func words(for advice: ReportError.Advice) -> String {
        switch advice {
        case .nameTemplatesDirectory:
            "pass --templates DIR naming the folder that holds \(ReportWriter.templateFileName) (the Templates folder of TrustAudit)"
        case .giveTemplatesOrLeaveOutHTML: "pass --templates DIR, or leave html out of --format"
        case .nameOutputDirectory: "pass --output DIR naming a directory"
        case .checkOutputDirectoryParent: "check that its parent exists and is writable, or pass --output DIR"
        case .makeOutputDirectoryWritable: "check that the directory is writable, or pass --output DIR"
        case .outputDirectoryOnLocalDisk: "pass --output DIR on a local disk"
        case .waitForTheOtherRun: "let it finish, or pass --wait-lock SECONDS to wait for it, or another --output DIR"
        }
    }
}
