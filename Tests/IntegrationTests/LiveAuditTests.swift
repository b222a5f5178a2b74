import Foundation
import TestSupport
import XCTest

/// The real executable against a real Samba AD DC (scripts/testdc): LDAPS, StartTLS and Kerberos
/// binds, paging past 1000 entries, the Global Catalog, and the failures an admin meets first.
///
/// The DC is seeded with a case for every rule (see scripts/testdc); a live audit must find exactly
/// what an audit of an `ldapsearch` export of the same DC finds.
final class LiveAuditTests: XCTestCase {
    var dc: TestConfiguration!
    var workDirectory: URL!
    /// One clock for the live and the LDIF run, so ages agree to the day.
    let now = ISO8601DateFormatter().string(from: Date())

    override func setUpWithError() throws {
        dc = try TestConfiguration.requireDC()
        workDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("trustaudit-live-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        // The fix commands name a DC; pin it so a live run (which knows its DC) and an LDIF run agree.
        try Data(#"{"remediationServer": "testdc.corp.test"}"#.utf8).write(to: configFile)
    }

    override func tearDownWithError() throws {
        if let workDirectory { try? FileManager.default.removeItem(at: workDirectory) }
    }

    var configFile: URL { workDirectory.appendingPathComponent("trustaudit.json") }

    // MARK: - The same findings whatever the transport

    func testLDAPSAuditFindsWhatTheLDIFExportShows() throws {
        let live = try audit(["--uri", dc.ldapsURI, "--ca-file", dc.caFile] + simpleBind, into: "live")
        XCTAssertEqual(live.outcome.status, 0, live.outcome.stderr)

        let export = workDirectory.appendingPathComponent("export.ldif")
        let directory = try XCTUnwrap(dc.directory, "TRUSTAUDIT_TEST_DC_DIR names the DC's folder for the export")
        let exported = try ExecutableRunner.run(
            ExecutableRunner.repositoryRoot.appendingPathComponent("scripts/testdc"),
            ["export", directory, export.path])
        XCTAssertEqual(exported.status, 0, exported.stderr)
        let file = try audit(["--ldif", export.path], into: "ldif")
        XCTAssertEqual(file.outcome.status, 0, file.outcome.stderr)

        XCTAssertEqual(try comparable(live.findings), try comparable(file.findings))
        XCTAssertEqual(live.summary["computers"] as? Int, file.summary["computers"] as? Int)
        // The conflict object (CN=CNF-01\0ACNF:<guid>) and the rest of the seed are read by both.
        XCTAssertEqual(live.summary["objectsRead"] as? Int, file.summary["objectsRead"] as? Int)
        let exportedText = try String(contentsOf: export, encoding: .utf8)
        XCTAssertTrue(exportedText.contains("sAMAccountName: $DUPLICATE-1f4a"), "the export holds the conflict object")
        XCTAssertEqual(
            live.summary["objectsRead"] as? Int,
            exportedText.components(separatedBy: "\ndn: ").count, "every exported entry is read live too")

        // Paging: more computers than AD's 1000-entry page.
        XCTAssertGreaterThan(live.summary["computers"] as? Int ?? 0, 1000)
        XCTAssertEqual(live.json["source"] as? String, dc.ldapsURI)
        XCTAssertEqual(live.json["domain"] as? String, "corp.test")
        let skew = try XCTUnwrap(
            live.summary["clockSkewSeconds"] as? Double, "a live audit reports the DC's clock skew")
        XCTAssertLessThan(abs(skew), 300)

        // Every rule fires on its seeded account.
        let found = Set(live.findings.map { "\($0["rule"] as? String ?? "") \($0["account"] as? String ?? "")" })
        for expected in [
            "disabled-account DIS-01$", "stale-password OLD-DORMANT$", "stale-password OLD-ALIVE$",
            "stale-password PRESTAGED$", "stale-password FUTURE-PWD$", "missing-spn NOSPN-01$",
            "missing-spn SRV-NOTERM$", "missing-spn HALF-TERM$", "missing-spn NODNS$",
            "duplicate-spn DUP-01$", "duplicate-spn svc-sql", "duplicate-spn DUP-02$", "duplicate-spn DUP-03$",
            "duplicate-spn WEB01$", "duplicate-spn svc-web",
            // Its dNSHostName is DUPHOST-01's, which none of its SPNs names.
            "missing-spn DUPHOST-02$",
        ] {
            XCTAssertTrue(found.contains(expected), "no finding \(expected)")
        }
        for healthy in [
            "SRV-OK$", "LNX-WEB01$", "BIGSPN-01$", "WKS-00001$", "CNF-01$", "DUPHOST-01$", "$DUPLICATE-1f4a",
        ] {
            XCTAssertFalse(found.contains("missing-spn \(healthy)"), "\(healthy) wrongly reported as missing SPNs")
        }
        let alive = try XCTUnwrap(
            live.findings.first {
                $0["account"] as? String == "OLD-ALIVE$" && $0["rule"] as? String == "stale-password"
            })
        XCTAssertEqual(alive["severity"] as? String, "high")
        XCTAssertTrue(
            (alive["remediation"] as? String ?? "").contains("Reset-ComputerMachinePassword -Server testdc.corp.test"))

        // A hostile operatingSystem arrives base64 from the DC and leaves escaped.
        let html = try String(contentsOf: live.output.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertFalse(html.lowercased().contains("<script"))
    }

    func testStartTLSWithSmallPagesGivesTheSameFindings() throws {
        let ldaps = try audit(["--uri", dc.ldapsURI, "--ca-file", dc.caFile] + simpleBind, into: "ldaps")
        let startTLS = try audit(
            ["--uri", dc.startTLSURI, "--starttls", "--ca-file", dc.caFile, "--page-size", "97"] + simpleBind,
            into: "starttls")
        XCTAssertEqual(startTLS.outcome.status, 0, startTLS.outcome.stderr)
        XCTAssertEqual(try comparable(startTLS.findings), try comparable(ldaps.findings))
    }

    func testKerberosBindGivesTheSameFindings() throws {
        let ldaps = try audit(["--uri", dc.ldapsURI, "--ca-file", dc.caFile] + simpleBind, into: "ldaps")
        let kerberos = try audit(["--uri", dc.gssapiURI, "--sasl", "gssapi"], into: "gssapi")
        XCTAssertEqual(
            kerberos.outcome.status, 0,
            "GSSAPI audit failed (is there a ticket? scripts/testdc kinit): \(kerberos.outcome.stderr)")
        XCTAssertEqual(try comparable(kerberos.findings), try comparable(ldaps.findings))
    }

    func testGlobalCatalogAuditsSPNsAcrossTheForest() throws {
        let catalog = try audit(["--uri", dc.ldapsURI, "--gc", "--ca-file", dc.caFile] + simpleBind, into: "gc")
        XCTAssertEqual(catalog.outcome.status, 0, catalog.outcome.stderr)
        // The Global Catalog, and the DC of each domain that gave its pwdLastSet.
        let source = catalog.json["source"] as? String ?? ""
        XCTAssertTrue(source.hasPrefix("\(dc.ldapsURI):3269 + "), source)
        XCTAssertTrue(source.hasSuffix("testdc.corp.test"), source)
        let duplicates = Set(
            catalog.findings.filter { $0["rule"] as? String == "duplicate-spn" }.compactMap { $0["account"] as? String }
        )
        XCTAssertTrue(duplicates.isSuperset(of: ["DUP-01$", "svc-sql", "DUP-02$", "DUP-03$"]), "\(duplicates)")

        // The Global Catalog holds no pwdLastSet: the forest audit reads it from a DC of each domain,
        // so stale-password judges every computer and finds what an audit of the DC finds.
        let summary = try XCTUnwrap(catalog.json["summary"] as? [String: Any])
        XCTAssertEqual((summary["unjudged"] as? [Any])?.count, 0, "\(summary["unjudged"] ?? "")")
        XCTAssertEqual((summary["attributesNotInExport"] as? [String]) ?? ["?"], [])
        let ldaps = try audit(["--uri", dc.ldapsURI, "--ca-file", dc.caFile] + simpleBind, into: "gc-ldaps")
        func stale(_ findings: [[String: Any]]) -> [String] {
            findings.filter { $0["rule"] as? String == "stale-password" }.compactMap { $0["account"] as? String }
                .sorted()
        }
        XCTAssertFalse(stale(ldaps.findings).isEmpty)
        XCTAssertEqual(stale(catalog.findings), stale(ldaps.findings))
    }

    // MARK: - Failures, each with its exit code and a message that says what to do

    func testWrongPasswordIsExitThreeAndNeverEchoed() throws {
        let wrong = workDirectory.appendingPathComponent("wrong.pass")
        let secret = "Not-The-Password-7781"
        try Data("\(secret)\n".utf8).write(to: wrong)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: wrong.path)
        let result = try audit(
            ["--uri", dc.ldapsURI, "--ca-file", dc.caFile, "--bind-dn", dc.bindDN, "--password-file", wrong.path],
            into: "wrong")
        XCTAssertEqual(result.outcome.status, 3)
        XCTAssertTrue(result.outcome.stderr.contains(dc.ldapsURI), result.outcome.stderr)
        XCTAssertTrue(result.outcome.stderr.contains("52e"), result.outcome.stderr)
        XCTAssertTrue(result.outcome.stderr.lowercased().contains("invalid credentials"), result.outcome.stderr)
        XCTAssertFalse(result.outcome.stderr.contains(secret))
        XCTAssertFalse(result.outcome.stdout.contains(secret))
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: result.output.appendingPathComponent("findings.json").path))
    }

