import Foundation
import XCTest

@testable import Directory

/// The pipelined reader (parsing on a second thread) must hand over exactly what a sequential read does.
final class PipelineTests: XCTestCase {
    private func export(count: Int) -> String {
        var text = "version: 1\n\n"
        for index in 0..<count {
            text += """
                dn: CN=WKS-\(index),OU=Workstations,DC=corp,DC=example
                objectClass: top
                objectClass: computer
                sAMAccountName: WKS-\(index)$
                servicePrincipalName: HOST/WKS-\(index)
                servicePrincipalName: HOST/wks-\(index).corp.exam
                 ple
                objectGUID:: EoSY84r0ZkC3ERxW66bmqA==
                pwdLastSet: 13439118600000\(index % 10)000


                """
        }
        return text
    }

    private func entries(_ reader: LDIFReader) throws -> [DirectoryEntry] {
        var result: [DirectoryEntry] = []
        try reader.forEachEntry { result.append($0) }
        return result
    }

    func testPipelinedReadEqualsSequentialRead() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-\(UUID().uuidString).ldif")
        defer { try? FileManager.default.removeItem(at: url) }
        // More than several batches, so the bounded queue fills and drains.
        try export(count: LDIFReader.batchSize * LDIFReader.queuedBatches * 2 + 7).write(
            to: url, atomically: true, encoding: .utf8)
        var sequential = LDIFReader(path: url.path)
        sequential.isPipelined = false
        let pipelined = LDIFReader(path: url.path)
        let expected = try entries(sequential)
        let actual = try entries(pipelined)
        XCTAssertEqual(actual, expected)
        XCTAssertEqual(actual.map { DirectoryObject(entry: $0) }, expected.map { DirectoryObject(entry: $0) })
        XCTAssertEqual(actual.last?.string("sAMAccountName"), "WKS-\(expected.count - 1)$")
    }

    func testAnErrorAfterManyEntriesDeliversTheEntriesBeforeIt() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-\(UUID().uuidString).ldif")
        defer { try? FileManager.default.removeItem(at: url) }
        let good = LDIFReader.batchSize + 3
        try (export(count: good) + "dn: CN=BAD,DC=corp,DC=example\nobjectSid:: AQUA*AAA\n").write(
            to: url, atomically: true, encoding: .utf8)
        for pipelined in [false, true] {
            var reader = LDIFReader(path: url.path)
            reader.isPipelined = pipelined
            var count = 0
            XCTAssertThrowsError(try reader.forEachEntry { _ in count += 1 }) { error in
                XCTAssertEqual((error as? DirectoryError)?.code, .invalidBase64)
            }
            XCTAssertEqual(count, good, "pipelined: \(pipelined)")
        }
    }

    func testStoppingEarlyStopsTheReaderThread() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-\(UUID().uuidString).ldif")
        defer { try? FileManager.default.removeItem(at: url) }
        try export(count: LDIFReader.batchSize * (LDIFReader.queuedBatches + 4)).write(
            to: url, atomically: true, encoding: .utf8)
        struct Stop: Error {}
        var seen = 0
        XCTAssertThrowsError(
            try LDIFReader(path: url.path).forEachEntry { _ in
                seen += 1
                if seen == 10 { throw Stop() }
            }
        ) { error in XCTAssertTrue(error is Stop) }
        XCTAssertEqual(seen, 10)
    }
}
