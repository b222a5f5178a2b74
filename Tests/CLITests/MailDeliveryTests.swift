import Foundation
import TestSupport
import XCTest

/// `trustaudit audit --mail-to` end to end: the built executable mails its reports to a stand-in
/// sendmail and to a real aiosmtpd receiver on loopback, and the message is read back with Python's
/// email parser. Skipped without Python (or aiosmtpd, for SMTP) unless CI=true.
final class MailDeliveryTests: XCTestCase {
    var workDirectory: URL!
    var output: URL { workDirectory.appendingPathComponent("Reports", isDirectory: true) }
    /// Where the stand-in sendmail writes what it was given.
    var captured: URL { workDirectory.appendingPathComponent("captured.eml") }
    var capturedArguments: URL { workDirectory.appendingPathComponent("captured.args") }

    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"

    override func setUpWithError() throws {
        workDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("trustaudit-maildelivery-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: workDirectory)
    }

    /// Runs `body`, turning a missing tool into a skip with a printed reason (a failure under CI=true).
    func requiringTools<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let missing as MailToolUnavailable {
            if Self.isCI {
                throw NSError(
                    domain: "MailDeliveryTests", code: 1,
                    userInfo: [NSLocalizedDescriptionKey: "CI=true: \(missing.reason)"])
            }
            print("skipping: \(missing.reason)")
            throw XCTSkip(missing.reason)
        }
    }