    func testUntrustedCertificateIsRefused() throws {
        // No --ca-file, and nothing in the environment that trusts the throwaway CA.
        let result = try audit(
            ["--uri", dc.ldapsURI] + simpleBind, into: "untrusted", environment: ["LDAPTLS_CACERT": nil])
        XCTAssertEqual(result.outcome.status, 3)
        XCTAssertTrue(result.outcome.stderr.contains("certificate verify failed"), result.outcome.stderr)
        XCTAssertTrue(result.outcome.stderr.contains("--ca-file"), result.outcome.stderr)
    }

    func testSimpleBindOverPlainLDAPIsRefused() throws {
        let refused = try audit(["--uri", dc.startTLSURI] + simpleBind, into: "plain")
        XCTAssertEqual(refused.outcome.status, 2, "the tool itself refuses: \(refused.outcome.stderr)")
        XCTAssertTrue(refused.outcome.stderr.contains("--starttls"), refused.outcome.stderr)

        // Allowed by the user, refused by the DC, as a hardened Windows DC does.
        let byDC = try audit(["--uri", dc.startTLSURI, "--allow-plaintext"] + simpleBind, into: "plain-dc")
        XCTAssertEqual(byDC.outcome.status, 3)
        XCTAssertTrue(byDC.outcome.stderr.contains("Strong(er) authentication required"), byDC.outcome.stderr)
        XCTAssertTrue(byDC.outcome.stderr.contains("--sasl gssapi"), byDC.outcome.stderr)
    }

