import Foundation
import XCTest

@testable import LDAPClient

/// Two connections failing at once on two threads: each diagnosis names its own server's
/// answer, never the other's (libldap's trace is process-wide; the lines are kept per thread).
final class LDAPParallelDiagnosisTests: XCTestCase {
    /// What an SSH server says first, on the wrong port.
    static let sshBanner = Array("SSH-2.0-OpenSSH_9.6p1 Debian-4\r\n".utf8)

    func testTwoThreadsDiagnosingAtOnceEachGetTheirOwnReason() throws {
        let web = try MisbehavingServer(.replyAndClose(LDAPNotLDAPServerTests.httpReply))
        let ssh = try MisbehavingServer(.replyAndClose(Self.sshBanner))
        defer {
            web.stop()
            ssh.stop()
        }
        let results = Results()
        let rounds = 12
        let threads = [(web.port, "web"), (ssh.port, "ssh")].map { port, name in
            Thread {
                for _ in 0..<rounds {
                    let options = LDAPConnectionOptions(
                        uri: "ldap://127.0.0.1:\(port)", networkTimeout: 3, operationTimeout: 5)
                    do {
                        try LDAPConnection(options: options).simpleBind(
                            dn: "svc-audit@corp.example", password: Array("Pa55".utf8))
                        results.add(name, "bound")
                    } catch {
                        results.add(name, "\(error)")
                    }
                }
            }
        }
        for thread in threads { thread.start() }
        let deadline = Date().addingTimeInterval(60)
        while !threads.allSatisfy(\.isFinished) && Date() < deadline { usleep(10_000) }
        XCTAssertTrue(threads.allSatisfy(\.isFinished))

        let http = "0x48 ('H', as in HTTP)"
        // 'S' would start a BER element of 0x53 bytes; the banner is shorter, so it never forms one.
        let banner = "\(Self.sshBanner.count) bytes that do not form an LDAP message"
        let byName = results.all
        XCTAssertEqual(byName["web"]?.count, rounds)
        XCTAssertEqual(byName["ssh"]?.count, rounds)
        for message in byName["web"] ?? [] {
            XCTAssertTrue(message.contains(http), message)
            XCTAssertFalse(
                message.contains("bytes that do not form"), "the other thread's reason leaked in: \(message)")
        }
        for message in byName["ssh"] ?? [] {
            XCTAssertTrue(message.contains(banner), message)
            XCTAssertFalse(message.contains(http), "the other thread's reason leaked in: \(message)")
        }
    }
}

private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String: [String]] = [:]
    func add(_ name: String, _ message: String) { lock.withLock { messages[name, default: []].append(message) } }
    var all: [String: [String]] { lock.withLock { messages } }
}
