/// How to reach and talk to a directory server.
///
/// Protocol version 3 and "referrals off" are not options: TrustAudit never chases a referral
/// (AD's continuation references point at other partitions and would need other credentials).
/// Settings from ldap.conf and LDAPTLS_* environment variables still apply unless overridden here.
public struct LDAPConnectionOptions: Sendable, Equatable {
    /// One or more URIs separated by spaces (or commas); libldap tries them in order.
    public var uri: String
    /// Upgrade ldap:// connections with the StartTLS extended operation before binding.
    public var startTLS: Bool
    /// A PEM file of CA certificates to trust (LDAP_OPT_X_TLS_CACERTFILE); nil keeps ldap.conf's.
    public var caFile: String?
    /// False skips certificate verification (LDAP_OPT_X_TLS_REQUIRE_CERT never); for lab use only.
    public var verifyCertificate: Bool
    /// Seconds to wait for the TCP connection (LDAP_OPT_NETWORK_TIMEOUT).
    public var networkTimeout: Double
    /// Seconds to wait for any one operation, one search page included (LDAP_OPT_TIMEOUT and the
    /// search time limit).
    public var operationTimeout: Double

    public init(
        uri: String, startTLS: Bool = false, caFile: String? = nil, verifyCertificate: Bool = true,
        networkTimeout: Double = 10, operationTimeout: Double = 120
    ) {
        self.uri = uri
        self.startTLS = startTLS
        self.caFile = caFile
        self.verifyCertificate = verifyCertificate
        self.networkTimeout = networkTimeout
        self.operationTimeout = operationTimeout
    }

    /// The individual URIs, parsed; throws `LDAPError` (`.invalidURI`) when one is unusable.
    public func parsedURIs() throws -> [LDAPURI] {
        let parts = uri.split { $0 == " " || $0 == "," || $0 == "\t" || $0 == "\n" }.map(String.init)
        guard !parts.isEmpty else { throw invalid("no URI given") }
        let uris = try parts.map { part in
            guard let parsed = LDAPURI(part) else {
                throw invalid("'\(part)' is not an ldap:// or ldaps:// URI with a host name")
            }
            return parsed
        }
        if startTLS, uris.contains(where: { $0.scheme == .ldaps }) {
            throw invalid("StartTLS is for ldap:// URIs; ldaps:// is encrypted from the start")
        }
        guard networkTimeout > 0, operationTimeout > 0 else { throw invalid("timeouts must be positive") }
        return uris
    }

    /// True when the connection will be encrypted with TLS (ldaps:// or StartTLS).
    public var usesTLS: Bool {
        startTLS || uri.lowercased().contains("ldaps://")
    }

    private func invalid(_ reason: String) -> LDAPError {
        LDAPError(
            .invalidURI, resultCode: LDAPError.ResultCode.paramError, operation: .configure, serverURI: uri,
            diagnosticMessage: reason)
    }
}

/// One `ldap://host[:port]` or `ldaps://host[:port]` URI; anything after the host is kept but unused.
public struct LDAPURI: Sendable, Equatable, CustomStringConvertible {
    public enum Scheme: String, Sendable { case ldap, ldaps }

    public var scheme: Scheme
    /// The host as written, without brackets for an IPv6 literal.
    public var host: String
    /// The port, when the URI names one.
    public var port: Int?

    public init?(_ text: String) {
        let lowered = text.lowercased()
        let rest: Substring
        if lowered.hasPrefix("ldaps://") {
            scheme = .ldaps
            rest = text.dropFirst(8)
        } else if lowered.hasPrefix("ldap://") {
            scheme = .ldap
            rest = text.dropFirst(7)
        } else {
            return nil
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        var hostPart = authority
        var portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portPart = after.dropFirst() } else if !after.isEmpty { return nil }
        } else if let colon = authority.firstIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        }
        guard !hostPart.isEmpty, !hostPart.contains(where: { $0 == " " || $0 == "@" }) else { return nil }
        host = String(hostPart)
        if let portPart {
            guard let value = Int(portPart), (1...65535).contains(value) else { return nil }
            port = value
        } else {
            port = nil
        }
    }

    public init(scheme: Scheme, host: String, port: Int? = nil) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// `scheme://host[:port]`, IPv6 literals bracketed.
    public var description: String {
        let hostText = host.contains(":") ? "[\(host)]" : host
        return "\(scheme.rawValue)://\(hostText)" + (port.map { ":\($0)" } ?? "")
    }

    /// The port libldap will use: the explicit one, else 389 or 636.
    public var effectivePort: Int { port ?? (scheme == .ldaps ? 636 : 389) }
}
