import Audit
import AuditJob
import Directory
import Foundation
import Reporting
import XCTest

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs `AuditJob` in this process, as a second frontend would, on the CLI's fixtures: each
/// outcome a frontend maps to an exit code, what is left on disk, and that the job prints nothing.
final class AuditJobTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repository.appendingPathComponent("Tests/CLITests/Fixtures")
    static let templates = repository.appendingPathComponent("Templates", isDirectory: true)
    /// 2026-11-24T00:00:00Z, the fixtures' "now".
    static let now = Date(timeIntervalSince1970: 1_795_478_400)

    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "AuditJobTests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    var output: URL { directory.appendingPathComponent("Reports", isDirectory: true) }

    func settings(
        _ source: AuditJobSettings.Source? = nil, formats: Set<ReportFormat> = Set(ReportFormat.allCases)
    ) throws -> AuditJobSettings {
        AuditJobSettings(
            source: source ?? .ldif(LDIFReader(path: Self.fixtures.appendingPathComponent("small-domain.ldif").path)),
            inventory: try Inventory.load(path: Self.fixtures.appendingPathComponent("inventory.txt").path),
            outputDirectory: output, formats: formats, templatesDirectory: Self.templates, now: Self.now)
    }

    /// Runs the job, collecting its events, with stdout and stderr captured: both must stay empty.
    func run(_ settings: AuditJobSettings) throws -> (AuditJobOutcome, [AuditJobEvent]) {
        var events: [AuditJobEvent] = []
        let (outcome, printed) = try capturingOutput {
            AuditJob(settings).run { events.append($0) }
        }
        XCTAssertEqual(printed, "", "the library printed")
        return (outcome, events)
    }

    /// The bytes written to file descriptors 1 and 2 while `body` runs.
    func capturingOutput<Result>(_ body: () -> Result) throws -> (Result, String) {
        let capture = directory.appendingPathComponent("printed.txt")
        let descriptor = open(capture.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        XCTAssertGreaterThanOrEqual(descriptor, 0)
        fflush(nil)
        let (savedOut, savedError) = (dup(STDOUT_FILENO), dup(STDERR_FILENO))
        dup2(descriptor, STDOUT_FILENO)
        dup2(descriptor, STDERR_FILENO)
        let result = body()
        fflush(nil)
        dup2(savedOut, STDOUT_FILENO)
        dup2(savedError, STDERR_FILENO)
        close(savedOut)
        close(savedError)
        close(descriptor)
        return (result, try String(contentsOf: capture, encoding: .utf8))
    }

    /// Every file in the output directory, name to bytes (the lock file included: it stays).
    func snapshot() throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: output.path) {
            files[name] = try Data(contentsOf: output.appendingPathComponent(name))
        }
        return files
    }

    func testCompletesWithTheReportsOfTheSmallDomain() throws {
        let (outcome, events) = try run(try settings())
        guard case .completed(let completion) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(completion.result.summary.domain, "corp.example")
        XCTAssertGreaterThan(completion.result.summary.computers, 0)
        XCTAssertEqual(completion.written.first?.lastPathComponent, "findings.json")
        XCTAssertEqual(completion.written.last?.lastPathComponent, "report.html")
        XCTAssertTrue(completion.written.map(\.lastPathComponent).contains("computers.csv"))
        for file in completion.written { XCTAssertTrue(FileManager.default.fileExists(atPath: file.path), file.path) }
        XCTAssertNil(completion.changes, "a first run has no baseline")
        XCTAssertNil(completion.mail)
        XCTAssertTrue(completion.historyKept)
        XCTAssertEqual(
            events.map(Self.kind), ["sourceRead", "reportsWritten"],
            "the read ends before the reports are written, and nothing else is said on a clean run")
        XCTAssertEqual(
            try listing(), completion.written.map(\.lastPathComponent).sorted(),
            "no temporary, and the lock is released")

        // The second run compares with the findings.json the first one wrote, read before it is replaced.
        let (again, _) = try run(try settings())
        guard case .completed(let second) = again else { return XCTFail("\(again)") }
        XCTAssertEqual(second.changes?.newCount, 0)
        XCTAssertEqual(second.changes?.resolved.count, 0)
    }

    func testAnExportWithoutComputersIsUnreadableAndReplacesNothing() throws {
        guard case .completed = try run(try settings()).0 else { return XCTFail("the first run failed") }
        let before = try snapshot()
        let users = """
            dn: CN=Ada Admin,OU=Admins,DC=corp,DC=example
            objectClass: top
            objectClass: person
            objectClass: organizationalPerson
            objectClass: user
            cn: Ada Admin
            sAMAccountName: ada.admin
            userAccountControl: 512
            pwdLastSet: 134387712000000000
            objectGUID:: EBESExQVFhcYGRobHB0eHw==

            """
        let (outcome, events) = try run(try settings(.ldif(LDIFReader(bytes: Array(users.utf8), name: "users.ldif"))))
        guard case .sourceUnreadable(.noComputerAccount(let source, let objectsRead)) = outcome else {
            return XCTFail("\(outcome)")
        }
        XCTAssertEqual(source, "users.ldif")
        XCTAssertEqual(objectsRead, 1)
        XCTAssertEqual(events.map(Self.kind), ["sourceRead"])
        XCTAssertEqual(try snapshot(), before, "the previous reports are unchanged")

        // A file with no entry at all is an export that cannot be read.
        let (empty, _) = try run(try settings(.ldif(LDIFReader(bytes: [], name: "empty.ldif"))))
        guard case .sourceUnreadable(.unreadable(let emptySource, _)) = empty else { return XCTFail("\(empty)") }
        XCTAssertEqual(emptySource, "empty.ldif")
        XCTAssertEqual(try snapshot(), before, "the previous reports are unchanged")
    }

    func testAMalformedExportIsUnreadableAndLeavesNoTemporary() throws {
        let reader = LDIFReader(path: Self.fixtures.appendingPathComponent("malformed.ldif").path)
        let (outcome, _) = try run(try settings(.ldif(reader)))
        guard case .sourceUnreadable(.unreadable(let source, _)) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(source.hasSuffix("malformed.ldif"), source)
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: output.path),
            "the streamed computers.csv was discarded, and the directory the run made with it")
    }

    func testAReportThatCannotBeWrittenIsReportNotWritten() throws {
        // A directory where findings.csv goes: the rename into place fails after the read.
        let blocker = output.appendingPathComponent("findings.csv", isDirectory: true)
        try FileManager.default.createDirectory(at: blocker, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: blocker.appendingPathComponent("inside"))
        let (outcome, events) = try run(try settings(formats: [.csv]))
        guard case .reportNotWritten(let error) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual((error as? ReportError)?.code, .renameFailed, "\(error)")
        XCTAssertEqual(events.map(Self.kind), ["sourceRead"])
        XCTAssertEqual(try listing(), ["findings.csv"], "no report and no temporary is left")
    }

    func testAnOutputDirectoryThatIsAFileIsNeverRead() throws {
        try Data("not a directory".utf8).write(to: output)
        let (outcome, events) = try run(try settings())
        guard case .outputLocked(let error) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual((error as? ReportError)?.code, .outputDirectoryUnusable)
        XCTAssertEqual((error as? ReportError)?.advice, .nameOutputDirectory)
        XCTAssertFalse("\(error)".contains("--"), "the library names no command-line option: \(error)")
        XCTAssertTrue(events.isEmpty)
    }

    func testAHeldLockIsOutputLockedAndNothingIsRead() throws {
        guard case .completed = try run(try settings()).0 else { return XCTFail("the first run failed") }
        let before = try snapshot()
        let held = try OutputLock.acquire(output)
        defer { held.release() }
        // An unreadable source proves the job stopped before the read.
        let missing = LDIFReader(path: directory.appendingPathComponent("nope.ldif").path)
        let (outcome, events) = try run(try settings(.ldif(missing)))
        guard case .outputLocked(let error) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual((error as? ReportError)?.code, .outputLocked, "\(error)")
        XCTAssertTrue(events.isEmpty)
        XCTAssertEqual(
            try snapshot().filter { $0.key != OutputLock.fileName }, before.filter { $0.key != OutputLock.fileName })
    }

    func testAMissingTemplateIsAUsageErrorBeforeTheRead() throws {
        var settings = try settings(.ldif(LDIFReader(path: directory.appendingPathComponent("nope.ldif").path)))
        settings.templatesDirectory = directory
        let (outcome, _) = try run(settings)
        guard case .usage(let error) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual((error as? ReportError)?.code, .templateUnreadable)
        XCTAssertEqual((error as? ReportError)?.advice, .nameTemplatesDirectory)
    }

    func testAnUnusablePreviousRunIsAWarningNotAFailure() throws {
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        try Data("{ not json".utf8).write(to: output.appendingPathComponent("findings.json"))
        let (outcome, events) = try run(try settings())
        guard case .completed(let completion) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(events.map(Self.kind), ["baselineUnusable", "sourceRead", "reportsWritten"])
        XCTAssertEqual(completion.warnings.count, 1)
        XCTAssertNil(completion.changes)
    }

    /// A run that should spill its findings to TMPDIR and cannot (TMPDIR is a file) says so: the
    /// reports are those of a run that never spilled, but its memory was not bounded.
    func testFindingsThatCannotBeSpilledAreAWarningAndTheReportsAreUnchanged() throws {
        var held = try settings()
        held.findingsPerSpilledRun = nil
        let (heldOutcome, heldEvents) = try run(held)
        guard case .completed = heldOutcome else { return XCTFail("\(heldOutcome)") }
        XCTAssertEqual(heldEvents.map(Self.kind), ["sourceRead", "reportsWritten"])
        let expected = try snapshot()
        try FileManager.default.removeItem(at: output)

        var spilling = try settings()
        spilling.findingsPerSpilledRun = 2
        let (written, writtenEvents) = try run(spilling)
        guard case .completed(let writtenCompletion) = written else { return XCTFail("\(written)") }
        XCTAssertTrue(writtenCompletion.result.findingStore.isSpilled)
        XCTAssertNil(writtenCompletion.result.findingStore.spillFailure)
        XCTAssertEqual(writtenEvents.map(Self.kind), ["sourceRead", "reportsWritten"], "a spill that works is silent")
        XCTAssertEqual(try snapshot(), expected)
        try FileManager.default.removeItem(at: output)

        let notADirectory = directory.appendingPathComponent("tmp-is-a-file")
        try Data("x".utf8).write(to: notADirectory)
        let before = ProcessInfo.processInfo.environment["TMPDIR"]
        setenv("TMPDIR", notADirectory.path, 1)
        defer {
            if let before { setenv("TMPDIR", before, 1) } else { unsetenv("TMPDIR") }
        }
        let (outcome, events) = try run(spilling)
        guard case .completed(let completion) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(events.map(Self.kind), ["sourceRead", "findingsHeldInMemory", "reportsWritten"])
        guard case .findingsHeldInMemory(let failure) = completion.warnings.first else {
            return XCTFail("\(completion.warnings)")
        }
        XCTAssertEqual(failure.directory, notADirectory.path, "the warning names the directory that failed")
        XCTAssertTrue(failure.description.contains("TMPDIR"), failure.description)
        XCTAssertEqual(try snapshot(), expected, "the reports are those of a run that held its findings")
    }

    func testTheMailAttachesTheCSVsByContentType() throws {
        let written = ["findings.json", "findings.csv", "missing-spn.csv", "computers.csv", "report.html"].map {
            output.appendingPathComponent($0)
        }
        XCTAssertEqual(
            MailJob.candidates(written).map(\.lastPathComponent), ["findings.csv", "missing-spn.csv", "computers.csv"])
        XCTAssertEqual(
            MailJob.candidates([written[0], written[4]]).map(\.lastPathComponent), ["findings.json"],
            "findings.json rides along when no CSV was written")
        XCTAssertEqual(MailJob.contentType(ofFileNamed: "computers.csv"), "text/csv; charset=utf-8")
        XCTAssertEqual(MailJob.contentType(ofFileNamed: "findings.json"), "application/json")
    }

    func listing() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: output.path).sorted()
    }

    static func kind(_ event: AuditJobEvent) -> String {
        switch event {
        case .warning(.clockSkew): "clockSkew"
        case .warning(.baselineUnusable): "baselineUnusable"
        case .warning(.repeatedObjects): "repeatedObjects"
        case .warning(.historyNotKept): "historyNotKept"
        case .warning(.attributesNotInExport): "attributesNotInExport"
        case .warning(.domainControllerNotRead): "domainControllerNotRead"
        case .warning(.findingsHeldInMemory): "findingsHeldInMemory"
        case .sourceRead: "sourceRead"
        case .reportsWritten: "reportsWritten"
        }
    }
}
