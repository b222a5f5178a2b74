import Foundation
import TestSupport
import XCTest

@testable import Delivery

#if canImport(Glibc)
    import Glibc
#endif

/// Delivers to a real aiosmtpd receiver on loopback and reads the saved message back with
/// Python's email parser. Skipped without python3-aiosmtpd unless CI=true.
final class SMTPTransportTests: XCTestCase {
    private let sender = "audit@corp.example"
    private let password = Array(MailReceiver.password.utf8)

    /// Collects the transport's trace from whatever thread it is called on.
    final class Trace: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ line: String) { lock.withLock { lines.append(line) } }
        var all: [String] { lock.withLock { lines } }
    }

    private func assertDelivered(
        _ receiver: MailReceiver, _ message: [UInt8], recipients: [String], tls: Bool, login: String?,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let messages = try receiver.messages()
        XCTAssertEqual(messages.count, 1, file: file, line: line)
        guard let received = messages.first else { return }
        XCTAssertEqual(received.raw, message, "the message arrives byte for byte", file: file, line: line)
        XCTAssertEqual(received.envelope["mailFrom"] as? String, sender, file: file, line: line)
        XCTAssertEqual(received.envelope["rcptTos"] as? [String], recipients, file: file, line: line)
        XCTAssertEqual(received.envelope["tls"] as? Bool, tls, file: file, line: line)
        XCTAssertEqual(received.envelope["login"] as? String, login, file: file, line: line)

        let parsed = try MailParser.parse(received.raw)
        XCTAssertEqual(parsed["defects"] as? [String], [], file: file, line: line)
        XCTAssertEqual(parsed["subject"] as? String, "TrustAudit: 3 Befunde für Büro Köln", file: file, line: line)
        XCTAssertEqual(
            parsed["contentTypes"] as? [String],
            ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "text/csv", "text/html"],
            file: file, line: line)
        let crlf = { (text: String) in text.replacingOccurrences(of: "\n", with: "\r\n") }
        XCTAssertEqual(parsed["text"] as? String, crlf(DeliveryFixtures.text), file: file, line: line)
        XCTAssertEqual(parsed["html"] as? String, crlf(DeliveryFixtures.html), file: file, line: line)
        let attachments = MailParser.attachments(parsed)
        XCTAssertEqual(attachments.map(\.name), ["findings.csv", "Bericht Köln.html"], file: file, line: line)
        XCTAssertEqual(attachments.first.map { Array($0.data) }, DeliveryFixtures.csv, file: file, line: line)
        XCTAssertEqual(
            attachments.last.map { Array($0.data) }, Array(DeliveryFixtures.html.utf8), file: file, line: line)
    }

    func testPlainDelivery() throws {
        let receiver = try receiver()
        let recipients = ["ops@corp.example", "night@corp.example"]
        let message = try DeliveryFixtures.message(to: recipients).rendered()
        let transport = SMTPTransport(host: "127.0.0.1", port: receiver.port, security: .none, timeout: 10)
        try transport.send(message, from: sender, to: recipients)
        try assertDelivered(receiver, message, recipients: recipients, tls: false, login: nil)
    }

    func testStartTLSVerifiedWithCAFileAndAuthPlain() throws {
        let receiver = try receiver()
        let message = try DeliveryFixtures.message().rendered()
        let trace = Trace()
        let transport = SMTPTransport(
            host: "localhost", port: receiver.port, security: .startTLS, caFile: receiver.caFile,
            username: MailReceiver.user, password: password, timeout: 10, heloName: "trustaudit.test",
            trace: { trace.append($0) })
        try transport.send(message, from: sender, to: ["ops@corp.example"])
        try assertDelivered(receiver, message, recipients: ["ops@corp.example"], tls: true, login: MailReceiver.user)

        let lines = trace.all
        XCTAssertTrue(lines.contains("C: STARTTLS"), "\(lines)")
        XCTAssertTrue(lines.contains("C: AUTH PLAIN <redacted>"), "\(lines)")
        XCTAssertEqual(lines.filter { $0 == "C: EHLO trustaudit.test" }.count, 2, "EHLO again after STARTTLS")
        let plainSecret = Data(([0] + Array(MailReceiver.user.utf8) + [0] + password)).base64EncodedString()
        XCTAssertFalse(lines.contains { $0.contains(MailReceiver.password) || $0.contains(plainSecret) })
    }

    func testImplicitTLSWithAuth() throws {
        let receiver = try receiver()
        let message = try DeliveryFixtures.message().rendered()
        let transport = SMTPTransport(
            host: "localhost", port: receiver.implicitTLSPort, security: .implicitTLS, caFile: receiver.caFile,
            username: MailReceiver.user, password: password, timeout: 10)
        try transport.send(message, from: sender, to: ["ops@corp.example"])
        try assertDelivered(receiver, message, recipients: ["ops@corp.example"], tls: true, login: MailReceiver.user)
    }

    func testAuthLoginWhenPlainIsNotOffered() throws {
        let receiver = try receiver()
        let message = try DeliveryFixtures.message().rendered()
        let trace = Trace()
        let transport = SMTPTransport(
            host: "localhost", port: receiver.loginOnlyPort, security: .startTLS, caFile: receiver.caFile,
            username: MailReceiver.user, password: password, timeout: 10, trace: { trace.append($0) })
        try transport.send(message, from: sender, to: ["ops@corp.example"])
        try assertDelivered(receiver, message, recipients: ["ops@corp.example"], tls: true, login: MailReceiver.user)
        XCTAssertTrue(trace.all.contains("C: AUTH LOGIN"), "\(trace.all)")
        XCTAssertFalse(trace.all.contains { $0.contains(MailReceiver.password) })
    }

    func testUntrustedCertificateIsATLSFailure() throws {
        let receiver = try receiver()
        let message = try DeliveryFixtures.message().rendered()
        for caFile in [nil, receiver.otherCAFile] {
            let transport = SMTPTransport(
                host: "localhost", port: receiver.port, security: .startTLS, caFile: caFile,
                username: MailReceiver.user, password: password, timeout: 10)
            XCTAssertThrowsError(try transport.send(message, from: sender, to: ["ops@corp.example"])) { error in
                let error = error as? DeliveryError
                XCTAssertEqual(error?.code, .tlsFailed, "\(String(describing: error))")
                XCTAssertTrue(error?.reason.contains("certificate") ?? false, "\(String(describing: error))")
            }
        }
        XCTAssertEqual(try receiver.messages().count, 0)
    }

    func testCertificateForAnotherNameIsATLSFailure() throws {
        let receiver = try receiver()
        // The certificate names localhost only; 127.0.0.1 is the same server but not its name.
        let transport = SMTPTransport(
            host: "127.0.0.1", port: receiver.port, security: .startTLS, caFile: receiver.caFile, timeout: 10)
        XCTAssertThrowsError(try transport.send(Array("x\r\n".utf8), from: sender, to: ["ops@corp.example"])) { error in
            let error = error as? DeliveryError
            XCTAssertEqual(error?.code, .tlsFailed)
            XCTAssertTrue(error?.reason.contains("127.0.0.1") ?? false, "\(String(describing: error))")
        }
    }

    func testUnverifiedTLSWhenVerificationIsOff() throws {
        let receiver = try receiver()
        let message = try DeliveryFixtures.message().rendered()
        let transport = SMTPTransport(
            host: "127.0.0.1", port: receiver.port, security: .startTLS, verifyCertificate: false, timeout: 10)
        try transport.send(message, from: sender, to: ["ops@corp.example"])
        try assertDelivered(receiver, message, recipients: ["ops@corp.example"], tls: true, login: nil)
    }

    func testWrongPasswordIsAnAuthFailure() throws {
        let receiver = try receiver()
        let wrong = "Xq7-not-it"
        let transport = SMTPTransport(
            host: "localhost", port: receiver.port, security: .startTLS, caFile: receiver.caFile,
            username: MailReceiver.user, password: Array(wrong.utf8), timeout: 10)
        XCTAssertThrowsError(try transport.send(Array("x\r\n".utf8), from: sender, to: ["ops@corp.example"])) { error in
            let error = error as? DeliveryError
            XCTAssertEqual(error?.code, .authFailed)
            XCTAssertEqual(error?.replyCode, 535)
            let text = "\(error!) \(error!.reason) \(error!.replyText ?? "")"
            XCTAssertFalse(text.contains(wrong), "the password must never appear: \(text)")
            let encoded = Data(([0] + Array(MailReceiver.user.utf8) + [0] + Array(wrong.utf8))).base64EncodedString()
            XCTAssertFalse(text.contains(encoded), "nor its base64: \(text)")
        }
        XCTAssertEqual(try receiver.messages().count, 0)
    }

    /// The AUTH lines are built in one buffer each (so the one wipe covers the secret's only copy)
    /// and say exactly what RFC 4616 and the LOGIN mechanism expect.
    func testAuthLinesAreBuiltInOneBuffer() {
        let line = SMTPTransport.authPlainLine(username: "audit", password: Array("Corr3ct-h0rse".utf8))
        XCTAssertEqual(String(decoding: line, as: UTF8.self), "AUTH PLAIN AGF1ZGl0AENvcnIzY3QtaDByc2U=\r\n")
        XCTAssertLessThanOrEqual(line.capacity, line.count + 16, "sized up front, not grown")
        XCTAssertEqual(
            String(decoding: Base64.line(Array("Corr3ct-h0rse".utf8)), as: UTF8.self), "Q29ycjNjdC1oMHJzZQ==\r\n")
        var secret = Array("Corr3ct-h0rse".utf8)
        Base64.wipe(&secret)
        XCTAssertEqual(secret, [UInt8](repeating: 0, count: 13))
    }

    func testAuthWithoutTLSIsRefusedBeforeConnecting() throws {
        // Nothing listens on this port: the refusal must come first.
        let transport = SMTPTransport(
            host: "127.0.0.1", port: try Self.closedPort(), security: .none, username: "audit", password: password)
        XCTAssertThrowsError(try transport.send(Array("x\r\n".utf8), from: sender, to: ["ops@corp.example"])) { error in
            XCTAssertEqual((error as? DeliveryError)?.code, .insecureAuthRefused)
            XCTAssertTrue("\(error)".contains("STARTTLS"), "\(error)")
        }
    }

    func testRefusedConnection() throws {
        let transport = SMTPTransport(host: "127.0.0.1", port: try Self.closedPort(), security: .none, timeout: 5)
        XCTAssertThrowsError(try transport.send(Array("x\r\n".utf8), from: sender, to: ["ops@corp.example"])) { error in
            XCTAssertEqual((error as? DeliveryError)?.code, .smtpConnectFailed)
            XCTAssertTrue("\(error)".contains("refused"), "\(error)")
        }
    }

    func testRejectedRecipientNamesTheCommand() throws {
        let receiver = try receiver()
        let recipients = ["ops@corp.example", "reject@corp.example"]
        let transport = SMTPTransport(host: "127.0.0.1", port: receiver.port, security: .none, timeout: 10)
        XCTAssertThrowsError(
            try transport.send(DeliveryFixtures.message(to: recipients).rendered(), from: sender, to: recipients)
        ) { error in
            let error = error as? DeliveryError
            XCTAssertEqual(error?.code, .smtpRejected)
            XCTAssertEqual(error?.command, "RCPT TO:<reject@corp.example>")
            XCTAssertEqual(error?.replyCode, 550)
            XCTAssertTrue(error?.replyText?.contains("User unknown") ?? false)
        }
        XCTAssertEqual(try receiver.messages().count, 0)
    }

    func testDotStuffingAndLineEnds() throws {
        let receiver = try receiver()
        let raw = Array("Subject: dots\n\n.leading\n.\n..two\r\nbare\rcr\nlast".utf8)
        let transport = SMTPTransport(host: "127.0.0.1", port: receiver.port, security: .none, timeout: 10)
        try transport.send(raw, from: sender, to: ["ops@corp.example"])
        XCTAssertEqual(
            try receiver.messages().first.map { String(decoding: $0.raw, as: UTF8.self) },
            "Subject: dots\r\n\r\n.leading\r\n.\r\n..two\r\nbare\r\ncr\r\nlast\r\n")
    }

    func testSilentServerTimesOut() throws {
        // A listening socket that never accepts: the kernel completes the handshake, no greeting comes.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 4) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        XCTAssertTrue(bound)
        let transport = SMTPTransport(
            host: "127.0.0.1", port: Int(UInt16(bigEndian: address.sin_port)), security: .none, timeout: 1)
        let started = Date()
        XCTAssertThrowsError(try transport.send(Array("x\r\n".utf8), from: sender, to: ["ops@corp.example"])) {
            XCTAssertEqual(($0 as? DeliveryError)?.code, .timeout, "\($0)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }

    func testEnvelopeInjectionIsRefused() throws {
        let transport = SMTPTransport(host: "127.0.0.1", port: try Self.closedPort(), security: .none)
        for recipient in ["ops@corp.example>\r\nRCPT TO:<evil@x.example", "ops@corp.example evil@x.example", "ops"] {
            XCTAssertThrowsError(try transport.send([], from: sender, to: [recipient])) {
                XCTAssertEqual(($0 as? DeliveryError)?.code, .invalidEnvelope)
                XCTAssertFalse("\($0)".contains("\n"))
            }
        }
        XCTAssertThrowsError(try transport.send([], from: "a@x\r\n", to: ["ops@corp.example"])) {
            XCTAssertEqual(($0 as? DeliveryError)?.code, .invalidEnvelope)
        }
    }

    /// A server (or a man in the middle) that appends replies to its `220` for STARTTLS is refused
    /// before the handshake: no trap, nothing more sent, not even in clear text.
    func testRepliesInjectedAfterSTARTTLSAreATLSFailure() throws {
        let server = try scripted(.injectAfterSTARTTLS)
        let transport = SMTPTransport(
            host: "127.0.0.1", port: server.port, security: .startTLS, verifyCertificate: false, timeout: 10)
        XCTAssertThrowsError(try transport.send(Array("x\r\n".utf8), from: sender, to: ["ops@corp.example"])) {
            let error = $0 as? DeliveryError
            XCTAssertEqual(error?.code, .tlsFailed, "\($0)")
            XCTAssertEqual(error?.command, "STARTTLS")
            XCTAssertTrue(error?.reason.contains("after its 220 reply to STARTTLS") ?? false, "\($0)")
            XCTAssertTrue(error?.reason.contains("RFC 3207") ?? false, "\($0)")
        }
        XCTAssertEqual(server.clientBytesAfterSTARTTLS(), 0, "no ClientHello, no QUIT after the injection")
    }

    /// One byte a second answers every read in time; the deadline still ends the delivery.
    func testDribblingServerIsGivenUpAtTheDeadline() throws {
        let server = try scripted(.dribble)
        let transport = SMTPTransport(host: "127.0.0.1", port: server.port, security: .none, timeout: 30, deadline: 3)
        let started = Date()
        XCTAssertThrowsError(try transport.send(Array("x\r\n".utf8), from: sender, to: ["ops@corp.example"])) {
            let error = $0 as? DeliveryError
            XCTAssertEqual(error?.code, .timeout, "\($0)")
            XCTAssertEqual(error?.target, "127.0.0.1:\(server.port)")
            XCTAssertTrue(error?.reason.contains("deadline of 3 seconds") ?? false, "\($0)")
            XCTAssertTrue("\($0)".contains("127.0.0.1:\(server.port)"), "\($0)")
        }
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertGreaterThan(elapsed, 2.5)
        XCTAssertLessThan(elapsed, 6)
    }

    /// The same under TLS: a handshake record dribbled byte by byte meets the deadline too.
    func testDribbledTLSHandshakeIsGivenUpAtTheDeadline() throws {
        let server = try scripted(.dribbleTLS)
        let transport = SMTPTransport(
            host: "127.0.0.1", port: server.port, security: .startTLS, verifyCertificate: false, timeout: 30,
            deadline: 3)
        let started = Date()
        XCTAssertThrowsError(try transport.send(Array("x\r\n".utf8), from: sender, to: ["ops@corp.example"])) {
            let error = $0 as? DeliveryError
            XCTAssertEqual(error?.code, .timeout, "\($0)")
            XCTAssertTrue(error?.reason.contains("deadline of 3 seconds") ?? false, "\($0)")
            XCTAssertTrue(error?.reason.contains("TLS handshake") ?? false, "\($0)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 6)
    }

    /// Out-of-range timeouts are refused before connecting; `1e20` used to trap in `Int(timeout)`.
    func testTimeoutsOutsideOneDayAreRefused() throws {
        let port = try Self.closedPort()
        for seconds in [1e20, 86_401, 0, -5, .nan, .infinity] {
            for transport in [
                SMTPTransport(host: "127.0.0.1", port: port, security: .none, timeout: seconds),
                SMTPTransport(host: "127.0.0.1", port: port, security: .none, deadline: seconds),
            ] {
                XCTAssertThrowsError(try transport.send(Array("x\r\n".utf8), from: sender, to: ["ops@corp.example"])) {
                    XCTAssertEqual(($0 as? DeliveryError)?.code, .invalidTimeout, "\(seconds): \($0)")
                    XCTAssertTrue("\($0)".contains("86400"), "\($0)")
                }
            }
        }
        // The bounds themselves are fine: the connection is refused, not the settings.
        let longest = SMTPTransport(
            host: "127.0.0.1", port: port, security: .none, timeout: 86_400, deadline: 86_400)
        XCTAssertThrowsError(try longest.send(Array("x\r\n".utf8), from: sender, to: ["ops@corp.example"])) {
            XCTAssertEqual(($0 as? DeliveryError)?.code, .smtpConnectFailed, "\($0)")
        }
    }

    /// A server's reply is kept as sent in `replyText`, but the error's text shows its ESC, BEL, CR
    /// and U+202E escaped, in the description and in the trace.
    func testServerReplyReachesTheErrorEscaped() throws {
        let server = try scripted(.hostileReply)
        let trace = Trace()
        let transport = SMTPTransport(
            host: "127.0.0.1", port: server.port, security: .none, timeout: 10, trace: { trace.append($0) })
        XCTAssertThrowsError(try transport.send(Array("x\r\n".utf8), from: sender, to: ["ops@corp.example"])) {
            let error = $0 as? DeliveryError
            XCTAssertEqual(error?.code, .smtpRejected, "\($0)")
            XCTAssertEqual(error?.replyCode, 550)
            XCTAssertEqual(
                error?.replyText, "5.7.1 \u{1B}[2J\u{1B}]0;owned\u{07} rejected\n5.7.1 \rsee \u{202E}example")
            let text = "\($0)"
            XCTAssertTrue(
                text.contains(
                    #"(the server said: 550 5.7.1 \e[2J\e]0;owned\u{0007} rejected 5.7.1 \rsee \u{202E}example)"#),
                text)
            XCTAssertFalse(text.unicodeScalars.contains { $0.value < 0x20 || $0 == "\u{202E}" }, text)
        }
        let serverLines = trace.all.filter { $0.hasPrefix("S: 550") }
        XCTAssertEqual(serverLines.count, 2, "\(trace.all)")
        XCTAssertFalse(serverLines.joined().unicodeScalars.contains { $0.value < 0x20 }, "\(serverLines)")
    }

    /// Whatever a caller puts in, the budget's values stay within what poll and time_t can hold.
    func testBudgetClampsWhatSkippedTheCheck() {
        let budget = IOBudget(timeout: 1e20, deadline: .nan, target: "mail.corp.example:587")
        XCTAssertEqual(budget.timeout, DeliveryTimeLimit.maximum)
        XCTAssertEqual(budget.deadline, DeliveryTimeLimit.maximum)
        XCTAssertEqual(IOBudget.milliseconds(1e20), 86_400_000)
        XCTAssertEqual(IOBudget.milliseconds(-3), 0)
        XCTAssertEqual(IOBudget.milliseconds(0.0004), 1, "rounded up: a wait never ends early")
        XCTAssertEqual(DeliveryTimeLimit.describe(1e300), "1e+300 seconds")
    }

    /// A loopback port nothing listens on: bound, read back, closed.
    static func closedPort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard ok else { throw NSError(domain: "SMTPTransportTests", code: 1) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A receiver, or a skip (a failure under CI=true) when Python, aiosmtpd or openssl is missing.
    private func receiver() throws -> MailReceiver {
        do {
            return try MailReceiver()
        } catch let missing as MailToolUnavailable {
            throw DeliveryTestConfiguration.unavailable(missing.reason)
        }
    }

    /// A misbehaving server, or a skip (a failure under CI=true) without Python.
    private func scripted(_ behaviour: ScriptedSMTPServer.Behaviour) throws -> ScriptedSMTPServer {
        do {
            return try ScriptedSMTPServer(behaviour)
        } catch let missing as MailToolUnavailable {
            throw DeliveryTestConfiguration.unavailable(missing.reason)
        }
    }
}
