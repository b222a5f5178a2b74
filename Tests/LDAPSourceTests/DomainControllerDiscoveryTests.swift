import Directory
import Foundation
import LDAPClient
import XCTest

@testable import LDAPSource

/// Discovery joins server objects, NTDS Settings, DC computers and the domain head's
/// fSMORoleOwner into the domain's DCs; the entries are what a forest with two domains, two sites,
/// an RODC and the leftovers of an unfinished demotion gives.
final class DomainControllerDiscoveryTests: XCTestCase {
    static let domain = "DC=corp,DC=example"
    static let sites = "CN=Sites,CN=Configuration,DC=corp,DC=example"

    static func guid(_ text: String) -> [UInt8] {
        Array(text.utf8).withUnsafeBufferPointer { ObjectGUID(ldapBytes: $0)! }.bytes
    }

    static func server(_ name: String, site: String, host: String?, reference: String?) -> LDAPEntry {
        var attributes: [(name: String, values: [[UInt8]])] = [
            ("objectClass", [Array("top".utf8), Array("server".utf8)]),
            ("objectCategory", [Array("CN=Server,CN=Schema,CN=Configuration,DC=corp,DC=example".utf8)]),
        ]
        if let host { attributes.append(("dNSHostName", [Array(host.utf8)])) }
        if let reference { attributes.append(("serverReference", [Array(reference.utf8)])) }
        return LDAPEntry(dn: "CN=\(name),CN=Servers,CN=\(site),\(sites)", attributes: attributes)
    }

    static func settings(
        _ name: String, site: String, guid: String, invocation: String, options: String, readOnly: Bool = false
    ) -> LDAPEntry {
        let classes = ["top", "applicationSettings", "nTDSDSA"] + (readOnly ? ["nTDSDSARO"] : [])
        let category = readOnly ? "CN=NTDS-DSA-RO" : "CN=NTDS-DSA"
        return LDAPEntry(
            dn: "CN=NTDS Settings,CN=\(name),CN=Servers,CN=\(site),\(sites)",
            attributes: [
                ("objectClass", classes.map { Array($0.utf8) }),
                ("objectCategory", [Array("\(category),CN=Schema,CN=Configuration,DC=corp,DC=example".utf8)]),
                ("objectGUID", [Self.guid(guid)]), ("invocationId", [Self.guid(invocation)]),
                ("options", [Array(options.utf8)]),
            ])
    }

    static func computer(_ dn: String, host: String?, uac: Int, server: String?) -> LDAPEntry {
        var attributes: [(name: String, values: [[UInt8]])] = [("userAccountControl", [Array(String(uac).utf8)])]
        if let host { attributes.append(("dNSHostName", [Array(host.utf8)])) }
        if let server { attributes.append(("serverReferenceBL", [Array(server.utf8)])) }
        return LDAPEntry(dn: dn, attributes: attributes)
    }

    static let hq = "HQ-Amsterdam"
    static let branch = "Branch-Rotterdam"
    static let dc01 = "CN=DC01,OU=Domain Controllers,DC=corp,DC=example"
    static let dc02 = "CN=DC02,OU=Domain Controllers,DC=corp,DC=example"
    static let rodc = "CN=RODC01,OU=Domain Controllers,DC=corp,DC=example"

