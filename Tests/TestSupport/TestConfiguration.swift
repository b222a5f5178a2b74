import Foundation
import XCTest

/// Where the integration tests find their domain controller, read once from the environment.
///
/// Every setting comes from a `TRUSTAUDIT_TEST_DC_*` variable, as `scripts/testdc env DIR` prints
/// them, so the unit suites never need a server and any DC (Samba or Windows) can be pointed at:
///
///     scripts/testdc start .build-testdc/dc && eval "$(scripts/testdc env .build-testdc/dc)"
///     scripts/testdc kinit .build-testdc/dc      # for the Kerberos (GSSAPI) tests
///
/// Without those variables, `requireDC()` starts `scripts/testdc` itself (see there).
public struct TestConfiguration: Sendable {
    /// `ldaps://127.0.0.2`: simple bind over TLS, verified against `caFile`.
    public var ldapsURI: String
    /// `ldap://127.0.0.2`: simple bind after StartTLS.
    public var startTLSURI: String
    /// `ldap://testdc.corp.test`: SASL GSSAPI; a host name, because the ticket is for ldap/<host>.
    public var gssapiURI: String
    /// `DC=corp,DC=test`.
    public var baseDN: String
    /// `Administrator@corp.test`.
    public var bindDN: String
    /// A file holding the bind password and nothing else (no trailing newline), mode 600.
    public var passwordFile: String
    /// The PEM CA that issued the DC's certificate.
    public var caFile: String
    /// A machine list with seeded names and two that do not exist; absent for a foreign DC.
    public var inventoryFile: String?
    /// The testdc directory, when the DC is a `scripts/testdc` one.
    public var directory: String?
    /// The DC's process, when known.
    public var pid: Int32?
    /// The krb5.conf naming the DC's KDC.
    public var krb5Config: String?
    /// The credentials cache `scripts/testdc kinit` fills (`FILE:...`).
    public var krb5CCName: String?

    enum Variable {
        static let ldapsURI = "TRUSTAUDIT_TEST_DC_URI_LDAPS"
        static let startTLSURI = "TRUSTAUDIT_TEST_DC_URI_STARTTLS"
        static let gssapiURI = "TRUSTAUDIT_TEST_DC_URI_GSSAPI"
        static let baseDN = "TRUSTAUDIT_TEST_DC_BASE"
        static let bindDN = "TRUSTAUDIT_TEST_DC_BIND_DN"
        static let passwordFile = "TRUSTAUDIT_TEST_DC_PASSWORD_FILE"
        static let caFile = "TRUSTAUDIT_TEST_DC_CA_FILE"
        static let inventoryFile = "TRUSTAUDIT_TEST_DC_INVENTORY_FILE"
        static let directory = "TRUSTAUDIT_TEST_DC_DIR"
        static let pid = "TRUSTAUDIT_TEST_DC_PID"
        static let krb5Config = "KRB5_CONFIG"
        static let krb5CCName = "KRB5CCNAME"
        /// `0` (or `false`, `no`): never start a DC from the tests; skip (or fail under CI) instead.
        static let autoStart = "TRUSTAUDIT_TEST_DC_AUTOSTART"

        static let required = [ldapsURI, startTLSURI, gssapiURI, baseDN, bindDN, passwordFile, caFile]
    }

    /// Why there is no DC to test against; the text says what to do about it.
    struct Unavailable: Error, CustomStringConvertible {
        let reason: String
        var description: String { reason }
    }

    /// The configuration in `environment`; nil when no DC is configured at all (no LDAPS URI).
    ///
    /// A partial configuration is a mistake worth stopping for, so it throws and names what is missing.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> TestConfiguration? {
        func value(_ name: String) -> String? {
            guard let value = environment[name], !value.isEmpty else { return nil }
            return value
        }
        guard value(Variable.ldapsURI) != nil else { return nil }
        let missing = Variable.required.filter { value($0) == nil }
        guard missing.isEmpty else {
            throw Unavailable(
                reason: "the test DC is configured only in part; missing \(missing.joined(separator: ", "))"
                    + " (print them all with: scripts/testdc env DIR)"
            )
        }
        return TestConfiguration(
            ldapsURI: value(Variable.ldapsURI)!,
            startTLSURI: value(Variable.startTLSURI)!,
            gssapiURI: value(Variable.gssapiURI)!,
            baseDN: value(Variable.baseDN)!,
            bindDN: value(Variable.bindDN)!,
            passwordFile: value(Variable.passwordFile)!,
            caFile: value(Variable.caFile)!,
            inventoryFile: value(Variable.inventoryFile),
            directory: value(Variable.directory),
            pid: value(Variable.pid).flatMap { Int32($0) },
            krb5Config: value(Variable.krb5Config),
            krb5CCName: value(Variable.krb5CCName)
        )
    }

    /// The bind password, read from `passwordFile` as it is (a trailing newline is dropped).
    public func password() throws -> String {
        var text = try String(contentsOfFile: passwordFile, encoding: .utf8)
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        return text
    }

    /// Returns when the Kerberos ticket cache (`KRB5CCNAME`, else `krb5CCName`) holds a valid
    /// ticket, as a GSSAPI bind needs; otherwise a skip that names the cache and the command that
    /// fills it, or under CI=true a failure.
    public func requireKerberosTicket(file: StaticString = #filePath, line: UInt = #line) throws {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment[Variable.krb5CCName] ?? krb5CCName
        let klist = ["/usr/bin/klist", "/usr/local/bin/klist"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        var reason: String?
        if let klist {
            // klist -s: silent, exit status 0 only for a cache with an unexpired ticket.
            let checked = try? ExecutableRunner.run(
                URL(fileURLWithPath: klist), ["-s"], environment: [Variable.krb5CCName: cache])
            if checked?.status != 0 {
                reason =
                    "no valid Kerberos ticket in \(cache ?? "the default cache") (\(Variable.krb5CCName)); take one with: scripts/testdc kinit \(directory ?? "DIR")"
            }
        } else {
            reason = "no klist to check the Kerberos ticket with (install krb5-user)"
        }
        guard let reason else { return }
        if environment["CI"] == "true" {
            XCTFail(reason, file: file, line: line)
            throw Unavailable(reason: reason)
        }
        throw XCTSkip(reason, file: file, line: line)
    }

    /// The DC to test against, or a skip.
    ///
    /// Uses the environment when it names a DC. Otherwise it runs
    /// `scripts/testdc start <repo>/.build-testdc/dc` once per test process (later calls reuse the
    /// outcome), takes a Kerberos ticket, points `KRB5_CONFIG` and `KRB5CCNAME` at the DC's files,
    /// and stops the DC when the process exits (unless it was already running). When no DC can be
    /// had, it throws `XCTSkip` with the reason; with `CI=true` a missing DC is a failure instead. A
    /// configuration with some variables but not all fails everywhere.
    public static func requireDC(file: StaticString = #filePath, line: UInt = #line) throws -> TestConfiguration {
        let environment = ProcessInfo.processInfo.environment
        let configured: TestConfiguration?
        do {
            configured = try fromEnvironment(environment)
        } catch {
            // A half-set environment is a mistake, not a machine without a DC: fail, CI or not.
            XCTFail("\(error)", file: file, line: line)
            throw error
        }
        if let configured { return configured }
        switch AutoStartedDC.shared.outcome() {
        case .success(let configuration):
            return configuration
        case .failure(let unavailable):
            if environment["CI"] == "true" {
                XCTFail("no domain controller for the integration tests: \(unavailable.reason)", file: file, line: line)
                throw unavailable
            }
            throw XCTSkip("no domain controller: \(unavailable.reason)", file: file, line: line)
        }
    }
}

