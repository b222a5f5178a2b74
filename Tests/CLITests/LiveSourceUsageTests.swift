import Foundation
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The live-audit options as the executable reads them: what is refused before any network
/// traffic is exit 2 with a message naming the option, the URI or the file. Needs no DC (every
/// URI here is refused first, or points at a closed port on loopback); it sits with the
/// integration tests because it runs the built executable against live-source settings.
final class LiveSourceUsageTests: XCTestCase {
    var workDirectory: URL!

    override func setUpWithError() throws {
        workDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("trustaudit-usage-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let workDirectory { try? FileManager.default.removeItem(at: workDirectory) }
    }

    /// A password file as an admin writes it: one line, mode 600.
    func passwordFile(_ contents: [UInt8] = Array("Tr0ub4dor&3\n".utf8), name: String = "bind.pass") throws -> String {
        let url = workDirectory.appendingPathComponent(name)
        try Data(contents).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
        return url.path
    }

    func audit(_ arguments: [String]) throws -> ProcessOutcome {
        try ExecutableRunner.run(
            ExecutableRunner.trustaudit,
            ["audit"] + arguments + ["--output", workDirectory.appendingPathComponent("Reports").path],
            environment: ["TRUSTAUDIT_PASSWORD": nil])
    }

    func simpleBind(_ uri: String, _ extra: [String] = []) throws -> ProcessOutcome {
        try audit(["--uri", uri, "--bind-dn", "svc-audit@corp.example", "--password-file", try passwordFile()] + extra)
    }

    func testSimpleBindIsRefusedWhenALaterURIIsPlain() throws {
        let result = try simpleBind("ldaps://dc1.corp.example ldap://dc2.corp.example")
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertTrue(
            result.stderr.contains("refusing a simple bind over unencrypted ldap://dc2.corp.example:"), result.stderr)
        XCTAssertTrue(result.stderr.contains("--starttls"), result.stderr)
        XCTAssertFalse(result.stderr.contains("Tr0ub4dor"))
    }

    func testGlobalCatalogMapsEveryURIOfTheList() throws {
        let refused = try simpleBind("LDAPS://dc1.corp.example ldap://dc2.corp.example", ["--gc"])
        XCTAssertEqual(refused.status, 2, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("unencrypted ldap://dc2.corp.example:3268:"), refused.stderr)
        XCTAssertFalse(refused.stderr.contains("::3269//"), "the list was mangled: \(refused.stderr)")

        // Both mapped (no DC listens on loopback's 3269): the failure to connect names the mapped list.
        let mapped = try simpleBind("ldaps://127.0.0.1 ldaps://[::1]:636", ["--gc", "--network-timeout", "2"])
        XCTAssertEqual(mapped.status, 3, mapped.stderr)
        XCTAssertTrue(mapped.stderr.contains("ldaps://127.0.0.1:3269 ldaps://[::1]:3269"), mapped.stderr)
    }

    func testTimeoutsOutsideADayAreUsageErrors() throws {
        for option in ["--timeout", "--network-timeout"] {
            for value in ["1e20", "inf", "nan", "0", "-1", "86400.5"] {
                let result = try simpleBind("ldaps://127.0.0.1:1", [option, value])
                XCTAssertEqual(result.status, 2, "\(option) \(value): \(result.stderr)")
                XCTAssertTrue(
                    result.stderr.contains(
                        "\(option) '\(value)' must be a number of seconds more than 0 and at most 86400"),
                    result.stderr)
            }
        }
        // A day is allowed: the run gets as far as the closed port (exit 3), not a usage error.
        let day = try simpleBind("ldaps://127.0.0.1:1", ["--timeout", "86400", "--network-timeout", "86400"])
        XCTAssertEqual(day.status, 3, day.stderr)
    }

    func testPasswordFilesThatAreNoPasswordAreUsageErrors() throws {
        let huge = try passwordFile([UInt8](repeating: 0x61, count: 1 << 20), name: "huge.pass")
        let fifo = workDirectory.appendingPathComponent("fifo.pass").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        for (path, expected) in [
            (huge, "password file \(huge): it is 1 MiB, more than 4 KiB"), (fifo, "a FIFO (named pipe)"),
            ("/dev/zero", "password file /dev/zero: it is a character device"),
        ] {
            let started = Date()
            let result = try audit(
                ["--uri", "ldaps://127.0.0.1:1", "--bind-dn", "svc-audit@corp.example", "--password-file", path])
            XCTAssertEqual(result.status, 2, "\(path): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("--password-file: "), result.stderr)
            XCTAssertTrue(result.stderr.contains(expected), result.stderr)
            XCTAssertFalse(result.stderr.contains("check host, port"), result.stderr)
            XCTAssertLessThan(Date().timeIntervalSince(started), 10, "\(path) hung")
        }
    }

    func testSMTPPasswordFileHasTheSameCap() throws {
        let huge = try passwordFile([UInt8](repeating: 0x61, count: 1 << 20), name: "smtp.pass")
        let result = try audit([
            "--ldif", ExecutableRunner.repositoryRoot.appendingPathComponent("Samples/corp.example.ldif").path,
            "--mail-to", "secops@corp.example", "--smtp", "mail.corp.example:587", "--smtp-user", "trustaudit",
            "--smtp-password-file", huge,
        ])
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertTrue(result.stderr.contains("--smtp-password-file: password file \(huge): it is 1 MiB"), result.stderr)
    }

    func testCAFileThatIsNoRegularFileIsAUsageError() throws {
        let fifo = workDirectory.appendingPathComponent("ca.pem").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        for (path, expected) in [(fifo, "a FIFO (named pipe)"), ("/dev/zero", "a character device")] {
            let started = Date()
            let result = try simpleBind("ldaps://127.0.0.1:1", ["--ca-file", path])
            XCTAssertEqual(result.status, 2, "\(path): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("--ca-file: CA file \(path): it is \(expected)"), result.stderr)
            XCTAssertLessThan(Date().timeIntervalSince(started), 10, "\(path) hung")
        }
    }
}

/// The LDAP client's advice names settings ("the connect timeout"); the executable says the option
/// that sets it, so an admin at a shell reads what to type.
final class LiveSourceAdviceTests: XCTestCase {
    func testAdviceOnAStalledHandshakeNamesTheOption() throws {
        // A port that takes the TCP connection (the kernel's backlog) and never speaks TLS.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(listener, 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, 8) == 0
                    && getsockname(listener, pointer, &length) == 0
            }
        }
        XCTAssertTrue(bound)
        let port = UInt16(bigEndian: address.sin_port)

        let work = FileManager.default.temporaryDirectory.appendingPathComponent("trustaudit-advice-\(UUID())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let password = work.appendingPathComponent("bind.pass")
        try Data("Tr0ub4dor&3\n".utf8).write(to: password)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: password.path)
        let result = try ExecutableRunner.run(
            ExecutableRunner.trustaudit,
            [
                "audit", "--uri", "ldaps://127.0.0.1:\(port)", "--bind-dn", "svc-audit@corp.example",
                "--password-file", password.path, "--network-timeout", "1", "--output",
                work.appendingPathComponent("Reports").path,
            ],
            environment: ["TRUSTAUDIT_PASSWORD": nil])
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stderr.contains("raise --network-timeout for a slow link."), result.stderr)
        XCTAssertFalse(result.stderr.contains("the connect timeout"), result.stderr)
        XCTAssertFalse(result.stderr.contains("Tr0ub4dor"))
    }
}
