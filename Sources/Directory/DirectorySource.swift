import Foundation

/// Where directory objects come from: an LDIF export, a live domain controller or a Global Catalog.
///
/// A source pushes entries to a closure instead of returning an array so that a domain of a
/// million computers never has to sit in memory at once. It describes itself (`readMetadata()`),
/// so a caller needs no special case per kind of source, and it is told what to read
/// (`SourceRequest`), so a deleted-objects or a Global Catalog read is the same call.
public protocol DirectorySource {
    /// A short description of where the data came from, for the reports ("corp.ldif", "ldaps://dc01").
    var description: String { get }

    /// What the source is and what it knows about its directory. A live source connects and
    /// binds here (so a wrong password or an untrusted certificate is reported before the
    /// read); an export answers at once.
    func readMetadata() throws -> SourceMetadata

    /// Calls `body` once per entry of `request`, in the source's order. Throws `DirectoryError`
    /// (or a source-specific error) when the source cannot be read; entries already delivered stay
    /// delivered.
    func forEachEntry(_ request: SourceRequest, _ body: (DirectoryEntry) throws -> Void) throws

    /// The same as `forEachEntry(.audit, body)`, or whatever the source was configured to read
    /// (an `LDIFReader` keeps its `keptAttributes`).
    func forEachEntry(_ body: (DirectoryEntry) throws -> Void) throws
}

extension DirectorySource {
    public func forEachEntry(_ body: (DirectoryEntry) throws -> Void) throws {
        try forEachEntry(.audit, body)
    }
}

/// What a source reads: which attributes, with which server controls, matching what.
///
/// An LDIF export cannot filter or apply controls (it is what was exported), so it ignores both
/// and only honours `attributes`, which decide what it keeps of each entry.
public struct SourceRequest: Sendable, Equatable {
    /// Attribute descriptions to read, in AD's spelling; empty means every attribute.
    public var attributes: [String]
    /// Server controls besides paging, which a live source adds itself.
    public var controls: [ServerControl]
    /// An RFC 4515 filter; nil means the source's own (for a live source, `LDAPDirectorySource.filter`).
    public var filter: String?

    public init(
        attributes: [String] = AuditedAttributes.singleSource, controls: [ServerControl] = [], filter: String? = nil
    ) {
        self.attributes = attributes
        self.controls = controls
        self.filter = filter
    }

    /// What a single-DC audit reads: the audited attributes of computers and other SPN holders,
    /// without the per-DC values (`AuditedAttributes.perDomainControllerAttributes`).
    public static let audit = SourceRequest()

    /// What a multi-DC audit reads from each DC: `audit` plus `lastLogon`, `replPropertyMetaData`
    /// and `msDS-ReplAttributeMetaData` (which Windows constructs and Samba ignores).
    public static let domainControllerView = SourceRequest(attributes: AuditedAttributes.all)

    /// `domainControllerView` of these accounts only, by objectGUID (by DN for one without): what
    /// a comparison-only DC is asked again for the accounts the fully read DC did not give.
    public static func domainControllerView(of accounts: [DirectoryObject]) -> SourceRequest {
        let terms = accounts.map { account in
            account.objectGUID.map { "(objectGUID=\(filterValue($0.bytes)))" }
                ?? "(distinguishedName=\(filterValue(Array(account.distinguishedName.utf8))))"
        }
        return SourceRequest(
            attributes: AuditedAttributes.all, filter: terms.count == 1 ? terms[0] : "(|" + terms.joined() + ")")
    }

    /// `bytes` as an RFC 4515 assertion value: `*`, `(`, `)`, `\`, NUL and every byte outside
    /// printable ASCII as `\xx`, so a GUID's bytes or a DN's text can never change the filter.
    static func filterValue(_ bytes: [UInt8]) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var escaped: [UInt8] = []
        for byte in bytes {
            if byte < 0x20 || byte > 0x7E || byte == UInt8(ascii: "*") || byte == UInt8(ascii: "(")
                || byte == UInt8(ascii: ")") || byte == UInt8(ascii: "\\")
            {
                escaped += [UInt8(ascii: "\\"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            } else {
                escaped.append(byte)
            }
        }
        return String(decoding: escaped, as: UTF8.self)
    }

    /// What a multi-DC audit reads from every DC but the one whose view the rules judge: the
    /// computers (managed service accounts are computers by class) with only
    /// `AuditedAttributes.domainControllerComparison`. One indexed class, no OR: on Samba 4.17 that
    /// search costs a DC about 12% less than the audit's own filter (measured on 10,000 computers).
    public static let domainControllerComparison = SourceRequest(
        attributes: AuditedAttributes.domainControllerComparison, filter: "(objectClass=computer)")
}

/// An LDAP server control (RFC 4511 4.1.11) to send with a search.
public struct ServerControl: Sendable, Equatable {
    /// The control's OID, e.g. "1.2.840.113556.1.4.417".
    public var oid: String
    /// The BER-encoded control value; nil sends none (most AD controls take none).
    public var value: [UInt8]?
    /// True: a server that does not know the control must refuse the search rather than ignore it.
    public var isCritical: Bool

    public init(oid: String, value: [UInt8]? = nil, isCritical: Bool) {
        self.oid = oid
        self.value = value
        self.isCritical = isCritical
    }

    /// LDAP_SERVER_SHOW_DELETED_OID: tombstones and deleted objects are returned too. Critical, so
    /// a server that cannot show them refuses instead of silently returning only live objects.
    public static let showDeleted = ServerControl(oid: "1.2.840.113556.1.4.417", isCritical: true)

    /// LDAP_SERVER_SHOW_RECYCLED_OID: with the Recycle Bin, recycled objects too (past their deleted
    /// lifetime). Not critical: a DC older than 2008 R2 has no Recycle Bin and nothing to show.
    public static let showRecycled = ServerControl(oid: "1.2.840.113556.1.4.2064", isCritical: false)
}

/// What a source says about itself: the kind, the DC and the directory it reads.
public struct SourceMetadata: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// A file written by ldapsearch or ldifde.
        case ldifExport = "LDIF export"
        /// A live domain controller, read over LDAP (one domain's naming context).
        case domainController = "domain controller"
        /// A Global Catalog (ports 3268/3269): every domain of the forest, but only the
        /// attributes of the partial attribute set.
        case globalCatalog = "Global Catalog"
    }

    public var kind: Kind
    /// The same as the source's `description`, for the reports.
    public var name: String
    /// The DC's own DNS name (`dc01.corp.example`), when the source is live.
    public var domainControllerHostName: String?
    /// The naming context searched (`DC=corp,DC=example`); "" for a Global Catalog's whole forest.
    public var namingContext: String?
    /// The domain's DNS name (`corp.example`), from the naming context.
    public var domain: String?
    /// The DC's clock when it was asked (rootDSE currentTime), for the skew warning.
    public var currentTime: Date?

    /// A Global Catalog holds only the partial attribute set: an attribute outside it reads as absent.
    public var isGlobalCatalog: Bool { kind == .globalCatalog }

    public init(
        kind: Kind, name: String, domainControllerHostName: String? = nil, namingContext: String? = nil,
        domain: String? = nil, currentTime: Date? = nil
    ) {
        self.kind = kind
        self.name = name
        self.domainControllerHostName = domainControllerHostName
        self.namingContext = namingContext
        self.domain = domain
        self.currentTime = currentTime
    }
}
