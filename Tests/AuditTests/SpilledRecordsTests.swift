import Foundation
import XCTest

@testable import Audit

/// The store duplicate-hostname and duplicate-spn keep every holder in: records written to an
/// unlinked temporary file a megabyte at a time, read back one by one from the file or from what is
/// not written yet, in memory when TMPDIR cannot be written, and copied when a table is.
final class SpilledRecordsTests: XCTestCase {
    /// Records of every length up to a few hundred bytes, with bytes that differ per record, so a
    /// record read from the wrong offset or cut short shows.
    private static func record(_ index: Int) -> [UInt8] {
        let length = (index * 37) % 300
        return (0..<length).map { UInt8(truncatingIfNeeded: index &* 31 &+ $0) }
    }

    private func fill(_ records: inout SpilledRecords.Owned, count: Int) {
        for index in 0..<count {
            let appended = records.append { $0.append(contentsOf: Self.record(index)) }
            XCTAssertEqual(appended, index)
        }
    }

    func testRecordsReadBackFromTheFileAndFromWhatIsNotWrittenYet() {
        var records = SpilledRecords.Owned(of: "test")
        // About 1.9 MB: the first megabyte or so is on disk, the rest still buffered.
        fill(&records, count: 12_800)
        XCTAssertEqual(records.count, 12_800)
        for index in [0, 1, 2, 3_000, 6_999, 7_000, 7_001, 12_799] + (0..<12_800).filter({ $0 % 97 == 0 }) {
            XCTAssertEqual(records.record(index), Self.record(index), "record \(index)")
        }
    }

    func testRecordsStayInMemoryWhenTheTemporaryDirectoryCannotBeWritten() throws {
        let notADirectory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "SpilledRecordsTests-\(UUID().uuidString)")
        try Data("x".utf8).write(to: notADirectory)
        defer { try? FileManager.default.removeItem(at: notADirectory) }
        let before = ProcessInfo.processInfo.environment["TMPDIR"]
        setenv("TMPDIR", notADirectory.path, 1)
        defer {
            if let before { setenv("TMPDIR", before, 1) } else { unsetenv("TMPDIR") }
        }
        var records = SpilledRecords.Owned(of: "test")
        fill(&records, count: 12_800)
        for index in stride(from: 0, to: 12_800, by: 61) {
            XCTAssertEqual(records.record(index), Self.record(index), "record \(index)")
        }
    }

    /// A table is a value: a copy appended to keeps its own records, and the original is unchanged.
    func testACopiedTableAppendsToAStoreOfItsOwn() {
        var original = SpilledRecords.Owned(of: "test")
        fill(&original, count: 8_000)
        var copy = original
        copy.append { $0.append(contentsOf: [1, 2, 3]) }
        original.append { $0.append(contentsOf: [9]) }
        XCTAssertEqual(copy.count, 8_001)
        XCTAssertEqual(original.count, 8_001)
        XCTAssertEqual(copy.record(8_000), [1, 2, 3])
        XCTAssertEqual(original.record(8_000), [9])
        XCTAssertEqual(copy.record(4_321), Self.record(4_321))
        XCTAssertEqual(original.record(7_999), Self.record(7_999))
    }
}
