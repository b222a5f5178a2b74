import Directory
import Foundation
import LDAPSource
import TestSupport
import XCTest

/// Deleted, conflicting and duplicated computer objects, read from the real DC (scripts/testdc
/// seeds them): DEL-01 deleted (a tombstone), `CN=CNF-01\0ACNF:<guid>` the conflict object of
/// CNF-01 (sAMAccountName `$DUPLICATE-1f4a`), and DUPHOST-02 holding DUPHOST-01's dNSHostName; a
/// plain user, audit-reader, who may not see the Deleted Objects container.
///
/// The live source is asked in-process (what it delivers and says it could see) and the executable
/// end to end (what the reports make of it).
final class DeletedAndConflictLiveTests: XCTestCase {
    var dc: TestConfiguration!
    var workDirectory: URL!
    let now = ISO8601DateFormatter().string(from: Date())

    static let deletedAccount = "DEL-01$"
    static let conflictAccount = "$DUPLICATE-1f4a"

    override func setUpWithError() throws {
        dc = try TestConfiguration.requireDC()
        workDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("trustaudit-deleted-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        try Data(#"{"remediationServer": "testdc.corp.test"}"#.utf8).write(to: configFile)
    }

    override func tearDownWithError() throws {
        if let workDirectory { try? FileManager.default.removeItem(at: workDirectory) }
    }

    var configFile: URL { workDirectory.appendingPathComponent("trustaudit.json") }

    // MARK: - The live source, in-process

    func testAsAdministratorTheDeletedComputerIsReadAndTheContainerVisible() throws {
        let source = LDAPDirectorySource(settings: try settings(bindDN: dc.bindDN, password: try dc.password()))
        var deleted: [DirectoryObject] = []
        let read = try source.readDeletedObjects { entry in
            if let object = DirectoryObject(entry: entry) { deleted.append(object) }
        }
        XCTAssertTrue(read.isVisible, read.notVisibleReason ?? "")
        // Samba refuses to turn the Recycle Bin on over LDAP; testdc leaves it off.
        XCTAssertEqual(read.recycleBin, false)
        XCTAssertEqual(read.deletedEntries, deleted.count)
        let tombstone = try XCTUnwrap(
            deleted.first { $0.samAccountName == Self.deletedAccount }, "\(deleted.map(\.distinguishedName))")
        XCTAssertTrue(tombstone.isDeleted)
        XCTAssertTrue(tombstone.distinguishedName.hasPrefix("CN=DEL-01\\0ADEL:"), tombstone.distinguishedName)
        XCTAssertTrue(tombstone.distinguishedName.contains("CN=Deleted Objects,"), tombstone.distinguishedName)
        XCTAssertEqual(tombstone.lastKnownParent?.lowercased(), "cn=computers,\(dc.baseDN.lowercased())")
        XCTAssertEqual(tombstone.dnsHostName, "del-01.corp.test")
        XCTAssertNotNil(tombstone.whenChanged, "the deletion time")
        XCTAssertNotNil(tombstone.objectGUID)
        XCTAssertTrue(tombstone.servicePrincipalNames.isEmpty, "a tombstone keeps no SPNs")
        // Only deleted computers come back, never a live one or the container.
        XCTAssertTrue(deleted.allSatisfy(\.isDeleted))
    }

    func testAsAPlainUserTheContainerIsNotVisibleNeverNone() throws {
        let reader = try readerCredentials()
        let source = LDAPDirectorySource(settings: try settings(bindDN: reader.dn, password: reader.password))
        var delivered = 0
        let read = try source.readDeletedObjects { _ in delivered += 1 }
        XCTAssertFalse(read.isVisible)
        XCTAssertEqual(read.notVisibleReason, LDAPDirectorySource.containerNotReturned)
        XCTAssertEqual(delivered, 0)
        XCTAssertEqual(read.deletedEntries, 0)
    }

    func testTheConflictObjectAndTheDuplicateHostNameComeThroughTheLiveSource() throws {
        let source = LDAPDirectorySource(settings: try settings(bindDN: dc.bindDN, password: try dc.password()))
        var objects: [DirectoryObject] = []
        try source.forEachEntry { entry in
            guard let object = DirectoryObject(entry: entry) else { return }
            if object.samAccountName.hasPrefix("CNF-") || object.samAccountName.hasPrefix("DUPHOST-")
                || object.samAccountName.hasPrefix("$DUPLICATE-")
            {
                objects.append(object)
            }
        }
        let conflict = try XCTUnwrap(
            objects.first { $0.samAccountName == Self.conflictAccount }, "\(objects.map(\.distinguishedName))")
        XCTAssertTrue(conflict.isConflictObject)
        XCTAssertFalse(conflict.isDeleted)
        XCTAssertTrue(conflict.distinguishedName.hasPrefix("CN=CNF-01\\0ACNF:"), conflict.distinguishedName)
        // The GUID in the RDN is the object's own, as AD writes it.
        let guid = try XCTUnwrap(conflict.objectGUID).description.lowercased()
        XCTAssertTrue(conflict.distinguishedName.lowercased().contains("cnf:\(guid),"), conflict.distinguishedName)
        XCTAssertEqual(conflict.dnsHostName, "cnf-01.corp.test")
        XCTAssertEqual(conflict.kind, .computer)

        let twin = try XCTUnwrap(objects.first { $0.samAccountName == "CNF-01$" })
        XCTAssertFalse(twin.isConflictObject)
        XCTAssertEqual(twin.dnsHostName, conflict.dnsHostName)

        let first = try XCTUnwrap(objects.first { $0.samAccountName == "DUPHOST-01$" })
        let second = try XCTUnwrap(objects.first { $0.samAccountName == "DUPHOST-02$" })
        XCTAssertEqual(first.dnsHostName, "duphost-01.corp.test")
        XCTAssertEqual(second.dnsHostName, first.dnsHostName)
        XCTAssertNotEqual(first.objectGUID, second.objectGUID)
        XCTAssertFalse(first.isConflictObject || second.isConflictObject)
    }

    // MARK: - The executable, end to end

    func testAuditWithDeletedAsAdministratorReadsTheTombstoneWithoutCountingIt() throws {
        let plain = try audit(adminSource, into: "plain")
        let deleted = try audit(adminSource + ["--deleted"], into: "deleted")
        XCTAssertEqual(plain.outcome.status, 0, plain.outcome.stderr)
        XCTAssertEqual(deleted.outcome.status, 0, deleted.outcome.stderr)

        // Read (one object more), but not a computer, and in no per-account finding or CSV row.
        XCTAssertEqual(deleted.summary["objectsRead"] as? Int, (plain.summary["objectsRead"] as? Int).map { $0 + 1 })
        XCTAssertEqual(deleted.summary["computers"] as? Int, plain.summary["computers"] as? Int)
        XCTAssertFalse(try computersCSV(deleted).contains("DEL-01"))
        let perAccount = Set(["disabled-account", "stale-password", "missing-spn"])
        XCTAssertEqual(
            deleted.findings.filter {
                $0["account"] as? String == Self.deletedAccount && perAccount.contains($0["rule"] as? String ?? "")
            }.count, 0)
        // Everything else is the same audit.
        XCTAssertEqual(
            try comparable(plain.findings.filter { !Self.isDeletedAccountFinding($0) }),
            try comparable(deleted.findings.filter { !Self.isDeletedAccountFinding($0) }))

        try requireDeletedAccountRule(deleted)
        let finding = try XCTUnwrap(
            deleted.findings.first {
                Self.isDeletedAccountFinding($0) && $0["account"] as? String == Self.deletedAccount
            }, "findings.json has no deleted-account finding for \(Self.deletedAccount)")
        // The test DC's Recycle Bin is off, and the live read knows it: no restore is offered.
        XCTAssertTrue((finding["message"] as? String ?? "").contains("The Recycle Bin is not enabled"), "\(finding)")
        XCTAssertFalse((finding["remediation"] as? String ?? "").contains("Restore-ADObject"), "\(finding)")
        XCTAssertFalse(plain.findings.contains(where: Self.isDeletedAccountFinding), "not requested, not read")
    }

    func testTheSummarySaysWhetherDeletedObjectsWereVisible() throws {
        let reader = try readerCredentials()
        let readerPassword = workDirectory.appendingPathComponent("reader.pass")
        try Data(reader.password.utf8).write(to: readerPassword)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: readerPassword.path)
        let readerSource =
            ["--uri", dc.ldapsURI, "--ca-file", dc.caFile, "--bind-dn", reader.dn]
            + ["--password-file", readerPassword.path]

        let plain = try audit(adminSource, into: "plain")
        let visible = try audit(adminSource + ["--deleted"], into: "visible")
        let hidden = try audit(readerSource + ["--deleted"], into: "hidden")
        for run in [plain, visible, hidden] { XCTAssertEqual(run.outcome.status, 0, run.outcome.stderr) }

        // The plain user reads the same live objects and no tombstone.
        XCTAssertEqual(hidden.summary["objectsRead"] as? Int, plain.summary["objectsRead"] as? Int)
        XCTAssertFalse(hidden.findings.contains(where: Self.isDeletedAccountFinding))

        let visibility = try XCTUnwrap(visible.summary["deletedObjects"], "findings.json says what could be seen")
        let said = try text(visibility)
        let notRequested = try text(try XCTUnwrap(plain.summary["deletedObjects"]))
        let notVisible = try text(try XCTUnwrap(hidden.summary["deletedObjects"]))
        XCTAssertNotEqual(said, notRequested)
        XCTAssertNotEqual(notVisible, said)
        XCTAssertNotEqual(notVisible, notRequested)
        XCTAssertTrue(notVisible.contains("only Administrators"), notVisible)
        XCTAssertFalse(notVisible.lowercased().contains("none"), notVisible)
    }

