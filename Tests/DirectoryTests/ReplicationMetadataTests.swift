import XCTest

@testable import Directory

/// Builds binary replication values byte by byte, little-endian, as a DC stores them.
enum ReplicationBytes {
    static func u32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
    static func u64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
    static func guid(_ text: String) -> [UInt8] {
        let utf8 = Array(text.utf8)
        return utf8.withUnsafeBufferPointer { ObjectGUID(ldapBytes: $0)! }.bytes
    }

    /// DC1's and DC2's invocationIds, and a third DC's, in `Get-ADDomainController` text form.
    static let dc1Invocation = "8b3f1c2e-5d4a-4e7b-9a10-2c3d4e5f6a7b"
    static let dc2Invocation = "e41a7c90-3b2d-4f6e-8c5a-9d0e1f2a3b4c"
    static let dc3Invocation = "2f6d8e1a-7c4b-4a3e-b5d9-0e1f2a3b4c5d"

    /// 2026-12-01T19:02:21Z, the machine password DC1 wrote in the two-DC test (pwdLastSet
    /// 134406253410152430), in seconds since 1601 as replPropertyMetaData stores it.
    static let passwordChangeSeconds: UInt64 = 13_440_625_341
    /// 2026-11-20T09:14:03Z.
    static let earlierChangeSeconds: UInt64 = 13_439_639_643

    struct Stamp {
        var attid: UInt32
        var version: UInt32
        var seconds: UInt64
        var invocation: String
        var originatingUSN: UInt64
        var localUSN: UInt64
    }

    /// A replPropertyMetaDataBlob version 1 holding `stamps`; `count` overrides the stored count.
    static func replPropertyMetaData(_ stamps: [Stamp], version: UInt32 = 1, count: UInt32? = nil) -> [UInt8] {
        var bytes = u32(version) + u32(0) + u32(count ?? UInt32(stamps.count)) + u32(0)
        for stamp in stamps {
            bytes += u32(stamp.attid) + u32(stamp.version) + u64(stamp.seconds) + guid(stamp.invocation)
            bytes += u64(stamp.originatingUSN) + u64(stamp.localUSN)
        }
        return bytes
    }

    /// A computer's metadata as DC1 holds it after one password change it made: objectClass and
    /// the join's attributes at version 1, unicodePwd, ntPwdHistory, pwdLastSet and
    /// supplementalCredentials at version `passwordVersion`.
    static func computerMetadata(passwordVersion: UInt32, changedAt seconds: UInt64, by invocation: String)
        -> [Stamp]
    {
        [
            Stamp(
                attid: 0x0000_0000, version: 1, seconds: 13_431_000_000, invocation: dc1Invocation,
                originatingUSN: 4101, localUSN: 4101),
            Stamp(
                attid: AttributeID.userAccountControl, version: 2, seconds: 13_431_000_005, invocation: dc1Invocation,
                originatingUSN: 4107, localUSN: 4107),
            Stamp(
                attid: AttributeID.unicodePwd, version: passwordVersion, seconds: seconds, invocation: invocation,
                originatingUSN: 5230, localUSN: 5230),
            Stamp(
                attid: AttributeID.ntPwdHistory, version: passwordVersion, seconds: seconds, invocation: invocation,
                originatingUSN: 5230, localUSN: 5230),
            Stamp(
                attid: AttributeID.pwdLastSet, version: passwordVersion, seconds: seconds, invocation: invocation,
                originatingUSN: 5230, localUSN: 5230),
            Stamp(
                attid: AttributeID.supplementalCredentials, version: passwordVersion, seconds: seconds,
                invocation: invocation, originatingUSN: 5230, localUSN: 5230),
            Stamp(
                attid: AttributeID.dNSHostName, version: 1, seconds: 13_431_000_009, invocation: dc1Invocation,
                originatingUSN: 4110, localUSN: 4110),
            Stamp(
                attid: AttributeID.servicePrincipalName, version: 1, seconds: 13_431_000_009, invocation: dc1Invocation,
                originatingUSN: 4110, localUSN: 4110),
        ]
    }
}

final class ReplicationMetadataTests: XCTestCase {
    typealias B = ReplicationBytes

