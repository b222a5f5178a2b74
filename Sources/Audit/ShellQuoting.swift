import UntrustedInput

/// Quoting of directory text for the three shells fix commands are written for.
///
/// Every name in a fix command came from the directory, and anyone allowed to create a computer
/// account (ms-DS-MachineAccountQuota) chooses its sAMAccountName, cn and SPNs: `$(iex(irm x))$` is a
/// legal sAMAccountName. The admin pastes these commands into an elevated shell, so each value must
/// reach the command as exactly one inert argument, equal to the value. Where a shell cannot promise
/// that, the functions return nil and the caller offers no command for that shell and says why.
///
/// No shell here can safely take a C0 or C1 control character (a line break ends the command and
/// starts another in every one of them; NUL truncates), the line and paragraph separators, or a
/// bidirectional control, which would make the command read differently from what it runs (the
/// "Trojan Source" set): `TerminalText.isUnsafe` is that set, and such a value is never quoted.
enum Shell: Sendable {
    case powerShell
    case commandPrompt
    case posix

    /// The shell's name as messages give it.
    var name: String {
        switch self {
        case .powerShell: return "PowerShell"
        case .commandPrompt: return "cmd.exe"
        case .posix: return "sh"
        }
    }

    /// `value` as one argument for this shell, bare when that is safe; nil when it cannot be written safely.
    func argument(_ value: String) -> String? {
        switch self {
        case .powerShell: return PowerShell.argument(value)
        case .commandPrompt: return CommandPrompt.argument(value)
        case .posix: return POSIXShell.argument(value)
        }
    }

    /// `value` always quoted for this shell; nil when it cannot be written safely.
    func quoted(_ value: String) -> String? {
        switch self {
        case .powerShell: return PowerShell.quoted(value)
        case .commandPrompt: return CommandPrompt.quoted(value)
        case .posix: return POSIXShell.quoted(value)
        }
    }

    /// Why `value` cannot be written for this shell ("a line break", "`%`"); nil when it can.
    func problem(with value: String) -> String? {
        if let problem = ShellQuoting.controlProblem(value) { return problem }
        guard self == .commandPrompt else { return nil }
        return CommandPrompt.problem(with: value)
    }
}

/// What the three shells share: the characters none of them can quote.
enum ShellQuoting {
    /// A line break, another control character or a bidirectional control in `value`, named; nil if none.
    static func controlProblem(_ value: String) -> String? {
        for scalar in value.unicodeScalars where TerminalText.isUnsafe(scalar) {
            switch scalar {
            case "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}": return "a line break"
            case "\0": return "a NUL character"
            case "\u{61C}", "\u{200E}", "\u{200F}", "\u{202A}"..."\u{202E}", "\u{2066}"..."\u{2069}":
                return "a bidirectional control character"
            default: return "a control character"
            }
        }
        return nil
    }

    /// True when every byte of `value` is in the set `allowed` accepts and the value is not empty.
    static func isPlain(_ value: String, _ allowed: (UInt8) -> Bool) -> Bool {
        !value.isEmpty && value.utf8.allSatisfy(allowed)
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }
}

/// PowerShell: a single-quoted string is the only literal with no expansion at all.
///
/// PowerShell ends a single-quoted string at any of five characters, not one: `'` and U+2018, U+2019,
/// U+201A, U+201B (its tokenizer's `IsSingleQuote`). Inside the string, two of them in a row stand for
/// the second, so each is doubled; nothing else is special there (`$`, backtick and `"` are literal).
enum PowerShell {
    /// The five characters PowerShell reads as a single quote.
    static let singleQuotes: Set<Character> = ["'", "\u{2018}", "\u{2019}", "\u{201A}", "\u{201B}"]

    /// `value` as a single-quoted literal; nil when it holds a character no quoting makes safe.
    static func quoted(_ value: String) -> String? {
        guard ShellQuoting.controlProblem(value) == nil else { return nil }
        // ASCII without `'` holds none of the five: the common case copies nothing.
        if value.utf8.allSatisfy({ $0 < 0x80 && $0 != UInt8(ascii: "'") }) { return "'" + value + "'" }
        var result = "'"
        result.reserveCapacity(value.utf8.count + 4)
        for character in value {
            result.append(character)
            if singleQuotes.contains(character) { result.append(character) }
        }
        return result + "'"
    }

    /// `value` bare when PowerShell's argument mode reads it as that very string, else single-quoted.
    ///
    /// Bare means ASCII letters, digits, `.`, `-` and `_`, starting with a letter: a word that starts with
    /// a digit may be a number (`1kb` is 1024, `0x10` is 16) and one starting with `-` a parameter, so
    /// those are quoted, except a dotted IPv4 address, which PowerShell cannot read as a number.
    static func argument(_ value: String) -> String? {
        if isBareWord(value) { return value }
        return quoted(value)
    }

    static func isBareWord(_ value: String) -> Bool {
        guard
            ShellQuoting.isPlain(
                value,
                {
                    ShellQuoting.isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
                        || $0 == UInt8(ascii: "_")
                }), let first = value.utf8.first
        else { return false }
        if (first >= 0x41 && first <= 0x5A) || (first >= 0x61 && first <= 0x7A) { return true }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                !part.isEmpty && part.count <= 3 && part.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
            }
    }
}

