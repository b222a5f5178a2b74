import Codecs
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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

    /// The entry being read; meaningful only while `inEntry`. Not an Optional: reading a value
    /// through `entry!` copied and destroyed the whole entry on every attribute line (a third of
    /// the reader's instructions).
    private var entry = DirectoryEntry(distinguishedName: "")
    private var inEntry = false
    /// The record started with a line other than dn: (ldapsearch's `search:` or `ref:` records).
    private var skippingRecord = false
    private var recordLineCount = 0

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

        if !inEntry && !skippingRecord {
            // First line of a record.
            // RFC 2849 puts `version:` only at the start, but two exports concatenated (`cat a.ldif
            // b.ldif`) carry a second one where a record starts: skipped there too.
            if Self.nameIs(nameBytes, "version") && recordLineCount == 1 {
                recordLineCount = 0
                return
            }
            if Self.nameIs(nameBytes, "dn") {
                var value: [UInt8] = []
                try Self.decodeValue(
                    line, colon: colon, into: &value, sourceName: sourceName, logicalStartLine: logicalStartLine)
                var started = DirectoryEntry(distinguishedName: String(decoding: value, as: UTF8.self))
                started.storage.reserveCapacity(storageEstimate)
                started.slots.reserveCapacity(slotEstimate)
                entry = started
                inEntry = true
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
                attribute = try entry.attributeID(forLowercased: baseName)
            } catch {
                throw atLine(error)
            }
        } else {
            try skipValue(line, colon: colon)
            return
        }
        let start = entry.storage.count
        let source = sourceName
        let lineNumber = logicalStartLine
        try Self.decodeValue(
            line, colon: colon, into: &entry.storage, sourceName: source, logicalStartLine: lineNumber)
        do {
            try entry.closeValue(attribute: attribute, start: start)
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
        ASCII.equalsIgnoringCase(name, lowercased: lowercasedName)
    }

    private mutating func endRecord(_ body: (DirectoryEntry) throws -> Void) throws {
        recordLineCount = 0
        if skippingRecord {
            skippingRecord = false
            return
        }
        guard inEntry else { return }
        inEntry = false
        let finished = entry
        entry = DirectoryEntry(distinguishedName: "")
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

/// How far a read has got: the bytes read from the input and handed to the parser. Written by the
/// reader once per chunk and read on the same thread, between entries.
final class LDIFReadPosition {
    var bytes = 0
}
