import Foundation
import TestSupport
import XCTest

/// The crontab of trustaudit(1)'s EXAMPLES, as written there, run the way cron runs it: `sh -c` with
/// nothing in the environment but what the crontab sets, in another working directory.
final class CronLineTests: XCTestCase {
    var work: URL!

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent(
            "trustaudit-cron-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: work)
    }

    /// The example blocks that hold crontab job lines (five time fields, a user, a command).
    func crontab() throws -> (variables: [String], jobs: [(user: String, command: String)]) {
        var variables: [String] = []
        var jobs: [(String, String)] = []
        for block in try ManPage().examples {
            for line in block {
                if let job = line.wholeMatch(of: /(?:\S+\s+){5}(\S+)\s+(.+)/), line.first?.isNumber == true {
                    jobs.append((String(job.output.1), String(job.output.2)))
                } else if line.wholeMatch(of: /[A-Z0-9_]+=\S*/) != nil, jobs.isEmpty {
                    variables.append(line)
                }
            }
        }
        return (variables, jobs)
    }

    /// What the README's cron section shows is what the man page shows.
    func testREADMEShowsTheManPagesCrontab() throws {
        let readme = try String(
            contentsOf: ExecutableRunner.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let readmeLines = Set(readme.split(separator: "\n").map(String.init))
        let (variables, jobs) = try crontab()
        XCTAssertEqual(variables.map { $0.prefix { $0 != "=" } }, ["SHELL", "PATH", "MAILTO", "KRB5CCNAME"])
        XCTAssertEqual(jobs.count, 2)
        for line in variables + jobs.map({ "30 5 * * *  \($0.user)  \($0.command)" }) {
            XCTAssertTrue(readmeLines.contains(line), "the README's cron section lacks: \(line)")
        }
    }

    /// The LDIF job line under `env -i`, with cron's variables from the same crontab: only the paths
    /// that name this machine's state change (the state directory, the export), and `--sendmail`
    /// points at a stand-in that keeps the message. The Kerberos line needs a DC and is not run here.
    func testTheLDIFJobRunsUnderCronsEnvironment() throws {
        let (variables, jobs) = try crontab()
        let job = try XCTUnwrap(jobs.first { $0.command.contains("--ldif") }, "no --ldif job line in EXAMPLES")
        XCTAssertEqual(job.user, "trustaudit")

        let state = work.appendingPathComponent("var-lib-trustaudit")
        let bin = work.appendingPathComponent("bin")
        let elsewhere = work.appendingPathComponent("elsewhere")
        for directory in [state, bin, elsewhere] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        // trustaudit on PATH, as an installed one would be; it finds its templates beside itself.
        try FileManager.default.createSymbolicLink(
            at: bin.appendingPathComponent("trustaudit"), withDestinationURL: ExecutableRunner.trustaudit)
        let sendmail = bin.appendingPathComponent("sendmail")
        let mail = work.appendingPathComponent("mail.eml")
        try "#!/bin/sh\necho \"$@\" > '\(mail.path).argv'\nexec /bin/cat > '\(mail.path)'\n".write(
            to: sendmail, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: sendmail.path)

        let sample = ExecutableRunner.repositoryRoot.appendingPathComponent("Samples/corp.example.ldif").path
        var command = job.command
        for (written, here) in [("/var/lib/trustaudit", state.path), ("/srv/exports/corp.ldif", sample)] {
            XCTAssertTrue(command.contains(written), "the job line no longer names \(written)")
            command = command.replacingOccurrences(of: written, with: here)
        }
        command += " --sendmail \(sendmail.path)"

        var environment = variables.map { $0.replacingOccurrences(of: "/var/lib/trustaudit", with: state.path) }
        environment = environment.map { $0.hasPrefix("PATH=") ? "PATH=\(bin.path):" + $0.dropFirst(5) : $0 }
        environment += ["HOME=\(elsewhere.path)", "LOGNAME=trustaudit"]
        let shell = try XCTUnwrap(variables.first { $0.hasPrefix("SHELL=") }).dropFirst(6)
        let outcome = try ExecutableRunner.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["-i", "-C", elsewhere.path] + environment + [String(shell), "-c", command])

        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertEqual(outcome.stdout, "", "--quiet: a good night prints nothing, so cron mails nothing")
        XCTAssertEqual(outcome.stderr, "")
        let reports = state.appendingPathComponent("reports")
        for name in ["report.html", "findings.csv", "findings.json", "computers.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: reports.appendingPathComponent(name).path), name)
        }
        let history = try FileManager.default.contentsOfDirectory(
            atPath: reports.appendingPathComponent("history").path)
        XCTAssertEqual(history.count, 1, "--keep 30 keeps tonight's findings.json: \(history)")
        XCTAssertEqual(try String(contentsOf: URL(fileURLWithPath: mail.path + ".argv"), encoding: .utf8), "-t -oi\n")
        let message = try String(contentsOf: mail, encoding: .utf8)
        XCTAssertTrue(message.contains("To: ops@corp.example\r\n"), "the mail is not addressed as the line says")
        XCTAssertTrue(message.contains("Subject: TrustAudit corp.example: "))
        // Nothing left in the working directory cron started it in.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: elsewhere.path), [])
    }
}
