import Foundation
import XCTest

/// The two DCs of `scripts/testdc-pair` (realm TWO.TEST: dc1.two.test on 127.0.0.4, dc2.two.test
/// on 127.0.0.5), for the multi-DC integration tests.
///
/// Everything is found from the pair's directory, `TRUSTAUDIT_TEST_PAIR_DIR` or else
/// `<repo>/.build-testdc/pair`: the script's layout (admin.pass, reader.pass, tls/ca.pem) and its
/// fixed names. `require()` starts the pair once per test process when it is not running (and
/// stops it when the process exits, unless it was already running); outside CI a pair that cannot
/// be had is a skip with the reason, under CI=true a failure.
public struct TestDCPair: Sendable {
    public static let realm = "TWO.TEST"
    public static let baseDN = "DC=two,DC=test"
    public static let hostNames = ["dc1.two.test", "dc2.two.test"]
    /// The computer whose password the tests change (seeded by the script).
    public static let passwordTestComputer = "MEMBER-PWD01"

    /// The pair's directory.
    public var directory: String

    public var dc1URI: String { "ldaps://dc1.two.test" }
    public var dc2URI: String { "ldaps://dc2.two.test" }
    public var bindDN: String { "Administrator@two.test" }
    /// A plain domain user: what an audit account without any delegated right can read.
    public var readerDN: String { "audit-reader@two.test" }
    public var passwordFile: String { directory + "/admin.pass" }
    public var readerPasswordFile: String { directory + "/reader.pass" }
    public var caFile: String { directory + "/tls/ca.pem" }

    /// The objectGUID of a DC's NTDS Settings as the script read it at provisioning ("dc1", "dc2").
    public func dsaGUID(_ dc: String) throws -> String {
        try Self.contents(directory + "/\(dc)/dsa.guid")
    }

    public func password() throws -> String { try Self.contents(passwordFile) }
    public func readerPassword() throws -> String { try Self.contents(readerPasswordFile) }

    /// `scripts/testdc-pair COMMAND DIR ARGUMENTS...`; throws with the script's output when it fails.
    @discardableResult
    public func script(_ command: String, _ arguments: String...) throws -> String {
        let outcome = Self.run([Self.script, command, directory] + arguments)
        guard outcome.status == 0 else {
            throw Unavailable(
                reason:
                    "`scripts/testdc-pair \(([command, directory] + arguments).joined(separator: " "))` failed:\n\(outcome.output)"
            )
        }
        return outcome.output
    }

    /// DC2's inbound replication (nTDSDSA option DISABLE_INBOUND_REPL off or on).
    public func setInboundReplication(_ enabled: Bool) throws { try script("inbound", enabled ? "on" : "off") }
    /// Forced replication both ways.
    public func sync() throws { try script("sync") }
    /// A new random password for `name`, set on DC1 over LDAPS.
    public func setMachinePassword(_ name: String) throws { try script("set-machine-password", name) }
    /// A Kerberos logon as the computer `name` against one DC's KDC only ("dc1" or "dc2"), with the
    /// password `setMachinePassword` set: a logon only that DC records in lastLogon.
    public func kinitComputer(_ name: String, on dc: String) throws { try script("kinit-computer", name, dc) }
    /// A computer `name` (host name, HOST and RestrictedKrbHost SPNs) created on one DC only.
    public func addComputer(_ name: String, on dc: String) throws { try script("add-computer", name, dc) }
    public func deleteComputer(_ name: String, on dc: String) throws { try script("delete-computer", name, dc) }
    /// Stops one DC ("dc1" or "dc2") by its PID.
    public func stop(_ dc: String) throws { try script("stop-dc", dc) }
    /// Starts whatever of the pair is stopped; `clockOffset` (e.g. "+10m") runs a restarted DC2
    /// under libfaketime.
    public func start(clockOffset: String? = nil) throws {
        if let clockOffset { try script("start", "--clock-offset", clockOffset) } else { try script("start") }
    }

    /// The offset DC2 runs with ("" for the true clock).
    public var dc2ClockOffset: String { (try? Self.contents(directory + "/dc2/clock-offset")) ?? "" }

    public struct Unavailable: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    /// The running pair, both DCs up with DC2 on the true clock and its inbound replication on;
    /// or a skip (a failure under CI=true) saying why there is none.
    public static func require(file: StaticString = #filePath, line: UInt = #line) throws -> TestDCPair {
        switch AutoStartedPair.shared.outcome() {
        case .success(let pair):
            do {
                if !pair.dc2ClockOffset.isEmpty {
                    try pair.stop("dc2")
                }
                try pair.start()
                try pair.setInboundReplication(true)
            } catch {
                XCTFail("the DC pair in \(pair.directory) could not be brought back: \(error)", file: file, line: line)
                throw error
            }
            return pair
        case .failure(let unavailable):
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                XCTFail("no DC pair for the multi-DC tests: \(unavailable.reason)", file: file, line: line)
                throw unavailable
            }
            throw XCTSkip("no DC pair: \(unavailable.reason)", file: file, line: line)
        }
    }

    static var script: String { ExecutableRunner.repositoryRoot.appendingPathComponent("scripts/testdc-pair").path }

    static func contents(_ path: String) throws -> String {
        var text = try String(contentsOfFile: path, encoding: .utf8)
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        return text
    }

    static func run(_ arguments: [String]) -> (status: Int32, output: String) {
        do {
            let outcome = try ExecutableRunner.run(URL(fileURLWithPath: arguments[0]), Array(arguments.dropFirst()))
            return (outcome.status, outcome.stdout + outcome.stderr)
        } catch {
            return (-1, "cannot run \(arguments[0]): \(error)")
        }
    }
}

/// The pair `TestDCPair.require()` starts: at most once per process.
private enum AutoStartedPair {
    static let shared = StartedOnce(start)

    static var directory: String {
        if let configured = ProcessInfo.processInfo.environment["TRUSTAUDIT_TEST_PAIR_DIR"], !configured.isEmpty {
            return configured
        }
        return ExecutableRunner.repositoryRoot.appendingPathComponent(".build-testdc/pair").path
    }

    private static func start() -> Result<TestDCPair, TestDCPair.Unavailable> {
        let pair = TestDCPair(directory: directory)
        let environment = ProcessInfo.processInfo.environment
        let wasRunning = TestDCPair.run([TestDCPair.script, "status", directory]).status == 0
        if !wasRunning, let autoStart = environment["TRUSTAUDIT_TEST_DC_AUTOSTART"]?.lowercased(),
            ["0", "false", "no"].contains(autoStart)
        {
            return .failure(
                .init(reason: "the pair in \(directory) is not running, and TRUSTAUDIT_TEST_DC_AUTOSTART=\(autoStart)"))
        }
        guard FileManager.default.isExecutableFile(atPath: TestDCPair.script) else {
            return .failure(.init(reason: "no executable \(TestDCPair.script)"))
        }
        let started = TestDCPair.run([TestDCPair.script, "start", directory])
        guard started.status == 0 else {
            return .failure(.init(reason: "`scripts/testdc-pair start \(directory)` failed:\n\(started.output)"))
        }
        if !wasRunning {
            atexit {
                _ = TestDCPair.run([TestDCPair.script, "stop", AutoStartedPair.directory])
            }
        }
        return .success(pair)
    }
}
