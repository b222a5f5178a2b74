import Codecs
import Foundation
import XCTest

@testable import Directory

final class ModelTests: XCTestCase {
    func testFileTimeRoundTripsAndKnowsNever() throws {
        // 2026-11-24T00:00:00Z as AD stores it.
        let time = try XCTUnwrap(FileTime(ldapValue: Array("134399520000000000".utf8)))
        XCTAssertEqual(time.date, Date(timeIntervalSince1970: 1_795_478_400))
        XCTAssertEqual(FileTime(date: time.date), time)
        XCTAssertTrue(FileTime(ticks: 0).isNever)
        XCTAssertTrue(FileTime(ticks: 9_223_372_036_854_775_807).isNever)
        XCTAssertNil(FileTime(ldapValue: Array("13439952000000000x".utf8)))
        XCTAssertNil(FileTime(ldapValue: Array("99999999999999999999".utf8)), "overflow must not wrap")
        XCTAssertNil(FileTime(ldapValue: []))
    }

    /// 1600-01-01T00:00:00Z: a day before FILETIME's epoch, as a `--now` might ask for.
    private static let before1601 = Date(timeIntervalSince1970: -11_676_096_000)

    func testDatesOutsideTheFileTimeRangeAreRefusedOrClampedNeverTrapped() {
        XCTAssertNil(FileTime(validDate: Self.before1601))
        XCTAssertFalse(FileTime.isRepresentable(Self.before1601))
        XCTAssertEqual(FileTime(date: Self.before1601).ticks, 0)
        let farFuture = Date(timeIntervalSince1970: 1e18)
        XCTAssertNil(FileTime(validDate: farFuture))
        XCTAssertEqual(FileTime(date: farFuture).ticks, Int64.max)
        XCTAssertNil(FileTime(validDate: Date(timeIntervalSince1970: .nan)))
        XCTAssertEqual(FileTime(date: Date(timeIntervalSince1970: .nan)).ticks, 0)
        XCTAssertNil(FileTime(validDate: Date(timeIntervalSince1970: .infinity)))
        // The edges: the epoch itself, and the last second before 30828-09-14T02:48:05.4775807Z.
        XCTAssertEqual(FileTime(validDate: Date(timeIntervalSince1970: -11_644_473_600))?.ticks, 0)
        XCTAssertTrue(FileTime.isRepresentable(Date(timeIntervalSince1970: 910_692_730_084)))
        XCTAssertFalse(FileTime.isRepresentable(Date(timeIntervalSince1970: 910_692_730_086)))
        XCTAssertEqual(FileTime(validDate: Date(timeIntervalSince1970: 1_795_478_400))?.ticks, 134_399_520_000_000_000)
    }

    func testNegativeTicksAreNoTime() throws {
        for raw in ["-9223372036854775807", "-9200000000000000000", "-1"] {
            let time = try XCTUnwrap(FileTime(ldapValue: Array(raw.utf8)), raw)
            XCTAssertEqual(String(time.ticks), raw)
            XCTAssertFalse(time.isValid, raw)
            XCTAssertFalse(time.isNever, raw)
        }
        XCTAssertTrue(FileTime(ticks: 0).isValid)
        XCTAssertTrue(FileTime(ticks: 9_223_372_036_854_775_806).isValid)
        XCTAssertTrue(FileTime(ticks: Int64.max).isValid)
        XCTAssertEqual(FileTime.validTicks, 0...Int64.max)
    }

    func testUserAccountControlBits() throws {
        let disabled = try XCTUnwrap(UserAccountControl(ldapValue: Array("4098".utf8)))
        XCTAssertTrue(disabled.isDisabled)
        XCTAssertTrue(disabled.contains(.workstationTrustAccount))
        let domainController = try XCTUnwrap(UserAccountControl(ldapValue: Array("532480".utf8)))
        XCTAssertTrue(domainController.isDomainController)
        XCTAssertFalse(domainController.isDisabled)
        // AD sends userAccountControl as a signed 32-bit integer; the high bit must survive.
        XCTAssertEqual(UserAccountControl(ldapValue: Array("-2147479552".utf8))?.rawValue, 0x8000_1000)
        XCTAssertNil(UserAccountControl(ldapValue: Array("enabled".utf8)))
    }

