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

    public func forEachEntry(_ body: (DirectoryEntry) throws -> Void) throws {
        guard isPipelined else {
            try readAll(predecode: false, body)
            return
        }
        let queue = EntryBatchQueue(capacity: Self.queuedBatches)
        let reader = self
        let thread = Thread {
            var batch: [DirectoryEntry] = []
            batch.reserveCapacity(Self.batchSize)
            do {
                try reader.readAll(predecode: true) { entry in
                    batch.append(entry)
                    if batch.count == Self.batchSize {
                        guard queue.push(batch) else { throw EntryBatchQueue.Cancelled() }
                        batch = []
                        batch.reserveCapacity(Self.batchSize)
                    }
                }
                if !batch.isEmpty { _ = queue.push(batch) }
                queue.finish(error: nil)
            } catch is EntryBatchQueue.Cancelled {
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
    func readAll(predecode: Bool, _ body: (DirectoryEntry) throws -> Void) throws {
        var parser = LDIFParser(sourceName: description, keptAttributes: keptAttributes)
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

/// Batches of entries from the reader thread to the consumer, at most `capacity` waiting.
///
/// The reader blocks when the queue is full (so a slow consumer bounds memory); the consumer blocks
/// when it is empty. Either side can stop the other: the reader with `finish(error:)`, the consumer
/// with `cancelAndWait()`, which also waits until the reader thread has let go of everything.
final class EntryBatchQueue: @unchecked Sendable {
    struct Cancelled: Error {}

    private let condition = NSCondition()
    private let capacity: Int
    private var batches: [[DirectoryEntry]] = []
    private var head = 0
    private var finished = false
    private var failure: Error?
    private var cancelled = false

    init(capacity: Int) { self.capacity = capacity }

    /// False when the consumer has gone away; the reader should stop.
    func push(_ batch: [DirectoryEntry]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while batches.count - head >= capacity && !cancelled { condition.wait() }
        if cancelled { return false }
        batches.append(batch)
        condition.broadcast()
        return true
    }

    func finish(error: Error?) {
        condition.lock()
        finished = true
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch; nil at the end; throws the reader's error once the batches before it are consumed.
    func pop() throws -> [DirectoryEntry]? {
        condition.lock()
        defer { condition.unlock() }
        while head == batches.count && !finished { condition.wait() }
        if head < batches.count {
            let batch = batches[head]
            batches[head] = []
            head += 1
            if head > 64 && head * 2 > batches.count {
                batches.removeFirst(head)
                head = 0
            }
            condition.broadcast()
            return batch
        }
        if let failure { throw failure }
        return nil
    }

    /// Stops the reader (if it still runs) and waits for it to finish.
    func cancelAndWait() {
        condition.lock()
        cancelled = true
        batches = []
        head = 0
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }
}

/// The incremental state machine behind `LDIFReader`: bytes in, entries out.
struct LDIFParser {
    let sourceName: String
    let keptAttributes: Set<String>?

    /// Physical line number of the line being read (1-based).
    private var lineNumber = 0
    /// Bytes of a physical line cut by a chunk boundary.
    private var partialLine: [UInt8] = []
    /// The logical line being assembled from a physical line and its continuations.
    private var logical: [UInt8] = []
    private var logicalStartLine = 0
    private var logicalIsComment = false
    private var haveLogical = false

    private var entry: DirectoryEntry?
    /// The record started with a line other than dn: (ldapsearch's `search:` or `ref:` records).
    private var skippingRecord = false
    private var recordLineCount = 0
    private var sawAnyRecord = false

    /// Per audited attribute (by number): whether it is kept.
    private let keptKnown: [Bool]
    private let keepsAllAttributes: Bool
    /// The kept set names attributes beyond the audited ones, so unknown names must be looked up.
    private let keepsUnknownAttributes: Bool
    /// Sizes reserved for a new entry's storage, from the entries seen so far.
    /// Decode each finished entry into its `DirectoryObject` here (on the reader thread).
    var predecodes = false
    private var storageEstimate = 256
    private var slotEstimate = 16

    init(sourceName: String, keptAttributes: Set<String>?) {
        self.sourceName = sourceName
        self.keptAttributes = keptAttributes
        keptKnown = AuditedAttributes.lowercasedList.map { keptAttributes?.contains($0) ?? true }
        keepsAllAttributes = keptAttributes == nil
        keepsUnknownAttributes = keptAttributes.map { !$0.isSubset(of: AuditedAttributes.lowercased) } ?? true
        logical.reserveCapacity(256)
    }

    mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (DirectoryEntry) throws -> Void) throws {
        guard let base = bytes.baseAddress else { return }
        var start = 0
        let end = bytes.count
        while start < end {
            let remaining = end - start
            guard let found = memchr(base + start, 0x0A, remaining) else {
                try checkLineLength(partialLine.count + remaining, line: lineNumber + 1)
                partialLine.append(contentsOf: UnsafeBufferPointer(start: base + start, count: remaining))
                return
            }
            let newline = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            if partialLine.isEmpty {
                try physicalLine(UnsafeBufferPointer(start: base + start, count: newline - start), body)
            } else {
                partialLine.append(contentsOf: UnsafeBufferPointer(start: base + start, count: newline - start))
                let line = partialLine
                partialLine.removeAll(keepingCapacity: true)
                try line.withUnsafeBufferPointer { try physicalLine($0, body) }
            }
            start = newline + 1
        }
    }

    /// The longest physical or folded line read: 16 MiB. AD's largest values (certificates, a photo,
    /// 1,500 SPNs a range) are far below it; a file with no line ends, or not LDIF at all, is not, and
    /// must fail with its line number instead of growing one buffer without limit.
    static let maximumLineBytes = 16 << 20

    @inline(__always)
    private func checkLineLength(_ count: Int, line: Int) throws {
        guard count > Self.maximumLineBytes else { return }
        throw DirectoryError(
            .lineTooLong, source: sourceName, line: line,
            reason:
                "the line is longer than 16 MiB; an LDIF export has no such line (is this file LDIF, with LF or CRLF line ends?)"
        )
    }

    /// Whether any entry (a record with a dn) was read.
    private(set) var sawEntry = false

    mutating func finish(_ body: (DirectoryEntry) throws -> Void) throws {
        if !partialLine.isEmpty {
            let line = partialLine
            partialLine.removeAll()
            try line.withUnsafeBufferPointer { try physicalLine($0, body) }
        }
        try flushLogical()
        try endRecord(body)
    }

    private mutating func physicalLine(_ raw: UnsafeBufferPointer<UInt8>, _ body: (DirectoryEntry) throws -> Void)
        throws
    {
        lineNumber += 1
        try checkLineLength(raw.count, line: lineNumber)
        var count = raw.count
        if count > 0 && raw[count - 1] == 0x0D { count -= 1 }  // CRLF
        let line = UnsafeBufferPointer(rebasing: raw[0..<count])
        // RFC 2849 allows no raw CR in a line (a value holding one is base64). One here means CR-only
        // line ends, which would otherwise read as one enormous line and silently yield nothing.
        if count > 0, memchr(line.baseAddress!, 0x0D, count) != nil {
            throw DirectoryError(
                .carriageReturnInLine, source: sourceName, line: lineNumber,
                reason:
                    "a carriage return (CR) inside the line: the file has CR-only line ends (convert them with tr '\\r' '\\n') or a raw CR in a value, which LDIF writes as base64"
            )
        }

        if count == 0 {
            try flushLogical()
            try endRecord(body)
            return
        }
        if line[0] == 0x20 {
            guard haveLogical else {
                throw DirectoryError(
                    .continuationBeforeEntry, source: sourceName, line: lineNumber,
                    reason: "a continuation line (starting with a space) comes before any attribute line")
            }
            if !logicalIsComment {
                try checkLineLength(logical.count + line.count - 1, line: logicalStartLine)
                logical.append(contentsOf: UnsafeBufferPointer(rebasing: line[1...]))
            }
            return
        }
        try flushLogical()
        haveLogical = true
        logicalStartLine = lineNumber
        logicalIsComment = line[0] == UInt8(ascii: "#")
        if !logicalIsComment { logical.append(contentsOf: line) }
    }

    private mutating func flushLogical() throws {
        guard haveLogical else { return }
        haveLogical = false
        defer { logical.removeAll(keepingCapacity: true) }
        if logicalIsComment { return }
        try logical.withUnsafeBufferPointer { try attributeLine($0) }
    }

    private mutating func attributeLine(_ line: UnsafeBufferPointer<UInt8>) throws {
        guard let base = line.baseAddress, let found = memchr(base, Int32(UInt8(ascii: ":")), line.count) else {
            throw DirectoryError(
                .malformedLine, source: sourceName, line: logicalStartLine,
                reason: "expected 'attribute: value', found \(Self.preview(line))")
        }
        let colon = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
        guard colon > 0 else {
            throw DirectoryError(
                .malformedLine, source: sourceName, line: logicalStartLine,
                reason: "expected 'attribute: value', found \(Self.preview(line))")
        }
        let nameBytes = UnsafeBufferPointer(rebasing: line[0..<colon])
        var semicolon = colon
        for (index, byte) in nameBytes.enumerated() {
            guard Self.isAttributeNameByte(byte) else {
                throw DirectoryError(
                    .malformedLine, source: sourceName, line: logicalStartLine,
                    reason: "invalid attribute name \(Self.preview(nameBytes))")
            }
            if byte == UInt8(ascii: ";") && semicolon == colon { semicolon = index }
        }
        recordLineCount += 1

        if entry == nil && !skippingRecord {
            // First line of a record.
            if Self.nameIs(nameBytes, "version") && !sawAnyRecord && recordLineCount == 1 {
                recordLineCount = 0
                return
            }
            sawAnyRecord = true
            if Self.nameIs(nameBytes, "dn") {
                var value: [UInt8] = []
                try Self.decodeValue(
                    line, colon: colon, into: &value, sourceName: sourceName, logicalStartLine: logicalStartLine)
                var started = DirectoryEntry(distinguishedName: String(decoding: value, as: UTF8.self))
                started.storage.reserveCapacity(storageEstimate)
                started.slots.reserveCapacity(slotEstimate)
                entry = started
                return
            }
            if Self.nameIs(nameBytes, "search") || Self.nameIs(nameBytes, "result") || Self.nameIs(nameBytes, "ref") {
                skippingRecord = true
                return
            }
            let name = String(decoding: nameBytes, as: UTF8.self).lowercased()
            throw DirectoryError(
                .missingDistinguishedName, source: sourceName, line: logicalStartLine,
                reason: "record starts with '\(name):' instead of 'dn:'")
        }
        if skippingRecord { return }

        if Self.nameIs(nameBytes, "changetype") {
            var bytes: [UInt8] = []
            try Self.decodeValue(
                line, colon: colon, into: &bytes, sourceName: sourceName, logicalStartLine: logicalStartLine)
            let value = String(decoding: bytes, as: UTF8.self).lowercased()
            guard value == "add" else {
                throw DirectoryError(
                    .unsupportedChangeType, source: sourceName, line: logicalStartLine,
                    reason: "changetype '\(value)' is a change record, not an export; only 'changetype: add' is read")
            }
            return
        }
        if Self.nameIs(nameBytes, "dn") {
            throw DirectoryError(
                .malformedLine, source: sourceName, line: logicalStartLine,
                reason: "a second 'dn:' inside one record; records are separated by a blank line")
        }
        let baseBytes = UnsafeBufferPointer(rebasing: line[0..<semicolon])
        let attribute: UInt16
        if let known = AuditedAttributes.id(ofName: baseBytes) {
            guard keptKnown[known] else {
                try skipValue(line, colon: colon)
                return
            }
            attribute = UInt16(known)
        } else if keepsAllAttributes || keepsUnknownAttributes {
            let baseName = String(decoding: baseBytes, as: UTF8.self).lowercased()
            if let keptAttributes, !keptAttributes.contains(baseName) {
                try skipValue(line, colon: colon)
                return
            }
            do {
                attribute = try entry!.attributeID(forLowercased: baseName)
            } catch {
                throw atLine(error)
            }
        } else {
            try skipValue(line, colon: colon)
            return
        }
        let start = entry!.storage.count
        let source = sourceName
        let lineNumber = logicalStartLine
        try Self.decodeValue(
            line, colon: colon, into: &entry!.storage, sourceName: source, logicalStartLine: lineNumber)
        do {
            try entry!.closeValue(attribute: attribute, start: start)
        } catch {
            throw atLine(error)
        }
    }

    /// An entry-limit error, given this file's name and the current line.
    private func atLine(_ error: DirectoryError) -> DirectoryError {
        DirectoryError(error.code, source: sourceName, line: logicalStartLine, reason: error.reason)
    }

    /// A value that is not kept: still validate its form cheaply so a corrupt file is not half-accepted.
    private func skipValue(_ line: UnsafeBufferPointer<UInt8>, colon: Int) throws {
        if colon + 1 < line.count && line[colon + 1] == UInt8(ascii: ":") {
            try validateBase64(line, from: colon + 2)
        }
    }

    /// Whether an attribute name equals `lowercasedName`, ignoring case.
    @inline(__always)
    private static func nameIs(_ name: UnsafeBufferPointer<UInt8>, _ lowercasedName: StaticString) -> Bool {
        guard name.count == lowercasedName.utf8CodeUnitCount else { return false }
        let target = lowercasedName.utf8Start
        for index in 0..<name.count where AuditedAttributes.asciiLower(name[index]) != target[index] { return false }
        return true
    }

    private mutating func endRecord(_ body: (DirectoryEntry) throws -> Void) throws {
        recordLineCount = 0
        if skippingRecord {
            skippingRecord = false
            return
        }
        guard let finished = entry else { return }
        entry = nil
        sawEntry = true
        storageEstimate = max(64, finished.storage.count + finished.storage.count / 4)
        slotEstimate = max(4, finished.slots.count + 2)
        if predecodes {
            var decoded = finished
            decoded.predecoded = DirectoryObject(entry: finished).map { .object($0) } ?? .notAudited
            try body(decoded)
        } else {
            try body(finished)
        }
    }

    /// Decodes the value after the colon (plain `: text`, base64 `:: ...`, or URL `:< ...`), appending it to `output`.
    private static func decodeValue(
        _ line: UnsafeBufferPointer<UInt8>, colon: Int, into output: inout [UInt8], sourceName: String,
        logicalStartLine: Int
    ) throws {
        var index = colon + 1
        var base64 = false
        if index < line.count && line[index] == UInt8(ascii: ":") {
            base64 = true
            index += 1
        } else if index < line.count && line[index] == UInt8(ascii: "<") {
            throw DirectoryError(
                .malformedLine, source: sourceName, line: logicalStartLine,
                reason: "URL values (':<') are not supported; export the values inline")
        }
        while index < line.count && line[index] == 0x20 { index += 1 }
        let rest = UnsafeBufferPointer(rebasing: line[index...])
        if !base64 {
            output.append(contentsOf: rest)
            return
        }
        guard Base64.decode(rest, appendingTo: &output) else {
            throw DirectoryError(
                .invalidBase64, source: sourceName, line: logicalStartLine,
                reason: "the base64 value of '\(String(decoding: line[0..<colon], as: UTF8.self))' is not valid base64")
        }
    }

    private func validateBase64(_ line: UnsafeBufferPointer<UInt8>, from start: Int) throws {
        var index = start
        while index < line.count && line[index] == 0x20 { index += 1 }
        guard Base64.isValid(UnsafeBufferPointer(rebasing: line[index...])) else {
            let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? 0
            throw DirectoryError(
                .invalidBase64, source: sourceName, line: logicalStartLine,
                reason: "the base64 value of '\(String(decoding: line[0..<colon], as: UTF8.self))' is not valid base64")
        }
    }

    @inline(__always) private static func isAttributeNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: ";"), UInt8(ascii: "="),
            UInt8(ascii: "."), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }

    /// A short, printable excerpt of a bad line for an error message.
    private static func preview(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        let text = String(decoding: bytes.prefix(60), as: UTF8.self)
        let printable = text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : String($0) }.joined()
        return "'" + printable + (bytes.count > 60 ? "...'" : "'")
    }
}

/// Standard base64 (RFC 4648), as LDIF uses it; whitespace inside is not allowed by LDIF and is rejected.
public enum Base64 {
    private static let table: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(byte)] = UInt8(index)
        }
        return table
    }()

    public static func decode(_ input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var output = [UInt8]()
        return decode(input, appendingTo: &output) ? output : nil
    }

    /// Decodes `input` onto the end of `output`; false (with `output` as it was) when it is not valid base64.
    public static func decode(_ input: UnsafeBufferPointer<UInt8>, appendingTo output: inout [UInt8]) -> Bool {
        var count = input.count
        if count == 0 { return true }
        guard count % 4 == 0 else { return false }
        var padding = 0
        if input[count - 1] == UInt8(ascii: "=") {
            padding = input[count - 2] == UInt8(ascii: "=") ? 2 : 1
        }
        count -= padding
        let original = output.count
        output.reserveCapacity(original + input.count / 4 * 3)
        var accumulator: UInt32 = 0
        var bits = 0
        let ok = table.withUnsafeBufferPointer { table -> Bool in
            for index in 0..<count {
                let value = table[Int(input[index])]
                if value == 0xFF { return false }
                accumulator = (accumulator << 6) | UInt32(value)
                bits += 6
                if bits >= 8 {
                    bits -= 8
                    output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                }
            }
            return true
        }
        if !ok { output.removeSubrange(original...) }
        return ok
    }

    public static func decode(_ text: String) -> [UInt8]? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { decode($0) }
    }

    public static func isValid(_ input: UnsafeBufferPointer<UInt8>) -> Bool {
        var count = input.count
        if count == 0 { return true }
        guard count % 4 == 0 else { return false }
        if input[count - 1] == UInt8(ascii: "=") {
            count -= input[count - 2] == UInt8(ascii: "=") ? 2 : 1
        }
        return table.withUnsafeBufferPointer { table in
            for index in 0..<count where table[Int(input[index])] == 0xFF { return false }
            return true
        }
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var output = [UInt8]()
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 2 < bytes.count {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            output.append(alphabet[Int(value >> 6 & 63)])
            output.append(alphabet[Int(value & 63)])
            index += 3
        }
        let remaining = bytes.count - index
        if remaining == 1 {
            let value = UInt32(bytes[index]) << 16
            output += [alphabet[Int(value >> 18 & 63)], alphabet[Int(value >> 12 & 63)], 61, 61]
        } else if remaining == 2 {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            output += [
                alphabet[Int(value >> 18 & 63)], alphabet[Int(value >> 12 & 63)], alphabet[Int(value >> 6 & 63)], 61,
            ]
        }
        return String(decoding: output, as: UTF8.self)
    }
}