    func testReplPropertyMetaDataGivesEachAttributesStamp() throws {
        let blob = B.replPropertyMetaData(
            B.computerMetadata(passwordVersion: 2, changedAt: B.passwordChangeSeconds, by: B.dc1Invocation))
        XCTAssertEqual(blob.count, 16 + 8 * 48)
        let entries = try ReplicationMetadata.decode(replPropertyMetaData: blob, source: "dc1.two.test")
        XCTAssertEqual(entries.count, 8)
        let password = try XCTUnwrap(entries.first { $0.attributeID == AttributeID.unicodePwd })
        XCTAssertEqual(password.attributeName, "unicodePwd")
        XCTAssertEqual(password.version, 2)
        XCTAssertEqual(UTCTime.timestamp(password.originatingChangeTime), "2026-12-01T19:02:21Z")
        XCTAssertEqual(password.originatingChangeTime.ticks, 134_406_253_410_000_000, "whole seconds, in ticks")
        XCTAssertEqual(password.originatingInvocationID?.description, B.dc1Invocation)
        XCTAssertEqual(password.originatingUSN, 5230)
        XCTAssertEqual(entries.first { $0.attributeID == AttributeID.pwdLastSet }?.attributeName, "pwdLastSet")
        XCTAssertEqual(entries[0].attributeID, 0, "objectClass has attid 0")
        XCTAssertNil(entries[0].attributeName, "an attid this table does not know has no name")
        XCTAssertEqual(entries[1].version, 2)
        XCTAssertEqual(entries[6].attributeName, "dNSHostName")
    }

    func testOnlyTheWantedStampsAreDecoded() throws {
        let blob = B.replPropertyMetaData(
            B.computerMetadata(passwordVersion: 2, changedAt: B.passwordChangeSeconds, by: B.dc1Invocation))
        let all = try ReplicationMetadata.decode(replPropertyMetaData: blob, source: "dc1.two.test")
        let wanted = try ReplicationMetadata.decode(
            replPropertyMetaData: blob, source: "dc1.two.test", only: [AttributeID.pwdLastSet, AttributeID.unicodePwd])
        XCTAssertEqual(wanted.count, 2)
        XCTAssertEqual(
            wanted, all.filter { $0.attributeID == AttributeID.unicodePwd || $0.attributeID == AttributeID.pwdLastSet })
        // The count is still checked against the length, wanted or not.
        XCTAssertThrowsError(
            try ReplicationMetadata.decode(
                replPropertyMetaData: Array(blob.dropLast(48)), source: "dc1.two.test", only: [AttributeID.unicodePwd]))
    }

    func testAnEmptyVectorIsNoEntries() throws {
        XCTAssertEqual(
            try ReplicationMetadata.decode(replPropertyMetaData: B.replPropertyMetaData([]), source: "x"), [])
    }

    func testMalformedReplPropertyMetaDataSaysWhatIsWrong() {
        let good = B.replPropertyMetaData(
            B.computerMetadata(passwordVersion: 2, changedAt: B.passwordChangeSeconds, by: B.dc1Invocation))
        let cases: [([UInt8], String)] = [
            (Array(good.prefix(11)), "shorter than its 16-byte header"),
            (B.replPropertyMetaData([], version: 2), "version 2"),
            (Array(good.prefix(16 + 3 * 48 + 20)), "says 8 entries but its 180 bytes hold 3"),
            (B.replPropertyMetaData([], count: 0xFFFF_FFFF), "says 4294967295 entries"),
        ]
        for (bytes, reason) in cases {
            XCTAssertThrowsError(try ReplicationMetadata.decode(replPropertyMetaData: bytes, source: "dc2.two.test")) {
                let error = $0 as? DirectoryError
                XCTAssertEqual(error?.code, .malformedReplicationMetadata)
                XCTAssertTrue(error?.description.contains(reason) == true, "\(String(describing: error))")
                XCTAssertTrue(error?.description.hasPrefix("dc2.two.test: ") == true)
            }
        }
    }

