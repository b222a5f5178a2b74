import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads an LDIF export as `ldapsearch` (with or without `-LLL`) and Windows' `ldifde -f` write it.
///
/// It covers what AD exports use of RFC 2849: folded lines (anywhere, even inside base64), `::`
/// base64 values, comments (folded too), CRLF or LF, `version: 1`, `changetype: add` records,
/// attribute names in any case, `# refldap://` referral comments, and ldapsearch's `search:`/`result:`
/// and `ref:` records, which carry no object and are skipped. The file is read in fixed-size chunks
/// and each entry is handed on as soon as it ends, so memory does not grow with the file.
public struct LDIFReader: DirectorySource, Sendable {
    public enum Input: Sendable {
        case file(path: String)
        case bytes([UInt8], name: String)
    }

    public let input: Input
    /// Lower-cased attribute names to keep; others are skipped without decoding. Nil keeps all.
    public let keptAttributes: Set<String>?

    public init(path: String, keptAttributes: Set<String>? = AuditedAttributes.lowercased) {
        input = .file(path: path)
        self.keptAttributes = keptAttributes
    }

    public init(bytes: [UInt8], name: String, keptAttributes: Set<String>? = AuditedAttributes.lowercased) {
        input = .bytes(bytes, name: name)
        self.keptAttributes = keptAttributes
    }

    public var description: String {
        switch input {
        case .file(let path): return path
        case .bytes(_, let name): return name
        }
    }

    /// Parse on a second thread while the caller's thread consumes the entries (the default).
    ///
    /// The reader thread reads, parses and decodes each entry into its `DirectoryObject`, and hands
    /// batches through a small bounded queue, so memory stays bounded and `body` is still called on
    /// the caller's thread, in file order. Off, everything runs on the caller's thread; the entries
    /// delivered are the same either way.
    public var isPipelined = true

    /// Entries per batch handed from the reader thread, and batches that may wait in the queue.
    static let batchSize = 512
    static let queuedBatches = 8

    /// An export: no DC, no clock; its domain is not known before its entries are read.
    public func readMetadata() throws -> SourceMetadata {
        SourceMetadata(kind: .ldifExport, name: description)
    }

    /// Reads with this reader's `keptAttributes`.
    public func forEachEntry(_ body: (DirectoryEntry) throws -> Void) throws {
        try forEachEntry(keeping: keptAttributes, body)
    }

    /// Reads keeping `request.attributes` (all of them when it is empty). An export cannot apply a
    /// filter or server controls, so `request.filter` and `request.controls` are ignored.
    public func forEachEntry(_ request: SourceRequest, _ body: (DirectoryEntry) throws -> Void) throws {
        try forEachEntry(keeping: Self.keptAttributes(for: request), body)
    }

    /// The lower-cased base names `request` asks for; nil (all) for an empty list.
    static func keptAttributes(for request: SourceRequest) -> Set<String>? {
        if request.attributes.isEmpty { return nil }
        // An export keeps the per-DC values when it has them, whichever of the two audit requests asks.
        if request.attributes == AuditedAttributes.all || request.attributes == AuditedAttributes.singleSource {
            return AuditedAttributes.lowercased
        }
        return Set(request.attributes.map(DirectoryEntry.baseName(of:)))
    }

    private func forEachEntry(keeping kept: Set<String>?, _ body: (DirectoryEntry) throws -> Void) throws {
        guard isPipelined else {
            try readAll(keeping: kept, predecode: false, body)
            return
        }
        let queue = BoundedBatchQueue<[DirectoryEntry]>(capacity: Self.queuedBatches)
        let reader = self
        let thread = Thread {
            var batch: [DirectoryEntry] = []
            batch.reserveCapacity(Self.batchSize)
            do {
                try reader.readAll(keeping: kept, predecode: true) { entry in
                    batch.append(entry)
                    if batch.count == Self.batchSize {
                        guard queue.push(batch) else { throw BoundedBatchQueue<[DirectoryEntry]>.Cancelled() }
                        batch = []
                        batch.reserveCapacity(Self.batchSize)
                    }
                }
                if !batch.isEmpty { _ = queue.push(batch) }
                queue.finish(error: nil)
            } catch is BoundedBatchQueue<[DirectoryEntry]>.Cancelled {
                queue.finish(error: nil)
            } catch {
                // The entries before the error are delivered, as a sequential read would.
                if !batch.isEmpty { _ = queue.push(batch) }
                queue.finish(error: error)
            }
        }
        thread.stackSize = 1 << 22
        thread.start()
        defer { queue.cancelAndWait() }
        while let batch = try queue.pop() {
            for entry in batch { try body(entry) }
        }
    }

    /// Reads the whole input on the current thread.
    func readAll(
        keeping kept: Set<String>?, predecode: Bool, _ body: (DirectoryEntry) throws -> Void
    ) throws {
        var parser = LDIFParser(sourceName: description, keptAttributes: kept)
        parser.predecodes = predecode
        switch input {
        case .bytes(let bytes, _):
            try bytes.withUnsafeBufferPointer { try parser.feed($0, body) }
        case .file(let path):
            let descriptor = open(path, O_RDONLY)
            guard descriptor >= 0 else {
                let reason = String(cString: strerror(errno))
                throw DirectoryError(
                    .fileNotReadable, source: path, line: nil, reason: "cannot open the file: \(reason)")
            }
            defer { close(descriptor) }
            let chunkSize = 1 << 22
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunkSize, alignment: 16)
            defer { buffer.deallocate() }
            while true {
                let count = read(descriptor, buffer, chunkSize)
                if count < 0 {
                    if errno == EINTR { continue }
                    let reason = String(cString: strerror(errno))
                    throw DirectoryError(.fileNotReadable, source: path, line: nil, reason: "read failed: \(reason)")
                }
                if count == 0 { break }
                let bytes = UnsafeBufferPointer(start: buffer.assumingMemoryBound(to: UInt8.self), count: count)
                try parser.feed(bytes, body)
            }
        }
        try parser.finish(body)
        // An empty export audits nothing; reported as a success it would replace good reports with
        // empty ones and mark every finding resolved.
        guard parser.sawEntry else {
            throw DirectoryError(
                .noEntries, source: description, line: nil,
                reason:
                    "the export holds no entry (the file is empty or has only comments); export again, e.g. ldapsearch ... '(objectClass=computer)'"
            )
        }
    }
}
