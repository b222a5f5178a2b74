import Foundation
import LDAPClient

/// How the live source binds.
///
/// The password is bytes so it never has to pass through a `String`; `description`, `debugDescription`
/// and reflection (`dump`, `print`) show it redacted.
public enum LDAPBind: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// A simple bind with a DN or `user@domain` name; needs ldaps:// or StartTLS on a hardened DC.
    case simple(dn: String, password: [UInt8])
    /// Kerberos via SASL GSSAPI with the caller's ticket cache (KRB5CCNAME); plain ldap:// only.
    case gssapi

    public var description: String {
        switch self {
        case .simple(let dn, _): "simple bind as \(dn)"
        case .gssapi: "SASL GSSAPI bind with the Kerberos ticket cache"
        }
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror { Mirror(self, children: ["bind": description]) }
}

/// Everything needed to audit a domain controller live.
public struct LDAPSourceSettings: Sendable {
    /// One or more ldap:// or ldaps:// URIs, separated by spaces or commas; libldap tries them in
    /// order, so every one of them is held to the same rules (see `validate()`).
    public var uri: String
    /// The search base; nil means the DC's defaultNamingContext (or the whole forest with `globalCatalog`).
    public var base: String?
    public var bind: LDAPBind
    public var startTLS = false
    /// PEM file of CA certificates to trust; nil keeps the system store, ldap.conf and LDAPTLS_CACERT.
    public var caFile: String?
    public var verifyCertificate = true
    /// Seconds to wait for the TCP connection.
    public var networkTimeout: Double = 10
    /// Seconds to wait for one operation (one search page).
    public var operationTimeout: Double = 120
    /// Entries per page; AD's MaxPageSize is 1,000.
    public var pageSize = 1000
    /// Search the Global Catalog from base "" across the whole forest. Every URI is moved to its
    /// GC port (389 to 3268, 636 to 3269, no port to the scheme's); a URI that names 3268 or 3269
    /// means the same even when this is false. The GC holds only the partial attribute set (no
    /// lastLogonTimestamp).
    public var globalCatalog = false
    /// Allow a simple bind when a URI of the list is plain ldap:// without StartTLS: the password
    /// then crosses the network in clear. For a lab only.
    public var allowPlaintext = false
    /// Also read the deleted computers from the Deleted Objects container after the audit's search
    /// (`LDAPDirectorySource.readDeletedObjects`); by default only Administrators may see them.
    public var readsDeletedObjects = false
    /// How often a dropped connection is retried before any entry was delivered (see `LDAPDirectorySource`).
    public var maxRetries = 2
    /// Called after each page with the pages and entries read so far.
    public var progress: (@Sendable (_ pages: Int, _ entries: Int) -> Void)?
    /// For tests: ask for the first `n` values of ranged attributes and the rest `n` at a time,
    /// forcing the ranged retrieval Windows does beyond 1,500 values and Samba never does.
    public var rangeStepForTesting: Int?

    public init(
        uri: String, base: String? = nil, bind: LDAPBind, startTLS: Bool = false, caFile: String? = nil,
        verifyCertificate: Bool = true, networkTimeout: Double = 10, operationTimeout: Double = 120,
        pageSize: Int = 1000, globalCatalog: Bool = false, allowPlaintext: Bool = false, maxRetries: Int = 2,
        progress: (@Sendable (_ pages: Int, _ entries: Int) -> Void)? = nil
    ) {
        self.uri = uri
        self.base = base
        self.bind = bind
        self.startTLS = startTLS
        self.caFile = caFile
        self.verifyCertificate = verifyCertificate
        self.networkTimeout = networkTimeout
        self.operationTimeout = operationTimeout
        self.pageSize = pageSize
        self.globalCatalog = globalCatalog
        self.allowPlaintext = allowPlaintext
        self.maxRetries = maxRetries
        self.progress = progress
    }

    /// True when the search goes to the Global Catalog: asked for, or a URI names 3268 or 3269.
    public var searchesGlobalCatalog: Bool {
        globalCatalog || ((try? LDAPURI.list(uri))?.contains(where: \.isGlobalCatalog) ?? false)
    }