    func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
    }

    /// A shell script standing in for sendmail.
    func script(_ name: String, _ body: String) throws -> String {
        let path = workDirectory.appendingPathComponent(name).path
        try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    /// A sendmail that keeps its arguments and the message it was handed.
    func recordingSendmail() throws -> String {
        try script("sendmail", "printf '%s\\n' \"$@\" > '\(capturedArguments.path)'\ncat > '\(captured.path)'")
    }

    func audit(ldif: String? = nil, _ extra: [String], environment: [String: String?] = [:]) throws -> ProcessOutcome {
        try ExecutableRunner.run(
            ExecutableRunner.trustaudit,
            [
                "audit", "--ldif", ldif ?? fixture("small-domain.ldif"), "--inventory", fixture("inventory.txt"),
                "--now", "2026-11-24T00:00:00Z", "--output", output.path,
            ] + extra, environment: environment)
    }

    /// The fixture's first computer alone: enabled, rotating, every SPN; the audit finds nothing.
    func cleanDomain() throws -> String {
        let text = try String(contentsOfFile: fixture("small-domain.ldif"), encoding: .utf8)
        let first = try XCTUnwrap(text.components(separatedBy: "\n\n").first { $0.contains("dn: CN=WKS-0001,") })
        let url = workDirectory.appendingPathComponent("clean.ldif")
        try Data((first + "\n").utf8).write(to: url)
        return url.path
    }

    func reportNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: output.path).sorted()
    }

    // MARK: sendmail

    func testSendmailGetsAMIMEMessageWithTheReportAndTheCSVs() throws {
        let sendmail = try recordingSendmail()
        let result = try audit(
            [
                "--mail-to", "ops@corp.example, \"Night Shift\" <night@corp.example>", "--mail-from",
                "audit@corp.example",
                "--sendmail", sendmail,
            ])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr, "")
        XCTAssertTrue(
            result.stdout.contains(
                "mailed \"TrustAudit corp.example: 6 high, 3 medium, 2 low findings\" to ops@corp.example, night@corp.example through \(sendmail) -t."
            ),
            result.stdout)
        XCTAssertEqual(try String(contentsOf: capturedArguments, encoding: .utf8), "-t\n-oi\n")

        let raw = try Array(Data(contentsOf: captured))
        let parsed = try requiringTools { try MailParser.parse(raw) }
        XCTAssertEqual(parsed["defects"] as? [String], [])
        XCTAssertEqual(parsed["subject"] as? String, "TrustAudit corp.example: 6 high, 3 medium, 2 low findings")
        XCTAssertEqual(parsed["from"] as? [String], ["audit@corp.example"])
        XCTAssertEqual(parsed["to"] as? [String], ["ops@corp.example", "night@corp.example"])
        XCTAssertFalse((parsed["date"] as? String ?? "None") == "None", "no Date header")
        XCTAssertTrue(
            (parsed["messageID"] as? String ?? "").hasSuffix("@corp.example>"), "\(parsed["messageID"] ?? "")")

        let csvNames = [
            "findings.csv", "disabled-account.csv", "stale-password.csv", "missing-spn.csv", "duplicate-spn.csv",
            "missing-account.csv", "duplicate-hostname.csv", "conflict-object.csv", "deleted-account.csv",
            "computers.csv",
        ]
        XCTAssertEqual(
            parsed["contentTypes"] as? [String],
            ["multipart/mixed", "multipart/alternative", "text/plain", "text/html"]
                + Array(repeating: "text/csv", count: csvNames.count))
        let attachments = MailParser.attachments(parsed)
        XCTAssertEqual(attachments.map(\.name), csvNames)
        for attachment in attachments {
            XCTAssertEqual(
                attachment.data, try Data(contentsOf: output.appendingPathComponent(attachment.name)),
                "\(attachment.name) is attached byte for byte")
        }

        let html = try XCTUnwrap(parsed["html"] as? String)
        let reportHTML = try String(contentsOf: output.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertEqual(html, reportHTML.replacingOccurrences(of: "\n", with: "\r\n"), "the HTML part is report.html")

        let text = try XCTUnwrap(parsed["text"] as? String).replacingOccurrences(of: "\r\n", with: "\n")
        XCTAssertTrue(
            text.hasPrefix(
                "TrustAudit: 11 findings on 5 of 6 computer accounts, 1 other account and 2 inventory names "
                    + "without an account: 6 high, 3 medium, 2 low.\n"), text)
        XCTAssertTrue(text.contains("Domain:     corp.example"), text)
        XCTAssertTrue(text.contains("Source:     \(fixture("small-domain.ldif"))"), text)
        XCTAssertTrue(text.contains("Audited at: 2026-11-24T00:00:00Z"), text)
        XCTAssertTrue(text.contains("  stale-password         3"), text)
        XCTAssertTrue(text.contains("[high] ALIVE-01$\n  CN=ALIVE-01,OU=Workstations,DC=corp,DC=example\n"), text)
        XCTAssertTrue(text.contains("Test-ComputerSecureChannel -Repair"), text)
        XCTAssertTrue(text.contains("setspn -S HOST/PRE-01 PRE-01"), text)
        XCTAssertTrue(text.contains("Attached: findings.csv (every finding), disabled-account.csv,"), text)
        XCTAssertTrue(text.contains("The reports are in \(output.path)/."), text)
        // The signature is the command line's wording, passed to the library (which names no command).
        XCTAssertTrue(
            text.contains(
                "Sent by TrustAudit (trustaudit audit --mail-to). The HTML part of this mail is report.html."),
            text)
    }

    func testSecondNightSaysWhatIsNewAndQuietPrintsNothing() throws {
        let sendmail = try recordingSendmail()
        XCTAssertEqual(try audit(["--mail-to", "ops@corp.example", "--sendmail", sendmail]).status, 0)
        let second = try audit(["--mail-to", "ops@corp.example", "--sendmail", sendmail, "--quiet"])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertEqual(second.stdout, "", "--quiet: nothing on stdout when all is well, mail included")
        XCTAssertEqual(second.stderr, "")

        let parsed = try requiringTools { try MailParser.parse(Array(try Data(contentsOf: captured))) }
        XCTAssertEqual(
            parsed["subject"] as? String, "TrustAudit corp.example: 6 high, 3 medium, 2 low findings (0 new)")
        let text = try XCTUnwrap(parsed["text"] as? String)
        XCTAssertTrue(text.contains("Since the run of 2026-11-24T00:00:00Z: 0 new, 0 resolved, 11 still open."), text)
    }

    func testNonASCIISubjectIsEncodedAndDisplayNamesSurvive() throws {
        let sendmail = try recordingSendmail()
        let subject = "Prüfbericht Büro Köln – Computerkonten"
        let result = try audit(
            [
                "--mail-to", "Jörg Müller <jm@corp.example>", "--mail-from",
                "\"TrustAudit, Köln\" <audit@corp.example>",
                "--mail-subject", subject, "--sendmail", sendmail, "--format", "json",
            ])
        XCTAssertEqual(result.status, 0, result.stderr)
        let raw = try Data(contentsOf: captured)
        let headers = String(decoding: raw.prefix(1000), as: UTF8.self)
        XCTAssertTrue(headers.contains("Subject: =?UTF-8?B?"), headers)
        XCTAssertTrue(raw.allSatisfy { $0 < 0x80 }, "the message is 7-bit ASCII throughout")
        let parsed = try requiringTools { try MailParser.parse(Array(raw)) }
        XCTAssertEqual(parsed["defects"] as? [String], [])
        XCTAssertEqual(parsed["subject"] as? String, subject)
        // Without CSV reports the machine-readable findings.json rides along instead; the HTML part is
        // still the rendered report.
        XCTAssertEqual(MailParser.attachments(parsed).map(\.name), ["findings.json"])
        XCTAssertTrue((parsed["html"] as? String ?? "").contains("<!DOCTYPE html>"))
        XCTAssertEqual(try reportNames(), ["findings.json"], "mailing does not add report.html to --format")
    }

    func testFailingSendmailIsExitFiveAndTheReportsStay() throws {
        let sendmail = try script(
            "sendmail-fails", "cat > /dev/null\necho 'sendmail: fatal: queue file write error' >&2\nexit 75")
        for extra in [[], ["--fail-on", "high"], ["--quiet"]] {
            let result = try audit(["--mail-to", "ops@corp.example", "--sendmail", sendmail] + extra)
            XCTAssertEqual(result.status, 5, "\(extra): \(result.stderr)")
            XCTAssertTrue(
                result.stderr.contains("the reports were written, but the mail was not delivered"), result.stderr)
            XCTAssertTrue(result.stderr.contains("exit status 75"), result.stderr)
            XCTAssertTrue(result.stderr.contains("queue file write error"), result.stderr)
            XCTAssertTrue(result.stderr.contains(output.path), result.stderr)
        }
        let names = try reportNames()
        for name in ["findings.json", "findings.csv", "computers.csv", "report.html"] {
            XCTAssertTrue(names.contains(name), "\(name) missing after a failed mail: \(names)")
        }
        XCTAssertFalse(names.contains { $0.hasPrefix(".") }, "temporaries left: \(names)")
    }

    func testBadMailOptionsAreUsageErrorsBeforeAnythingIsRead() throws {
        let sendmail = try recordingSendmail()
        // The LDIF does not exist: had it been read, the exit code would be 3.
        let missing = workDirectory.appendingPathComponent("not-read.ldif").path
        let cases: [([String], String)] = [
            (["--mail-to", "ops@corp,example", "--sendmail", sendmail], "--mail-to"),
            (["--mail-to", "ops at corp.example", "--sendmail", sendmail], "--mail-to"),
            (["--mail-to", " , ", "--sendmail", sendmail], "--mail-to"),
            (["--mail-to", "ops@corp.example", "--mail-from", "audit", "--sendmail", sendmail], "--mail-from"),
            (
                ["--mail-to", "ops@corp.example", "--sendmail", workDirectory.appendingPathComponent("nope").path],
                "nope"
            ),
            (["--mail-to", "ops@corp.example", "--smtp", "mail.corp.example:99999"], "--smtp"),
            (["--mail-to", "ops@corp.example", "--smtp", "mail:25", "--smtp-security", "ssl"], "--smtp-security"),
            (
                ["--mail-to", "ops@corp.example", "--smtp", "mail:25", "--smtp-security", "none", "--smtp-user", "a"],
                "unencrypted"
            ),
            (["--mail-to", "ops@corp.example", "--smtp", "mail:587", "--smtp-user", "a"], "TRUSTAUDIT_SMTP_PASSWORD"),
            (["--mail-to", "ops@corp.example", "--smtp", "mail:587", "--sendmail", sendmail], "not both"),
            (["--mail-to", "ops@corp.example", "--sendmail", sendmail, "--mail-timeout", "1e20"], "--mail-timeout"),
            (["--mail-to", "ops@corp.example", "--sendmail", sendmail, "--mail-timeout", "0"], "--mail-timeout"),
            (["--mail-to", "ops@corp.example", "--smtp", "mail:25", "--mail-timeout", "86401"], "86400"),
            (["--mail-to", "ops@corp.example", "--smtp", "mail:25", "--mail-timeout", "five"], "--mail-timeout"),
            (["--mail-timeout", "60"], "--mail-to"),
            (["--sendmail", sendmail], "--mail-to"),
            (["--mail-only-on-findings"], "--mail-to"),
        ]
        for (arguments, mentioned) in cases {
            let result = try audit(ldif: missing, arguments, environment: ["TRUSTAUDIT_SMTP_PASSWORD": nil])
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(mentioned), "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stdout, "")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.path), "nothing was written")
        XCTAssertFalse(FileManager.default.fileExists(atPath: captured.path), "nothing was mailed")
    }

    func testOnlyOnFindingsSendsNothingForACleanDomain() throws {
        let sendmail = try recordingSendmail()
        let clean = try cleanDomain()
        let quiet = try ExecutableRunner.run(
            ExecutableRunner.trustaudit,
            [
                "audit", "--ldif", clean, "--now", "2026-11-24T00:00:00Z", "--output", output.path,
                "--mail-to", "ops@corp.example", "--sendmail", sendmail, "--mail-only-on-findings", "--quiet",
            ])
        XCTAssertEqual(quiet.status, 0, quiet.stderr)
        XCTAssertEqual(quiet.stdout, "")
        XCTAssertEqual(quiet.stderr, "")
        XCTAssertFalse(FileManager.default.fileExists(atPath: captured.path), "a clean night sends no mail")
        XCTAssertTrue(try reportNames().contains("report.html"), "the reports are written all the same")

        let loud = try ExecutableRunner.run(
            ExecutableRunner.trustaudit,
            [
                "audit", "--ldif", clean, "--now", "2026-11-24T00:00:00Z", "--output", output.path,
                "--mail-to", "ops@corp.example", "--sendmail", sendmail, "--mail-only-on-findings",
            ])
        XCTAssertEqual(loud.status, 0, loud.stderr)
        XCTAssertTrue(loud.stdout.contains("no findings, so no mail was sent (--mail-only-on-findings)"), loud.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: captured.path))

        // Without the flag a clean night is mailed too: "no findings" is news when you expect a mail.
        let always = try ExecutableRunner.run(
            ExecutableRunner.trustaudit,
            [
                "audit", "--ldif", clean, "--now", "2026-11-24T00:00:00Z", "--output", output.path,
                "--mail-to", "ops@corp.example", "--sendmail", sendmail,
            ])
        XCTAssertEqual(always.status, 0, always.stderr)
        let parsed = try requiringTools { try MailParser.parse(Array(try Data(contentsOf: captured))) }
        XCTAssertEqual(parsed["subject"] as? String, "TrustAudit corp.example: no findings")
        // With findings the flag does not hold the mail back.
        try FileManager.default.removeItem(at: captured)
        let findings = try audit(["--mail-to", "ops@corp.example", "--sendmail", sendmail, "--mail-only-on-findings"])
        XCTAssertEqual(findings.status, 0, findings.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: captured.path))
    }

    /// As cron runs it: a bare `trustaudit` found through PATH (a symlink, as `/usr/local/bin` often
    /// holds), another working directory, a minimal environment; the templates for the mail's HTML
    /// part are still found beside the real binary.
    func testCronLikeRunThroughPATHFindsTheTemplates() throws {
        let sendmail = try recordingSendmail()
        let bin = workDirectory.appendingPathComponent("bin", isDirectory: true)
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: bin.appendingPathComponent("trustaudit"), withDestinationURL: ExecutableRunner.trustaudit)
        let command =
            "cd / && trustaudit audit --ldif '\(fixture("small-domain.ldif"))' --now 2026-11-24T00:00:00Z --quiet"
            + " --output '\(output.path)' --keep 30 --mail-to ops@corp.example --sendmail '\(sendmail)'"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.environment = ["PATH": bin.path + ":/usr/bin:/bin", "SHELL": "/bin/sh", "HOME": workDirectory.path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, stderr)
        XCTAssertEqual(stderr, "")
        XCTAssertTrue(FileManager.default.fileExists(atPath: captured.path), "no mail")
        XCTAssertTrue(try reportNames().contains("history"))
    }

    // MARK: SMTP

    func testSMTPWithoutTLSToARealReceiver() throws {
        let receiver = try requiringTools { try MailReceiver() }
        let result = try audit(
            [
                "--mail-to", "ops@corp.example,night@corp.example", "--mail-from", "audit@corp.example",
                "--smtp", "127.0.0.1:\(receiver.port)", "--smtp-security", "none",
            ])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("through SMTP 127.0.0.1:\(receiver.port)."), result.stdout)

        let messages = try receiver.messages()
        XCTAssertEqual(messages.count, 1)
        let message = try XCTUnwrap(messages.first)
        XCTAssertEqual(message.envelope["mailFrom"] as? String, "audit@corp.example")
        XCTAssertEqual(message.envelope["rcptTos"] as? [String], ["ops@corp.example", "night@corp.example"])
        XCTAssertEqual(message.envelope["tls"] as? Bool, false)
        let parsed = try MailParser.parse(message.raw)
        XCTAssertEqual(parsed["defects"] as? [String], [])
        XCTAssertEqual(parsed["subject"] as? String, "TrustAudit corp.example: 6 high, 3 medium, 2 low findings")
        XCTAssertEqual(MailParser.attachments(parsed).first?.name, "findings.csv")
        XCTAssertEqual(
            MailParser.attachments(parsed).first?.data,
            try Data(contentsOf: output.appendingPathComponent("findings.csv")))
    }

    func testSMTPWithSTARTTLSAndAUTH() throws {
        let receiver = try requiringTools { try MailReceiver() }
        let passwordFile = workDirectory.appendingPathComponent("smtp.pass")
        try Data((MailReceiver.password + "\n").utf8).write(to: passwordFile)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: passwordFile.path)
        let result = try audit(
            [
                "--mail-to", "ops@corp.example", "--mail-from", "audit@corp.example",
                "--smtp", "localhost:\(receiver.port)", "--smtp-ca-file", receiver.caFile,
                "--smtp-user", MailReceiver.user, "--smtp-password-file", passwordFile.path, "--quiet",
            ])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "")
        XCTAssertEqual(result.stderr, "")
        let message = try XCTUnwrap(try receiver.messages().first)
        XCTAssertEqual(message.envelope["tls"] as? Bool, true)
        XCTAssertEqual(message.envelope["login"] as? String, MailReceiver.user)

        // The password from the environment; a certificate from another CA is refused: exit 5, reports kept.
        let untrusted = try audit(
            [
                "--mail-to", "ops@corp.example", "--smtp", "localhost:\(receiver.port)",
                "--smtp-user", MailReceiver.user,
            ],
            environment: ["TRUSTAUDIT_SMTP_PASSWORD": MailReceiver.password])
        XCTAssertEqual(untrusted.status, 5, untrusted.stderr)
        XCTAssertFalse(untrusted.stderr.contains(MailReceiver.password), "the password is never printed")
        XCTAssertEqual(try receiver.messages().count, 1)
        XCTAssertTrue(try reportNames().contains("findings.json"))
    }

    /// Replies appended to the 220 for STARTTLS (RFC 3207 section 6) end the run with exit 5 and a
    /// reason, after the reports are written; they used to trip a precondition.
    func testSTARTTLSInjectionIsExitFiveAndTheReportsStay() throws {
        let server = try requiringTools { try ScriptedSMTPServer(.injectAfterSTARTTLS) }
        let result = try audit(["--mail-to", "ops@corp.example", "--smtp", "127.0.0.1:\(server.port)"])
        XCTAssertEqual(result.status, 5, result.stderr)
        XCTAssertTrue(result.stderr.contains("the reports were written, but the mail was not delivered"), result.stderr)
        XCTAssertTrue(result.stderr.contains("after its 220 reply to STARTTLS"), result.stderr)
        XCTAssertTrue(try reportNames().contains("findings.csv"))
        XCTAssertEqual(server.clientBytesAfterSTARTTLS(), 0)
    }

    /// A server that answers one byte a second is given up after --mail-timeout, not hours later.
    func testSlowServerIsGivenUpAfterTheMailTimeout() throws {
        let server = try requiringTools { try ScriptedSMTPServer(.dribble) }
        let started = Date()
        let result = try audit(
            [
                "--mail-to", "ops@corp.example", "--smtp", "127.0.0.1:\(server.port)", "--smtp-security", "none",
                "--mail-timeout", "2",
            ])
        XCTAssertLessThan(Date().timeIntervalSince(started), 8)
        XCTAssertEqual(result.status, 5, result.stderr)
        XCTAssertTrue(result.stderr.contains("127.0.0.1:\(server.port)"), result.stderr)
        XCTAssertTrue(result.stderr.contains("deadline of 2 seconds"), result.stderr)
        XCTAssertTrue(try reportNames().contains("findings.csv"))
    }

    /// The passwords a cron line exports for the LDAP bind and the SMTP login stay in trustaudit.
    func testSendmailInheritsNoPasswords() throws {
        let dump = workDirectory.appendingPathComponent("sendmail.env")
        let sendmail = try script("sendmail-env", "env > '\(dump.path)'\ncat > /dev/null")
        let result = try audit(
            ["--mail-to", "ops@corp.example", "--sendmail", sendmail],
            environment: ["TRUSTAUDIT_PASSWORD": "Bind-S3cret!", "TRUSTAUDIT_SMTP_PASSWORD": "Smtp-S3cret!"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let environment = try String(contentsOf: dump, encoding: .utf8)
        XCTAssertFalse(environment.contains("TRUSTAUDIT_"), environment)
        XCTAssertFalse(environment.contains("S3cret"), environment)
        XCTAssertTrue(environment.split(separator: "\n").contains { $0.hasPrefix("PATH=") }, environment)
    }

    /// A DN spelled in base64 can put CR, LF and ESC into the domain; the default subject shows
    /// them escaped, the mail goes out (exit 0, not 5) and carries no extra header.
    func testHostileDomainMakesAnEscapedDefaultSubject() throws {
        let sendmail = try recordingSendmail()
        let text = try String(contentsOfFile: cleanDomain(), encoding: .utf8)
        let hostileDN = "CN=WKS-0001,OU=Workstations,DC=corp\r\nBcc: victim@example.com\u{1B}[2J,DC=example"
        let ldif = text.replacingOccurrences(
            of: "dn: CN=WKS-0001,OU=Workstations,DC=corp,DC=example",
            with: "dn:: " + Data(hostileDN.utf8).base64EncodedString())
        let url = workDirectory.appendingPathComponent("hostile.ldif")
        try Data(ldif.utf8).write(to: url)
        let result = try ExecutableRunner.run(
            ExecutableRunner.trustaudit,
            [
                "audit", "--ldif", url.path, "--now", "2026-11-24T00:00:00Z", "--output", output.path,
                "--mail-to", "ops@corp.example", "--sendmail", sendmail,
            ])
        XCTAssertEqual(result.status, 0, result.stderr)
        let subject = #"TrustAudit corp\r\nbcc: victim@example.com\e[2j.example: no findings"#
        let mailed = try XCTUnwrap(result.stdout.split(separator: "\n").first { $0.contains("mailed") })
        XCTAssertTrue(mailed.hasPrefix("trustaudit: mailed \"\(subject)\" to ops@corp.example"), String(mailed))
        XCTAssertFalse(mailed.unicodeScalars.contains { $0.value < 0x20 }, String(mailed))
        let parsed = try requiringTools { try MailParser.parse(Array(try Data(contentsOf: captured))) }
        XCTAssertEqual(parsed["defects"] as? [String], [])
        XCTAssertEqual(parsed["subject"] as? String, subject)
        XCTAssertEqual(parsed["to"] as? [String], ["ops@corp.example"], "no Bcc reached the headers sendmail -t reads")
        let raw = String(decoding: try Data(contentsOf: captured), as: UTF8.self)
        let headers = try XCTUnwrap(raw.components(separatedBy: "\r\n\r\n").first)
        XCTAssertFalse(headers.lowercased().contains("\r\nbcc:"), headers)
        let body = try XCTUnwrap(parsed["text"] as? String)
        XCTAssertTrue(body.contains(#"Domain:     corp\r\nbcc: victim@example.com\e[2j.example"#), body)
    }

    /// What an SMTP server says reaches stderr with its controls escaped.
    func testServerReplyOnStderrIsEscaped() throws {
        let server = try requiringTools { try ScriptedSMTPServer(.hostileReply) }
        let result = try audit(
            ["--mail-to", "ops@corp.example", "--smtp", "127.0.0.1:\(server.port)", "--smtp-security", "none"])
        XCTAssertEqual(result.status, 5, result.stderr)
        XCTAssertTrue(result.stderr.contains(#"550 5.7.1 \e[2J\e]0;owned\u{0007} rejected"#), result.stderr)
        XCTAssertFalse(
            result.stderr.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || $0 == "\u{202E}" },
            result.stderr)
    }

    func testSMTPRefusedRecipientIsExitFive() throws {
        let receiver = try requiringTools { try MailReceiver() }
        let result = try audit(
            ["--mail-to", "reject@corp.example", "--smtp", "127.0.0.1:\(receiver.port)", "--smtp-security", "none"])
        XCTAssertEqual(result.status, 5, result.stderr)
        XCTAssertTrue(result.stderr.contains("550"), result.stderr)
        XCTAssertTrue(result.stderr.contains("reject@corp.example"), result.stderr)
        XCTAssertTrue(try reportNames().contains("findings.csv"))
        XCTAssertEqual(try receiver.messages().count, 0)
    }
}
