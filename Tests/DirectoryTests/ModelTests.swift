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
        // The bytewise reading of ASCII DNs agrees with the RDN-splitting one on every shape.
        for dn in [
            "CN=PC1,OU=Sales,DC=Corp,DC=Example", " CN=PC1 , DC = corp , dc=example ",
            "CN=a\\,b,DC=child,DC=corp,DC=example",
            "CN=x,DC=", "CN=x,DC=corp\\ ,DC=example", "", "DC=corp", "CN=PC1\\0ADEL:1f,CN=Deleted Objects,DC=ez,DC=lab",
            "CN=x,DCX=corp,DC=example", "dc=a,dc=b,", "CN=Ünïcode,DC=Büro,DC=example",
        ] {
            XCTAssertEqual(
                DistinguishedName.domainDNSName(of: dn), DistinguishedName.slowDomainDNSName(of: dn), "\(dn)")
        }
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

    /// objectGUID as ldapsearch prints `70 10 fd 28 93 98 29 4b 86 9b b6 b5 af 13 7f 65` (base64
    /// `cBD9KJOYKUuGm7a1rxN/ZQ==`), which Get-ADComputer shows as 28fd1070-9893-4b29-869b-b6b5af137f65.
    func testDecodesTheObjectGUIDThatIdentifiesTheAccount() throws {
        let stored: [UInt8] = [
            0x70, 0x10, 0xFD, 0x28, 0x93, 0x98, 0x29, 0x4B, 0x86, 0x9B, 0xB6, 0xB5, 0xAF, 0x13, 0x7F, 0x65,
        ]
        var raw = try DirectoryEntry(
            distinguishedName: "CN=WKS-0142,OU=Workstations,DC=corp,DC=example",
            attributes: ["objectClass": [Array("computer".utf8)], "sAMAccountName": [Array("WKS-0142$".utf8)]])
        try raw.append(stored, to: "objectGUID")
        let object = try XCTUnwrap(DirectoryObject(entry: raw))
        let guid = try XCTUnwrap(object.objectGUID)
        XCTAssertEqual(guid.bytes, stored)
        XCTAssertEqual(guid.description, "28fd1070-9893-4b29-869b-b6b5af137f65")
        XCTAssertEqual(object.samAccountName, "WKS-0142$", "the attributes before it still decode")

        var damaged = try entry(["objectClass": ["computer"]])
        try damaged.append(Array(stored.prefix(15)), to: "objectGUID")
        XCTAssertNil(DirectoryObject(entry: damaged)?.objectGUID, "15 bytes are no identity")
        XCTAssertNil(try DirectoryObject(entry: entry(["objectClass": ["computer"]]))?.objectGUID)
    }

    /// The first-value table has a slot for every audited attribute: the last ones decode too.
    func testEveryAuditedAttributeHasASlot() throws {
        XCTAssertEqual(AuditedAttributes.count, AuditedAttributes.all.count)
        XCTAssertEqual(Int(AuditedAttributes.objectGUID), AuditedAttributes.all.firstIndex(of: "objectGUID"))
        XCTAssertEqual(
            Int(AuditedAttributes.operatingSystemVersion),
            AuditedAttributes.all.firstIndex(of: "operatingSystemVersion"))
        let object = try XCTUnwrap(
            DirectoryObject(
                entry: entry([
                    "objectClass": ["computer"], "operatingSystemVersion": ["10.0 (20348)"],
                    "whenCreated": ["20261124120000.0Z"],
                ])))
        XCTAssertEqual(object.operatingSystemVersion, "10.0 (20348)")
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

    // MARK: UTCTime

    /// Hinnant's algorithm against Foundation's calendar, every day from 1601 (FILETIME's epoch)
    /// to 2400 plus the edges: leap days, century years, 1970 and the days before it.
    func testCivilDatesRoundTripAndMatchFoundation() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try XCTUnwrap(TimeZone(identifier: "UTC"))
        XCTAssertEqual(UTCTime.days(year: 1970, month: 1, day: 1), 0)
        XCTAssertEqual(UTCTime.days(year: 1601, month: 1, day: 1), -FileTime.epochOffsetSeconds / 86_400)
        XCTAssertEqual(UTCTime.days(year: 2026, month: 11, day: 24), 20_781)
        XCTAssertTrue(UTCTime.civil(days: UTCTime.days(year: 2000, month: 2, day: 29)) == (2000, 2, 29))
        XCTAssertTrue(UTCTime.civil(days: -1) == (1969, 12, 31))
        for days in stride(from: Int64(-134_774), through: 157_000, by: 1) {
            let (year, month, day) = UTCTime.civil(days: days)
            XCTAssertEqual(UTCTime.days(year: year, month: month, day: day), days)
            if days % 97 == 0 {
                let parts = calendar.dateComponents(
                    [.year, .month, .day], from: Date(timeIntervalSince1970: Double(days) * 86_400))
                XCTAssertEqual([parts.year, parts.month, parts.day], [year, month, day], "day \(days)")
            }
        }
    }

    func testImpossibleDatesAreRefusedNotRolledOver() {
        XCTAssertEqual(
            UTCTime.unixSeconds(year: 2026, month: 11, day: 24, hour: 13, minute: 30, second: 5), 1_795_527_005)
        XCTAssertNil(UTCTime.unixSeconds(year: 2026, month: 2, day: 29))
        XCTAssertNotNil(UTCTime.unixSeconds(year: 2028, month: 2, day: 29))
        XCTAssertNil(UTCTime.unixSeconds(year: 1900, month: 2, day: 29), "1900 is not a leap year")
        XCTAssertNil(UTCTime.unixSeconds(year: 2026, month: 13, day: 1))
        XCTAssertNil(UTCTime.unixSeconds(year: 2026, month: 4, day: 31))
        XCTAssertNil(UTCTime.unixSeconds(year: 2026, month: 1, day: 1, hour: 24))
        XCTAssertNil(UTCTime.unixSeconds(year: 2026, month: 1, day: 1, second: 60))
    }

    /// The report forms, written into a caller's buffer; the year of FILETIME's "never" takes five digits.
    func testISO8601Out() throws {
        let pwdLastSet = try XCTUnwrap(FileTime(ldapValue: Array("134244369020000000".utf8)))
        XCTAssertEqual(UTCTime.day(pwdLastSet), "2026-05-28")
        XCTAssertEqual(UTCTime.timestamp(pwdLastSet), "2026-05-28T10:15:02Z")
        XCTAssertEqual(UTCTime.timestamp(pwdLastSet.date), "2026-05-28T10:15:02Z")
        XCTAssertEqual(UTCTime.timestamp(UTCTime.unixSeconds(pwdLastSet), colons: false), "2026-05-28T101502Z")
        var buffer = Array("pwdLastSet ".utf8)
        let capacity = buffer.capacity
        buffer.reserveCapacity(buffer.count + 20)
        UTCTime.appendTimestamp(UTCTime.unixSeconds(pwdLastSet), to: &buffer)
        XCTAssertEqual(String(decoding: buffer, as: UTF8.self), "pwdLastSet 2026-05-28T10:15:02Z")
        XCTAssertGreaterThanOrEqual(buffer.capacity, capacity)
        XCTAssertEqual(UTCTime.timestamp(FileTime(ticks: Int64.max)), "30828-09-14T02:48:05Z")
        XCTAssertEqual(UTCTime.timestamp(FileTime(ticks: 0)), "1601-01-01T00:00:00Z")
        XCTAssertEqual(UTCTime.timestamp(Date(timeIntervalSince1970: -0.5)), "1969-12-31T23:59:59Z", "rounds down")
    }

    /// `FindingsJSON.timestamp` may use `UTCTime.timestamp(_: Date)` in place of a formatter: the same
    /// text, except within half a millisecond of the next second, which the formatter rounds up to
    /// (it rounds to milliseconds first) and UTCTime, like `Calendar`, does not.
    func testTimestampMatchesISO8601DateFormatter() throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = try XCTUnwrap(TimeZone(identifier: "UTC"))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try XCTUnwrap(TimeZone(identifier: "UTC"))
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let seconds = Double(Int64.random(in: -11_644_473_600...32_503_680_000, using: &generator))
            let date = Date(timeIntervalSince1970: seconds + Double.random(in: 0..<0.999, using: &generator))
            XCTAssertEqual(UTCTime.timestamp(date), formatter.string(from: date), "\(date.timeIntervalSince1970)")
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            let expected = UTCTime.unixSeconds(
                year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!,
                second: parts.second!)
            XCTAssertEqual(UTCTime.unixSeconds(date), expected, "as Calendar rounds: \(date.timeIntervalSince1970)")
        }
        let nearlyNext = Date(timeIntervalSince1970: 1_795_478_400.9998)
        XCTAssertEqual(UTCTime.timestamp(nearlyNext), "2026-11-24T00:00:00Z")
        XCTAssertEqual(formatter.string(from: nearlyNext), "2026-11-24T00:00:01Z")
    }

    func testISO8601In() {
        XCTAssertEqual(UTCTime.unixSeconds(iso8601: "2026-11-24T00:00:00Z"), 1_795_478_400)
        XCTAssertEqual(UTCTime.unixSeconds(iso8601: "1969-12-31T23:59:59Z"), -1)
        for invalid in [
            "2026-02-30T00:00:00Z", "2026-11-24T24:00:00Z", "2026-11-24 00:00:00Z", "2026-11-24T00:00:00",
            "2026-11-24T00:00:00+01:00", "2026-11-24", "2026-1a-24T00:00:00Z", "",
        ] {
            XCTAssertNil(UTCTime.unixSeconds(iso8601: invalid), invalid)
        }
    }

    /// `--now` as users type it; the same dates `ISO8601DateFormatter` reads (what the CLI uses today).
    func testRFC3339DatesIn() throws {
        let full = ISO8601DateFormatter()
        full.formatOptions = [.withInternetDateTime]
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        day.timeZone = try XCTUnwrap(TimeZone(identifier: "UTC"))
        let cases: [(String, ISO8601DateFormatter)] = [
            ("2026-11-24T00:00:00Z", full), ("2026-11-24T01:00:00+01:00", full), ("2026-11-23T18:30:00-05:30", full),
            ("2028-02-29T23:59:59Z", full), ("1970-01-01T00:00:00Z", full), ("1601-01-01T00:00:00Z", full),
            ("2026-11-24T00:00:00.250Z", fractional), ("2026-11-24T00:00:00.5+01:00", fractional),
            ("2026-11-24", day), ("2028-02-29", day),
        ]
        for (text, formatter) in cases {
            let expected = try XCTUnwrap(formatter.date(from: text), text)
            let parsed = try XCTUnwrap(UTCTime.date(iso8601: text), text)
            XCTAssertEqual(parsed.timeIntervalSince1970, expected.timeIntervalSince1970, accuracy: 0.001, text)
        }
        for invalid in [
            "", "2026-11-24T", "2026-11-24T00:00:00", "2026-02-30", "2026-02-30T00:00:00Z", "2026-11-24T24:00:00Z",
            "2026-11-24T00:00:60Z", "2026-11-24T00:00:00.Z", "2026-11-24T00:00:00+24:00", "2026-11-24T00:00:00+01:60",
            "2026-11-24T00:00:00Zjunk", "26-11-24", "2026-11-24 00:00:00Z", "2026/11/24",
        ] {
            XCTAssertNil(UTCTime.date(iso8601: invalid), invalid)
        }
    }

    /// rootDSE `currentTime` and `whenCreated` as AD and Samba send them.
    func testGeneralizedTimeIn() {
        XCTAssertEqual(UTCTime.date(generalizedTime: "20261124120000.0Z"), Date(timeIntervalSince1970: 1_795_521_600))
        XCTAssertEqual(UTCTime.date(generalizedTime: "20261124120000Z"), Date(timeIntervalSince1970: 1_795_521_600))
        XCTAssertEqual(UTCTime.date(generalizedTime: "20261124130000+0100"), Date(timeIntervalSince1970: 1_795_521_600))
        XCTAssertEqual(UTCTime.date(generalizedTime: "20261124063000-0530"), Date(timeIntervalSince1970: 1_795_521_600))
        XCTAssertEqual(UTCTime.date(generalizedTime: "202611241200Z"), Date(timeIntervalSince1970: 1_795_521_600))
        XCTAssertEqual(UTCTime.date(generalizedTime: "2026112412Z"), Date(timeIntervalSince1970: 1_795_521_600))
        XCTAssertEqual(UTCTime.date(generalizedTime: "19700101000000.5Z"), Date(timeIntervalSince1970: 0.5))
        XCTAssertEqual(UTCTime.date(generalizedTime: "19700101000000,25Z"), Date(timeIntervalSince1970: 0.25))
        XCTAssertEqual(UTCTime.date(generalizedTime: "20240229000000Z"), Date(timeIntervalSince1970: 1_709_164_800))
        XCTAssertEqual(UTCTime.date(generalizedTime: "20261231235960Z"), Date(timeIntervalSince1970: 1_798_761_600))
        for invalid in [
            "", "2026", "2026112412", "20261324120000Z", "20230229000000Z", "20261124120000", "20261124120000.Z",
            "20260230120000Z", "20261124240000Z",
            "20261124126000Z", "20261124120061Z", "20261124120000+2400", "20261124120000+0160", "20261124120000Zx",
            "2026112412000Z", "20261124120000 Z",
        ] {
            XCTAssertNil(UTCTime.date(generalizedTime: invalid), invalid)
        }
    }

    /// Mail's Date header, against what Foundation's calendar gives in the same zone.
    func testRFC5322DateMatchesFoundation() throws {
        let date = Date(timeIntervalSince1970: 1_795_586_400)
        XCTAssertEqual(UTCTime.rfc5322(date), "Wed, 25 Nov 2026 06:00:00 +0000")
        XCTAssertEqual(UTCTime.rfc5322(date, offsetSeconds: 3600), "Wed, 25 Nov 2026 07:00:00 +0100")
        XCTAssertEqual(UTCTime.rfc5322(date, offsetSeconds: -(3 * 3600 + 1800)), "Wed, 25 Nov 2026 02:30:00 -0330")
        XCTAssertEqual(UTCTime.rfc5322(Date(timeIntervalSince1970: 0)), "Thu, 01 Jan 1970 00:00:00 +0000")
        XCTAssertEqual(UTCTime.rfc5322(Date(timeIntervalSince1970: -86_400)), "Wed, 31 Dec 1969 00:00:00 +0000")
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try XCTUnwrap(TimeZone(identifier: "UTC"))
        let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1000 {
            let date = Date(timeIntervalSince1970: Double.random(in: -5_000_000_000...5_000_000_000, using: &generator))
            let parts = calendar.dateComponents([.weekday, .day, .year, .hour, .second], from: date)
            let text = UTCTime.rfc5322(date)
            XCTAssertTrue(text.hasPrefix(weekdays[parts.weekday! - 1] + ", "), text)
            XCTAssertTrue(text.contains(" \(parts.year!) "), text)
        }
    }

    func testConversionsWithFileTimeAndDate() throws {
        let time = try XCTUnwrap(FileTime(ldapValue: Array("134399520000000000".utf8)))
        XCTAssertEqual(UTCTime.unixSeconds(time), 1_795_478_400)
        XCTAssertEqual(UTCTime.fileTime(unixSeconds: 1_795_478_400), time)
        XCTAssertEqual(UTCTime.fileTime(unixSeconds: 1_795_478_400, subTicks: 42).ticks, time.ticks + 42)
        XCTAssertEqual(UTCTime.unixSeconds(FileTime(ticks: -1)), -FileTime.epochOffsetSeconds - 1, "rounds down")
        XCTAssertEqual(
            UTCTime.fileTime(unixSeconds: -FileTime.epochOffsetSeconds - 1).ticks, 0, "clamped like FileTime(date:)")
        XCTAssertEqual(UTCTime.fileTime(unixSeconds: Int64.max).ticks, Int64.max)
        XCTAssertEqual(UTCTime.unixSeconds(Date(timeIntervalSince1970: 1_795_478_400.999)), 1_795_478_400)
        XCTAssertEqual(UTCTime.unixSeconds(Date(timeIntervalSince1970: .nan)), 0)
        XCTAssertEqual(UTCTime.unixSeconds(Date(timeIntervalSince1970: 1e300)), Int64.max)
        XCTAssertEqual(UTCTime.date(unixSeconds: 1_795_478_400), time.date)
        XCTAssertEqual(FileTime.ticksPerDay, 86_400 * FileTime.ticksPerSecond)
    }
}