    /// The URIs libldap is given: `uri` parsed, each moved to its Global Catalog port when the
    /// search goes to the GC. Throws `LDAPError` `.invalidURI` naming the part that is no URI.
    public func resolvedURIs() throws(LDAPError) -> [LDAPURI] {
        let uris = try LDAPURI.list(uri)
        return searchesGlobalCatalog ? uris.map(\.globalCatalog) : uris
    }

    /// The resolved URI list, one space apart, as errors and reports name the source; `uri` as
    /// given when it does not parse (the connection then refuses it).
    public var resolvedURI: String {
        (try? resolvedURIs())?.map(\.description).joined(separator: " ") ?? uri
    }

    /// Checks everything that can be checked before the network, in the library so that every
    /// caller gets the same rules. Throws `LDAPError`, operation `.configure`:
    /// - `.invalidURI`: a part of `uri` is not an ldap:// or ldaps:// URI, StartTLS with an
    ///   ldaps:// URI, or a Kerberos bind with TLS (AD and Samba refuse SASL sealing inside TLS);
    /// - `.invalidTimeout`: a timeout is not more than 0 and at most a day;
    /// - `.plaintextBind`: a simple bind while some URI of the list is plain ldap:// without
    ///   StartTLS, unless `allowPlaintext`. libldap falls back to the next URI when one is down,
    ///   so the first URI being ldaps:// proves nothing; `serverURI` names the plain one.
    public func validate() throws(LDAPError) {
        let parameterError: Int32 = -9  // LDAP_PARAM_ERROR: refused before any call reached the network
        let options = connectionOptions
        let uris = try options.parsedURIs()
        switch bind {
        case .gssapi:
            if startTLS || uris.contains(where: { $0.scheme == .ldaps }) {
                throw LDAPError(
                    .invalidURI, resultCode: parameterError, operation: .configure, serverURI: options.uri,
                    diagnosticMessage:
                        "a Kerberos (GSSAPI) bind runs over plain ldap:// (Kerberos seals it); AD refuses SASL sealing inside TLS",
                    advice: "Use plain ldap:// URIs without StartTLS for a Kerberos bind.")
            }
        case .simple:
            guard !startTLS, !allowPlaintext, let plain = uris.first(where: { $0.scheme == .ldap }) else { return }
            throw LDAPError(
                .plaintextBind, resultCode: parameterError, operation: .configure, serverURI: plain.description,
                diagnosticMessage:
                    "refusing a simple bind: \(plain) is unencrypted, and the password would cross the network in clear if libldap used it"
            )
        }
    }

    /// The connection options these settings describe, with the URIs resolved.
    public var connectionOptions: LDAPConnectionOptions {
        LDAPConnectionOptions(
            uri: resolvedURI, startTLS: startTLS, caFile: caFile, verifyCertificate: verifyCertificate,
            networkTimeout: networkTimeout, operationTimeout: operationTimeout)
    }
}

/// What the rootDSE says about the domain controller, read before the audit.
public struct DomainControllerInfo: Sendable, Equatable {
    public var defaultNamingContext: String?
    public var rootDomainNamingContext: String?
    /// `CN=Configuration,<forest root>`: where the server objects of every DC of the forest live.
    public var configurationNamingContext: String?
    /// The DC's own DNS name (`dc01.corp.example`).
    public var dnsHostName: String?
    /// The DC's clock, for the skew warning (Kerberos fails beyond five minutes).
    public var currentTime: Date?
    /// The domain's DNS name, from the naming context (`DC=corp,DC=example` is `corp.example`).
    public var domain: String?
    /// True when the server says it is a ready Global Catalog.
    public var isGlobalCatalogReady: Bool?
    /// True when the server lists the paged-results control.
    public var supportsPagedResults: Bool

    public init(
        defaultNamingContext: String? = nil, rootDomainNamingContext: String? = nil,
        configurationNamingContext: String? = nil, dnsHostName: String? = nil, currentTime: Date? = nil,
        domain: String? = nil, isGlobalCatalogReady: Bool? = nil, supportsPagedResults: Bool = true
    ) {
        self.defaultNamingContext = defaultNamingContext
        self.rootDomainNamingContext = rootDomainNamingContext
        self.configurationNamingContext = configurationNamingContext
        self.dnsHostName = dnsHostName
        self.currentTime = currentTime
        self.domain = domain
        self.isGlobalCatalogReady = isGlobalCatalogReady
        self.supportsPagedResults = supportsPagedResults
    }
}
