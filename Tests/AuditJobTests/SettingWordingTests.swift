import Audit
import AuditJob
import Directory
import Foundation
import LDAPClient
import Reporting
import XCTest

/// The libraries a second frontend would reuse speak of settings, never of `trustaudit`'s flags:
/// their advice names the setting (typed, for a frontend to word), and the sentences inside the
/// reports come from the frontend (`ReportHints`).
final class SettingWordingTests: XCTestCase {
    func testNoLDAPAdviceNamesACommandLineOption() {
        let diagnostics: [String?] = [
            nil, "getaddrinfo failed", "Connection refused", "TLS handshake did not complete",
            "certificate verify failed: untrusted issuer",
            "error:80000002:system library::No such file: CA certificate file",
            "hostname (dc01) does not match common name", "Sign or Seal are not allowed if TLS is used",
            "no worthy mechs found", "Server not found in Kerberos database",
            "80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 52e, v4563",
        ]
        let operations: [LDAPError.Operation] = [.configure, .connect, .startTLS, .simpleBind, .saslBind, .search]
        var pointed: Set<LDAPSetting> = []
        for code in LDAPError.Code.allCases {
            for operation in operations {
                for uri in ["ldap://dc01.corp.example", "ldaps://dc01.corp.example"] {
                    for diagnostic in diagnostics {
                        let error = LDAPError(
                            code, resultCode: -1, operation: operation, serverURI: uri, diagnosticMessage: diagnostic)
                        XCTAssertFalse(error.advice.contains("--"), "\(code) \(operation): \(error.advice)")
                        XCTAssertFalse("\(error)".contains(" --"), "\(error)")
                        pointed.formUnion(error.remedy.settings)
                    }
                }
            }
        }
        XCTAssertEqual(pointed, Set(LDAPSetting.allCases), "every setting is pointed to by some advice")
    }

    func testAFrontendNamesTheSettingsItsOwnWay() {
        let error = LDAPError(
            .timeout, resultCode: -5, operation: .search, serverURI: "ldaps://dc01.corp.example",
            diagnosticMessage: "no answer within 120 s")
        XCTAssertEqual(error.remedy.settings, [.operationTimeout, .networkTimeout, .base])
        XCTAssertTrue(
            error.advice.hasSuffix(
                "raise the operation timeout or the connect timeout, or search a smaller search base."), error.advice)
        let flags: [LDAPSetting: String] = [.operationTimeout: "--timeout", .networkTimeout: "--network-timeout"]
        XCTAssertTrue(
            error.description(naming: { flags[$0] }).hasSuffix(
                "raise --timeout or --network-timeout, or search a smaller search base."), "\(error)")
    }

    func testReportingAdviceNamesNoOption() {
        for advice in [
            ReportError.Advice.nameTemplatesDirectory, .giveTemplatesOrLeaveOutHTML, .nameOutputDirectory,
            .checkOutputDirectoryParent,
        ] {
            XCTAssertFalse(advice.text.contains("--"), advice.text)
            let error = ReportError(code: .writeFailed, path: "/srv/reports", problem: "cannot", advice: advice)
            XCTAssertEqual(error.reason, "cannot; \(advice.text)")
            XCTAssertEqual(error.problem, "cannot")
        }
        let hints = ReportHints()
        for text in [hints.findingsCSVNotWritten, hints.findingsJSONNotWritten, hints.mailSignature] {
            XCTAssertFalse(text.contains("--"), text)
            XCTAssertFalse(text.contains("trustaudit audit"), text)
        }
    }

    /// An HTML-only run has no findings.csv to point to: the sentence that says so is the frontend's.
    func testTheHTMLSaysWhereTheFullListIsInTheFrontendsWords() throws {
        let reader = LDIFReader(
            path: AuditJobTests.fixtures.appendingPathComponent("small-domain.ldif").path)
        var runner = AuditRunner(
            configuration: AuditConfiguration(), now: AuditJobTests.now, source: "small-domain.ldif")
        try reader.forEachEntry { runner.add($0) }
        let result = runner.finish()
        func fullListFile(_ hints: ReportHints) -> TemplateValue? {
            guard case .object(let context) = HTMLReport.context(for: result, formats: [.html], hints: hints) else {
                return nil
            }
            return context["fullListFile"]
        }
        XCTAssertEqual(fullListFile(ReportHints()), .string(ReportHints().findingsCSVNotWritten))
        let cli = ReportHints(
            findingsCSVNotWritten: "findings.csv (run again with --format csv,html)", findingsJSONNotWritten: "",
            mailSignature: "")
        XCTAssertEqual(fullListFile(cli), .string("findings.csv (run again with --format csv,html)"))
        XCTAssertEqual(
            HTMLReport.context(for: result, formats: [.html, .csv]),
            HTMLReport.context(for: result, formats: [.html, .csv], hints: cli),
            "the hints only matter for a file that was not written")
    }
}