/// The DC `requireDC()` starts when the environment names none: started at most once per process.
private enum AutoStartedDC {
    static let shared = StartedOnce(start)

    private static var repositoryRoot: URL { ExecutableRunner.repositoryRoot }

    private static var script: String { repositoryRoot.appendingPathComponent("scripts/testdc").path }
    private static var directory: String { repositoryRoot.appendingPathComponent(".build-testdc/dc").path }

    private static func start() -> Result<TestConfiguration, TestConfiguration.Unavailable> {
        let environment = ProcessInfo.processInfo.environment
        if let autoStart = environment[TestConfiguration.Variable.autoStart]?.lowercased(),
            ["0", "false", "no"].contains(autoStart)
        {
            return .failure(
                .init(
                    reason:
                        "no \(TestConfiguration.Variable.ldapsURI) set, and \(TestConfiguration.Variable.autoStart)=\(autoStart)"
                )
            )
        }
        guard FileManager.default.isExecutableFile(atPath: script) else {
            return .failure(.init(reason: "no \(TestConfiguration.Variable.ldapsURI) set, and no executable \(script)"))
        }
        let wasRunning = run([script, "status", directory]).status == 0
        let started = run([script, "start", directory])
        guard started.status == 0 else {
            return .failure(.init(reason: "`scripts/testdc start \(directory)` failed:\n\(started.output)"))
        }
        if !wasRunning { registerStopAtExit() }

        let printed = run([script, "env", directory])
        guard printed.status == 0 else {
            return .failure(.init(reason: "`scripts/testdc env \(directory)` failed:\n\(printed.output)"))
        }
        let exported = parseExports(printed.output)
        // libkrb5 reads these when a GSSAPI bind creates its context, so the process needs them.
        for name in [TestConfiguration.Variable.krb5Config, TestConfiguration.Variable.krb5CCName] {
            if let value = exported[name] { setenv(name, value, 1) }
        }
        // Best effort: only the GSSAPI tests need a ticket, and they say so when it is missing.
        _ = run([script, "kinit", directory])
        do {
            guard let configuration = try TestConfiguration.fromEnvironment(exported) else {
                return .failure(.init(reason: "`scripts/testdc env` printed no \(TestConfiguration.Variable.ldapsURI)"))
            }
            return .success(configuration)
        } catch let error as TestConfiguration.Unavailable {
            return .failure(error)
        } catch {
            return .failure(.init(reason: "\(error)"))
        }
    }

    /// Reads `export NAME=VALUE` lines; VALUE may carry bash `printf %q` backslash escapes.
    static func parseExports(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard line.hasPrefix("export "), let equals = line.firstIndex(of: "=") else { continue }
            let name = line[line.index(line.startIndex, offsetBy: 7)..<equals]
            var value = ""
            var escaped = false
            for character in line[line.index(after: equals)...] {
                if escaped {
                    value.append(character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else {
                    value.append(character)
                }
            }
            values[String(name)] = value
        }
        return values
    }

    private static func registerStopAtExit() {
        atexit {
            // A C function pointer captures nothing; the paths are recomputed from static state.
            _ = AutoStartedDC.run([AutoStartedDC.script, "stop", AutoStartedDC.directory])
        }
    }

    /// Runs a command to completion; returns its exit status and its standard output and error.
    static func run(_ arguments: [String]) -> (status: Int32, output: String) {
        do {
            let outcome = try ExecutableRunner.run(URL(fileURLWithPath: arguments[0]), Array(arguments.dropFirst()))
            return (outcome.status, outcome.stdout + outcome.stderr)
        } catch {
            return (-1, "cannot run \(arguments[0]): \(error)")
        }
    }
}
