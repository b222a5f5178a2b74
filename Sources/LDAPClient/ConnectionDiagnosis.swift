import CLDAP
import Foundation

/// Finds out why a connection failed, which libldap's result code alone does not say.
///
/// libldap answers an unreachable host, a closed port, an untrusted certificate, a host name
/// mismatch and a server that answers in something other than LDAP all with "Can't contact LDAP
/// server (-1)"; the reason only appears in its debug log. So, after such a failure (never on the
/// normal path), this repeats the connection once with the trace level switched on and the log
/// captured, then restores both. Safe with several connections on several threads: each
/// diagnosis captures only its own thread's lines (see `capturingLog`).
enum ConnectionDiagnosis {
    /// What the repeated connection showed.
    struct Finding: Equatable {
        /// The causes in words, "; " between them; nil when libldap named none.
        var summary: String?
        /// The server answered, but with bytes that are not LDAP (or, for ldaps://, not TLS).
        var answeredWithSomethingElse = false
    }

    /// Repeats the connection (and StartTLS when asked), then reads the root DSE anonymously so a
    /// plain ldap:// server has to answer something, and returns what went wrong, if libldap said.
    ///
    /// The read sends no credentials: an anonymous base search of "" is what every LDAP client
    /// may do, and it is the first request that shows whether the answer is LDAP at all.
    static func probe(options: LDAPConnectionOptions, uriList: String) -> Finding {
        let lines = capturingLog {
            var ld: OpaquePointer?
            guard ldap_initialize(&ld, uriList) == LDAP_SUCCESS, let ld else { return }
            // Freed here whatever happens; this handle never leaves the function.
            defer { ldap_unbind_ext(ld, nil, nil) }
            var version: Int32 = 3
            _ = ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version)
            _ = trustaudit_ldap_set_flag(ld, LDAP_OPT_REFERRALS, 0)
            // Capped, so a black-holed host costs at most five more seconds to explain.
            var network = LDAPConnection.timeval(seconds: min(options.networkTimeout, 5))
            _ = ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &network)
            var operation = LDAPConnection.timeval(seconds: min(options.operationTimeout, 5))
            _ = ldap_set_option(ld, LDAP_OPT_TIMEOUT, &operation)
            // The same cap on a stalled TLS handshake (see shim.h); freed with the handle.
            _ = trustaudit_guard_install(ld, min(options.networkTimeout, 5))
            if options.usesTLS {
                if let caFile = options.caFile { _ = ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, caFile) }
                if !options.verifyCertificate {
                    var never = LDAP_OPT_X_TLS_NEVER
                    _ = ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &never)
                }
                var isServer: Int32 = 0
                _ = ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &isServer)
            }
            let connected = options.startTLS ? ldap_start_tls_s(ld, nil, nil) : ldap_connect(ld)
            guard connected == LDAP_SUCCESS else { return }
            var result: OpaquePointer?
            var timeout = operation
            _ = LDAPConnection.withCStringArray(["1.1"]) { attributes in
                ldap_search_ext_s(ld, "", 0, "(objectClass=*)", attributes, 0, nil, nil, &timeout, 1, &result)
            }
            if let result { ldap_msgfree(result) }
        }
        return diagnose(lines)
    }

    /// Keeps the log lines that name a cause, in words.
    static func summarize(_ lines: [String]) -> String? {
        diagnose(lines).summary
    }

    /// The GnuTLS reasons for a handshake answered with bytes that are not TLS records.
    private static let notTLSReasons = [
        "unexpected tls packet", "illegal or unsupported version", "record packet with invalid length",
        "packet with unexpected length", "record packet of unknown type", "large tls record",
    ]

    /// Reads the captured log: the causes in words, and whether the server answered in something
    /// other than LDAP.
    static func diagnose(_ lines: [String]) -> Finding {
        var reasons: [String] = []
        var somethingElse = false
        var bytesReceived = 0
        for raw in lines {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            var reason: String?
            if line.hasPrefix("TLS:"), !line.contains("can't connect: (unknown error code)") {
                let lowered = line.lowercased()
                if line.contains("peer cert untrusted") {
                    reason =
                        "certificate verify failed: the server's certificate is not signed by a trusted CA (\(line))"
                } else if line.contains("does not match") {
                    reason = "hostname mismatch: \(line.dropFirst(5))"
                } else if notTLSReasons.contains(where: lowered.contains) {
                    somethingElse = true
                    let detail = line.replacingOccurrences(of: "TLS: can't connect: ", with: "")
                    reason =
                        "the server answered the TLS handshake with something that is not TLS, so it is no LDAPS server (\(detail))"
                } else {
                    reason = String(line.dropFirst(5))
                }
            } else if let tag = messageTag(line), tag != 0x30 {
                // Every LDAP message is a BER SEQUENCE, tag 0x30; anything else is another protocol.
                somethingElse = true
                reason =
                    "the server answered with something that is not LDAP: its reply starts with \(describeByte(tag)), where an LDAP message starts with 0x30"
            } else if line.contains("sockbuf_max_incoming exceeded") {
                somethingElse = true
                reason = "the server answered with something that is not LDAP: a reply longer than any LDAP message"
            } else if let got = bytesRead(line) {
                bytesReceived += got
            } else if line.hasPrefix("ber_get_next failed, errno=\(ERANGE)") {
                // liblber read a length no BER element can have.
                somethingElse = true
                reason = "the server answered with something that is not LDAP: a reply with an impossible length"
            } else if line.hasPrefix("ber_get_next failed"), bytesReceived > 0, !somethingElse {
                // Bytes arrived, but the connection ended before they made one LDAP message.
                somethingElse = true
                reason =
                    "the server answered with something that is not LDAP: \(bytesReceived) bytes that do not form an LDAP message"
            } else if line.contains("getaddrinfo failed") {
                reason = "host name not found (\(line))"
            } else if let range = line.range(of: "errno: ") {
                // "connect errno: 115" (EINPROGRESS) is the normal start of a non-blocking connect;
                // "error on socket 3: errno: 111 (Connection refused)" is the outcome.
                let number = Int32(line[range.upperBound...].prefix { $0.isNumber }) ?? 0
                if number != 0 && number != EINPROGRESS {
                    reason = "TCP connect failed: \(String(cString: strerror(number)))"
                }
            } else if line.contains("ldap_int_poll: timed out") {
                reason = "TCP connect timed out"
            }
            if let reason, !reasons.contains(reason) { reasons.append(reason) }
        }
        return Finding(
            summary: reasons.isEmpty ? nil : reasons.joined(separator: "; "), answeredWithSomethingElse: somethingElse)
    }

    /// The tag in liblber's "ber_get_next: tag 0x48 len 84 contents:", logged once a whole
    /// element has arrived.
    private static func messageTag(_ line: String) -> UInt64? {
        guard line.hasPrefix("ber_get_next: tag 0x") else { return nil }
        let digits = line.dropFirst("ber_get_next: tag 0x".count).prefix { $0.isHexDigit }
        return UInt64(digits, radix: 16)
    }

    /// The byte count in the sockbuf trace's "ldap_read: want=8, got=8".
    private static func bytesRead(_ line: String) -> Int? {
        guard line.hasPrefix("ldap_read: want="), let range = line.range(of: "got=") else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }

    /// `0x48 ('H', as in HTTP)`: a first byte as a reader may recognize it.
    private static func describeByte(_ tag: UInt64) -> String {
        let hex = "0x" + String(tag, radix: 16, uppercase: true)
        guard tag >= 0x21, tag < 0x7F, let scalar = Unicode.Scalar(UInt32(tag)) else { return hex }
        return "\(hex) ('\(Character(scalar))'\(tag == 0x48 ? ", as in HTTP" : ""))"
    }

    /// Runs `body` with libldap's trace on and returns the lines logged on this thread meanwhile.
    ///
    /// The trace level and liblber's print function are process-wide (libldap's `Debug` reads
    /// the global level even when a handle has its own, and the print function has no per-handle
    /// form), so they are switched on by the first diagnosis that starts and restored by the last
    /// that ends. The lines, though, are kept per thread: libldap logs synchronously on the thread
    /// making the call, so each line goes to the diagnosis running on that thread, and lines of
    /// other threads (a connection being used meanwhile) are dropped. So several connections can
    /// be diagnosed at once, each getting its own reason, none waiting for another.
    private static func capturingLog(_ body: () -> Void) -> [String] {
        let me = pthread_self()
        Capture.lock.lock()
        if Capture.active == 0 { Capture.switchOn() }
        Capture.active += 1
        Capture.lines[me] = []
        Capture.lock.unlock()
        body()
        Capture.lock.lock()
        let lines = Capture.lines.removeValue(forKey: me) ?? []
        Capture.active -= 1
        if Capture.active == 0 { Capture.restore() }
        Capture.lock.unlock()
        return lines
    }

    /// The diagnoses running and their lines, by thread; every field only under `lock`.
    private enum Capture {
        /// Recursive: should libldap log while this thread switches the trace, the printer takes
        /// the lock again on the same thread.
        static let lock = NSRecursiveLock()
        nonisolated(unsafe) static var active = 0
        nonisolated(unsafe) static var lines: [pthread_t: [String]] = [:]
        nonisolated(unsafe) static var previousPrinter: UnsafeMutableRawPointer?
        nonisolated(unsafe) static var previousLevel: Int32 = 0
        nonisolated(unsafe) static var previousBERLevel: Int32 = 0

        static func switchOn() {
            let printer: @convention(c) (UnsafePointer<CChar>?) -> Void = { text in
                guard let text else { return }
                let thread = pthread_self()
                Capture.lock.lock()
                defer { Capture.lock.unlock() }
                if Capture.lines[thread] != nil { Capture.lines[thread]!.append(String(cString: text)) }
            }
            previousPrinter = nil
            _ = ber_get_option(nil, LBER_OPT_LOG_PRINT_FN, &previousPrinter)
            _ = ldap_get_option(nil, LDAP_OPT_DEBUG_LEVEL, &previousLevel)
            _ = ber_get_option(nil, LBER_OPT_DEBUG_LEVEL, &previousBERLevel)
            // LDAP_DEBUG_TRACE (1), where connect and TLS errors are logged, and LDAP_DEBUG_CONNS (8),
            // where a reply that is no LDAP message is. liblber's trace (1) names the reply's first
            // byte, its packet level (2) counts the bytes read. The probe sends no credentials, so
            // the packets logged hold none; lines of other threads are dropped unread.
            var trace: Int32 = 1 | 8
            var berTrace: Int32 = 1 | 2
            _ = ber_set_option(nil, LBER_OPT_LOG_PRINT_FN, unsafeBitCast(printer, to: UnsafeRawPointer.self))
            _ = ldap_set_option(nil, LDAP_OPT_DEBUG_LEVEL, &trace)
            _ = ber_set_option(nil, LBER_OPT_DEBUG_LEVEL, &berTrace)
        }

        static func restore() {
            _ = ber_set_option(nil, LBER_OPT_DEBUG_LEVEL, &previousBERLevel)
            _ = ldap_set_option(nil, LDAP_OPT_DEBUG_LEVEL, &previousLevel)
            if let previousPrinter { _ = ber_set_option(nil, LBER_OPT_LOG_PRINT_FN, previousPrinter) }
            previousPrinter = nil
        }
    }
}
