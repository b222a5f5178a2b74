/// The one policy for text that came from outside (the directory, an LDAP or SMTP server, a
/// configuration file) on its way to a terminal, a log line or a mail header.
///
/// Anyone who can create a computer account can put ESC, BEL, CR or a bidirectional override into
/// its name, and a DC's diagnostic message is whatever the server sends. Written raw, such text can
/// rewrite what an admin sees on the terminal (ANSI sequences, a CR that overwrites the line,
/// U+202E that reverses it) or forge a log line or header (LF). Every such scalar is therefore
/// shown as a visible escape, so the text stays readable and nothing in it acts.
public enum TerminalText {
    /// `text` with every control, line separator and bidirectional formatting scalar escaped:
    /// `\n`, `\r`, `\t`, `\e`, and `\u{XXXX}` for the rest. A backslash is doubled, so an escape
    /// written by the attacker cannot pass for one written here.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{1B}": result += "\\e"
            case _ where isUnsafe(scalar):
                let hex = String(scalar.value, radix: 16, uppercase: true)
                result += "\\u{" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// `text` escaped as `escaped(_:)` does, but with its line feeds kept: for a message of ours whose
    /// own lines are wanted and whose interpolated parts were already escaped.
    public static func escapedKeepingLines(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { escaped(String($0)) }.joined(
            separator: "\n")
    }

    /// The last line of defence before a terminal or log: every unsafe scalar but the line feed is
    /// escaped, backslashes are left alone (so text already escaped is not escaped twice). For whole
    /// messages whose untrusted parts were escaped where they were put in; anything missed there
    /// still cannot act.
    public static func neutralized(_ message: String) -> String {
        guard message.unicodeScalars.contains(where: { $0 != "\n" && isUnsafe($0) }) else { return message }
        return message.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            var result = ""
            for scalar in line.unicodeScalars {
                if scalar == "\\" || !isUnsafe(scalar) {
                    result.unicodeScalars.append(scalar)
                } else {
                    result += escaped(String(scalar))
                }
            }
            return result
        }.joined(separator: "\n")
    }

    /// Whether `text` holds anything `escaped(_:)` would change apart from backslashes.
    public static func containsUnsafeScalars(_ text: String) -> Bool {
        text.unicodeScalars.contains(where: isUnsafe)
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\\" || isUnsafe(scalar)
    }

    /// C0 and C1 controls, DEL, the line and paragraph separators, and the bidirectional marks,
    /// embeddings, overrides and isolates (the "Trojan Source" set, CVE-2021-42574).
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: return true
        case 0xFEFF: return true
        default: return false
        }
    }
}
