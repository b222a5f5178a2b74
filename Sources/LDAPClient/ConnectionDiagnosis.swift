import CLDAP
import Foundation

/// Finds out why a connection failed, which libldap's result code alone does not say.
///
/// libldap answers an unreachable host, a closed port, an untrusted certificate and a host name
/// mismatch all with "Can't contact LDAP server (-1)"; the reason only appears in its debug log.
/// So, after such a failure (never on the normal path), this repeats the connection once with
/// the trace level switched on and the log captured, then restores both. The debug level and log
/// function are process-wide; a batch tool with one connection can afford that for a moment.
enum ConnectionDiagnosis {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var captured: [String] = []

    /// Repeats the connection (and StartTLS when asked) and returns what went wrong, if libldap said.
    static func probe(options: LDAPConnectionOptions, uriList: String) -> String? {
        let lines = capturingLog {
            var ld: OpaquePointer?
            guard ldap_initialize(&ld, uriList) == LDAP_SUCCESS, let ld else { return }
            // Freed here whatever happens; this handle never leaves the function.
            defer { ldap_unbind_ext(ld, nil, nil) }
            var version: Int32 = 3
            _ = ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version)
            // Capped, so a black-holed host costs at most five more seconds to explain.
            var network = LDAPConnection.timeval(seconds: min(options.networkTimeout, 5))
            _ = ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &network)
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
            if options.startTLS {
                _ = ldap_start_tls_s(ld, nil, nil)
            } else {
                _ = ldap_connect(ld)
            }
        }
        return summarize(lines)
    }

    /// Keeps the log lines that name a cause, in words.
    static func summarize(_ lines: [String]) -> String? {
        var reasons: [String] = []
        for raw in lines {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            var reason: String?
            if line.hasPrefix("TLS:"), !line.contains("can't connect: (unknown error code)") {
                if line.contains("peer cert untrusted") {
                    reason =
                        "certificate verify failed: the server's certificate is not signed by a trusted CA (\(line))"
                } else if line.contains("does not match") {
                    reason = "hostname mismatch: \(line.dropFirst(5))"
                } else {
                    reason = String(line.dropFirst(5))
                }
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
        return reasons.isEmpty ? nil : reasons.joined(separator: "; ")
    }

    private static func capturingLog(_ body: () -> Void) -> [String] {
        lock.lock()
        defer { lock.unlock() }
        captured = []
        let printer: @convention(c) (UnsafePointer<CChar>?) -> Void = { text in
            // Called with the lock held by `capturingLog` on this thread (libldap logs synchronously).
            if let text { ConnectionDiagnosis.captured.append(String(cString: text)) }
        }
        var previousPrinter: UnsafeMutableRawPointer?
        _ = ber_get_option(nil, LBER_OPT_LOG_PRINT_FN, &previousPrinter)
        var previousLevel: Int32 = 0
        _ = ldap_get_option(nil, LDAP_OPT_DEBUG_LEVEL, &previousLevel)
        var trace: Int32 = 1  // LDAP_DEBUG_TRACE: the level at which connect errors are logged
        _ = ber_set_option(nil, LBER_OPT_LOG_PRINT_FN, unsafeBitCast(printer, to: UnsafeRawPointer.self))
        _ = ldap_set_option(nil, LDAP_OPT_DEBUG_LEVEL, &trace)
        body()
        _ = ldap_set_option(nil, LDAP_OPT_DEBUG_LEVEL, &previousLevel)
        if let previousPrinter { _ = ber_set_option(nil, LBER_OPT_LOG_PRINT_FN, previousPrinter) }
        let lines = captured
        captured = []
        return lines
    }
}
