import Foundation
import XCTest

@testable import LDAPClient

/// A port where something other than an LDAP server answers (a web server, a proxy's error page,
/// another service) is named as such, not as "check host, port, the CA file".
final class LDAPNotLDAPServerTests: XCTestCase {
    /// What a web server says to a request it cannot read.
    static let httpReply = Array(
        "HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            .utf8)

    /// 512 bytes from SplitMix64, seeded: noise, the same on every run.
    static let randomReply: [UInt8] = {
        var state: UInt64 = 0x5452_5553_5441_5544  // "TRUSTAUD"
        var bytes: [UInt8] = []
        while bytes.count < 512 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            withUnsafeBytes(of: z.littleEndian) { bytes += $0 }
        }
        return bytes
    }()

    private func bindError(_ reply: [UInt8], scheme: String) throws -> LDAPError {
        let server = try MisbehavingServer(.replyAndClose(reply))
        defer { server.stop() }
        let uri = "\(scheme)://127.0.0.1:\(server.port)"
        let options = LDAPConnectionOptions(uri: uri, networkTimeout: 3, operationTimeout: 5)
        let started = Date()
        do {
            try LDAPConnection(options: options).simpleBind(dn: "svc-audit@corp.example", password: Array("Pa55".utf8))
        } catch let error as LDAPError {
            XCTAssertLessThan(Date().timeIntervalSince(started), 5, "\(uri): should not wait for a timeout")
            XCTAssertTrue("\(error)".hasPrefix(uri + ":"), "\(error)")
            XCTAssertFalse("\(error)".contains("Pa55"))
            return error
        }
        throw XCTSkip("bound to a server that is not LDAP")
    }

    func testHTTPOnAnLDAPPortIsNotLDAP() throws {
        let error = try bindError(Self.httpReply, scheme: "ldap")
        XCTAssertEqual(error.code, .notLDAP, "\(error)")
        XCTAssertEqual(error.operation, .simpleBind)
        XCTAssertTrue("\(error)".contains("answered with something that is not LDAP"), "\(error)")
        XCTAssertTrue("\(error)".contains("0x48 ('H', as in HTTP)"), "\(error)")
        XCTAssertFalse(error.remedy.settings.contains(.caFile), "\(error)")
        XCTAssertTrue(error.advice.contains("does not speak LDAP"), error.advice)
    }

    func testRandomBytesOnAnLDAPPortAreNotLDAP() throws {
        let error = try bindError(Self.randomReply, scheme: "ldap")
        XCTAssertEqual(error.code, .notLDAP, "\(error)")
        XCTAssertTrue("\(error)".contains("not LDAP"), "\(error)")
        XCTAssertFalse(error.remedy.settings.contains(.caFile), "\(error)")
    }

    func testHTTPOnAnLDAPSPortIsNotLDAP() throws {
        let error = try bindError(Self.httpReply, scheme: "ldaps")
        XCTAssertEqual(error.code, .notLDAP, "\(error)")
        XCTAssertTrue("\(error)".contains("answered the TLS handshake with something that is not TLS"), "\(error)")
        XCTAssertTrue(error.advice.contains("does not speak LDAPS"), error.advice)
        XCTAssertFalse(error.remedy.settings.contains(.caFile), error.advice)
    }

    func testRandomBytesOnAnLDAPSPortAreNotLDAP() throws {
        let error = try bindError(Self.randomReply, scheme: "ldaps")
        XCTAssertEqual(error.code, .notLDAP, "\(error)")
        XCTAssertTrue("\(error)".contains("not TLS"), "\(error)")
    }

    func testUndecodableReplyIsNotLDAP() {
        XCTAssertEqual(
            LDAPError.classify(resultCode: -4, operation: .search, usesTLS: false, wasBound: true, diagnostic: nil),
            .notLDAP)
    }

    func testTraceOfAReplyThatIsNotLDAP() {
        let http = ConnectionDiagnosis.diagnose([
            "ldap_read: want=8, got=8\n", "ldap_read: want=78, got=78\n", "ber_get_next: tag 0x48 len 84 contents:\n",
            "ber_get_next failed, errno=0.\n",
        ])
        XCTAssertTrue(http.answeredWithSomethingElse)
        XCTAssertEqual(
            http.summary,
            "the server answered with something that is not LDAP: its reply starts with 0x48 ('H', as in HTTP), where an LDAP message starts with 0x30"
        )
        let truncated = ConnectionDiagnosis.diagnose([
            "ldap_read: want=8, got=8\n", "ldap_read: want=4000, got=504\n", "ldap_read: want=3496, got=0\n",
            "ber_get_next failed, errno=0.\n",
        ])
        XCTAssertTrue(truncated.answeredWithSomethingElse)
        XCTAssertEqual(
            truncated.summary,
            "the server answered with something that is not LDAP: 512 bytes that do not form an LDAP message")
        let impossibleLength = ConnectionDiagnosis.diagnose([
            "ldap_read: want=8, got=8\n", "ber_get_next failed, errno=\(ERANGE).\n",
        ])
        XCTAssertEqual(
            impossibleLength.summary,
            "the server answered with something that is not LDAP: a reply with an impossible length")
        let tls = ConnectionDiagnosis.diagnose([
            "TLS: can't connect: A TLS record packet with invalid length was received..\n"
        ])
        XCTAssertTrue(tls.answeredWithSomethingElse)
        // A hang-up without a byte, and a real LDAP reply, are no such thing.
        XCTAssertFalse(ConnectionDiagnosis.diagnose(["ber_get_next failed, errno=0.\n"]).answeredWithSomethingElse)
        XCTAssertFalse(
            ConnectionDiagnosis.diagnose(["ldap_read: want=8, got=8\n", "ber_get_next: tag 0x30 len 12 contents:\n"])
                .answeredWithSomethingElse)
    }
}