    func testTheConflictObjectIsNotAuditedAsAComputer() throws {
        let run = try audit(adminSource, into: "conflict")
        XCTAssertEqual(run.outcome.status, 0, run.outcome.stderr)
        // It has no SPN at all: audited as a computer it would be reported as missing its SPNs.
        let perAccount = run.findings.filter {
            $0["account"] as? String == Self.conflictAccount && $0["rule"] as? String != "conflict-object"
                && $0["rule"] as? String != "duplicate-hostname"
        }
        XCTAssertEqual(perAccount.count, 0, "\(perAccount)")
        XCTAssertFalse(try computersCSV(run).contains("DUPLICATE-1f4a"))
        XCTAssertTrue(try computersCSV(run).contains("CNF-01$"), "the live twin is an ordinary computer")
        // DUPHOST-02 is an ordinary computer too (its SPNs name duphost-02, its dNSHostName does not).
        XCTAssertTrue(try computersCSV(run).contains("DUPHOST-02$"))

        let conflict = run.findings.filter {
            $0["rule"] as? String == "conflict-object" && $0["account"] as? String == Self.conflictAccount
        }
        XCTAssertEqual(conflict.count, 1, "\(run.findings)")
        XCTAssertTrue((conflict.first?["message"] as? String ?? "").contains("CNF-01"), "it names its live twin")
        // CNF-01's own dNSHostName is held by the conflict object too, which is no claimant: only the
        // two live DUPHOST computers are.
        let accounts = Set(
            run.findings.filter { $0["rule"] as? String == "duplicate-hostname" }
                .compactMap { $0["account"] as? String })
        XCTAssertEqual(accounts, ["DUPHOST-01$", "DUPHOST-02$"])
    }

