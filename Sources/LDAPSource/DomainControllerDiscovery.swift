import Directory
import Foundation
import LDAPClient

/// Finding the domain's DCs over the connection the audit already holds.
///
/// A DC is a server object under `CN=Sites,<configuration NC>` with a `CN=NTDS Settings` child
/// (nTDSDSA, or nTDSDSARO for a read-only DC), whose `serverReference` is a computer of the
/// audited domain. Any authenticated user may read these (Samba and Windows alike). The computers
/// that carry SERVER_TRUST_ACCOUNT (0x2000) or PARTIAL_SECRETS_ACCOUNT (0x04000000) are read too,
/// to cross-check: each side can be left behind by a demotion or a metadata cleanup that did not
/// finish, and the audit should say so rather than guess.
public enum DomainControllerDiscovery {
    /// The server objects and their NTDS Settings, in one search under CN=Sites.
    public static let sitesFilter = "(|(objectClass=server)(objectClass=nTDSDSA)(objectClass=nTDSDSARO))"
    public static let sitesAttributes = [
        "objectClass", "objectCategory", "dNSHostName", "serverReference", "objectGUID", "invocationId", "options",
    ]
    /// The domain's DC computer accounts: SERVER_TRUST_ACCOUNT (writable DCs) or
    /// PARTIAL_SECRETS_ACCOUNT (RODCs), by the bitwise-AND matching rule.
    public static let computersFilter =
        "(|(userAccountControl:1.2.840.113556.1.4.803:=8192)(userAccountControl:1.2.840.113556.1.4.803:=67108864))"
    public static let computersAttributes = ["dNSHostName", "userAccountControl", "serverReferenceBL"]

    /// Reads the three sources of truth (server objects, DC computers, the domain head's
    /// fSMORoleOwner) over `connection` and joins them (see `domainControllers(sites:computers:domainHead:defaultNamingContext:)`).
    ///
    /// Throws the connection's `LDAPError` when a search fails: without the server objects there
    /// is no list of DCs to give.
    public static func discover(
        using connection: LDAPConnection, configurationNamingContext: String, defaultNamingContext: String,
        pageSize: Int = 1000
    ) throws -> DiscoveredDomainControllers {
        let sites = try connection.searchAll(
            base: "CN=Sites,\(configurationNamingContext)", scope: .subtree, filter: sitesFilter,
            attributes: sitesAttributes, pageSize: pageSize)
        let computers = try connection.searchAll(
            base: defaultNamingContext, scope: .subtree, filter: computersFilter, attributes: computersAttributes,
            pageSize: pageSize)
        let head = try connection.searchAll(
            base: defaultNamingContext, scope: .base, attributes: ["fSMORoleOwner"], pageSize: 0
        ).first
        return domainControllers(
            sites: sites, computers: computers, domainHead: head, defaultNamingContext: defaultNamingContext)
    }

