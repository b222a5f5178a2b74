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

    /// The longest timeout accepted, in seconds: a day.
    ///
    /// No audit waits that long for one answer, and the bound keeps every conversion of a timeout
    /// (libldap's `timeval`, the handshake guard's milliseconds in shim.h) far from overflow:
    /// `1e20` seconds would trap in `Int(_:)` and be undefined behaviour in C.
    public static let maximumTimeout: Double = 86_400

    /// True for a usable timeout: more than 0 and at most `maximumTimeout` seconds (NaN is not).
    public static func isValidTimeout(_ seconds: Double) -> Bool {
        seconds > 0 && seconds <= maximumTimeout
    }

    /// Checks everything that can be checked without the network: the URIs, StartTLS against
    /// ldaps://, and the timeouts. Throws `LDAPError` (`.invalidURI`, `.invalidTimeout`).
    public func validate() throws(LDAPError) {
        _ = try parsedURIs()
    }

    /// The individual URIs, parsed, after the checks `validate()` describes.
    ///
    /// Separators are those libldap accepts (spaces, commas, tabs, line ends, in any number), so
    /// the list checked here is the list libldap will try.
    public func parsedURIs() throws(LDAPError) -> [LDAPURI] {
        let uris = try LDAPURI.list(uri)
        if startTLS, let tls = uris.first(where: { $0.scheme == .ldaps }) {
            throw invalid("StartTLS is for ldap:// URIs; \(tls) is encrypted from the start")
        }
        for (name, seconds) in [("network timeout", networkTimeout), ("operation timeout", operationTimeout)]
        where !Self.isValidTimeout(seconds) {
            throw LDAPError(
                .invalidTimeout, resultCode: LDAPError.ResultCode.paramError, operation: .configure, serverURI: uri,
                diagnosticMessage:
                    "the \(name) is \(seconds) s; it must be more than 0 and at most \(Int(Self.maximumTimeout)) s (a day)"
            )
        }
        return uris
    }

    /// True when the connection will be encrypted with TLS, whichever URI of the list answers:
    /// StartTLS, or every URI is ldaps://.
    public var encryptsEveryConnection: Bool {
        if startTLS { return true }
        guard let uris = try? LDAPURI.list(uri) else { return false }
        return uris.allSatisfy { $0.scheme == .ldaps }
    }

    /// True when some connection may use TLS (ldaps:// or StartTLS): TLS failures are then possible.
    public var usesTLS: Bool {
        if startTLS { return true }
        guard let uris = try? LDAPURI.list(uri) else { return uri.lowercased().contains("ldaps://") }
        return uris.contains { $0.scheme == .ldaps }
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

    /// The well-known Global Catalog ports: 3268 for ldap:// (StartTLS or GSSAPI), 3269 for ldaps://.
    public static let globalCatalogPorts: Set<Int> = [3268, 3269]

    /// True when the URI names a Global Catalog port.
    public var isGlobalCatalog: Bool { port.map(Self.globalCatalogPorts.contains) ?? false }

    /// The same server's Global Catalog: 389 becomes 3268, 636 becomes 3269, no port becomes the
    /// scheme's GC port; any other port (3268 and 3269 included) is kept, as the caller chose it.
    public var globalCatalog: LDAPURI {
        var mapped = self
        switch port {
        case nil: mapped.port = scheme == .ldaps ? 3269 : 3268
        case 389: mapped.port = 3268
        case 636: mapped.port = 3269
        default: break
        }
        return mapped
    }

    /// Parses a list as libldap reads it (ldap_url_parselist): URIs separated by spaces or commas,
    /// in any number; tabs and line ends separate too, since the list libldap is given is rebuilt
    /// from the parts, one space apart. Throws `LDAPError` `.invalidURI` naming the part that is
    /// not an ldap:// or ldaps:// URI with a host.
    public static func list(_ text: String) throws(LDAPError) -> [LDAPURI] {
        let parts = text.split { $0 == " " || $0 == "," || $0 == "\t" || $0 == "\n" }.map(String.init)
        func invalid(_ reason: String) -> LDAPError {
            LDAPError(
                .invalidURI, resultCode: LDAPError.ResultCode.paramError, operation: .configure, serverURI: text,
                diagnosticMessage: reason)
        }
        guard !parts.isEmpty else { throw invalid("no URI given") }
        var uris: [LDAPURI] = []
        for part in parts {
            guard let parsed = LDAPURI(part) else {
                throw invalid("'\(part)' is not an ldap:// or ldaps:// URI with a host name")
            }
            uris.append(parsed)
        }
        return uris
    }
}
