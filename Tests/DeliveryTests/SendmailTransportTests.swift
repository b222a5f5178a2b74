import Foundation
import XCTest

@testable import Delivery

/// Runs real programs in place of sendmail: shell scripts written to a temporary directory.
final class SendmailTransportTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "trustaudit-sendmail-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func script(_ name: String, _ body: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    func testMessageReachesTheProgramIntact() throws {
        let received = directory.appendingPathComponent("received.eml").path
        let arguments = directory.appendingPathComponent("arguments").path
        let sendmail = try script("sendmail", "printf '%s\\n' \"$@\" > '\(arguments)'\ncat > '\(received)'")
        let message = try DeliveryFixtures.message().rendered()

        try SendmailTransport(path: sendmail).send(message, from: "audit@corp.example", to: ["ops@corp.example"])

        XCTAssertEqual(FileManager.default.contents(atPath: received).map { Array($0) }, message)
        XCTAssertEqual(try String(contentsOfFile: arguments, encoding: .utf8), "-t\n-oi\n")
    }

    /// The job's passwords stay in the job: the program sees PATH and the locale, not the secrets
    /// a cron line exports for the LDAP bind and the SMTP login.
    func testProgramGetsNoSecretsFromTheEnvironment() throws {
        let dump = directory.appendingPathComponent("environment").path
        let sendmail = try script("sendmail-env", "env > '\(dump)'\ncat > /dev/null")
        let secrets = [
            "TRUSTAUDIT_PASSWORD": "Bind-S3cret!", "TRUSTAUDIT_SMTP_PASSWORD": "Smtp-S3cret!",
            "LDAP_BIND_PASSWORD": "Other-S3cret!", "TRUSTAUDIT_TEMPLATES": "/etc/trustaudit/templates",
        ]
        let kept = ["LC_ALL": "C.UTF-8", "TZ": "Europe/Berlin", "MAIL_CONFIG": "/etc/postfix-out"]
        for (name, value) in secrets.merging(kept, uniquingKeysWith: { $1 }) { setenv(name, value, 1) }
        defer { for name in Array(secrets.keys) + Array(kept.keys) { unsetenv(name) } }

        try SendmailTransport(path: sendmail).send(
            Array("Subject: x\r\n\r\nx\r\n".utf8), from: "audit@corp.example", to: ["ops@corp.example"])

        let lines = try String(contentsOfFile: dump, encoding: .utf8).split(separator: "\n").map(String.init)
        let names = Set(lines.compactMap { $0.split(separator: "=", maxSplits: 1).first.map(String.init) })
        for (name, value) in secrets {
            XCTAssertFalse(names.contains(name), "\(name) reached sendmail: \(lines)")
            XCTAssertFalse(lines.contains { $0.contains(value) }, "the value of \(name) reached sendmail")
        }
        XCTAssertTrue(names.contains("PATH"), "\(lines)")
        for (name, value) in kept { XCTAssertTrue(lines.contains("\(name)=\(value)"), "\(name): \(lines)") }
        let allowed = SendmailTransport.inheritedNames.union(["PWD", "SHLVL", "_"])
        XCTAssertEqual(names.filter { !allowed.contains($0) && !$0.hasPrefix("LC_") }, [], "only the allowlist")
    }

    func testChildEnvironmentIsTheAllowlistWithADefaultPath() {
        XCTAssertEqual(
            SendmailTransport.childEnvironment([
                "HOME=/var/lib/trustaudit", "TRUSTAUDIT_PASSWORD=x", "LANG=de_DE.UTF-8", "SSH_AUTH_SOCK=/tmp/agent",
                "LC_PASSWORD=x", "AWS_SECRET_ACCESS_KEY=x", "MAIL_CONFIG=/etc/postfix-out", "broken",
            ]),
            [
                "HOME=/var/lib/trustaudit", "LANG=de_DE.UTF-8", "MAIL_CONFIG=/etc/postfix-out",
                "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
            ])
        XCTAssertEqual(SendmailTransport.childEnvironment(["PATH=/opt/bin", "TZ=UTC"]), ["PATH=/opt/bin", "TZ=UTC"])
    }

    func testFailureCarriesExitStatusAndStandardError() throws {
        let sendmail = try script(
            "sendmail-fails", "cat > /dev/null\necho 'sendmail: fatal: queue file write error' >&2\nexit 75")
        XCTAssertThrowsError(
            try SendmailTransport(path: sendmail).send(
                Array("Subject: x\r\n\r\nx\r\n".utf8), from: "a@x.example", to: [])
        ) { error in
            let error = error as? DeliveryError
            XCTAssertEqual(error?.code, .sendmailFailed)
            XCTAssertEqual(error?.exitStatus, 75)
            XCTAssertEqual(error?.output, "sendmail: fatal: queue file write error")
            XCTAssertTrue("\(error!)".contains("75") && "\(error!)".contains("queue file write error"), "\(error!)")
        }
    }

    /// A program that exits without reading a large message must not kill the test with SIGPIPE.
    func testProgramThatStopsReadingIsAFailureNotACrash() throws {
        let sendmail = try script("sendmail-early", "echo 'sendmail: no recipients' >&2\nexit 64")
        let big = [UInt8](repeating: 65, count: 4 << 20)
        XCTAssertThrowsError(try SendmailTransport(path: sendmail).send(big, from: "a@x.example", to: [])) { error in
            XCTAssertEqual((error as? DeliveryError)?.code, .sendmailFailed)
            XCTAssertEqual((error as? DeliveryError)?.exitStatus, 64)
        }
    }

    func testHangingProgramTimesOut() throws {
        let sendmail = try script("sendmail-hangs", "exec sleep 30")
        let started = Date()
        XCTAssertThrowsError(
            try SendmailTransport(path: sendmail, timeout: 1).send(Array("x\r\n".utf8), from: "a@x.example", to: [])
        ) { XCTAssertEqual(($0 as? DeliveryError)?.code, .timeout) }
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
    }

    /// The timeout is a deadline for the whole exchange: a program that keeps reading, slowly,
    /// is killed all the same.
    func testSlowReaderIsKilledAtTheDeadline() throws {
        let sendmail = try script("sendmail-slow", "while read -r line; do sleep 1; done")
        let message = Array(String(repeating: "a line of the report\r\n", count: 30).utf8)
        let started = Date()
        XCTAssertThrowsError(
            try SendmailTransport(path: sendmail, timeout: 2).send(message, from: "a@x.example", to: [])
        ) {
            XCTAssertEqual(($0 as? DeliveryError)?.code, .timeout)
            XCTAssertTrue("\($0)".contains("did not finish within 2 seconds and was killed"), "\($0)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 6)
    }

    func testTimeoutsOutsideOneDayAreRefused() throws {
        let sendmail = try script("sendmail-unused", "cat > /dev/null")
        for seconds in [1e20, 86_401, 0, -1, .nan] {
            XCTAssertThrowsError(
                try SendmailTransport(path: sendmail, timeout: seconds).send([], from: "a@x.example", to: [])
            ) { XCTAssertEqual(($0 as? DeliveryError)?.code, .invalidTimeout, "\(seconds)") }
        }
    }

    func testMissingProgram() throws {
        let missing = directory.appendingPathComponent("no-such-sendmail").path
        XCTAssertThrowsError(try SendmailTransport(path: missing).send([], from: "a@x.example", to: [])) { error in
            XCTAssertEqual((error as? DeliveryError)?.code, .sendmailMissing)
            XCTAssertTrue("\(error)".contains(missing))
        }
        let notExecutable = directory.appendingPathComponent("plain-file").path
        FileManager.default.createFile(atPath: notExecutable, contents: Data("x".utf8))
        XCTAssertThrowsError(try SendmailTransport(path: notExecutable).send([], from: "a@x.example", to: [])) {
            XCTAssertEqual(($0 as? DeliveryError)?.code, .sendmailMissing)
        }
    }
}
