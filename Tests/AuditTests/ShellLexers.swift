/// Small but real lexers for the three shells fix commands are written for, so tests can check what
/// a pasted command does by reading it as the shell would, not by searching its text.
///
/// Each lexer splits a line into statements and each statement into the arguments the command
/// receives, after quote removal; anything that would expand, run, redirect or comment out text is
/// listed in `hazards` instead of being evaluated. They cover what the fix commands and an attacker's
/// names can contain, and are stricter than the shells where in doubt (a hazard the shell might not
/// act on is still a hazard).

/// One argument as the command receives it.
enum ShellToken: Equatable, CustomStringConvertible {
    case word(String)
    /// A PowerShell `( ... )` group: a nested command, kept as its raw text.
    case group(String)
    /// A PowerShell `@{ ... }` hashtable literal, with its own tokens.
    case hashtable([ShellToken])

    var description: String {
        switch self {
        case .word(let word): return "word(\(word.debugDescription))"
        case .group(let text): return "group(\(text))"
        case .hashtable(let tokens): return "hashtable(\(tokens))"
        }
    }
}

struct LexedLine: Equatable {
    /// The statements in order, each as its arguments (the command name first).
    var statements: [[ShellToken]] = []
    /// What the shell would act on beyond plain arguments: `$(`, `%PATH%`, a comment, a redirection...
    var hazards: [String] = []
}

private func isLineBreak(_ character: Character) -> Bool {
    character == "\n" || character == "\r" || character == "\r\n" || character == "\u{85}"
        || character == "\u{2028}" || character == "\u{2029}"
}

/// PowerShell in argument mode, as a pasted command line is read.
enum PowerShellLexer {
    static let singleQuotes: Set<Character> = ["'", "\u{2018}", "\u{2019}", "\u{201A}", "\u{201B}"]
    static let doubleQuotes: Set<Character> = ["\"", "\u{201C}", "\u{201D}", "\u{201E}"]
    /// Characters that end a bare word in argument mode.
    private static let wordEnd: Set<Character> = [" ", "\t", ";", "|", "&", "(", ")", "{", "}", ",", "<", ">"]

    static func lex(_ text: String) -> LexedLine {
        var lexer = Lexer(characters: Array(text))
        var line = LexedLine()
        var statement: [ShellToken] = []
        lexer.tokens(until: nil, into: &statement, statements: &line.statements, hazards: &line.hazards)
        if !statement.isEmpty { line.statements.append(statement) }
        return line
    }

    private struct Lexer {
        let characters: [Character]
        var index = 0

        /// Reads tokens up to `closing` (nil: the end), splitting statements at `;`, `|`, `&` and line breaks.
        mutating func tokens(
            until closing: Character?, into statement: inout [ShellToken], statements: inout [[ShellToken]],
            hazards: inout [String]
        ) {
            while index < characters.count {
                let character = characters[index]
                if let closing, character == closing {
                    index += 1
                    return
                }
                switch character {
                case " ", "\t":
                    index += 1
                case ";", "|", "&":
                    if character != ";" { hazards.append("operator \(character)") }
                    index += 1
                    if !statement.isEmpty { statements.append(statement) }
                    statement = []
                case _ where isLineBreak(character):
                    index += 1
                    if !statement.isEmpty { statements.append(statement) }
                    statement = []
                case "#":
                    hazards.append("comment")
                    while index < characters.count && !isLineBreak(characters[index]) { index += 1 }
                case "(":
                    let start = index
                    index += 1
                    var inner: [ShellToken] = []
                    var innerStatements: [[ShellToken]] = []
                    tokens(until: ")", into: &inner, statements: &innerStatements, hazards: &hazards)
                    statement.append(.group(String(characters[start..<index])))
                case "@" where index + 1 < characters.count && characters[index + 1] == "{":
                    index += 2
                    var inner: [ShellToken] = []
                    var innerStatements: [[ShellToken]] = []
                    tokens(until: "}", into: &inner, statements: &innerStatements, hazards: &hazards)
                    statement.append(.hashtable(innerStatements.flatMap { $0 } + inner))
                case "=" where closing == "}":
                    index += 1
                    statement.append(.word("="))
                case ")", "}", "{", ",", "<", ">":
                    hazards.append("operator \(character)")
                    index += 1
                default:
                    statement.append(.word(word(stoppingAtEquals: closing == "}", hazards: &hazards)))
                }
            }
            if closing != nil { hazards.append("unclosed group") }
        }

