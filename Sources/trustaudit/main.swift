import Foundation
import UntrustedInput

/// The process exit codes, documented in the README; scripts and cron wrappers depend on them.
enum ExitCode: Int32, CaseIterable {
    /// The audit ran, whatever it found.
    case success = 0
    /// Findings at or above `--fail-on` were found.
    case findingsAtThreshold = 1
    /// Bad command line, configuration, inventory or templates.
    case usage = 2
    /// The source (LDIF file or domain controller) could not be read.
    case sourceUnreadable = 3
    /// A report could not be written, or another run holds the output directory's lock; the previous
    /// reports are untouched.
    case reportNotWritten = 4
    /// The reports were written, but the `--mail-to` mail was not delivered.
    case mailNotDelivered = 5
}

let topLevelHelp = """
    trustaudit \(version): audits Active Directory computer accounts for the causes of
    "The trust relationship between this workstation and the primary domain failed".

    Usage:
      trustaudit audit --ldif FILE [options]     audit an LDIF export (ldapsearch or ldifde)
      trustaudit audit --uri ldaps://DC [options]  audit a domain controller live over LDAP
      trustaudit audit --help                    every audit option
      trustaudit --version

    Exit codes: 0 audit ran, 1 findings at or above --fail-on, 2 usage or configuration error,
    3 source could not be read, 4 a report could not be written or another run is writing to
    --output, 5 reports written but the mail was not delivered; 130, 143, 129 when stopped by
    SIGINT, SIGTERM, SIGHUP (the unfinished reports are removed).
    """

func run(_ arguments: [String]) -> ExitCode {
    guard let command = arguments.first else {
        printError(topLevelHelp)
        return .usage
    }
    switch command {
    case "--help", "-h", "help":
        print(topLevelHelp)
        return .success
    case "--version", "-V", "version":
        print("trustaudit \(version)")
        return .success
    case "audit":
        return AuditCommand.run(Array(arguments.dropFirst()))
    default:
        printError("trustaudit: unknown command '\(command)'. Commands: audit. See 'trustaudit --help'.")
        return .usage
    }
}

/// Writes one message to stderr. Every message goes through `TerminalText.neutralized`, so a control
/// character from the directory, a server or a file that was not escaped where it was put in still
/// cannot move the cursor, clear the screen or forge a line.
func printError(_ message: String) {
    StatusLine.shared.clear()
    var line = TerminalText.neutralized(message)
    if !line.hasSuffix("\n") { line += "\n" }
    FileHandle.standardError.write(Data(line.utf8))
}

/// `print` for output that carries directory text (the summary line), neutralized as `printError` is.
func printOutput(_ message: String) {
    StatusLine.shared.clear()
    print(TerminalText.neutralized(message))
}

/// `printOutput` for a line in pieces, coloured when `colour` is true (`TerminalPolicy.coloursOutput`);
/// each piece is neutralized before the colour goes around it.
func printOutput(_ pieces: [StyledText], colour: Bool) {
    StatusLine.shared.clear()
    print(StyledText.render(pieces, colour: colour))
}

exit(run(Array(CommandLine.arguments.dropFirst())).rawValue)