    func testDomainControllerStoppedMidRunLeavesThePreviousReports() throws {
        let directory = try XCTUnwrap(dc.directory, "only a DC this test may stop and start")
        let script = ExecutableRunner.repositoryRoot.appendingPathComponent("scripts/testdc")
        let output = workDirectory.appendingPathComponent("Reports")
        let first = try audit(["--uri", dc.ldapsURI, "--ca-file", dc.caFile] + simpleBind, into: "Reports")
        XCTAssertEqual(first.outcome.status, 0, first.outcome.stderr)
        let before = try Data(contentsOf: output.appendingPathComponent("findings.json"))

        // A relay on the DC's own address (so its certificate still matches) hands over the first
        // pages, then holds; the DC is stopped for real while the search is open.
        let relay = try PausingRelay(
            upstream: try XCTUnwrap(URL(string: dc.ldapsURI)?.host), port: 636, bytes: 64 * 1024)
        defer { relay.stop() }
        let running = try ExecutableRunner.start(
            ExecutableRunner.trustaudit,
            ["audit", "--uri", "ldaps://\(relay.host):\(relay.port)", "--ca-file", dc.caFile] + simpleBind
                + ["--page-size", "100", "--now", now, "--output", output.path, "--config", configFile.path])
        try relay.waitUntilPaused(timeout: 30)
        let stopped = try ExecutableRunner.run(script, ["stop", directory])
        running.waitUntilExit()
        let restarted = try ExecutableRunner.run(script, ["start", directory])
        XCTAssertEqual(stopped.status, 0, stopped.stderr)
        XCTAssertEqual(restarted.status, 0, "the DC did not come back for the next tests: \(restarted.stderr)")

        let outcome = try running.outcome()
        XCTAssertEqual(outcome.status, 3, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("unchanged"), outcome.stderr)
        XCTAssertEqual(try Data(contentsOf: output.appendingPathComponent("findings.json")), before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: output.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [], "temporary files left behind")
    }

