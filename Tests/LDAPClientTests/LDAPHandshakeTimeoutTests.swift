import Foundation
import XCTest

@testable import LDAPClient

/// A TCP listener on 127.0.0.1 that accepts connections and then misbehaves: says nothing, hangs
/// up at once, accepts StartTLS and then says nothing, or answers in another protocol. No DC needed.
final class MisbehavingServer: @unchecked Sendable {
    enum Behaviour {
        /// Holds every connection open and never sends a byte (a hung DC, a proxy holding on).
        case silent
        /// Closes each connection as soon as it is accepted.
        case closeAtOnce
        /// Answers the first request (StartTLS) with success, then never sends another byte.
        case acceptStartTLSThenSilent
        /// Reads what the client sends first (a bind, a TLS ClientHello), answers with these bytes
        /// and hangs up: a web server or another service on the LDAP port.
        case replyAndClose([UInt8])
    }

    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var held: [Int32] = []
    private var stopped = false

    init(_ behaviour: Behaviour) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(fd, pointer, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop(behaviour) }
        thread.start()
    }

    private func acceptLoop(_ behaviour: Behaviour) {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                return  // the listener was shut down
            }
            switch behaviour {
            case .closeAtOnce:
                close(connection)
                continue
            case .silent:
                break
            case .replyAndClose(let reply):
                var request = [UInt8](repeating: 0, count: 4096)
                _ = read(connection, &request, request.count)
                _ = reply.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
                close(connection)
                continue
            case .acceptStartTLSThenSilent:
                var request = [UInt8](repeating: 0, count: 4096)
                let count = read(connection, &request, request.count)
                // LDAPMessage { messageID, extendedResp { resultCode success, matchedDN "", diagnostic "" } }
                if count >= 5 {
                    let reply: [UInt8] = [
                        0x30, 0x0C, 0x02, 0x01, request[4], 0x78, 0x07, 0x0A, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00,
                    ]
                    _ = reply.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
                }
            }
            lock.lock()
            if stopped {
                close(connection)
            } else {
                held.append(connection)
            }
            lock.unlock()
        }
    }

    func stop() {
        lock.lock()
        stopped = true
        let connections = held
        held = []
        lock.unlock()
        shutdown(listener, Int32(SHUT_RDWR))  // wakes accept()
        close(listener)
        for connection in connections { close(connection) }
    }

    deinit { if !stopped { stop() } }
}

/// Regression tests for the hang at 100% CPU when a server takes the TCP connection but never
/// completes the TLS handshake (GnuTLS spinning on EAGAIN inside gnutls_handshake).
final class LDAPHandshakeTimeoutTests: XCTestCase {
    /// Runs `body`, returning what it threw, the wall-clock seconds and this thread's CPU seconds.
    private func measure(_ body: () throws -> Void) -> (error: Error?, elapsed: Double, cpu: Double) {
        func cpuNow() -> Double {
            var now = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
            return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
        }
        let start = Date()
        let cpuStart = cpuNow()
        var thrown: Error?
        do { try body() } catch { thrown = error }
        return (thrown, Date().timeIntervalSince(start), cpuNow() - cpuStart)
    }

    func testLDAPSToSilentServerTimesOutWithinTheNetworkTimeout() throws {
        let server = try MisbehavingServer(.silent)
        defer { server.stop() }
        let uri = "ldaps://127.0.0.1:\(server.port)"
        let options = LDAPConnectionOptions(uri: uri, networkTimeout: 1, operationTimeout: 5)
        let result = measure {
            let connection = try LDAPConnection(options: options)
            try connection.simpleBind(dn: "a@b", password: Array("secret".utf8))
        }
        let error = try XCTUnwrap(result.error as? LDAPError, "got \(String(describing: result.error))")
        XCTAssertEqual(error.code, .timeout)
        XCTAssertEqual(error.operation, .simpleBind)
        XCTAssertTrue("\(error)".hasPrefix(uri + ":"), "\(error)")
        XCTAssertTrue(
            "\(error)".contains("accepted the connection but did not complete the TLS handshake within 1 s"),
            "\(error)")
        XCTAssertFalse("\(error)".contains("secret"))
        XCTAssertLessThan(result.elapsed, 10, "a bound on a hang, not a performance test")
        XCTAssertGreaterThan(result.elapsed, 0.5, "gave up before the network timeout")
        XCTAssertLessThan(result.cpu, 0.5 * result.elapsed + 0.2, "spun on the CPU while waiting")
    }