    /// Site entries in the order a server returns them (parents and children interleaved).
    static var siteEntries: [LDAPEntry] {
        [
            settings(
                "DC02", site: branch, guid: "9d3c1f7e-5a2b-4c8d-b1e6-27f04a93c5d8",
                invocation: "e27a4b19-0c6d-4f3e-8a95-b1d2c3e4f507", options: "3"),
            server("DC01", site: hq, host: "DC01.corp.example", reference: dc01),
            settings(
                "DC01", site: hq, guid: "4f8e2d1c-3b7a-4e69-9c05-d8a1b2c3e4f6",
                invocation: "71c5a3e9-2d4b-4f8a-b6c0-9e1d2f3a4b5c", options: "1"),
            // No dNSHostName on the server object: the computer's is used.
            server("DC02", site: branch, host: nil, reference: dc02),
            server("RODC01", site: branch, host: "rodc01.corp.example", reference: rodc),
            settings(
                "RODC01", site: branch, guid: "b5a4c3d2-e1f0-4a9b-8c7d-6e5f4a3b2c1d",
                invocation: "0a1b2c3d-4e5f-4607-9819-2a3b4c5d6e7f", options: "0", readOnly: true),
            // A DC of the child domain: another domain's, left out.
            server(
                "EMEA-DC01", site: hq, host: "emea-dc01.emea.corp.example",
                reference: "CN=EMEA-DC01,OU=Domain Controllers,DC=emea,DC=corp,DC=example"),
            settings(
                "EMEA-DC01", site: hq, guid: "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f",
                invocation: "d2e3f4a5-b6c7-4d8e-9f0a-1b2c3d4e5f60", options: "1"),
            // Demoted without metadata cleanup: the server object stayed, the DSA went.
            server(
                "DC-OLD", site: hq, host: "dc-old.corp.example",
                reference: "CN=DC-OLD,OU=Domain Controllers,DC=corp,DC=example"),
        ]
    }

    static var computerEntries: [LDAPEntry] {
        [
            computer(dc01, host: "dc01.corp.example", uac: 532_480, server: "CN=DC01,CN=Servers,CN=\(hq),\(sites)"),
            computer(dc02, host: "dc02.corp.example", uac: 532_480, server: "CN=DC02,CN=Servers,CN=\(branch),\(sites)"),
            // 0x05001000, as an RODC has it: PARTIAL_SECRETS_ACCOUNT, TRUSTED_TO_AUTH_FOR_DELEGATION, WORKSTATION_TRUST_ACCOUNT.
            computer(
                rodc, host: "rodc01.corp.example", uac: 83_890_176, server: "CN=RODC01,CN=Servers,CN=\(branch),\(sites)"
            ),
            computer(
                "CN=DC-OLD,OU=Domain Controllers,DC=corp,DC=example", host: "dc-old.corp.example", uac: 532_480,
                server: "CN=DC-OLD,CN=Servers,CN=\(hq),\(sites)"),
            // A DC account no server object names: promoted half-way, or removed by hand.
            computer(
                "CN=DC03,OU=Domain Controllers,DC=corp,DC=example", host: "dc03.corp.example", uac: 532_480,
                server: nil),
        ]
    }

    static var head: LDAPEntry {
        LDAPEntry(
            dn: domain,
            attributes: [("fSMORoleOwner", [Array("CN=NTDS Settings,CN=DC01,CN=Servers,CN=\(hq),\(sites)".utf8)])])
    }

    func discovered() -> DiscoveredDomainControllers {
        DomainControllerDiscovery.domainControllers(
            sites: Self.siteEntries, computers: Self.computerEntries, domainHead: Self.head,
            defaultNamingContext: Self.domain)
    }

    func testTheDomainsDCsAreFoundWithTheirSitesGUIDsAndRoles() throws {
        let found = discovered()
        XCTAssertEqual(
            found.domainControllers.map(\.hostName), ["dc01.corp.example", "dc02.corp.example", "rodc01.corp.example"])
        let dc01 = found.domainControllers[0]
        XCTAssertEqual(dc01.serverDN, "CN=DC01,CN=Servers,CN=HQ-Amsterdam,\(Self.sites)")
        XCTAssertEqual(dc01.site, "HQ-Amsterdam")
        XCTAssertEqual(dc01.computerDN, Self.dc01)
        XCTAssertEqual(dc01.dsaGUID?.description, "4f8e2d1c-3b7a-4e69-9c05-d8a1b2c3e4f6")
        XCTAssertEqual(dc01.invocationID?.description, "71c5a3e9-2d4b-4f8a-b6c0-9e1d2f3a4b5c")
        XCTAssertTrue(dc01.isGlobalCatalog)
        XCTAssertTrue(dc01.isPDCEmulator)
        XCTAssertFalse(dc01.isReadOnly)

        let dc02 = found.domainControllers[1]
        XCTAssertEqual(dc02.site, "Branch-Rotterdam")
        XCTAssertEqual(dc02.options, [.isGlobalCatalog, .disableInboundReplication])
        XCTAssertFalse(dc02.isPDCEmulator)
        XCTAssertEqual(dc02.dsaGUID?.description, "9d3c1f7e-5a2b-4c8d-b1e6-27f04a93c5d8")

        let rodc = found.domainControllers[2]
        XCTAssertTrue(rodc.isReadOnly)
        XCTAssertFalse(rodc.isGlobalCatalog)
        XCTAssertEqual(rodc.options, [])
    }

