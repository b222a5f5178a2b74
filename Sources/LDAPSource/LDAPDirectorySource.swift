import Directory
import Foundation
import LDAPClient

/// A live domain controller as a `DirectorySource`: binds, then streams every computer account and
/// every other SPN holder through a paged search.
///
/// Retry policy: a connection that fails or drops is retried (new connection, new bind, search
/// from the start) up to `maxRetries` times, but only while no entry has been handed to the
/// caller. Once entries were delivered a restart would deliver them twice, and buffering a whole
/// domain defeats streaming, so a drop after the first page throws `LDAPError` `.connectionLost`
/// and the caller writes no report. Wrong credentials, TLS failures and timeouts are not retried:
/// repeating them changes nothing (a timeout would only cost another full wait).
///
/// Not `Sendable`: it holds an `LDAPConnection`.
public final class LDAPDirectorySource: DirectorySource, CustomStringConvertible {
    /// Computers (gMSAs included, they are objectClass computer) and every other account holding an SPN.
    public static let filter = "(|(objectCategory=computer)(objectClass=computer)(servicePrincipalName=*))"

    public let settings: LDAPSourceSettings
    private var connection: LDAPConnection?
    private var info: DomainControllerInfo?

    public init(settings: LDAPSourceSettings) {
        self.settings = settings
    }

    /// The URIs as connected to, e.g. "ldaps://dc01.corp.example" ("ldaps://dc01.corp.example:3269" for the GC).
    public var description: String { settings.resolvedURI }

    /// Connects, binds, reads the rootDSE. Called by the CLI before the audit so connection errors come first.
    @discardableResult
    public func connect() throws -> DomainControllerInfo {
        try withRetries { try openConnection() }
        return info!
    }

    /// Connects (unless connected) and says what this source reads: the DC, its naming context,
    /// domain and clock, and whether it is a Global Catalog.
    public func readMetadata() throws -> SourceMetadata {
        let info = try info ?? connect()
        let base = settings.base ?? (settings.searchesGlobalCatalog ? "" : info.defaultNamingContext)
        return SourceMetadata(
            kind: settings.searchesGlobalCatalog ? .globalCatalog : .domainController, name: description,
            domainControllerHostName: info.dnsHostName, namingContext: base, domain: info.domain,
            currentTime: info.currentTime)
    }

    /// Streams the computers and other SPN holders (`filter`) with the audited attributes.
    public func forEachEntry(_ body: (DirectoryEntry) throws -> Void) throws {
        try forEachEntry(.audit, body)
    }

    /// Streams the entries matching `request` (its filter, or `filter`), one page at a time, to
    /// `body`, sending the request's controls with every page.
    public func forEachEntry(_ request: SourceRequest, _ body: (DirectoryEntry) throws -> Void) throws {
        try pagedSearch(base: { try searchBase() }, request, reportsProgress: true, body)
    }

    // MARK: - Deleted objects

    /// GUID_DELETED_OBJECTS_CONTAINER_W: the Deleted Objects container of a naming context, found
    /// by `<WKGUID=...,NC>` whatever it is called or wherever it is.
    public static let deletedObjectsWellKnownGUID = "18e2ea80684f11d2b9aa00c04f79f805"

    /// The deleted computers of the Deleted Objects container: tombstones, and with the Recycle Bin
    /// deleted and recycled objects (Show Deleted and Show Recycled), with the audited attributes.
    public static let deletedObjectsRequest = SourceRequest(
        controls: [.showDeleted, .showRecycled], filter: "(&(objectClass=computer)(isDeleted=TRUE))")

    /// Why `readDeletedObjects` saw nothing, when the container itself did not come back.
    public static let containerNotReturned =
        "the Deleted Objects container was not returned with these credentials; only Administrators see it by default"

    /// `<WKGUID=18e2ea80684f11d2b9aa00c04f79f805,DC=corp,DC=example>` for `namingContext`.
    public static func deletedObjectsBase(namingContext: String) -> String {
        "<WKGUID=\(deletedObjectsWellKnownGUID),\(namingContext)>"
    }