    /// Joins what was read into the domain's DCs, sorted by host name.
    ///
    /// - A server object counts when its `serverReference` is in the domain of `defaultNamingContext`
    ///   (the same DC= components: a child domain's DNs also end in the parent's), or a
    ///   DC computer of the domain names it in `serverReferenceBL` (Windows and Samba set both; a
    ///   server of another domain of the forest has neither).
    /// - It must have an NTDS Settings child: a server object without one is what a demoted DC
    ///   leaves behind (`serversWithoutNTDSSettings`), not a DC.
    /// - Its host name is its own `dNSHostName`, else its computer's; without either it cannot be
    ///   asked anything (`serversWithoutHostName`).
    /// - Read-only: the DSA's class or category is nTDSDSARO / NTDS-DSA-RO, or the computer carries
    ///   PARTIAL_SECRETS_ACCOUNT.
    /// - PDC emulator: the DSA that the domain head's `fSMORoleOwner` names.
    public static func domainControllers(
        sites: [LDAPEntry], computers: [LDAPEntry], domainHead: LDAPEntry?, defaultNamingContext: String
    ) -> DiscoveredDomainControllers {
        let domainName = DistinguishedName.domainDNSName(of: defaultNamingContext)
        let pdcDSA = domainHead?.string("fSMORoleOwner").map(DistinguishedName.normalized)

        var servers: [(key: String, entry: LDAPEntry)] = []
        var dsas: [String: LDAPEntry] = [:]
        for entry in sites {
            let classes = Set(entry.strings("objectClass").map { $0.lowercased() })
            let key = DistinguishedName.normalized(entry.dn)
            if classes.contains("ntdsdsa") || classes.contains("ntdsdsaro") {
                // The DSA's parent is its server: strip the leading CN=NTDS Settings RDN.
                let names = DistinguishedName.relativeNames(of: key)
                guard names.count > 1 else { continue }
                dsas[names.dropFirst().joined(separator: ",")] = entry
            } else if classes.contains("server") {
                servers.append((key, entry))
            }
        }

        var computersByServer: [String: LDAPEntry] = [:]
        var computersByDN: [String: LDAPEntry] = [:]
        for computer in computers {
            computersByDN[DistinguishedName.normalized(computer.dn)] = computer
            for server in computer.strings("serverReferenceBL") {
                computersByServer[DistinguishedName.normalized(server)] = computer
            }
        }

        var result = DiscoveredDomainControllers()
        var matchedComputers: Set<String> = []
        for (key, server) in servers {
            let reference = server.string("serverReference")
            let referenceKey = reference.map(DistinguishedName.normalized)
            // By the DC= components, not the DN's suffix: a child domain's DNs end in the parent's.
            let inDomain = reference.flatMap(DistinguishedName.domainDNSName(of:)) == domainName
            let computer = referenceKey.flatMap { computersByDN[$0] } ?? computersByServer[key]
            guard inDomain || computer != nil else { continue }
            if let computer { matchedComputers.insert(DistinguishedName.normalized(computer.dn)) }

            guard let dsa = dsas[key] else {
                result.serversWithoutNTDSSettings.append(server.dn)
                continue
            }
            guard let hostName = server.string("dNSHostName") ?? computer?.string("dNSHostName"), !hostName.isEmpty
            else {
                result.serversWithoutHostName.append(server.dn)
                continue
            }
            let classes = Set(dsa.strings("objectClass").map { $0.lowercased() })
            let category = dsa.string("objectCategory")?.lowercased() ?? ""
            let uac = computer?.string("userAccountControl").flatMap {
                UInt32($0) ?? Int32($0).map(UInt32.init(bitPattern:))
            }
            let readOnly =
                classes.contains("ntdsdsaro") || category.hasPrefix("cn=ntds-dsa-ro,")
                || (uac.map { $0 & 0x0400_0000 != 0 } ?? false)
            let options = dsa.string("options").flatMap { UInt32($0) ?? Int32($0).map(UInt32.init(bitPattern:)) } ?? 0
            result.domainControllers.append(
                DomainController(
                    hostName: hostName.lowercased(), serverDN: server.dn, site: site(ofServer: server.dn),
                    computerDN: reference ?? computer?.dn,
                    dsaGUID: dsa.values("objectGUID").first.flatMap(ObjectGUID.init(bytes:)),
                    invocationID: dsa.values("invocationId").first.flatMap(ObjectGUID.init(bytes:)),
                    options: NTDSDSAOptions(rawValue: options), isReadOnly: readOnly,
                    isPDCEmulator: pdcDSA == DistinguishedName.normalized(dsa.dn)))
        }
        result.accountsWithoutServer = computers.map(\.dn).filter {
            !matchedComputers.contains(DistinguishedName.normalized($0))
        }
        result.domainControllers.sort { $0.hostName < $1.hostName }
        return result
    }

    /// `Default-First-Site-Name` from `CN=DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,...`.
    static func site(ofServer dn: String) -> String? {
        let names = DistinguishedName.relativeNames(of: dn)
        guard names.count > 3, names[1].lowercased() == "cn=servers", names[3].lowercased() == "cn=sites",
            names[2].lowercased().hasPrefix("cn=")
        else { return nil }
        return String(names[2].dropFirst(3))
    }
}

/// The DCs discovery found, and what did not add up.
public struct DiscoveredDomainControllers: Sendable, Equatable {
    /// The domain's DCs, writable and read-only, sorted by host name.
    public var domainControllers: [DomainController] = []
    /// DC computer accounts (SERVER_TRUST_ACCOUNT or PARTIAL_SECRETS_ACCOUNT) that no server object
    /// of the domain references: a DC removed without metadata cleanup, or one being promoted.
    public var accountsWithoutServer: [String] = []
    /// Server objects of the domain without an NTDS Settings child: left behind by a demotion.
    public var serversWithoutNTDSSettings: [String] = []
    /// Server objects with NTDS Settings but no dNSHostName (nor on their computer): a DC the
    /// audit cannot connect to by name.
    public var serversWithoutHostName: [String] = []

    public init(
        domainControllers: [DomainController] = [], accountsWithoutServer: [String] = [],
        serversWithoutNTDSSettings: [String] = [], serversWithoutHostName: [String] = []
    ) {
        self.domainControllers = domainControllers
        self.accountsWithoutServer = accountsWithoutServer
        self.serversWithoutNTDSSettings = serversWithoutNTDSSettings
        self.serversWithoutHostName = serversWithoutHostName
    }
}

