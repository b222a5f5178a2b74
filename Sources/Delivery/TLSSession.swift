import COpenSSL

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The client side of TLS on a connected socket: owns the `SSL_CTX*` and the `SSL*` and frees both
/// in `deinit`; the socket stays the caller's.
///
/// Verifies the peer by default against the system's CA paths (or `caFile` alone), sends SNI and
/// checks that the certificate names `host` (DNS name or IP address). TLS 1.2 is the minimum.
///
/// The socket is non-blocking: when OpenSSL wants to read or write, the handshake, `read` and
/// `write` wait through `budget`, so a server that stalls or dribbles the handshake or a record
/// byte by byte meets the same timeout and deadline as in clear text.
final class TLSSession {
    private let context: OpaquePointer
    private let ssl: OpaquePointer
    private let socket: Int32
    private let budget: IOBudget
    private var target: String { budget.target }

    init(socket: Int32, host: String, verifyCertificate: Bool, caFile: String?, budget: IOBudget)
        throws(DeliveryError)
    {
        self.socket = socket
        self.budget = budget
        let target = budget.target
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw TLSSession.failure("cannot create a TLS context: \(TLSSession.openSSLErrors())", target: target)
        }
        // From here `context` is freed by deinit once `ssl` exists, and by the guards below before.
        guard trustaudit_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) == 1 else {
            SSL_CTX_free(context)
            throw TLSSession.failure("cannot require TLS 1.2: \(TLSSession.openSSLErrors())", target: target)
        }
        // A retried SSL_write gets the same bytes, but Swift does not promise the same address.
        _ = SSL_CTX_ctrl(context, SSL_CTRL_MODE, Int(SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER), nil)
        if verifyCertificate {
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
            let loaded =
                if let caFile { SSL_CTX_load_verify_locations(context, caFile, nil) } else {
                    SSL_CTX_set_default_verify_paths(context)
                }
            guard loaded == 1 else {
                let errors = TLSSession.openSSLErrors()
                SSL_CTX_free(context)
                throw TLSSession.failure(
                    caFile.map { "cannot read the CA file \($0) (\(errors)); it must hold PEM certificates" }
                        ?? "cannot load the system's CA certificates (\(errors))", target: target)
            }
        } else {
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        }
        guard let ssl = SSL_new(context) else {
            SSL_CTX_free(context)
            throw TLSSession.failure("cannot create a TLS session: \(TLSSession.openSSLErrors())", target: target)
        }
        self.context = context
        self.ssl = ssl
        // deinit frees both from here on.

        var ipv4 = in_addr()
        var ipv6 = in6_addr()
        let isIPAddress = inet_pton(AF_INET, host, &ipv4) == 1 || inet_pton(AF_INET6, host, &ipv6) == 1
        if !isIPAddress {
            _ = trustaudit_SSL_set_tlsext_host_name(ssl, host)  // SNI is for names only (RFC 6066).
        }
        if verifyCertificate {
            SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
            let pinned =
                isIPAddress ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) : SSL_set1_host(ssl, host)
            guard pinned == 1 else {
                throw TLSSession.failure("cannot check the certificate against \(host)", target: target)
            }
        }
        guard SSL_set_fd(ssl, socket) == 1 else {
            throw TLSSession.failure("cannot attach TLS to the socket: \(TLSSession.openSSLErrors())", target: target)
        }
        while true {
            try budget.check(while: "the TLS handshake")
            ERR_clear_error()
            let result = SSL_connect(ssl)
            if result == 1 { break }
            let systemError = errno
            let sslError = SSL_get_error(ssl, result)
            if sslError == SSL_ERROR_WANT_READ {
                try budget.wait(socket, for: Int32(POLLIN), while: "the TLS handshake")
                continue
            }
            if sslError == SSL_ERROR_WANT_WRITE {
                try budget.wait(socket, for: Int32(POLLOUT), while: "the TLS handshake")
                continue
            }
            let verification = SSL_get_verify_result(ssl)
            let errors = TLSSession.openSSLErrors()
            if sslError == SSL_ERROR_SYSCALL && systemError == ETIMEDOUT {
                throw budget.timedOut(while: "the TLS handshake")
            }
            if verifyCertificate && verification != X509_V_OK {
                let why = String(cString: X509_verify_cert_error_string(verification))
                let advice =
                    verification == X509_V_ERR_HOSTNAME_MISMATCH || verification == X509_V_ERR_IP_ADDRESS_MISMATCH
                    ? "connect by a name the certificate is issued for"
                    : caFile == nil
                        ? "pass the CA that issued the server's certificate as the CA file"
                        : "check that the CA file holds the CA that issued the server's certificate"
                throw TLSSession.failure(
                    "the server's certificate was not accepted: \(why) (\(host)); \(advice)", target: target)
            }
            let detail = errors.isEmpty ? (sslError == SSL_ERROR_SYSCALL ? "the connection was closed" : "") : errors
            throw TLSSession.failure("the TLS handshake failed: \(detail)", target: target)
        }
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
    }

    /// Sends close_notify without waiting for the server's.
    func shutdown() {
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// Reads at most `buffer.count` bytes (at most 64 KiB); 0 when the server closed the connection.
    func read(_ buffer: inout [UInt8], what: String) throws(DeliveryError) -> Int {
        let doing = "waiting for the reply to \(what)"
        while true {
            try budget.check(while: doing)
            ERR_clear_error()
            let count = buffer.withUnsafeMutableBytes {
                SSL_read(ssl, $0.baseAddress, Int32(min($0.count, 65536)))
            }
            if count > 0 { return Int(count) }
            if let result = try check(count, while: doing) { return result }
        }
    }

    /// Writes `count` bytes from `offset` (at most 64 KiB); returns how many were taken.
    func write(_ bytes: [UInt8], offset: Int, count: Int, what: String) throws(DeliveryError) -> Int {
        let doing = "sending \(what)"
        while true {
            try budget.check(while: doing)
            ERR_clear_error()
            let written = bytes.withUnsafeBytes { SSL_write(ssl, $0.baseAddress! + offset, Int32(min(count, 65536))) }
            if written > 0 { return Int(written) }
            guard let result = try check(written, while: doing) else { continue }
            if result == 0 {
                throw DeliveryError(
                    .smtpConnectFailed, reason: "the server closed the connection while \(what) was sent",
                    target: target)
            }
            return result
        }
    }

    /// What a failed SSL_read or SSL_write means: nil after waiting for the socket (call again),
    /// 0 when the server closed the connection, or a thrown error.
    private func check(_ result: Int32, while doing: String) throws(DeliveryError) -> Int? {
        let systemError = errno
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_ZERO_RETURN:
            return 0
        case SSL_ERROR_WANT_READ:
            try budget.wait(socket, for: Int32(POLLIN), while: doing)
            return nil
        case SSL_ERROR_WANT_WRITE:
            try budget.wait(socket, for: Int32(POLLOUT), while: doing)
            return nil
        case SSL_ERROR_SYSCALL:
            if systemError == ETIMEDOUT { throw budget.timedOut(while: doing) }
            if result == 0 || systemError == 0 { return 0 }
            throw DeliveryError(
                .smtpConnectFailed,
                reason: "the connection to \(target) failed while \(doing): \(String(cString: strerror(systemError)))",
                target: target)
        default:
            throw TLSSession.failure("TLS failed while \(doing): \(TLSSession.openSSLErrors())", target: target)
        }
    }

    private static func failure(_ reason: String, target: String) -> DeliveryError {
        DeliveryError(.tlsFailed, reason: reason, target: target)
    }

    /// Drains OpenSSL's error queue for this thread into one line.
    static func openSSLErrors() -> String {
        var messages: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var text = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &text, text.count)
            messages.append(cString(text))
        }
        return messages.joined(separator: "; ")
    }
}