    func testATimePastTheLastFileTimeIsRefused() {
        var stamp = B.computerMetadata(passwordVersion: 1, changedAt: 1, by: B.dc1Invocation)[2]
        stamp.seconds = UInt64.max
        XCTAssertThrowsError(
            try ReplicationMetadata.decode(replPropertyMetaData: B.replPropertyMetaData([stamp]), source: "x")
        ) {
            XCTAssertEqual(($0 as? DirectoryError)?.code, .malformedReplicationMetadata)
        }
    }

    // MARK: msDS-ReplAttributeMetaData

    /// One value as a Windows DC returns it: the element with a line feed and a tab before each
    /// child, then a NUL. The shape (element names and order, the time as `YYYY-MM-DDTHH:MM:SSZ`,
    /// one element per value, no root around them) follows Microsoft's description of the
    /// attribute: MS-DRSR 4.1.13.1.17 DS_REPL_ATTR_META_DATA_2 (the fields), and the AD PowerShell
    /// team's "Accessing Replication Metadata using ADPowerShell" (docs.microsoft.com/en-us/archive/
    /// blogs/adpowershell/accessing-replication-metadata-using-adpowershell), which shows that each
    /// value is one such element without a root, and that it parses as XML once one is added.
    static func windowsValue(
        name: String, version: Int, time: String, invocation: String, originatingUSN: Int, localUSN: Int, dsa: String
    ) -> [UInt8] {
        let text = """
            <DS_REPL_ATTR_META_DATA>
            \t<pszAttributeName>\(name)</pszAttributeName>
            \t<dwVersion>\(version)</dwVersion>
            \t<ftimeLastOriginatingChange>\(time)</ftimeLastOriginatingChange>
            \t<uuidLastOriginatingDsaInvocationID>\(invocation)</uuidLastOriginatingDsaInvocationID>
            \t<usnOriginatingChange>\(originatingUSN)</usnOriginatingChange>
            \t<usnLocalChange>\(localUSN)</usnLocalChange>
            \t<pszLastOriginatingDsaDN>\(dsa)</pszLastOriginatingDsaDN>
            </DS_REPL_ATTR_META_DATA>

            """
        return Array(text.utf8) + [0]
    }

    static let dc01DSA =
        "CN=NTDS Settings,CN=DC01,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=corp,DC=example"

    func testWindowsXMLGivesTheSameStampsByName() throws {
        let values = [
            Self.windowsValue(
                name: "unicodePwd", version: 7, time: "2026-11-20T09:14:03Z", invocation: B.dc1Invocation,
                originatingUSN: 218_114, localUSN: 218_114, dsa: Self.dc01DSA),
            Self.windowsValue(
                name: "pwdLastSet", version: 7, time: "2026-11-20T09:14:03Z", invocation: B.dc1Invocation,
                originatingUSN: 218_114, localUSN: 218_114, dsa: Self.dc01DSA),
            Self.windowsValue(
                name: "dNSHostName", version: 1, time: "2024-03-05T11:02:44Z", invocation: B.dc2Invocation,
                originatingUSN: 12_907, localUSN: 40_221, dsa: ""),
        ]
        let entries = try ReplicationMetadata.decode(replAttributeMetaData: values, source: "dc01.corp.example")
        XCTAssertEqual(entries.map(\.attributeName), ["unicodePwd", "pwdLastSet", "dNSHostName"])
        XCTAssertEqual(entries[0].version, 7)
        XCTAssertNil(entries[0].attributeID)
        XCTAssertEqual(UTCTime.timestamp(entries[0].originatingChangeTime), "2026-11-20T09:14:03Z")
        XCTAssertEqual(entries[0].originatingChangeTime.ticks, Int64(B.earlierChangeSeconds) * 10_000_000)
        XCTAssertEqual(entries[0].originatingInvocationID?.description, B.dc1Invocation)
        XCTAssertEqual(entries[0].originatingUSN, 218_114)
        XCTAssertEqual(entries[0].originatingDSA, Self.dc01DSA)
        XCTAssertEqual(entries[2].localUSN, 40_221)
        XCTAssertNil(entries[2].originatingDSA, "an empty DSA DN (the DSA was deleted) is none")
        XCTAssertTrue(entries[0].describes("UNICODEPWD", attributeID: AttributeID.unicodePwd))
    }