    func testStartTLSToSilentServerTimesOutWithinTheOperationTimeout() throws {
        let server = try MisbehavingServer(.silent)
        defer { server.stop() }
        let options = LDAPConnectionOptions(
            uri: "ldap://127.0.0.1:\(server.port)", startTLS: true, networkTimeout: 1, operationTimeout: 2)
        let result = measure { _ = try LDAPConnection(options: options) }
        let error = try XCTUnwrap(result.error as? LDAPError, "got \(String(describing: result.error))")
        XCTAssertEqual(error.code, .timeout)
        XCTAssertEqual(error.operation, .startTLS)
        XCTAssertTrue("\(error)".contains("no answer to the StartTLS request within 2 s"), "\(error)")
        XCTAssertLessThan(result.elapsed, 10)
        XCTAssertLessThan(result.cpu, 0.5 * result.elapsed + 0.2, "spun on the CPU while waiting")
    }

    func testStartTLSHandshakeToSilentServerTimesOutWithinTheNetworkTimeout() throws {
        let server = try MisbehavingServer(.acceptStartTLSThenSilent)
        defer { server.stop() }
        let uri = "ldap://127.0.0.1:\(server.port)"
        let options = LDAPConnectionOptions(uri: uri, startTLS: true, networkTimeout: 1, operationTimeout: 5)
        let result = measure { _ = try LDAPConnection(options: options) }
        let error = try XCTUnwrap(result.error as? LDAPError, "got \(String(describing: result.error))")
        XCTAssertEqual(error.code, .timeout)
        XCTAssertEqual(error.operation, .startTLS)
        XCTAssertTrue("\(error)".hasPrefix(uri + ":"), "\(error)")
        XCTAssertTrue("\(error)".contains("did not complete the TLS handshake within 1 s"), "\(error)")
        XCTAssertLessThan(result.elapsed, 10)
        XCTAssertLessThan(result.cpu, 0.5 * result.elapsed + 0.2, "spun on the CPU while waiting")
    }

    func testTheStalledServerIsNamedInAURIList() throws {
        let server = try MisbehavingServer(.silent)
        defer { server.stop() }
        let options = LDAPConnectionOptions(
            uri: "ldaps://127.0.0.1:\(server.port) ldaps://127.0.0.1:\(server.port)", networkTimeout: 0.5,
            operationTimeout: 5)
        let result = measure {
            try LDAPConnection(options: options).simpleBind(dn: "a@b", password: Array("x".utf8))
        }
        let error = try XCTUnwrap(result.error as? LDAPError)
        XCTAssertEqual(error.code, .timeout)
        XCTAssertTrue(
            "\(error)".contains("ldaps://127.0.0.1:\(server.port): the server accepted the connection"), "\(error)")
        XCTAssertTrue("\(error)".contains("within 0.5 s"), "\(error)")
        XCTAssertLessThan(result.elapsed, 10)
    }

    func testServerThatHangsUpAtOnceFailsPromptly() throws {
        let server = try MisbehavingServer(.closeAtOnce)
        defer { server.stop() }
        for uri in ["ldap://127.0.0.1:\(server.port)", "ldaps://127.0.0.1:\(server.port)"] {
            let options = LDAPConnectionOptions(uri: uri, networkTimeout: 3, operationTimeout: 5)
            let result = measure {
                try LDAPConnection(options: options).simpleBind(dn: "a@b", password: Array("x".utf8))
            }
            let error = try XCTUnwrap(result.error as? LDAPError, uri)
            // A TLS client sees the hang-up in the handshake; either way it is no timeout.
            XCTAssertTrue([.serverDown, .tlsFailure].contains(error.code), "\(uri): \(error)")
            XCTAssertLessThan(result.elapsed, 3, "\(uri): should not wait for a timeout")
        }
    }
}