        /// A quoted string or a bare word (which may hold quoted parts); the token ends after a
        /// string that starts it, as PowerShell's tokenizer does.
        mutating func word(stoppingAtEquals: Bool, hazards: inout [String]) -> String {
            let first = characters[index]
            if PowerShellLexer.singleQuotes.contains(first) { return singleQuoted(hazards: &hazards) }
            if PowerShellLexer.doubleQuotes.contains(first) { return doubleQuoted(hazards: &hazards) }
            var value = ""
            while index < characters.count {
                let character = characters[index]
                if PowerShellLexer.wordEnd.contains(character) || isLineBreak(character) { break }
                if character == "=" && stoppingAtEquals { break }
                if PowerShellLexer.singleQuotes.contains(character) {
                    value += singleQuoted(hazards: &hazards)
                } else if PowerShellLexer.doubleQuotes.contains(character) {
                    value += doubleQuoted(hazards: &hazards)
                } else if character == "`" {
                    hazards.append("backtick escape")
                    index += 1
                    if index < characters.count {
                        value.append(characters[index])
                        index += 1
                    }
                } else if character == "$" {
                    hazards.append("$ expansion in a bare word")
                    value.append(character)
                    index += 1
                } else {
                    value.append(character)
                    index += 1
                }
            }
            return value
        }

        /// `'...'` where any of the five single quotes ends the string and two in a row stand for the second.
        mutating func singleQuoted(hazards: inout [String]) -> String {
            index += 1
            var value = ""
            while index < characters.count {
                let character = characters[index]
                index += 1
                if PowerShellLexer.singleQuotes.contains(character) {
                    guard index < characters.count, PowerShellLexer.singleQuotes.contains(characters[index]) else {
                        return value
                    }
                    value.append(characters[index])
                    index += 1
                } else {
                    value.append(character)
                }
            }
            hazards.append("unterminated single-quoted string")
            return value
        }

        /// `"..."`: `$` expands and backtick escapes inside.
        mutating func doubleQuoted(hazards: inout [String]) -> String {
            index += 1
            var value = ""
            while index < characters.count {
                let character = characters[index]
                index += 1
                if PowerShellLexer.doubleQuotes.contains(character) {
                    guard index < characters.count, PowerShellLexer.doubleQuotes.contains(characters[index]) else {
                        return value
                    }
                    value.append(characters[index])
                    index += 1
                } else if character == "`" {
                    hazards.append("backtick escape")
                    if index < characters.count {
                        value.append(characters[index])
                        index += 1
                    }
                } else {
                    if character == "$" { hazards.append("$ expansion in a double-quoted string") }
                    value.append(character)
                }
            }
            hazards.append("unterminated double-quoted string")
            return value
        }
    }
}

/// cmd.exe's reading of a line, then the C runtime's splitting of the program's command line.
enum CommandPromptLexer {
    static func lex(_ text: String) -> LexedLine {
        var line = LexedLine()
        let characters = Array(text)
        // cmd.exe: `%` and `!` expand anywhere, even inside quotes.
        if characters.contains("%") { line.hazards.append("% expansion") }
        if characters.contains("!") { line.hazards.append("! delayed expansion") }
        // Pass 1, cmd.exe: `"` toggles quoting; outside quotes `^` escapes and `& | < > ( )` end the
        // statement; a line break ends it anywhere.
        var commands: [String] = []
        var current = ""
        var quoted = false
        var index = 0
        while index < characters.count {
            let character = characters[index]
            index += 1
            if isLineBreak(character) {
                commands.append(current)
                current = ""
                quoted = false
                continue
            }
            if character == "\"" {
                quoted.toggle()
                current.append(character)
                continue
            }
            if !quoted {
                if character == "^" {
                    if index < characters.count {
                        current.append(characters[index])
                        index += 1
                    }
                    continue
                }
                if "&|<>()".contains(character) {
                    line.hazards.append("operator \(character)")
                    commands.append(current)
                    current = ""
                    continue
                }
            }
            current.append(character)
        }
        commands.append(current)
        if quoted { line.hazards.append("unterminated quote") }
        line.statements = commands.map(arguments).filter { !$0.isEmpty }
        return line
    }

