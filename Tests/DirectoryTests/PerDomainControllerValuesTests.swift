import Foundation
import XCTest

@testable import Directory

/// lastLogon and the replication metadata: read only by a multi-DC audit, kept by an export that has them.
final class PerDomainControllerValuesTests: XCTestCase {
    typealias B = ReplicationBytes

    /// WKS-0142 as DC2 holds it while inbound replication is off: unicodePwd version 1, the
    /// password DC1 wrote on 2026-12-01 not yet there, and DC2's own lastLogon.
    private func export(metadata: [UInt8]? = nil, xml: [[UInt8]] = [], lastLogon: String? = "134406001020000000")
        -> [UInt8]
    {
        var lines = [
            "dn: CN=WKS-0142,OU=Workstations,DC=two,DC=test", "objectClass: top", "objectClass: computer",
            "sAMAccountName: WKS-0142$", "objectGUID:: EoSY84r0ZkC3ERxW66bmqA==", "userAccountControl: 4096",
            "pwdLastSet: 134399520000000000", "lastLogonTimestamp: 134399000000000000",
        ]
        if let lastLogon { lines.append("lastLogon: \(lastLogon)") }
        let stamps =
            metadata
            ?? B.replPropertyMetaData(
                B.computerMetadata(passwordVersion: 1, changedAt: B.earlierChangeSeconds, by: B.dc2Invocation))
        lines.append("replPropertyMetaData:: \(Data(stamps).base64EncodedString())")
        for value in xml { lines.append("msDS-ReplAttributeMetaData:: \(Data(value).base64EncodedString())") }
        return Array((lines.joined(separator: "\n") + "\n\n").utf8)
    }

    private func object(_ bytes: [UInt8], request: SourceRequest = .audit) throws -> DirectoryObject {
        var objects: [DirectoryObject] = []
        try LDIFReader(bytes: bytes, name: "dc2.ldif").forEachEntry(request) {
            if let object = DirectoryObject(entry: $0) { objects.append(object) }
        }
        return try XCTUnwrap(objects.first)
    }

    func testASingleDCAuditAsksTodaysAttributesAndAMultiDCReadAddsThePerDCValues() {
        XCTAssertEqual(SourceRequest.audit.attributes.count, 20)
        XCTAssertEqual(SourceRequest.audit.attributes, Array(AuditedAttributes.all.prefix(20)))
        XCTAssertEqual(
            SourceRequest.domainControllerView.attributes,
            SourceRequest.audit.attributes + ["lastLogon", "replPropertyMetaData", "msDS-ReplAttributeMetaData"])
        XCTAssertEqual(
            AuditedAttributes.all.suffix(3), ["lastLogon", "replPropertyMetaData", "msDS-ReplAttributeMetaData"])
        XCTAssertEqual(Int(AuditedAttributes.lastLogon), AuditedAttributes.all.firstIndex(of: "lastLogon"))
        XCTAssertEqual(
            Int(AuditedAttributes.replAttributeMetaData),
            AuditedAttributes.all.firstIndex(of: "msDS-ReplAttributeMetaData"))
    }

    func testAnExportKeepsThePerDCValuesWhenItHasThem() throws {
        for request in [SourceRequest.audit, .domainControllerView] {
            let object = try object(export(), request: request)
            XCTAssertEqual(object.lastLogon, FileTime(ticks: 134_406_001_020_000_000))
            XCTAssertEqual(object.lastLogonTimestamp, FileTime(ticks: 134_399_000_000_000_000))
            XCTAssertEqual(object.holds("lastLogon"), true)
            let password = try XCTUnwrap(object.unicodePwdMetadata)
            XCTAssertEqual(password.version, 1)
            XCTAssertEqual(UTCTime.timestamp(password.originatingChangeTime), "2026-11-20T09:14:03Z")
            XCTAssertEqual(password.originatingInvocationID?.description, B.dc2Invocation)
            XCTAssertEqual(object.pwdLastSetMetadata?.version, 1)
            XCTAssertNil(object.replicationMetadataProblem)
        }
    }

    func testWithoutThemNothingIsDecoded() throws {
        var lines = String(decoding: export(lastLogon: nil), as: UTF8.self).split(separator: "\n").map(String.init)
        lines.removeAll { $0.hasPrefix("replPropertyMetaData") }
        let object = try object(Array((lines.joined(separator: "\n") + "\n\n").utf8))
        XCTAssertNil(object.lastLogon)
        XCTAssertNil(object.unicodePwdMetadata)
        XCTAssertNil(object.pwdLastSetMetadata)
        XCTAssertEqual(object.holds("lastLogon"), false)
    }

    func testTheXMLFormIsReadWhenThereIsNoBinaryOne() throws {
        let xml = [
            ReplicationMetadataTests.windowsValue(
                name: "cn", version: 1, time: "2024-03-05T11:02:44Z", invocation: B.dc1Invocation, originatingUSN: 12,
                localUSN: 12, dsa: ReplicationMetadataTests.dc01DSA),
            ReplicationMetadataTests.windowsValue(
                name: "unicodePwd", version: 9, time: "2026-11-20T09:14:03Z", invocation: B.dc1Invocation,
                originatingUSN: 218_114, localUSN: 218_114, dsa: ReplicationMetadataTests.dc01DSA),
        ]
        var lines = String(decoding: export(xml: xml), as: UTF8.self).split(separator: "\n").map(String.init)
        lines.removeAll { $0.hasPrefix("replPropertyMetaData") }
        let object = try object(Array((lines.joined(separator: "\n") + "\n\n").utf8))
        XCTAssertEqual(object.unicodePwdMetadata?.version, 9)
        XCTAssertEqual(object.unicodePwdMetadata?.originatingDSA, ReplicationMetadataTests.dc01DSA)
        XCTAssertNil(object.pwdLastSetMetadata, "no pwdLastSet value was given")
    }

    func testMalformedMetadataLeavesNoStampAndSaysWhy() throws {
        let short = Array(
            B.replPropertyMetaData(
                B.computerMetadata(passwordVersion: 1, changedAt: B.earlierChangeSeconds, by: B.dc2Invocation)
            ).prefix(100))
        let object = try object(export(metadata: short))
        XCTAssertNil(object.unicodePwdMetadata)
        XCTAssertNil(object.pwdLastSetMetadata)
        XCTAssertEqual(
            object.replicationMetadataProblem, "replPropertyMetaData says 8 entries but its 100 bytes hold 1")
        XCTAssertNotNil(object.lastLogon, "the other values are still read")
    }
}