    func testLeftoversAreNamedNotCounted() {
        let found = discovered()
        XCTAssertEqual(found.serversWithoutNTDSSettings, ["CN=DC-OLD,CN=Servers,CN=HQ-Amsterdam,\(Self.sites)"])
        XCTAssertEqual(found.accountsWithoutServer, ["CN=DC03,OU=Domain Controllers,DC=corp,DC=example"])
        XCTAssertEqual(found.serversWithoutHostName, [])
        XCTAssertFalse(found.domainControllers.contains { $0.hostName.hasPrefix("emea-") }, "another domain's DC")
        XCTAssertFalse(found.domainControllers.contains { $0.hostName.hasPrefix("dc-old") }, "no NTDS Settings")
    }

    func testAnRODCIsToldApartByItsAccountAlone() throws {
        // Some directories give the RODC's DSA as plain nTDSDSA; PARTIAL_SECRETS_ACCOUNT still tells.
        let sites = Self.siteEntries.map { entry -> LDAPEntry in
            guard entry.dn.hasPrefix("CN=NTDS Settings,CN=RODC01,") else { return entry }
            return Self.settings(
                "RODC01", site: Self.branch, guid: "b5a4c3d2-e1f0-4a9b-8c7d-6e5f4a3b2c1d",
                invocation: "0a1b2c3d-4e5f-4607-9819-2a3b4c5d6e7f", options: "0")
        }
        let found = DomainControllerDiscovery.domainControllers(
            sites: sites, computers: Self.computerEntries, domainHead: Self.head, defaultNamingContext: Self.domain)
        XCTAssertEqual(found.domainControllers.first { $0.hostName == "rodc01.corp.example" }?.isReadOnly, true)
        XCTAssertEqual(found.domainControllers.first { $0.hostName == "dc02.corp.example" }?.isReadOnly, false)
    }

    func testWithoutAHostNameAnywhereADCIsListedApart() {
        let computers = Self.computerEntries.map { entry -> LDAPEntry in
            entry.dn == Self.dc02
                ? Self.computer(
                    Self.dc02, host: nil, uac: 532_480, server: "CN=DC02,CN=Servers,CN=\(Self.branch),\(Self.sites)")
                : entry
        }
        let found = DomainControllerDiscovery.domainControllers(
            sites: Self.siteEntries, computers: computers, domainHead: Self.head, defaultNamingContext: Self.domain)
        XCTAssertEqual(found.serversWithoutHostName, ["CN=DC02,CN=Servers,CN=Branch-Rotterdam,\(Self.sites)"])
        XCTAssertEqual(found.domainControllers.map(\.hostName), ["dc01.corp.example", "rodc01.corp.example"])
    }

    func testNoFSMOOwnerMeansNoPDCEmulatorAndDNsCompareWithoutCase() {
        var found = DomainControllerDiscovery.domainControllers(
            sites: Self.siteEntries, computers: Self.computerEntries, domainHead: nil, defaultNamingContext: Self.domain
        )
        XCTAssertFalse(found.domainControllers.contains(where: \.isPDCEmulator))
        let shouted = LDAPEntry(
            dn: Self.domain,
            attributes: [
                (
                    "fSMORoleOwner",
                    [Array("cn=ntds settings, cn=dc02,CN=Servers,cn=branch-rotterdam,\(Self.sites)".utf8)]
                )
            ])
        found = DomainControllerDiscovery.domainControllers(
            sites: Self.siteEntries, computers: Self.computerEntries, domainHead: shouted,
            defaultNamingContext: "dc=CORP,dc=example")
        XCTAssertEqual(found.domainControllers.filter(\.isPDCEmulator).map(\.hostName), ["dc02.corp.example"])
    }

