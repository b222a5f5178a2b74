import Foundation

/// Records a rule writes for every object but reads back only for the few a finding names, kept in
/// a temporary file instead of in memory.
///
/// duplicate-hostname and duplicate-spn must keep the name, DN, objectGUID and dates of every
/// computer, since any of them may turn out to be the first holder of a name or SPN a later one
/// claims; but they read back only those that clash. At a million computers those tables were the
/// audit's largest allocation after the fingerprint tables (massif: about 140 MB), for a few
/// thousand reads. Records go to an unlinked file in TMPDIR (`SpillFile`, created 0600) a megabyte at
/// a time and are read back with one pread each; only where each ends stays in memory. When the
/// file cannot be made or written, the records stay in memory and nothing else changes.
final class SpilledRecords: @unchecked Sendable {
    private static let writeSize = 1 << 20
    private let file: SpillFile?
    /// Bytes on disk: every record that ends at or before this offset is in the file.
    private var flushed = 0
    /// The records not yet written (all of them once writing failed).
    private var buffer: [UInt8] = []
    private var writable: Bool
    /// Where each record ends, from the start of the first.
    private var ends: [UInt64] = []

    private let kind: String

    init(of kind: String) {
        self.kind = kind
        file = try? SpillFile(of: kind)
        writable = file != nil
    }

    var count: Int { ends.count }

    /// Appends the record `write` puts at the end of the buffer it is given; returns its index.
    @discardableResult
    func append(_ write: (inout [UInt8]) -> Void) -> Int {
        write(&buffer)
        ends.append(UInt64(flushed + buffer.count))
        if writable, buffer.count >= Self.writeSize, let file {
            do {
                try file.append(buffer, at: flushed)
                flushed += buffer.count
                buffer.removeAll(keepingCapacity: true)
            } catch {
                writable = false
            }
        }
        return ends.count - 1
    }

    /// A store of its own with the same records, for a table copied before it appends
    /// (`SpilledRecords.Owned`); the tables are not copied in an audit, so this is rare.
    func copy() -> SpilledRecords {
        let copy = SpilledRecords(of: kind)
        for index in 0..<count {
            let bytes = record(index)
            copy.append { $0.append(contentsOf: bytes) }
        }
        return copy
    }

    /// Record `index`'s bytes.
    func record(_ index: Int) -> [UInt8] {
        let start = index == 0 ? 0 : Int(ends[index - 1])
        let end = Int(ends[index])
        if start >= flushed { return Array(buffer[(start - flushed)..<(end - flushed)]) }
        var bytes = [UInt8](repeating: 0, count: end - start)
        // A short read means the temporary file was cut from under the audit (it is unlinked, so
        // nothing else can name it): a failing disk. Reading on would report other accounts' names.
        guard file!.read(into: &bytes, from: 0, at: start, count: bytes.count) == bytes.count else {
            fatalError("trustaudit: a temporary file in TMPDIR could not be read back; check the disk")
        }
        return bytes
    }
}

extension SpilledRecords {
    /// A table's store with value semantics: a table copied (a rule is a struct) and then appended
    /// to gets a store of its own instead of writing into the one its copy reads.
    struct Owned {
        private var store: SpilledRecords

        init(of kind: String) { store = SpilledRecords(of: kind) }

        var count: Int { store.count }

        @discardableResult
        mutating func append(_ write: (inout [UInt8]) -> Void) -> Int {
            if !isKnownUniquelyReferenced(&store) { store = store.copy() }
            return store.append(write)
        }

        func record(_ index: Int) -> [UInt8] { store.record(index) }
    }
}