    /// Reads the domain's deleted computers (`deletedObjectsRequest`) and hands each to `body`,
    /// after reading the Deleted Objects container itself to learn whether they can be seen at all.
    ///
    /// A user without rights on the container gets no error: no entry, or (Samba 4.17, measured:
    /// a plain user's base read) the container's DN with no attribute readable. Either way zero
    /// tombstones would mean nothing, so the container must come back with its objectClass for
    /// the read to count, and the deleted computers are searched only then. The domain is the DC's own
    /// (defaultNamingContext), whatever the search base; a Global Catalog audit reads it too.
    public func readDeletedObjects(_ body: (DirectoryEntry) throws -> Void) throws -> DeletedObjectsRead {
        let info = try info ?? connect()
        guard let namingContext = info.defaultNamingContext else { throw noNamingContext() }
        let base = Self.deletedObjectsBase(namingContext: namingContext)
        let recycleBin = try recycleBinEnabled(forest: info.rootDomainNamingContext ?? namingContext)
        let controls = Self.deletedObjectsRequest.controls
        let container: LDAPEntry?
        do {
            container = try readEntry(base, attributes: ["objectClass", "isDeleted"], controls: controls)
        } catch let error as LDAPError where !Self.isRetryable(error) {
            let reason = error.diagnosticMessage ?? error.code.rawValue
            return DeletedObjectsRead(
                notVisibleReason: "the Deleted Objects container could not be read: \(reason)", recycleBin: recycleBin)
        }
        guard let container, !container.values("objectClass").isEmpty else {
            return DeletedObjectsRead(notVisibleReason: Self.containerNotReturned, recycleBin: recycleBin)
        }
        var read = DeletedObjectsRead(recycleBin: recycleBin)
        try pagedSearch(base: { base }, Self.deletedObjectsRequest, reportsProgress: false) { entry in
            try body(entry)
            read.deletedEntries += 1
        }
        return read
    }

    /// Whether the forest's Recycle Bin is on: `msDS-EnabledFeature` of its Partitions container
    /// names `CN=Recycle Bin Feature`. Nil when that container cannot be read.
    func recycleBinEnabled(forest: String) throws -> Bool? {
        let partitions: LDAPEntry?
        do {
            partitions = try readEntry(
                "CN=Partitions,CN=Configuration,\(forest)", attributes: ["objectClass", "msDS-EnabledFeature"],
                controls: [])
        } catch let error as LDAPError where !Self.isRetryable(error) {
            return nil
        }
        guard let partitions, !partitions.values("objectClass").isEmpty else { return nil }
        return partitions.strings("msDS-EnabledFeature").contains {
            $0.lowercased().hasPrefix("cn=recycle bin feature,")
        }
    }

    // MARK: - Internals

    /// The paged search behind every read, with the retry policy of the type's documentation.
    private func pagedSearch(
        base: () throws -> String, _ request: SourceRequest, reportsProgress: Bool,
        _ body: (DirectoryEntry) throws -> Void
    ) throws {
        let filter = request.filter ?? Self.filter
        let attributes = requestedAttributes(request.attributes)
        let controls = Self.connectionControls(request.controls)
        var delivered = 0
        var pages = 0
        var attempt = 0
        while true {
            do {
                if connection == nil { try openConnection() }
                let (connection, base) = (self.connection!, try base())
                try connection.search(
                    base: base, scope: .subtree, filter: filter, attributes: attributes,
                    pageSize: settings.pageSize, rangeStep: settings.rangeStepForTesting, controls: controls
                ) { (page: LDAPSearchPage) in
                    for entry in page.entries {
                        do {
                            try body(Self.directoryEntry(entry))
                        } catch {
                            throw CallerError(error: error)
                        }
                        delivered += 1
                    }
                    pages += 1
                    if reportsProgress { settings.progress?(pages, delivered) }
                }
                return
            } catch let wrapped as CallerError {
                throw wrapped.error
            } catch let error as LDAPError where Self.isRetryable(error) {
                connection = nil
                if delivered > 0 {
                    throw LDAPError(
                        .connectionLost, resultCode: error.resultCode, operation: .search, serverURI: description,
                        diagnosticMessage: "the connection dropped after \(delivered) entries in \(pages) pages"
                            + (error.diagnosticMessage.map { " (\($0))" } ?? ""),
                        advice: "Nothing was written, since the data is incomplete. Run the audit again.")
                }
                guard attempt < settings.maxRetries else { throw error }
                attempt += 1
                Self.pause(beforeAttempt: attempt)
            }
        }
    }

    /// The entry at `dn` (a base read), or nil when the server returns none or says there is none.
    private func readEntry(_ dn: String, attributes: [String], controls: [ServerControl]) throws -> LDAPEntry? {
        var found: LDAPEntry?
        try withRetries {
            if connection == nil { try openConnection() }
            do {
                found = try connection!.searchAll(
                    base: dn, scope: .base, attributes: attributes, pageSize: 0,
                    controls: Self.connectionControls(controls)
                ).first
            } catch let error as LDAPError where Self.isRetryable(error) {
                connection = nil
                throw error
            } catch let error as LDAPError where error.code == .noSuchObject {
                found = nil
            }
        }
        return found
    }

    /// Runs `body` with the bound connection and its rootDSE (connecting first if needed), with the
    /// retry policy of a base read: a lost connection is opened again and `body` run again.
    func withConnection<R>(_ body: (LDAPConnection, DomainControllerInfo) throws -> R) throws -> R {
        var result: R?
        try withRetries {
            if connection == nil { try openConnection() }
            do {
                result = try body(connection!, info!)
            } catch let error as LDAPError where Self.isRetryable(error) {
                connection = nil
                throw error
            }
        }
        return result!
    }

    // MARK: - Internals

