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
    /// Bytes read from a file at a time (4 MiB), and so the step of `LDIFReadProgress.bytesRead`.
    static let chunkSize = 1 << 22

    /// Called on the caller's thread once per batch of entries delivered (at most every
    /// `batchSize` entries, and once at the end), so a frontend can draw a progress line; nil
    /// counts nothing. Bytes are counted per chunk read (`chunkSize`), entries per batch, so
    /// counting costs nothing per line; the rendering, and how often to redraw, are the frontend's.
    public var progress: (@Sendable (LDIFReadProgress) -> Void)?

    /// The input's size in bytes: the byte count, or a regular file's size; nil for a pipe, a FIFO
    /// or a file that cannot be looked at (the read reports that error itself).
    public func inputSize() -> Int? {
        switch input {
        case .bytes(let bytes, _):
            return bytes.count
        case .file(let path):
            var info = stat()
            guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
            return Int(info.st_size)
        }
    }

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

    /// A batch from the reader thread, with how far the read had got when it was full.
    struct Batch {
        var entries: [DirectoryEntry]
        var bytesRead: Int
        var accounts: Int
    }

    private func forEachEntry(keeping kept: Set<String>?, _ body: (DirectoryEntry) throws -> Void) throws {
        let totalBytes = progress == nil ? nil : inputSize()
        var counted = LDIFReadProgress(bytesRead: 0, totalBytes: totalBytes, entriesRead: 0, accountsRead: 0)
        guard isPipelined else {
            guard let progress else {
                try readAll(keeping: kept, predecode: false, position: nil, body)
                return
            }
            let position = LDIFReadPosition()
            try readAll(keeping: kept, predecode: false, position: position) { entry in
                try body(entry)
                counted.entriesRead += 1
                if DirectoryObject(entry: entry)?.kind.isComputerClass == true { counted.accountsRead += 1 }
                if counted.entriesRead % Self.batchSize == 0 {
                    counted.bytesRead = position.bytes
                    progress(counted)
                }
            }
            // The whole input is read: what follows the last entry (comments, a search result) too.
            counted.bytesRead = totalBytes ?? position.bytes
            progress(counted)
            return
        }
        let queue = BoundedBatchQueue<Batch>(capacity: Self.queuedBatches)
        let reader = self
        let counts = progress != nil
        let thread = Thread {
            var batch = Batch(entries: [], bytesRead: 0, accounts: 0)
            batch.entries.reserveCapacity(Self.batchSize)
            let position = counts ? LDIFReadPosition() : nil
            func push() -> Bool {
                batch.bytesRead = position?.bytes ?? 0
                let full = batch
                batch = Batch(entries: [], bytesRead: 0, accounts: 0)
                batch.entries.reserveCapacity(Self.batchSize)
                return queue.push(full)
            }
            do {
                try reader.readAll(keeping: kept, predecode: true, position: position) { entry in
                    batch.entries.append(entry)
                    if counts, case .object(let object) = entry.predecoded, object.kind.isComputerClass {
                        batch.accounts += 1
                    }
                    if batch.entries.count == Self.batchSize {
                        guard push() else { throw BoundedBatchQueue<Batch>.Cancelled() }
                    }
                }
                if !batch.entries.isEmpty { _ = push() }
                queue.finish(error: nil)
            } catch is BoundedBatchQueue<Batch>.Cancelled {
                queue.finish(error: nil)
            } catch {
                // The entries before the error are delivered, as a sequential read would.
                if !batch.entries.isEmpty { _ = push() }
                queue.finish(error: error)
            }
        }
        thread.stackSize = 1 << 22
        thread.start()
        defer { queue.cancelAndWait() }
        while let batch = try queue.pop() {
            // By index: the entry is lent to `body` instead of copied out of the batch, which
            // retained and released each of its buffers once per entry.
            for index in batch.entries.indices { try body(batch.entries[index]) }
            if let progress {
                counted.entriesRead += batch.entries.count
                counted.accountsRead += batch.accounts
                counted.bytesRead = batch.bytesRead
                progress(counted)
            }
        }
        if let progress, let totalBytes {
            counted.bytesRead = totalBytes
            progress(counted)
        }
    }

    /// Reads the whole input on the current thread.
    func readAll(
        keeping kept: Set<String>?, predecode: Bool, position: LDIFReadPosition?,
        _ body: (DirectoryEntry) throws -> Void
    ) throws {
        var parser = LDIFParser(sourceName: description, keptAttributes: kept)
        parser.predecodes = predecode
        switch input {
        case .bytes(let bytes, _):
            position?.bytes = bytes.count
            try bytes.withUnsafeBufferPointer { try parser.feed($0, body) }
        case .file(let path):
            let descriptor = open(path, O_RDONLY)
            guard descriptor >= 0 else {
                let reason = String(cString: strerror(errno))
                throw DirectoryError(
                    .fileNotReadable, source: path, line: nil, reason: "cannot open the file: \(reason)")
            }
            defer { close(descriptor) }
            let chunkSize = Self.chunkSize
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
                // Counted per chunk, in the reader, not per line in the parser: a store on the
                // parser's per-line path cost 2.7% of a whole audit's instructions.
                position?.bytes += count
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

/// How far an LDIF read has got, as `LDIFReader.progress` reports it after each batch.
public struct LDIFReadProgress: Sendable, Equatable {
    /// Bytes of the input read and parsed when the last batch was handed on: the entries delivered
    /// come from them, at most one 4 MiB chunk (`LDIFReader.chunkSize`) lies ahead of the last one.
    /// The whole input at the end.
    public var bytesRead: Int
    /// The whole input's size; nil when it is not a regular file (a pipe has no size).
    public var totalBytes: Int?
    /// Records with a dn delivered so far, whatever they are.
    public var entriesRead: Int
    /// Those of them that are computer accounts (computers, gMSAs and MSAs).
    public var accountsRead: Int

    public init(bytesRead: Int, totalBytes: Int?, entriesRead: Int, accountsRead: Int) {
        self.bytesRead = bytesRead
        self.totalBytes = totalBytes
        self.entriesRead = entriesRead
        self.accountsRead = accountsRead
    }
}
