import Foundation
import XCTest

@testable import Directory

/// `LDIFReader.progress`: once per batch, on the caller's thread, with the bytes read so far (a whole
/// number of chunks), the entries and the accounts among them, pipelined or not.
final class ReadProgressTests: XCTestCase {
    /// What the callback heard; locked because the closure is `@Sendable`.
    final class Heard: @unchecked Sendable {
        private let lock = NSLock()
        private var reports: [LDIFReadProgress] = []
        private var threads: [Bool] = []
        func append(_ progress: LDIFReadProgress) {
            lock.lock()
            reports.append(progress)
            threads.append(Thread.isMainThread)
            lock.unlock()
        }
        var all: [LDIFReadProgress] { lock.withLock { reports } }
        var onMainThread: [Bool] { lock.withLock { threads } }
    }

    /// 1,034 computers and one user, then a trailing comment; the offset just past each entry.
    static func export() -> (text: String, ends: [Int]) {
        var text = "version: 1\n\n"
        var ends: [Int] = []
        for index in 0..<(2 * LDIFReader.batchSize + 10) {
            text += "dn: CN=WKS-\(index),OU=Workstations,DC=corp,DC=example\nobjectClass: computer\n"
            text += "sAMAccountName: WKS-\(index)$\nservicePrincipalName: HOST/WKS-\(index)\n\n"
            ends.append(text.utf8.count)
        }
        text += "dn: CN=alice,OU=People,DC=corp,DC=example\nobjectClass: user\nsAMAccountName: alice\n\n"
        ends.append(text.utf8.count)
        text += "# search result\n# numEntries: 1035\n"
        return (text, ends)
    }

    func testReportsEachBatchOnTheCallersThreadThenTheWholeFile() throws {
        let (text, ends) = Self.export()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("progress-\(UUID().uuidString).ldif")
        defer { try? FileManager.default.removeItem(at: url) }
        try text.write(to: url, atomically: true, encoding: .utf8)
        let size = text.utf8.count
        let batch = LDIFReader.batchSize

        for pipelined in [true, false] {
            let heard = Heard()
            var reader = LDIFReader(path: url.path)
            reader.isPipelined = pipelined
            reader.progress = { heard.append($0) }
            XCTAssertEqual(reader.inputSize(), size)
            var delivered = 0
            try reader.forEachEntry { _ in delivered += 1 }
            XCTAssertEqual(delivered, ends.count)
            XCTAssertEqual(
                heard.all,
                [
                    LDIFReadProgress(
                        bytesRead: size, totalBytes: size, entriesRead: batch, accountsRead: batch),
                    LDIFReadProgress(
                        bytesRead: size, totalBytes: size, entriesRead: 2 * batch,
                        accountsRead: 2 * batch),
                    // The last batch: ten computers and the user, which is no account.
                    pipelined
                        ? LDIFReadProgress(
                            bytesRead: size, totalBytes: size, entriesRead: ends.count,
                            accountsRead: ends.count - 1) : nil,
                    // The end (the file is one chunk, read before the first entry).
                    LDIFReadProgress(
                        bytesRead: size, totalBytes: size, entriesRead: ends.count, accountsRead: ends.count - 1),
                ].compactMap { $0 }, "pipelined: \(pipelined)")
            XCTAssertEqual(
                heard.onMainThread, heard.all.map { _ in Thread.isMainThread }, "called on the caller's thread")
        }
    }

    /// A file of several chunks: each batch reports the bytes read so far, a whole number of
    /// chunks that covers the batch's last entry and lies less than a chunk ahead of it.
    func testAFileOfSeveralChunksReportsTheChunksReadSoFar() throws {
        var text = ""
        var ends: [Int] = []
        while text.utf8.count < 2 * LDIFReader.chunkSize + 100_000 {
            let index = ends.count
            text += "dn: CN=WKS-\(index),OU=Workstations,DC=corp,DC=example\nobjectClass: computer\n"
            text += "sAMAccountName: WKS-\(index)$\ndescription: \(String(repeating: "x", count: 400))\n\n"
            ends.append(text.utf8.count)
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("chunks-\(UUID().uuidString).ldif")
        defer { try? FileManager.default.removeItem(at: url) }
        try text.write(to: url, atomically: true, encoding: .utf8)
        let size = text.utf8.count
        for pipelined in [true, false] {
            let heard = Heard()
            var reader = LDIFReader(path: url.path)
            reader.isPipelined = pipelined
            reader.progress = { heard.append($0) }
            try reader.forEachEntry { _ in }
            let reports = heard.all
            XCTAssertEqual(
                reports.last,
                LDIFReadProgress(
                    bytesRead: size, totalBytes: size, entriesRead: ends.count, accountsRead: ends.count))
            for report in reports.dropLast() {
                let lastEnd = ends[report.entriesRead - 1]
                XCTAssertEqual(report.bytesRead % LDIFReader.chunkSize == 0 || report.bytesRead == size, true)
                XCTAssertGreaterThanOrEqual(report.bytesRead, lastEnd, "pipelined: \(pipelined)")
                XCTAssertLessThan(report.bytesRead - lastEnd, LDIFReader.chunkSize + 1_000)
            }
            XCTAssertEqual(
                Set(reports.map(\.bytesRead)).count, 3, "two whole chunks, then the rest: \(reports.map(\.bytesRead))")
            XCTAssertEqual(reports.map(\.bytesRead), reports.map(\.bytesRead).sorted())
        }
    }

    func testAPipeHasNoSizeAndNoProgressMeansNoCounting() throws {
        XCTAssertNil(LDIFReader(path: "/dev/null").inputSize(), "a device is not a regular file")
        XCTAssertNil(LDIFReader(path: "/nonexistent/x.ldif").inputSize())
        XCTAssertEqual(LDIFReader(bytes: [1, 2, 3], name: "x").inputSize(), 3)
        // Without a callback the read is the same read.
        let (text, ends) = Self.export()
        var count = 0
        try LDIFReader(bytes: Array(text.utf8), name: "x.ldif").forEachEntry { _ in count += 1 }
        XCTAssertEqual(count, ends.count)
    }
}