    /// An error thrown by the caller's closure, passed through untouched and never retried.
    private struct CallerError: Error {
        var error: any Error
    }

    /// The attributes asked for; with `rangeStepForTesting`, servicePrincipalName is asked as a range.
    private func requestedAttributes(_ attributes: [String]) -> [String] {
        guard let step = settings.rangeStepForTesting, step > 0 else { return attributes }
        return attributes.map {
            $0 == "servicePrincipalName" ? "servicePrincipalName;range=0-\(step - 1)" : $0
        }
    }

    private func searchBase() throws -> String {
        if let base = settings.base { return base }
        if settings.searchesGlobalCatalog { return "" }
        guard let base = info?.defaultNamingContext else { throw noNamingContext() }
        return base
    }

    private func noNamingContext() -> LDAPError {
        LDAPError(
            .noSuchObject, resultCode: 32, operation: .search, serverURI: description,
            diagnosticMessage: "the rootDSE names no defaultNamingContext",
            advice: "Set the search base (the base setting) to the domain's naming context, e.g. DC=corp,DC=example.")
    }

    /// A new connection, bound, with the rootDSE read; replaces any previous one.
    ///
    /// The settings are validated first, every time: a plaintext simple bind is refused here
    /// whoever built the settings.
    private func openConnection() throws {
        connection = nil
        try settings.validate()
        let fresh = try LDAPConnection(options: settings.connectionOptions)
        switch settings.bind {
        case .simple(let dn, let password): try fresh.simpleBind(dn: dn, password: password)
        case .gssapi: try fresh.saslGSSAPIBind()
        }
        info = Self.domainControllerInfo(from: try fresh.rootDSE())
        connection = fresh
    }

    private func withRetries(_ body: () throws -> Void) throws {
        var attempt = 0
        while true {
            do {
                return try body()
            } catch let error as LDAPError where Self.isRetryable(error) && attempt < settings.maxRetries {
                attempt += 1
                Self.pause(beforeAttempt: attempt)
            }
        }
    }

    /// Only a lost or refused connection may be transient; everything else would fail the same way again.
    static func isRetryable(_ error: LDAPError) -> Bool {
        error.code == .serverDown || error.code == .connectionLost
    }

    private static func pause(beforeAttempt attempt: Int) {
        Thread.sleep(forTimeInterval: Double(attempt))
    }

    static func domainControllerInfo(from rootDSE: LDAPEntry) -> DomainControllerInfo {
        let defaultNamingContext = rootDSE.string("defaultNamingContext")
        let rootDomainNamingContext = rootDSE.string("rootDomainNamingContext")
        let domain = (defaultNamingContext ?? rootDomainNamingContext).flatMap(DistinguishedName.domainDNSName(of:))
        let supportedControls = Set(rootDSE.strings("supportedControl"))
        return DomainControllerInfo(
            defaultNamingContext: defaultNamingContext,
            rootDomainNamingContext: rootDomainNamingContext,
            configurationNamingContext: rootDSE.string("configurationNamingContext"),
            dnsHostName: rootDSE.string("dnsHostName"),
            currentTime: rootDSE.string("currentTime").flatMap(UTCTime.date(generalizedTime:)),
            domain: domain,
            isGlobalCatalogReady: rootDSE.string("isGlobalCatalogReady").map { $0.uppercased() == "TRUE" },
            supportsPagedResults: supportedControls.isEmpty || supportedControls.contains("1.2.840.113556.1.4.319"))
    }

    /// The request's controls as the connection sends them.
    static func connectionControls(_ controls: [ServerControl]) -> [LDAPServerControl] {
        controls.map { LDAPServerControl(oid: $0.oid, value: $0.value, isCritical: $0.isCritical) }
    }

    static func directoryEntry(_ entry: LDAPEntry) throws(DirectoryError) -> DirectoryEntry {
        var result = DirectoryEntry(distinguishedName: entry.dn)
        for attribute in entry.attributes { try result.append(contentsOf: attribute.values, to: attribute.name) }
        return result
    }
}

@available(*, unavailable)
extension LDAPDirectorySource: Sendable {}

/// What `LDAPDirectorySource.readDeletedObjects` could see.
public struct DeletedObjectsRead: Sendable, Equatable {
    /// Nil when the Deleted Objects container was read; otherwise why deleted objects could not be
    /// seen (then no deleted computer was searched for, and none is not "none").
    public var notVisibleReason: String?
    /// Whether the forest's Recycle Bin is on; nil when the Partitions container could not be read.
    public var recycleBin: Bool?
    /// The deleted computers handed over.
    public var deletedEntries: Int

    public init(notVisibleReason: String? = nil, recycleBin: Bool? = nil, deletedEntries: Int = 0) {
        self.notVisibleReason = notVisibleReason
        self.recycleBin = recycleBin
        self.deletedEntries = deletedEntries
    }

    /// True when the container itself was read, so zero deleted computers means none.
    public var isVisible: Bool { notVisibleReason == nil }
}