    /// The C runtime's rules: whitespace outside quotes splits; 2n backslashes before `"` are n
    /// backslashes and the quote toggles, 2n+1 are n and a literal `"`; other backslashes are literal.
    static func arguments(_ command: String) -> [ShellToken] {
        let characters = Array(command)
        var arguments: [ShellToken] = []
        var current = ""
        var inArgument = false
        var quoted = false
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character == "\\" {
                var count = 0
                while index < characters.count && characters[index] == "\\" {
                    count += 1
                    index += 1
                }
                inArgument = true
                if index < characters.count && characters[index] == "\"" {
                    current += String(repeating: "\\", count: count / 2)
                    if count % 2 == 1 {
                        current.append("\"")
                        index += 1
                    }
                } else {
                    current += String(repeating: "\\", count: count)
                }
                continue
            }
            index += 1
            if character == "\"" {
                quoted.toggle()
                inArgument = true
            } else if (character == " " || character == "\t") && !quoted {
                if inArgument { arguments.append(.word(current)) }
                current = ""
                inArgument = false
            } else {
                current.append(character)
                inArgument = true
            }
        }
        if inArgument { arguments.append(.word(current)) }
        return arguments
    }
}

/// POSIX sh: quotes, backslash, expansions and the operators that end a command.
enum POSIXShellLexer {
    static func lex(_ text: String) -> LexedLine {
        var line = LexedLine()
        let characters = Array(text)
        var statement: [ShellToken] = []
        var current = ""
        var inWord = false
        var index = 0
        func endWord() {
            if inWord { statement.append(.word(current)) }
            current = ""
            inWord = false
        }
        func endStatement() {
            endWord()
            if !statement.isEmpty { line.statements.append(statement) }
            statement = []
        }
        while index < characters.count {
            let character = characters[index]
            index += 1
            switch character {
            case "'":
                inWord = true
                while index < characters.count && characters[index] != "'" {
                    current.append(characters[index])
                    index += 1
                }
                if index < characters.count { index += 1 } else { line.hazards.append("unterminated quote") }
            case "\"":
                inWord = true
                while index < characters.count && characters[index] != "\"" {
                    var inner = characters[index]
                    index += 1
                    if inner == "$" || inner == "`" { line.hazards.append("expansion \(inner) in double quotes") }
                    if inner == "\\", index < characters.count, "$`\"\\\n".contains(characters[index]) {
                        inner = characters[index]
                        index += 1
                    }
                    current.append(inner)
                }
                if index < characters.count { index += 1 } else { line.hazards.append("unterminated quote") }
            case "\\":
                inWord = true
                if index < characters.count {
                    current.append(characters[index])
                    index += 1
                }
            case " ", "\t":
                endWord()
            case ";", "&", "|", "<", ">", "(", ")":
                line.hazards.append("operator \(character)")
                endStatement()
            case _ where isLineBreak(character):
                endStatement()
            case "$", "`":
                line.hazards.append("expansion \(character)")
                inWord = true
                current.append(character)
            case "*", "?", "[", "{":
                line.hazards.append("pattern \(character)")
                inWord = true
                current.append(character)
            case "#" where !inWord, "~" where !inWord:
                line.hazards.append(character == "#" ? "comment" : "tilde expansion")
                if character == "#" {
                    while index < characters.count && !isLineBreak(characters[index]) { index += 1 }
                } else {
                    inWord = true
                    current.append(character)
                }
            default:
                inWord = true
                current.append(character)
            }
        }
        endStatement()
        return line
    }
}

/// The commands in a fix text that start with `prefix` (not those a "no safe ..." or "not with ..."
/// line names), each to the end of its line, its prose (`   (`), or `-Restart`; `<domain admin>` is
/// filled in, as an admin would before pasting.
func commands(_ prefix: String, in text: String) -> [String] {
    var found: [String] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        var rest = Substring(line)
        while let range = rest.range(of: prefix) {
            let before = rest[..<range.lowerBound]
            defer { rest = rest[range.upperBound...] }
            if before.hasSuffix("no safe ") || before.hasSuffix("not with ")
                || rest[range.lowerBound...].hasPrefix("setspn -S refuses")
            {
                continue
            }
            var command = String(rest[range.lowerBound...])
            if let restart = command.range(of: " -Restart") {
                command = String(command[..<restart.upperBound])
            } else if let prose = command.range(of: "   (") {
                command = String(command[..<prose.lowerBound])
            }
            found.append(command.replacingOccurrences(of: "<domain admin>", with: "CORP\\admin"))
        }
    }
    return found
}