    func testServicePrincipalNameParts() {
        let spn = ServicePrincipalName("MSSQLSvc/SQL01.corp.example:1433")
        XCTAssertEqual(spn.serviceClass, "MSSQLSvc")
        XCTAssertEqual(spn.host, "SQL01.corp.example")
        XCTAssertTrue(spn.hasPort)
        XCTAssertEqual(spn, ServicePrincipalName("mssqlsvc/sql01.CORP.example:1433"))
        XCTAssertNotEqual(spn, ServicePrincipalName("MSSQLSvc/SQL01.corp.example"))
        XCTAssertEqual(Set([ServicePrincipalName("HOST/a"), ServicePrincipalName("host/A")]).count, 1)
    }

    func testDistinguishedNames() {
        let dn = #"CN=Kiosk\, Lobby,OU=Workstations,OU=London,DC=corp,DC=example"#
        XCTAssertEqual(DistinguishedName.relativeNames(of: dn).first, #"CN=Kiosk\, Lobby"#)
        XCTAssertEqual(DistinguishedName.domainDNSName(of: dn), "corp.example")
        XCTAssertNil(DistinguishedName.domainDNSName(of: "CN=Schema,CN=Configuration"))
        let lab = DistinguishedName.normalized("OU=Lab, DC=Corp, DC=Example")
        XCTAssertTrue(
            DistinguishedName.isNormalized(
                DistinguishedName.normalized("CN=LAB-01,OU=lab,DC=corp,DC=example"), within: lab))
        XCTAssertFalse(
            DistinguishedName.isNormalized(
                DistinguishedName.normalized("CN=X,OU=NotLab,DC=corp,DC=example"), within: lab))
    }

    private func entry(_ attributes: [String: [String]]) throws -> DirectoryEntry {
        try DirectoryEntry(
            distinguishedName: "CN=X,DC=corp,DC=example", attributes: attributes.mapValues { $0.map { Array($0.utf8) } }
        )
    }

    func testDecodesAComputer() throws {
        let object = try XCTUnwrap(
            DirectoryObject(
                entry: entry([
                    "objectClass": ["top", "person", "organizationalPerson", "user", "computer"],
                    "sAMAccountName": ["WKS-0142$"], "userAccountControl": ["4096"],
                    "pwdLastSet": ["134391186000000000"],
                    "servicePrincipalName": ["HOST/WKS-0142"], "operatingSystem": ["Windows Server 2022 Standard"],
                ])))
        XCTAssertEqual(object.kind, .computer)
        XCTAssertEqual(object.shortName, "WKS-0142")
        XCTAssertTrue(object.isWindowsServer)
        XCTAssertNil(object.lastLogonTimestamp, "absent, not 0, on a new computer")
    }

    func testGroupManagedServiceAccountByClassOrCategory() throws {
        let byClass = try DirectoryObject(
            entry: entry([
                "objectClass": [
                    "top", "person", "organizationalPerson", "user", "computer", "msDS-GroupManagedServiceAccount",
                ]
            ]))
        XCTAssertEqual(byClass?.kind, .groupManagedServiceAccount)
        // Samba returns objectClass computer and says what it is only in objectCategory.
        let byCategory = try DirectoryObject(
            entry: entry([
                "objectClass": ["computer"],
                "objectCategory": ["CN=ms-DS-Group-Managed-Service-Account,CN=Schema,CN=Configuration,DC=corp,DC=test"],
            ]))
        XCTAssertEqual(byCategory?.kind, .groupManagedServiceAccount)
        let standalone = try DirectoryObject(entry: entry(["objectClass": ["computer", "msDS-ManagedServiceAccount"]]))
        XCTAssertEqual(standalone?.kind, .managedServiceAccount)
    }

    func testUsersCountOnlyWhenTheyHoldAnSPN() throws {
        XCTAssertEqual(
            try DirectoryObject(
                entry: entry(["objectClass": ["user"], "servicePrincipalName": ["MSSQLSvc/sql01:1433"]]))?
                .kind,
            .otherSPNHolder)
        XCTAssertNil(try DirectoryObject(entry: entry(["objectClass": ["user"]])))
        XCTAssertNil(try DirectoryObject(entry: entry(["objectClass": ["organizationalUnit"]])))
    }

    func testBase64Codec() {
        XCTAssertEqual(Base64.decode("TcO8bGxlci1QQw==").map { String(decoding: $0, as: UTF8.self) }, "Müller-PC")
        XCTAssertEqual(Base64.decode(""), [])
        XCTAssertNil(Base64.decode("abc"))
        XCTAssertNil(Base64.decode("ab=c"))
        XCTAssertNil(Base64.decode("a b="))
        for length in 0..<8 {
            let bytes = (0..<length).map { UInt8($0 * 37 & 0xFF) }
            XCTAssertEqual(Base64.decode(Base64.encode(bytes)), bytes)
        }
    }
}