    func testADeletedObjectsAuditFindsWhatAnExportWithDeletedObjectsShows() throws {
        let live = try audit(adminSource + ["--deleted"], into: "live")
        XCTAssertEqual(live.outcome.status, 0, live.outcome.stderr)
        let export = workDirectory.appendingPathComponent("export-deleted.ldif")
        let directory = try XCTUnwrap(dc.directory, "TRUSTAUDIT_TEST_DC_DIR names the DC's folder for the export")
        let exported = try ExecutableRunner.run(
            ExecutableRunner.repositoryRoot.appendingPathComponent("scripts/testdc"),
            ["export", directory, export.path, "--deleted"])
        XCTAssertEqual(exported.status, 0, exported.stderr)
        let ldif = try String(contentsOf: export, encoding: .utf8)
        XCTAssertTrue(ldif.contains("isDeleted: TRUE"), "the export holds the tombstone")
        let file = try audit(["--ldif", export.path], into: "ldif")
        XCTAssertEqual(file.outcome.status, 0, file.outcome.stderr)

        // The same findings, but the DC knows the Recycle Bin is off and says so in deleted-account's
        // message and fix; an export cannot, so it offers both ways back.
        let others = { (findings: [[String: Any]]) in findings.filter { !Self.isDeletedAccountFinding($0) } }
        XCTAssertEqual(try comparable(others(live.findings)), try comparable(others(file.findings)))
        let accounts = { (findings: [[String: Any]]) in
            findings.filter(Self.isDeletedAccountFinding).compactMap { $0["account"] as? String }.sorted()
        }
        XCTAssertEqual(accounts(live.findings), accounts(file.findings))
        XCTAssertFalse(accounts(live.findings).isEmpty)
        for key in ["objectsRead", "computers", "repeatedObjects"] {
            XCTAssertEqual(live.summary[key] as? Int, file.summary[key] as? Int, key)
        }
        // An export cannot say whether the Recycle Bin is on: both say visible, the DC knows more.
        let fromFile = try XCTUnwrap(file.summary["deletedObjects"] as? [String: Any])
        let fromDC = try XCTUnwrap(live.summary["deletedObjects"] as? [String: Any])
        XCTAssertEqual(fromFile["status"] as? String, "visible")
        XCTAssertEqual(fromDC["status"] as? String, "visible")
        XCTAssertTrue(fromFile["recycleBin"] is NSNull)
        XCTAssertEqual(fromDC["recycleBin"] as? Bool, false)
    }