    /// Two values as a Windows DC returned them to `ldapsearch ... msDS-ReplAttributeMetaData` for
    /// CN=Administrator of a public lab domain (sittingduck.info), as published with that command
    /// in a pentester's LDAP notes: ISO 8601 times, an empty pszLastOriginatingDsaDN, and the
    /// element closed on a line of its own.
    func testValuesAsAWindowsDCReturnedThem() throws {
        let published = [
            "<DS_REPL_ATTR_META_DATA>\n\t<pszAttributeName>msDS-SupportedEncryptionTypes</pszAttributeName>\n"
                + "\t<dwVersion>1</dwVersion>\n\t<ftimeLastOriginatingChange>2015-10-14T03:28:14Z</ftimeLastOriginatingChange>\n"
                + "\t<uuidLastOriginatingDsaInvocationID>8d2a1f5c-58d4-4efa-bcd2-f7d85ef53013</uuidLastOriginatingDsaInvocationID>\n"
                + "\t<usnOriginatingChange>12776</usnOriginatingChange>\n\t<usnLocalChange>12776</usnLocalChange>\n"
                + "\t<pszLastOriginatingDsaDN></pszLastOriginatingDsaDN>\n</DS_REPL_ATTR_META_DATA>\n\u{0}",
            "<DS_REPL_ATTR_META_DATA>\n\t<pszAttributeName>lastLogonTimestamp</pszAttributeName>\n"
                + "\t<dwVersion>2</dwVersion>\n\t<ftimeLastOriginatingChange>2017-06-20T00:17:22Z</ftimeLastOriginatingChange>\n"
                + "\t<uuidLastOriginatingDsaInvocationID>29bded81-10df-44a3-8ed6-19f582cb8b4e</uuidLastOriginatingDsaInvocationID>\n"
                + "\t<usnOriginatingChange>343946</usnOriginatingChange>\n\t<usnLocalChange>343946</usnLocalChange>\n"
                + "\t<pszLastOriginatingDsaDN></pszLastOriginatingDsaDN>\n</DS_REPL_ATTR_META_DATA>\n\u{0}",
        ].map { Array($0.utf8) }
        let entries = try ReplicationMetadata.decode(replAttributeMetaData: published, source: "dc.sittingduck.info")
        XCTAssertEqual(entries.map(\.attributeName), ["msDS-SupportedEncryptionTypes", "lastLogonTimestamp"])
        XCTAssertEqual(entries.map(\.version), [1, 2])
        XCTAssertEqual(
            entries.map { UTCTime.timestamp($0.originatingChangeTime) },
            [
                "2015-10-14T03:28:14Z", "2017-06-20T00:17:22Z",
            ])
        XCTAssertEqual(entries[1].originatingInvocationID?.description, "29bded81-10df-44a3-8ed6-19f582cb8b4e")
        XCTAssertEqual(entries.map(\.originatingUSN), [12776, 343_946])
        XCTAssertEqual(entries.map(\.localUSN), [12776, 343_946])
        XCTAssertEqual(entries.map(\.originatingDSA), [nil, nil])
    }

    /// A binary stamp and an XML stamp of one write compare equal on what the rules read.
    func testBothFormsAgree() throws {
        let binary = try ReplicationMetadata.decode(
            replPropertyMetaData: B.replPropertyMetaData(
                B.computerMetadata(passwordVersion: 7, changedAt: B.earlierChangeSeconds, by: B.dc1Invocation)),
            source: "dc01")
        let xml = try ReplicationMetadata.decode(
            replAttributeMetaData: [
                Self.windowsValue(
                    name: "unicodePwd", version: 7, time: "2026-11-20T09:14:03Z", invocation: B.dc1Invocation,
                    originatingUSN: 5230, localUSN: 5230, dsa: Self.dc01DSA)
            ], source: "dc01")
        let fromBinary = try XCTUnwrap(binary.first { $0.describes("unicodePwd", attributeID: AttributeID.unicodePwd) })
        XCTAssertEqual(fromBinary.version, xml[0].version)
        XCTAssertEqual(fromBinary.originatingChangeTime, xml[0].originatingChangeTime)
        XCTAssertEqual(fromBinary.originatingInvocationID, xml[0].originatingInvocationID)
    }