    // MARK: - Helpers

    var simpleBind: [String] { ["--bind-dn", dc.bindDN, "--password-file", dc.passwordFile] }

    struct Run {
        var outcome: ProcessOutcome
        var output: URL
        var json: [String: Any] = [:]
        var summary: [String: Any] { json["summary"] as? [String: Any] ?? [:] }
        var findings: [[String: Any]] { json["findings"] as? [[String: Any]] ?? [] }
    }

    func audit(_ source: [String], into name: String, environment: [String: String?] = [:]) throws -> Run {
        let output = workDirectory.appendingPathComponent(name)
        var arguments = ["audit"] + source + ["--now", now, "--output", output.path, "--config", configFile.path]
        if let inventory = dc.inventoryFile { arguments += ["--inventory", inventory] }
        var run = Run(
            outcome: try ExecutableRunner.run(ExecutableRunner.trustaudit, arguments, environment: environment),
            output: output)
        let file = output.appendingPathComponent("findings.json")
        if run.outcome.status <= 1, let data = FileManager.default.contents(atPath: file.path) {
            run.json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
        return run
    }

    /// Findings as canonical JSON text, one per element, so two runs compare field by field.
    func comparable(_ findings: [[String: Any]]) throws -> [String] {
        try findings.map {
            var finding = $0
            finding.removeValue(forKey: "change")
            return String(
                decoding: try JSONSerialization.data(withJSONObject: finding, options: [.sortedKeys]), as: UTF8.self)
        }
    }
}

/// A TCP relay that forwards a DC's answers up to a byte budget, then holds them back until the DC
/// closes the connection: the test stops the DC while a paged search is provably in flight.
final class PausingRelay {
    let host: String
    let port: Int
    private let process: Process
    private let output: FileHandle

    init(upstream: String, port upstreamPort: Int, bytes: Int) throws {
        let script = """
            import select, socket, sys, threading
            host, port, budget = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
            server = socket.socket()
            server.bind((host, 0))
            server.listen(8)
            print("READY", server.getsockname()[1], flush=True)
            def relay(client):
                try:
                    upstream = socket.create_connection((host, port))
                except OSError:
                    client.close()  # the DC is down: refuse, as the DC itself would
                    return
                forwarded = 0
                while True:
                    readable, _, _ = select.select([client, upstream], [], [])
                    if upstream in readable:
                        data = upstream.recv(65536)
                        if not data:
                            break
                        if forwarded < budget:
                            client.sendall(data)
                            forwarded += len(data)
                            if forwarded >= budget:
                                print("PAUSED", flush=True)
                    if client in readable:
                        data = client.recv(65536)
                        if not data:
                            break
                        upstream.sendall(data)
                client.close()
                upstream.close()
            while True:
                connection, _ = server.accept()
                threading.Thread(target=relay, args=(connection,), daemon=True).start()
            """
        let host = upstream
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, host, String(upstreamPort), String(bytes)]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        self.process = process
        self.output = pipe.fileHandleForReading
        self.host = host
        let ready = Self.readLine(output)
        guard ready.hasPrefix("READY "), let port = Int(ready.dropFirst(6)) else {
            process.terminate()
            throw XCTSkip("the relay did not start (python3 missing?): \(ready)")
        }
        self.port = port
    }

    func waitUntilPaused(timeout: TimeInterval) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if Self.readLine(output) == "PAUSED" { return }
        }
        XCTFail("the audit never read \(port)'s first pages")
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    private static func readLine(_ handle: FileHandle) -> String {
        var bytes: [UInt8] = []
        while let byte = try? handle.read(upToCount: 1), let first = byte.first, first != 0x0A { bytes.append(first) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