    // MARK: - Helpers

    var adminSource: [String] {
        ["--uri", dc.ldapsURI, "--ca-file", dc.caFile, "--bind-dn", dc.bindDN, "--password-file", dc.passwordFile]
    }

    func settings(bindDN: String, password: String) throws -> LDAPSourceSettings {
        var settings = LDAPSourceSettings(
            uri: dc.ldapsURI, bind: .simple(dn: bindDN, password: Array(password.utf8)), caFile: dc.caFile,
            networkTimeout: 5, operationTimeout: 60)
        settings.readsDeletedObjects = true
        return settings
    }

    /// The plain user testdc seeds: TRUSTAUDIT_TEST_DC_READER_DN and _PASSWORD_FILE, else the
    /// testdc directory's reader.pass; a skip for a foreign DC without one.
    func readerCredentials() throws -> (dn: String, password: String) {
        let environment = ProcessInfo.processInfo.environment
        let file =
            environment["TRUSTAUDIT_TEST_DC_READER_PASSWORD_FILE"]
            ?? dc.directory.map { URL(fileURLWithPath: $0).appendingPathComponent("reader.pass").path }
        guard let file, let password = try? String(contentsOfFile: file, encoding: .utf8), !password.isEmpty else {
            throw XCTSkip(
                "no plain user to bind as: set TRUSTAUDIT_TEST_DC_READER_DN and TRUSTAUDIT_TEST_DC_READER_PASSWORD_FILE "
                    + "(scripts/testdc env prints them)")
        }
        return (environment["TRUSTAUDIT_TEST_DC_READER_DN"] ?? "audit-reader@corp.test", password)
    }

    static func isDeletedAccountFinding(_ finding: [String: Any]) -> Bool {
        finding["rule"] as? String == "deleted-account"
    }

    /// The deleted-account rule ran (summary.byRule names every rule that ran, zeros included).
    func requireDeletedAccountRule(_ run: LiveAuditTests.Run) throws {
        let rules = (run.summary["byRule"] as? [String: Any] ?? [:]).keys.sorted()
        XCTAssertTrue(rules.contains("deleted-account"), "rules: \(rules.joined(separator: ", "))")
    }

    func audit(_ source: [String], into name: String) throws -> LiveAuditTests.Run {
        let output = workDirectory.appendingPathComponent(name)
        let arguments = ["audit"] + source + ["--now", now, "--output", output.path, "--config", configFile.path]
        var run = LiveAuditTests.Run(
            outcome: try ExecutableRunner.run(ExecutableRunner.trustaudit, arguments), output: output)
        let file = output.appendingPathComponent("findings.json")
        if run.outcome.status <= 1, let data = FileManager.default.contents(atPath: file.path) {
            run.json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
        return run
    }

    func computersCSV(_ run: LiveAuditTests.Run) throws -> String {
        try String(contentsOf: run.output.appendingPathComponent("computers.csv"), encoding: .utf8)
    }

    func text(_ value: Any) throws -> String {
        if let string = value as? String { return string }
        return String(
            decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]),
            as: UTF8.self)
    }

    func comparable(_ findings: [[String: Any]]) throws -> [String] {
        try findings.map {
            var finding = $0
            finding.removeValue(forKey: "change")
            return String(
                decoding: try JSONSerialization.data(withJSONObject: finding, options: [.sortedKeys]), as: UTF8.self)
        }
    }
}
