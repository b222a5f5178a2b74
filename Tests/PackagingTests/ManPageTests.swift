import CommandLineOptions
import Foundation
import TestSupport
import XCTest

@testable import trustaudit

/// trustaudit(1) is written by hand; these tests hold it to the code, so an option, an exit code
/// or an environment variable added to one and not the other fails here.
final class ManPageTests: XCTestCase {
    /// The options of `trustaudit` without a command (main.swift's switch, not an OptionSpec table).
    static let topLevelOptions = ["--help", "--version"]

    func page() throws -> ManPage { try ManPage() }

    /// The options the page documents for `trustaudit audit`: name, and the value as shown (nil for a flag).
    func documentedAuditOptions() throws -> [String: String?] {
        var documented: [String: String?] = [:]
        for (subsection, tag) in try page().tags(in: "OPTIONS") where subsection != "Without a command" {
            let words = tag.split(separator: " ", maxSplits: 1).map(String.init)
            XCTAssertFalse(documented.keys.contains(words[0]), "\(words[0]) is documented twice")
            documented[words[0]] = words.count > 1 ? words[1] : nil
        }
        return documented
    }

    func testEveryAuditOptionIsDocumentedWithItsValue() throws {
        let documented = try documentedAuditOptions()
        XCTAssertEqual(AuditCommand.options.count, Set(AuditCommand.options.map(\.name)).count)
        for option in AuditCommand.options {
            guard let value = documented[option.name] else {
                XCTFail("\(option.name) is an option of trustaudit audit but not in docs/trustaudit.1's OPTIONS")
                continue
            }
            XCTAssertEqual(value, option.valueName, "\(option.name): the page shows another value than --help")
        }
        let declared = Set(AuditCommand.options.map(\.name))
        XCTAssertEqual(
            Set(documented.keys).subtracting(declared), [], "documented, but not options of trustaudit audit")
    }

    /// Anywhere on the page, examples included: a `--word` is an option the code has.
    func testThePageNamesNoOptionTheCodeLacks() throws {
        let known = Set(AuditCommand.options.map(\.name) + Self.topLevelOptions)
        let text = try page().text
        let named = Set(
            text.matches(of: /(?:^|[^\w-])(--[a-z][a-z0-9-]*)/.anchorsMatchLineEndings()).map { String($0.output.1) })
        XCTAssertGreaterThan(named.count, 40, "the option names were not found on the page at all")
        XCTAssertEqual(named.subtracting(known), [], "named on the page, but no option of trustaudit")

        let topLevel = try page().tags(in: "OPTIONS").filter { $0.subsection == "Without a command" }.map(\.tag)
        XCTAssertEqual(topLevel.sorted(), Self.topLevelOptions)
        for option in Self.topLevelOptions {
            let outcome = try ExecutableRunner.run(ExecutableRunner.trustaudit, [option])
            XCTAssertEqual(outcome.status, 0, "trustaudit \(option): \(outcome.stderr)")
        }
    }

    /// EXIT STATUS lists exactly the codes the program exits with: ExitCode and 128 + each stopping signal.
    func testExitStatusListsEveryExitCode() throws {
        let documented = try page().tags(in: "EXIT STATUS").flatMap { $0.tag.split(separator: ", ") }.map {
            Int32($0)
        }
        let codes = ExitCode.allCases.map(\.rawValue) + Signals.stopping.map { 128 + $0 }
        XCTAssertEqual(documented.sorted { ($0 ?? -1) < ($1 ?? -1) }, codes.sorted())
    }

    /// ENVIRONMENT names every TRUSTAUDIT_ variable the sources read, and no other, beside what
    /// libldap and Kerberos read.
    func testEnvironmentNamesTheVariablesTheCodeReads() throws {
        let documented = Set(
            try page().tags(in: "ENVIRONMENT").flatMap { $0.tag.split(separator: ", ").map(String.init) })
        var read: Set<String> = []
        let sources = ExecutableRunner.repositoryRoot.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
        for case let file as URL in files where file.pathExtension == "swift" {
            let code = try String(contentsOf: file, encoding: .utf8)
            read.formUnion(code.matches(of: /environment\["(TRUSTAUDIT_[A-Z0-9_]+)"\]/).map { String($0.output.1) })
        }
        XCTAssertFalse(read.isEmpty, "no environment[\"TRUSTAUDIT_...\"] found in Sources/")
        XCTAssertEqual(documented.filter { $0.hasPrefix("TRUSTAUDIT_") }, read)
        let named = Set(try page().text.matches(of: /TRUSTAUDIT_[A-Z0-9_]+/).map { String($0.output) })
        XCTAssertEqual(named.subtracting(read), [], "named on the page, but read nowhere in Sources/")
        for variable in ["LDAPTLS_CACERT", "LDAPTLS_REQCERT", "KRB5CCNAME", "KRB5_CONFIG"] {
            XCTAssertTrue(documented.contains(variable), "ENVIRONMENT does not name \(variable)")
        }
    }

    func testTitleNamesTheVersionAndSectionsAreComplete() throws {
        let page = try page()
        let title = try XCTUnwrap(page.source.split(separator: "\n").first { $0.hasPrefix(".TH ") })
        XCTAssertTrue(
            title.contains("\"TrustAudit \(trustaudit.version)\""), "\(title) does not name version \(version)")
        XCTAssertEqual(
            page.sections.map(\.name),
            [
                "NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES",
                "SEE ALSO",
            ])
        let seeAlso = page.section("SEE ALSO")!.lines.map(ManPage.text(ofMacroLine:)).joined(separator: " ")
        for reference in ["ldapsearch(1)", "kinit(1)", "setspn", "repadmin"] {
            XCTAssertTrue(seeAlso.contains(reference), "SEE ALSO does not name \(reference)")
        }
        let examples = page.examples.flatMap { $0 }.joined(separator: "\n")
        for needed in ["kinit -k -t", "--inventory", "--mail-to", "--smtp-password-file"] {
            XCTAssertTrue(examples.contains(needed), "EXAMPLES show no \(needed)")
        }
    }

    /// As `man -l` renders it (groff, the UTF-8 device), with every warning on.
    func testGroffRendersItWithoutAWarning() throws {
        let groff = try RequiredTool.path("groff", package: "groff-base")
        let outcome = try ExecutableRunner.run(
            URL(fileURLWithPath: groff), ["-ww", "-z", "-man", "-Tutf8", ManPage.path.path])
        XCTAssertEqual(outcome.status, 0)
        XCTAssertEqual(outcome.stderr, "", "groff warned about docs/trustaudit.1")
    }

    /// mandoc's linter, style messages included: a second reader of the page's roff.
    func testMandocLintFindsNothing() throws {
        let mandoc = try RequiredTool.path("mandoc", package: "mandoc")
        let outcome = try ExecutableRunner.run(
            URL(fileURLWithPath: mandoc), ["-T", "lint", "-W", "all", ManPage.path.path])
        XCTAssertEqual(outcome.stdout + outcome.stderr, "", "mandoc -T lint found something in docs/trustaudit.1")
        XCTAssertEqual(outcome.status, 0)
    }
}