/// cmd.exe, and the C runtime's argument splitting of the program it starts (setspn, netdom).
///
/// Inside `"..."` cmd.exe leaves `& | < > ( ) ^` and spaces alone, which is all the quoting it has.
/// What it cannot quote, so a value holding it gets no cmd.exe command:
/// - `%`: `%PATH%` is expanded inside quotes too, and on the interactive command line no escape
///   for it exists (`^%` works outside quotes only, and `%%` only in batch files);
/// - `!`: expanded inside quotes when delayed expansion is on (`cmd /V:ON` or the DelayedExpansion
///   registry value), which the report cannot know;
/// - `"`: there is no escape for it inside quotes; it ends the quoted part, and what follows is
///   live again (`""` only happens to work for some programs' argument parsers, not for cmd.exe);
/// - the lookalikes Windows' "best fit" code-page mapping turns into `"`, `%` or `!` for programs
///   that read their command line in the ANSI code page (the "WorstFit" attack): fullwidth `＂ ％ ！`,
///   `“ ” „ ″ ʺ ˝ ˮ 〃`;
/// - control characters, as for every shell.
/// A quoted value's trailing backslashes are doubled: the C runtime reads `\"` as a literal quote.
enum CommandPrompt {
    /// The characters cmd.exe treats specially outside quotes (and space, tab, `,;=` which split
    /// arguments for cmd's own commands); a value holding one is quoted.
    private static func needsQuotes(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x20, 0x26, 0x7C, 0x3C, 0x3E, 0x5E, 0x28, 0x29, 0x2C, 0x3B, 0x3D: return true
        default: return false
        }
    }

    /// Scalars that best-fit to `"`, `%` or `!` in Windows' ANSI code pages.
    static let bestFitLookalikes: Set<Unicode.Scalar> = [
        "\u{FF02}", "\u{FF05}", "\u{FF01}", "\u{201C}", "\u{201D}", "\u{201E}", "\u{2033}", "\u{02BA}",
        "\u{02DD}", "\u{02EE}", "\u{3003}",
    ]

    /// What in `value`, apart from control characters, cmd.exe cannot quote; nil when nothing.
    static func problem(with value: String) -> String? {
        for scalar in value.unicodeScalars {
            switch scalar {
            case "%": return "`%` (cmd.exe expands %NAME% even inside quotes)"
            case "!": return "`!` (cmd.exe expands !NAME! inside quotes when delayed expansion is on)"
            case "\"": return "`\"` (cmd.exe has no escape for a quote inside quotes)"
            // Every lookalike is outside ASCII: the common all-ASCII name never hashes a scalar.
            case _ where !scalar.isASCII && bestFitLookalikes.contains(scalar):
                return "`\(Character(scalar))` (Windows maps it to a quote, `%` or `!` for programs reading ANSI)"
            default: continue
            }
        }
        return nil
    }

    /// `value` in double quotes; nil when cmd.exe cannot take it safely.
    static func quoted(_ value: String) -> String? {
        guard ShellQuoting.controlProblem(value) == nil, problem(with: value) == nil else { return nil }
        var body = value
        var trailing = 0
        for byte in value.utf8.reversed() {
            guard byte == UInt8(ascii: "\\") else { break }
            trailing += 1
        }
        if trailing > 0 { body += String(repeating: "\\", count: trailing) }
        return "\"" + body + "\""
    }

    /// `value` bare when nothing in it is special to cmd.exe, else quoted; nil when it cannot be written.
    static func argument(_ value: String) -> String? {
        guard ShellQuoting.controlProblem(value) == nil, problem(with: value) == nil else { return nil }
        if !value.isEmpty && !value.utf8.contains(where: needsQuotes) { return value }
        return quoted(value)
    }
}

/// POSIX sh (bash, dash, zsh in sh mode), for the adcli and realmd commands run on Linux members.
///
/// Inside single quotes nothing is special; a `'` is written as `'\''` (close, escaped quote, reopen).
enum POSIXShell {
    /// `value` in single quotes; nil when it holds a control character.
    static func quoted(_ value: String) -> String? {
        guard ShellQuoting.controlProblem(value) == nil else { return nil }
        if !value.utf8.contains(UInt8(ascii: "'")) { return "'" + value + "'" }
        return "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// `value` bare when it is letters, digits and `. _ - / : @ % + = ,` (not starting with `-`), else quoted.
    static func argument(_ value: String) -> String? {
        let plain = ShellQuoting.isPlain(value) { byte in
            if ShellQuoting.isAlphanumeric(byte) { return true }
            switch byte {
            case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "/"), UInt8(ascii: ":"),
                UInt8(ascii: "@"), UInt8(ascii: "%"), UInt8(ascii: "+"), UInt8(ascii: "="), UInt8(ascii: ","):
                return true
            default: return false
            }
        }
        if plain && value.utf8.first != UInt8(ascii: "-") { return value }
        return quoted(value)
    }
}
