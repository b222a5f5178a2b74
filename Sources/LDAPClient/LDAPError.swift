import CLDAP
import UntrustedInput

/// Why an LDAP operation failed: a stable code, libldap's result code, the server's own words,
/// and what the user should do about it.
///
/// Equality compares `code` only, so tests can assert the kind of failure without depending on
/// the wording. The description always names the server URI; it never contains a password.
public struct LDAPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kinds of failure a caller (and the CLI's exit code) can tell apart.
    public enum Code: String, Sendable, CaseIterable {
        /// The URI or the option combination is unusable; nothing was sent.
        case invalidURI = "invalid-uri"
        /// A timeout is not more than 0 and at most `LDAPConnectionOptions.maximumTimeout`; nothing was sent.
        case invalidTimeout = "invalid-timeout"
        /// A simple bind would send the password unencrypted to a URI of the list (`serverURI`
        /// names it); nothing was sent.
        case plaintextBind = "plaintext-bind"
        /// The server could not be reached (name, port, firewall) before anything was bound.
        case serverDown = "server-down"
        /// No answer within the network or operation timeout.
        case timeout
        /// The TLS handshake failed (untrusted certificate, wrong host name, unusable CA file).
        case tlsFailure = "tls-failure"
        /// Wrong DN or password, or an AD account state that refuses the bind (see `activeDirectoryReason`).
        case invalidCredentials = "invalid-credentials"
        /// The server wants an encrypted connection or a signed/sealed bind (result code 8 or 13).
        case strongerAuthRequired = "stronger-auth-required"
        /// The bound identity may not read what was asked.
        case insufficientAccess = "insufficient-access"
        /// A SASL (Kerberos) bind failed: no ticket, no SPN, no GSSAPI plugin, or TLS in the way.
        case saslFailure = "sasl-failure"
        /// The search base does not exist.
        case noSuchObject = "no-such-object"
        /// The connection dropped after a successful bind, for example in the middle of a search.
        case connectionLost = "connection-lost"
        /// Something answered, but not in LDAP (or, for ldaps://, not in TLS): an HTTP server or
        /// another service on the port, or ldap:// against an LDAPS port and the other way round.
        case notLDAP = "not-ldap"
        case other
    }

    /// The LDAP operation that failed, for the message.
    public enum Operation: String, Sendable {
        case configure = "configuration"
        case connect
        case startTLS = "StartTLS"
        case simpleBind = "simple bind"
        case saslBind = "SASL GSSAPI bind"
        case search
    }

    public let code: Code
    /// libldap's result code (LDAP_* from ldap.h; negative values are client-side errors).
    public let resultCode: Int32
    public let matchedDN: String?
    /// The server's diagnostic message (LDAP_OPT_DIAGNOSTIC_MESSAGE), or what libldap found out
    /// about a failed connection (refused port, unknown host, certificate check).
    public let diagnosticMessage: String?
    /// The URI (or space-separated URIs) of the server the operation was sent to.
    public let serverURI: String
    public let operation: Operation
    /// What to do about it, in one or two sentences, with the settings it points to typed, so a
    /// frontend can name them its own way (`trustaudit` says `--ca-file`).
    public let remedy: LDAPAdvice
    /// What to do about it, in one or two sentences, each setting in words ("the CA file").
    public var advice: String { remedy.description }

    public init(
        _ code: Code, resultCode: Int32, operation: Operation, serverURI: String,
        matchedDN: String? = nil, diagnosticMessage: String? = nil, advice: String? = nil
    ) {
        self.code = code
        self.resultCode = resultCode
        self.operation = operation
        self.serverURI = serverURI
        self.matchedDN = matchedDN.flatMap { $0.isEmpty ? nil : $0 }
        self.diagnosticMessage = diagnosticMessage.flatMap { $0.isEmpty ? nil : $0 }
        remedy =
            advice.map { LDAPAdvice(stringLiteral: $0) }
            ?? Self.advice(for: code, operation: operation, serverURI: serverURI, diagnostic: self.diagnosticMessage)
    }

    /// libldap's text for the result code ("Invalid credentials").
    public var resultText: String { String(cString: ldap_err2string(resultCode)) }

    /// The reason hidden in an AD bind diagnostic ("... AcceptSecurityContext error, data 52e, v4563").
    public var activeDirectoryReason: ActiveDirectoryBindFailure? {
        diagnosticMessage.flatMap(ActiveDirectoryBindFailure.init(diagnosticMessage:))
    }

    /// One line for a terminal or a log. The server's diagnostic message and matched DN are
    /// whatever the server sent (and the URI whatever the user typed), so each passes through
    /// `TerminalText.escaped`: an ESC, CR or U+202E from a hostile server shows as `\e`, `\r`,
    /// `\u{202E}` instead of acting on the admin's terminal.
    public var description: String { description(naming: { _ in nil }) }

    /// `description` with each setting in the advice named by `name` (nil keeps the words):
    /// for a frontend that spells its settings as options.
    public func description(naming name: (LDAPSetting) -> String?) -> String {
        var text = "\(TerminalText.escaped(serverURI)): \(operation.rawValue) failed: \(resultText) (\(resultCode))"
        if let diagnosticMessage {
            let trimmed = diagnosticMessage.hasSuffix(".") ? String(diagnosticMessage.dropLast()) : diagnosticMessage
            text += ": " + TerminalText.escaped(trimmed)
        }
        if let reason = activeDirectoryReason { text += " [AD: \(reason.meaning)]" }
        if let matchedDN, code == .noSuchObject {
            text += " (nearest existing entry: \(TerminalText.escaped(matchedDN)))"
        }
        return text + ". " + remedy.text(naming: name)
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
}

// MARK: - Classification

extension LDAPError {
    /// libldap result codes TrustAudit tells apart (ldap.h).
    enum ResultCode {
        static let success: Int32 = 0
        static let operationsError: Int32 = 1
        static let timeLimitExceeded: Int32 = 3
        static let strongerAuthRequired: Int32 = 8
        static let referral: Int32 = 10
        static let confidentialityRequired: Int32 = 13
        static let noSuchObject: Int32 = 32
        static let inappropriateAuthentication: Int32 = 48
        static let invalidCredentials: Int32 = 49
        static let insufficientAccess: Int32 = 50
        static let unwillingToPerform: Int32 = 53
        static let authMethodNotSupported: Int32 = 7
        static let saslBindInProgress: Int32 = 14
        static let serverDown: Int32 = -1
        static let localError: Int32 = -2
        static let decodingError: Int32 = -4
        static let timeout: Int32 = -5
        static let authUnknown: Int32 = -6
        static let paramError: Int32 = -9
        static let connectError: Int32 = -11
        static let notSupported: Int32 = -12
    }

    /// Maps a result code to a stable code, given what was being done and how.
    ///
    /// - Parameters:
    ///   - usesTLS: the connection is ldaps:// or StartTLS was asked for.
    ///   - wasBound: a bind had already succeeded, so a dropped connection is `connectionLost`.
    static func classify(
        resultCode: Int32, operation: Operation, usesTLS: Bool, wasBound: Bool, diagnostic: String?
    ) -> Code {
        let diagnostic = diagnostic?.lowercased() ?? ""
        switch resultCode {
        case ResultCode.serverDown, ResultCode.connectError:
            if wasBound { return .connectionLost }
            if operation == .startTLS && resultCode == ResultCode.connectError { return .tlsFailure }
            if usesTLS && (diagnostic.contains("tls") || diagnostic.contains("certificate")) { return .tlsFailure }
            return .serverDown
        case ResultCode.decodingError:
            // libldap could not decode the reply as an LDAP message.
            return .notLDAP
        case ResultCode.timeout, ResultCode.timeLimitExceeded:
            return .timeout
        case ResultCode.invalidCredentials:
            return operation == .saslBind ? .saslFailure : .invalidCredentials
        case ResultCode.strongerAuthRequired, ResultCode.confidentialityRequired:
            return .strongerAuthRequired
        case ResultCode.insufficientAccess:
            return .insufficientAccess
        case ResultCode.operationsError where diagnostic.contains("000004dc"):
            // AD: "In order to perform this operation a successful bind must be completed".
            return .insufficientAccess
        case ResultCode.noSuchObject:
            return .noSuchObject
        default:
            return operation == .saslBind ? .saslFailure : .other
        }
    }

    static func advice(for code: Code, operation: Operation, serverURI: String, diagnostic: String?) -> LDAPAdvice {
        let diagnostic = diagnostic ?? ""
        let lowered = diagnostic.lowercased()
        let usesLDAPS = serverURI.lowercased().contains("ldaps://")
        switch code {
        case .invalidURI:
            return "Give one or more URIs such as ldaps://dc01.corp.example or ldap://dc01.corp.example:389."
        case .invalidTimeout:
            return "Give each timeout in seconds, more than 0 and at most 86400 (a day)."
        case .plaintextBind:
            return
                "Use ldaps:// for every URI of the list, or StartTLS, or a Kerberos (GSSAPI) bind; allow plaintext only in a lab."
        case .serverDown:
            if lowered.contains("getaddrinfo") || lowered.contains("host name") {
                return "The host name does not resolve; check the name in the URI and DNS."
            }
            if lowered.contains("refused") {
                return "Nothing listens on that port; check the port (389/636, or 3268/3269 for the Global Catalog)."
            }
            if usesLDAPS || operation == .startTLS {
                return "Could not connect or TLS handshake failed; check host, port, \(.caFile, "the CA file")."
            }
            return
                "Could not connect; check the host name and port in the URI, firewalls and VPN, and \(.networkTimeout, "the connect timeout")."
        case .timeout:
            if lowered.contains("tls handshake") {
                let serves =
                    operation == .startTLS || !usesLDAPS
                    ? "plain LDAP with StartTLS (389)" : "LDAPS (636, or 3269 for the Global Catalog)"
                return
                    "Something took the TCP connection but never finished TLS: check that the port serves \(serves), that the domain controller is healthy and no proxy or firewall holds the connection; raise \(.networkTimeout, "the connect timeout") for a slow link."
            }
            return
                "The domain controller did not answer in time; raise \(.operationTimeout, "the operation timeout") or \(.networkTimeout, "the connect timeout"), or search a smaller \(.base, "search base")."
        case .tlsFailure:
            if lowered.contains("does not match") || lowered.contains("hostname") {
                return
                    "Hostname mismatch: the certificate does not name the host in the URI; connect by the name the certificate carries (usually the DC's FQDN)."
            }
            if lowered.contains("ca certificate file") {
                return
                    "The CA file cannot be used; check the \(.caFile, "CA file") path and that it holds PEM certificates."
            }
            if lowered.contains("untrusted") || lowered.contains("verify") || lowered.contains("issuer") {
                return
                    "Certificate verify failed: pass the CA that issued the DC's certificate with \(.caFile, "the CA file") (or LDAPTLS_CACERT)."
            }
            return "Could not connect or TLS handshake failed; check host, port, \(.caFile, "the CA file")."
        case .invalidCredentials:
            if let reason = ActiveDirectoryBindFailure(diagnosticMessage: diagnostic) {
                return LDAPAdvice(stringLiteral: reason.advice)
            }
            return "Check the bind DN (or user@domain) and the password."
        case .strongerAuthRequired:
            return
                "The server refuses simple binds without encryption or signing: use ldaps://, \(.startTLS, "StartTLS") or \(.gssapiBind, "a Kerberos (GSSAPI) bind")."
        case .insufficientAccess:
            return
                "The bind identity may not read these objects; bind as an account with read access to computer objects."
        case .saslFailure:
            if lowered.contains("tls is used") {
                return
                    "Kerberos (GSSAPI) is refused over TLS: use a plain ldap:// URI without \(.startTLS, "StartTLS"); SASL seals the connection."
            }
            if lowered.contains("no worthy mechs") || lowered.contains("no mechanism") {
                return "The GSSAPI SASL plugin is missing: install libsasl2-modules-gssapi-mit."
            }
            if lowered.contains("server not found") {
                return
                    "The DC has no ldap/<host> SPN for the name in the URI: use the DC's FQDN (not an IP address) in the URI."
            }
            return
                "Run kinit (or point KRB5CCNAME at a valid ticket cache), use the DC's FQDN rather than an IP in a plain ldap:// URI, and install libsasl2-modules-gssapi-mit."
        case .noSuchObject:
            return "The search base does not exist on this server; check \(.base, "the search base")."
        case .connectionLost:
            return "The connection dropped after the bind; nothing was written. Run the audit again."
        case .notLDAP:
            if usesLDAPS {
                return
                    "Something that does not speak LDAPS answers on that port: check the port (636, or 3269 for the Global Catalog); a plain LDAP port (389, 3268) takes ldap:// with StartTLS."
            }
            return
                "Something that does not speak LDAP answers on that port (a web server, another service, or an LDAPS port): check the port (389, or 3268 for the Global Catalog), or use ldaps:// for 636 and 3269."
        case .other:
            return "See the server's message above."
        }
    }
}

/// A setting of the connection that advice points to. The library says it in words; a frontend
/// names it as it spells it (an option, a key in a file), so LDAPClient never names a flag.
public enum LDAPSetting: String, Sendable, CaseIterable {
    /// `LDAPConnectionOptions.caFile`: the PEM bundle that verifies the DC's certificate.
    case caFile
    /// `networkTimeout`: how long connecting (and the TLS handshake) may take.
    case networkTimeout
    /// `operationTimeout`: how long one LDAP operation may take.
    case operationTimeout
    /// The search base (the DC's defaultNamingContext when not set).
    case base
    /// `startTLS`: upgrade ldap:// to TLS before binding.
    case startTLS
    /// A SASL GSSAPI (Kerberos) bind instead of a simple bind.
    case gssapiBind
}

/// Advice with the settings it points to kept apart from the words, so a frontend can render it
/// in its own terms. Written as a string literal, with `\(.caFile, "the CA file")` where a
/// setting goes.
public struct LDAPAdvice: Sendable, Equatable, CustomStringConvertible, ExpressibleByStringInterpolation {
    public enum Part: Sendable, Equatable {
        case text(String)
        /// A setting, and how the library says it in a sentence ("the CA file").
        case setting(LDAPSetting, words: String)
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var parts: [Part] = []

        public init(literalCapacity: Int, interpolationCount: Int) {}

        public mutating func appendLiteral(_ literal: String) {
            if !literal.isEmpty { parts.append(.text(literal)) }
        }

        public mutating func appendInterpolation(_ text: String) { appendLiteral(text) }

        public mutating func appendInterpolation(_ setting: LDAPSetting, _ words: String) {
            parts.append(.setting(setting, words: words))
        }
    }

    public let parts: [Part]

    public init(stringLiteral value: String) { parts = value.isEmpty ? [] : [.text(value)] }

    public init(stringInterpolation: StringInterpolation) { parts = stringInterpolation.parts }

    /// The settings the advice points to, in order.
    public var settings: [LDAPSetting] {
        parts.compactMap {
            if case .setting(let setting, _) = $0 { return setting }
            return nil
        }
    }

    /// The advice with each setting named by `name`, or in the library's words where it gives nil.
    public func text(naming name: (LDAPSetting) -> String?) -> String {
        parts.map { part in
            switch part {
            case .text(let text): return text
            case .setting(let setting, let words): return name(setting) ?? words
            }
        }.joined()
    }

    /// In the library's words.
    public var description: String { text(naming: { _ in nil }) }
}

/// The account states AD reports inside an LDAP bind failure (`data 52e` in
/// "80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 52e, v4563").
public enum ActiveDirectoryBindFailure: String, Sendable, CaseIterable {
    case userNotFound = "525"
    case invalidCredentials = "52e"
    case notPermittedAtThisTime = "530"
    case notPermittedAtThisWorkstation = "531"
    case passwordExpired = "532"
    case accountDisabled = "533"
    case accountExpired = "701"
    case mustResetPassword = "773"
    case accountLockedOut = "775"

    /// Finds the `data XXX` code in an AD diagnostic message; nil for any other message.
    public init?(diagnosticMessage: String) {
        let lowered = diagnosticMessage.lowercased()
        guard let range = lowered.range(of: "data ") else { return nil }
        let code = lowered[range.upperBound...].prefix { $0.isHexDigit }
        self.init(rawValue: String(code))
    }

    /// In words, for the error message.
    public var meaning: String {
        switch self {
        case .userNotFound: "user not found"
        case .invalidCredentials: "invalid credentials (wrong password)"
        case .notPermittedAtThisTime: "not permitted to log on at this time"
        case .notPermittedAtThisWorkstation: "not permitted to log on at this workstation"
        case .passwordExpired: "password expired"
        case .accountDisabled: "account disabled"
        case .accountExpired: "account expired"
        case .mustResetPassword: "user must reset password"
        case .accountLockedOut: "account locked out"
        }
    }

    var advice: String {
        switch self {
        case .userNotFound: "Check the bind DN or user@domain name."
        case .invalidCredentials: "Check the password."
        case .notPermittedAtThisTime:
            "The account's logon hours exclude now; use another account or change its logon hours."
        case .notPermittedAtThisWorkstation: "The account may only log on from listed workstations (userWorkstations)."
        case .passwordExpired, .mustResetPassword: "Set a new password for the bind account, then run again."
        case .accountDisabled: "Enable the bind account or use another one."
        case .accountExpired: "Extend the bind account's expiry date (accountExpires) or use another account."
        case .accountLockedOut:
            "Wait for the lockout to end or have the account unlocked; check for a wrong stored password."
        }
    }
}