    func testEntitiesAreDecodedInNamesAndDNs() throws {
        let value = Self.windowsValue(
            name: "unicodePwd", version: 2, time: "2026-11-20T09:14:03Z", invocation: B.dc1Invocation,
            originatingUSN: 1, localUSN: 1,
            dsa:
                "CN=NTDS Settings,CN=R&amp;D-DC&#x31;,CN=Servers,CN=&lt;Lab&gt; &quot;A&quot; &apos;B&apos; &#233;,DC=corp,DC=example"
        )
        let entry = try ReplAttributeMetaDataXML.parse(value, source: "x")
        XCTAssertEqual(
            entry.originatingDSA, "CN=NTDS Settings,CN=R&D-DC1,CN=Servers,CN=<Lab> \"A\" 'B' é,DC=corp,DC=example")
    }

    func testAValueWithoutTheTrailingNULOrWhitespaceIsRead() throws {
        let compact =
            "<DS_REPL_ATTR_META_DATA><pszAttributeName>pwdLastSet</pszAttributeName><dwVersion>3</dwVersion><ftimeLastOriginatingChange>2025-11-17T13:01:17Z</ftimeLastOriginatingChange></DS_REPL_ATTR_META_DATA>"
        let entry = try ReplAttributeMetaDataXML.parse(Array(compact.utf8), source: "x")
        XCTAssertEqual(entry.attributeName, "pwdLastSet")
        XCTAssertEqual(entry.version, 3)
        XCTAssertNil(entry.originatingInvocationID)
    }

    func testXMLThatIsNotWhatWindowsWritesIsRefused() {
        let good = String(
            decoding: Self.windowsValue(
                name: "unicodePwd", version: 2, time: "2026-11-20T09:14:03Z", invocation: B.dc1Invocation,
                originatingUSN: 1, localUSN: 1, dsa: Self.dc01DSA
            ).dropLast(), as: UTF8.self)
        let cases: [(String, String)] = [
            ("", "expected '<'"),
            ("<DS_REPL_VALUE_META_DATA></DS_REPL_VALUE_META_DATA>", "root element is <DS_REPL_VALUE_META_DATA>"),
            (good.replacingOccurrences(of: "<dwVersion>2", with: "<dwVersion>two"), "<dwVersion> is missing"),
            (good.replacingOccurrences(of: "<dwVersion>2</dwVersion>", with: ""), "<dwVersion> is missing"),
            (
                good.replacingOccurrences(of: "2026-11-20T09:14:03Z", with: "20.11.2026 09:14"),
                "<ftimeLastOriginatingChange>"
            ),
            (
                good.replacingOccurrences(of: "<pszAttributeName>unicodePwd", with: "<pszAttributeName>"),
                "no <pszAttributeName>"
            ),
            (good.replacingOccurrences(of: "unicodePwd", with: "a&nbsp;b"), "unknown entity &nbsp;"),
            (good.replacingOccurrences(of: "unicodePwd", with: "a & b"), "starts no entity"),
            (good.replacingOccurrences(of: "<dwVersion>", with: "<dwVersion x=\"1\">"), "malformed tag"),
            (
                good.replacingOccurrences(of: "</usnLocalChange>", with: "</usnOriginatingChange>"),
                "holds more than text"
            ),
            (good + good, "text after </DS_REPL_ATTR_META_DATA>"),
            (String(good.dropLast(26)), "expected '<'"),
            (
                good.replacingOccurrences(of: "<usnLocalChange>1", with: "<usnLocalChange>-"),
                "<usnLocalChange> is not a number"
            ),
            (good.replacingOccurrences(of: B.dc1Invocation, with: "not-a-guid"), "is not a GUID"),
            (
                good.replacingOccurrences(of: "<usnLocalChange>1</usnLocalChange>", with: "<dwVersion>3</dwVersion>"),
                "<dwVersion> appears twice"
            ),
        ]
        for (text, reason) in cases {
            XCTAssertThrowsError(try ReplAttributeMetaDataXML.parse(Array(text.utf8), source: "dc01.corp.example")) {
                let error = $0 as? DirectoryError
                XCTAssertEqual(error?.code, .malformedReplicationMetadata, text)
                XCTAssertTrue(error?.reason.contains(reason) == true, "\(String(describing: error)) for \(text)")
            }
        }
    }
}