extension LDAPDirectorySource {
    /// The domain's DCs, found over this source's connection (connecting first if needed), from
    /// the rootDSE's configurationNamingContext and defaultNamingContext.
    ///
    /// Throws the `LDAPError` of a failed search; a rootDSE without the two naming contexts is
    /// `.noSuchObject`.
    public func discoverDomainControllers() throws -> DiscoveredDomainControllers {
        try withConnection { connection, info in
            guard let domain = info.defaultNamingContext else {
                throw LDAPError(
                    .noSuchObject, resultCode: 32, operation: .search, serverURI: description,
                    diagnosticMessage: "the rootDSE names no defaultNamingContext, so the domain's DCs cannot be found")
            }
            let configuration = try configurationNamingContext(info, toFind: "the domain's DCs")
            return try DomainControllerDiscovery.discover(
                using: connection, configurationNamingContext: configuration, defaultNamingContext: domain,
                pageSize: settings.pageSize)
        }
    }

    /// A source reading `domainController` with these settings (see
    /// `LDAPSourceSettings.forDomainController(_:)`), e.g. for each DC's accounts in a
    /// `MergedSource`. Throws `.invalidURI` for a host name that is no DNS name.
    public static func forDomainController(
        _ domainController: DomainController, settings: LDAPSourceSettings
    ) throws(LDAPError) -> LDAPDirectorySource {
        LDAPDirectorySource(settings: try settings.forDomainController(domainController))
    }
}

/// One domain of the forest, as its crossRef under CN=Partitions names it, with its DCs.
public struct ForestDomain: Sendable, Equatable {
    /// `corp.example` (the crossRef's dnsRoot).
    public var dnsName: String
    /// `DC=corp,DC=example` (the crossRef's nCName).
    public var namingContext: String
    public var domainControllers: [DomainController]

    public init(dnsName: String, namingContext: String, domainControllers: [DomainController]) {
        self.dnsName = dnsName
        self.namingContext = namingContext
        self.domainControllers = domainControllers
    }
}

extension DomainControllerDiscovery {
    /// The crossRefs of the forest's domains: SYSTEM_FLAG_CR_NTDS_DOMAIN (0x2) set.
    public static let domainCrossRefFilter = "(&(objectClass=crossRef)(systemFlags:1.2.840.113556.1.4.803:=2))"
}

extension LDAPDirectorySource {
    /// `CN=Configuration,<forest root>` from the rootDSE (or built from its rootDomainNamingContext),
    /// where the server objects and crossRefs live; `.noSuchObject` without either.
    func configurationNamingContext(_ info: DomainControllerInfo, toFind what: String) throws -> String {
        if let configuration = info.configurationNamingContext { return configuration }
        if let root = info.rootDomainNamingContext { return "CN=Configuration,\(root)" }
        throw LDAPError(
            .noSuchObject, resultCode: 32, operation: .search, serverURI: description,
            diagnosticMessage: "the rootDSE names no configurationNamingContext, so \(what) cannot be found")
    }

    /// Every domain of the forest with its DCs, over this source's connection (a Global Catalog
    /// holds the configuration partition and a partial copy of every domain, which is all the
    /// discovery reads): what a forest audit needs to ask a DC of each domain for the attributes
    /// the Global Catalog does not hold (pwdLastSet).
    public func discoverForestDomains() throws -> [ForestDomain] {
        try withConnection { connection, info in
            let configuration = try configurationNamingContext(info, toFind: "the forest's domains")
            let crossRefs = try connection.searchAll(
                base: "CN=Partitions,\(configuration)", scope: .oneLevel,
                filter: DomainControllerDiscovery.domainCrossRefFilter, attributes: ["nCName", "dnsRoot"],
                pageSize: settings.pageSize)
            var domains: [ForestDomain] = []
            for crossRef in crossRefs {
                guard let namingContext = crossRef.string("nCName") else { continue }
                let dnsName =
                    crossRef.string("dnsRoot") ?? DistinguishedName.domainDNSName(of: namingContext) ?? namingContext
                let found = try DomainControllerDiscovery.discover(
                    using: connection, configurationNamingContext: configuration, defaultNamingContext: namingContext,
                    pageSize: settings.pageSize)
                domains.append(
                    ForestDomain(
                        dnsName: dnsName, namingContext: namingContext, domainControllers: found.domainControllers))
            }
            return domains.sorted { $0.dnsName.lowercased() < $1.dnsName.lowercased() }
        }
    }
}
