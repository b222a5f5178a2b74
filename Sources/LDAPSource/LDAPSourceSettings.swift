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
    /// One or more ldap:// or ldaps:// URIs, separated by spaces.
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
    /// The URI is a Global Catalog (3268/3269): search from base "" across the whole forest.
    /// The caller picks the port; the GC holds only the partial attribute set (no lastLogonTimestamp).
    public var globalCatalog = false
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
        pageSize: Int = 1000, globalCatalog: Bool = false, maxRetries: Int = 2,
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
        self.maxRetries = maxRetries
        self.progress = progress
    }

    /// The connection options these settings describe.
    public var connectionOptions: LDAPConnectionOptions {
        LDAPConnectionOptions(
            uri: uri, startTLS: startTLS, caFile: caFile, verifyCertificate: verifyCertificate,
            networkTimeout: networkTimeout, operationTimeout: operationTimeout)
    }
}

/// What the rootDSE says about the domain controller, read before the audit.
public struct DomainControllerInfo: Sendable, Equatable {
    public var defaultNamingContext: String?
    public var rootDomainNamingContext: String?
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
        defaultNamingContext: String? = nil, rootDomainNamingContext: String? = nil, dnsHostName: String? = nil,
        currentTime: Date? = nil, domain: String? = nil, isGlobalCatalogReady: Bool? = nil,
        supportsPagedResults: Bool = true
    ) {
        self.defaultNamingContext = defaultNamingContext
        self.rootDomainNamingContext = rootDomainNamingContext
        self.dnsHostName = dnsHostName
        self.currentTime = currentTime
        self.domain = domain
        self.isGlobalCatalogReady = isGlobalCatalogReady
        self.supportsPagedResults = supportsPagedResults
    }
}
