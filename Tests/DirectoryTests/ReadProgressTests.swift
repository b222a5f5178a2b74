import Foundation
import XCTest

@testable import Directory

/// `LDIFReader.progress`: once per batch, on the caller's thread, with the exact offset of the last
/// entry delivered, pipelined or not.
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

    func testReportsEachBatchWithTheOffsetOfItsLastEntryThenTheWholeFile() throws {
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
                        bytesRead: ends[batch - 1], totalBytes: size, entriesRead: batch, accountsRead: batch),
                    LDIFReadProgress(
                        bytesRead: ends[2 * batch - 1], totalBytes: size, entriesRead: 2 * batch,
                        accountsRead: 2 * batch),
                    // The last batch: ten computers and the user, which is no account.
                    pipelined
                        ? LDIFReadProgress(
                            bytesRead: ends.last!, totalBytes: size, entriesRead: ends.count,
                            accountsRead: ends.count - 1) : nil,
                    // The end: the comment after the last entry is read too.
                    LDIFReadProgress(
                        bytesRead: size, totalBytes: size, entriesRead: ends.count, accountsRead: ends.count - 1),
                ].compactMap { $0 }, "pipelined: \(pipelined)")
            XCTAssertEqual(
                heard.onMainThread, heard.all.map { _ in Thread.isMainThread }, "called on the caller's thread")
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