    func testTheSiteComesFromTheServersDN() {
        XCTAssertEqual(
            DomainControllerDiscovery.site(ofServer: "CN=DC1,CN=Servers,CN=Default-First-Site-Name,\(Self.sites)"),
            "Default-First-Site-Name")
        XCTAssertNil(DomainControllerDiscovery.site(ofServer: "CN=DC1,OU=Domain Controllers,DC=corp,DC=example"))
    }

    // MARK: - Discovery over a connection

    func testDiscoverySearchesTheSitesTheDomainAndItsHead() throws {
        let server = try ScriptedLDAPServer(
            rootDSE: LDAPSourceRequestTests.rootDSE + [
                ("configurationNamingContext", ["CN=Configuration,DC=corp,DC=example"])
            ],
            entries: []
        ) { base, scope in
            switch (base, scope) {
            case (Self.sites, 2):
                [
                    (
                        dn: "CN=DC01,CN=Servers,CN=HQ-Amsterdam,\(Self.sites)",
                        attributes: [
                            ("objectClass", ["top", "server"]), ("dNSHostName", ["dc01.corp.example"]),
                            ("serverReference", [Self.dc01]),
                        ]
                    ),
                    (
                        dn: "CN=NTDS Settings,CN=DC01,CN=Servers,CN=HQ-Amsterdam,\(Self.sites)",
                        attributes: [("objectClass", ["top", "applicationSettings", "nTDSDSA"]), ("options", ["1"])]
                    ),
                ]
            case (Self.domain, 0):
                [
                    (
                        dn: Self.domain,
                        attributes: [
                            ("fSMORoleOwner", ["CN=NTDS Settings,CN=DC01,CN=Servers,CN=HQ-Amsterdam,\(Self.sites)"])
                        ]
                    )
                ]
            default: []
            }
        }
        defer { server.stop() }
        var settings = LDAPSourceSettings(
            uri: "ldap://127.0.0.1:\(server.port)",
            bind: .simple(dn: "svc-audit@corp.example", password: Array("Tr0ub4dor&3".utf8)))
        settings.allowPlaintext = true
        settings.networkTimeout = 3
        settings.operationTimeout = 5
        settings.maxRetries = 0
        let found = try LDAPDirectorySource(settings: settings).discoverDomainControllers()

        XCTAssertEqual(found.domainControllers.map(\.hostName), ["dc01.corp.example"])
        XCTAssertEqual(found.domainControllers.first?.isPDCEmulator, true)
        XCTAssertEqual(found.domainControllers.first?.isGlobalCatalog, true)
        let searches = server.searchRequests.map {
            "\(ScriptedLDAPServer.searchBase(of: $0) ?? "?") \(ScriptedLDAPServer.searchScope(of: $0) ?? -1)"
        }
        XCTAssertTrue(searches.contains("\(Self.sites) 2"), "\(searches)")
        XCTAssertTrue(searches.contains("\(Self.domain) 2"), "\(searches)")
        XCTAssertTrue(searches.contains("\(Self.domain) 0"), "\(searches)")
        let computers = try XCTUnwrap(
            server.searchRequests.first {
                ScriptedLDAPServer.searchBase(of: $0) == Self.domain && ScriptedLDAPServer.searchScope(of: $0) == 2
            })
        // The matching rule and both bits travel as an extensibleMatch's strings.
        XCTAssertNotNil(computers.firstRange(of: Array("1.2.840.113556.1.4.803".utf8)))
        XCTAssertNotNil(computers.firstRange(of: Array("8192".utf8)))
        XCTAssertNotNil(computers.firstRange(of: Array("67108864".utf8)))
    }
}
