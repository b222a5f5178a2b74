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
public struct LDIFReader: DirectorySource {
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

    public func forEachEntry(_ body: (DirectoryEntry) throws -> Void) throws {
        var parser = LDIFParser(sourceName: description, keptAttributes: keptAttributes)
        switch input {
        case .bytes(let bytes, _):
            try bytes.withUnsafeBufferPointer { try parser.feed($0, body) }
        case .file(let path):
            let descriptor = open(path, O_RDONLY)
            guard descriptor >= 0 else {
                let reason = String(cString: strerror(errno))
                throw DirectoryError(.fileNotReadable, source: path, line: nil, reason: "cannot open the file: \(reason)")
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

    init(sourceName: String, keptAttributes: Set<String>?) {
        self.sourceName = sourceName
        self.keptAttributes = keptAttributes
        logical.reserveCapacity(256)
    }

    mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (DirectoryEntry) throws -> Void) throws {
        guard let base = bytes.baseAddress else { return }
        var start = 0
        let end = bytes.count
        while start < end {
            let remaining = end - start
            guard let found = memchr(base + start, 0x0A, remaining) else {
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

    mutating func finish(_ body: (DirectoryEntry) throws -> Void) throws {
        if !partialLine.isEmpty {
            let line = partialLine
            partialLine.removeAll()
            try line.withUnsafeBufferPointer { try physicalLine($0, body) }
        }
        try flushLogical()
        try endRecord(body)
    }

    private mutating func physicalLine(_ raw: UnsafeBufferPointer<UInt8>, _ body: (DirectoryEntry) throws -> Void) throws {
        lineNumber += 1
        var count = raw.count
        if count > 0 && raw[count - 1] == 0x0D { count -= 1 }  // CRLF
        let line = UnsafeBufferPointer(rebasing: raw[0..<count])

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
            if !logicalIsComment { logical.append(contentsOf: UnsafeBufferPointer(rebasing: line[1...])) }
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
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else {
            throw DirectoryError(
                .malformedLine, source: sourceName, line: logicalStartLine,
                reason: "expected 'attribute: value', found \(Self.preview(line))")
        }
        let nameBytes = UnsafeBufferPointer(rebasing: line[0..<colon])
        for byte in nameBytes where !Self.isAttributeNameByte(byte) {
            throw DirectoryError(
                .malformedLine, source: sourceName, line: logicalStartLine,
                reason: "invalid attribute name \(Self.preview(nameBytes))")
        }
        let name = String(decoding: nameBytes, as: UTF8.self).lowercased()
        recordLineCount += 1

        if entry == nil && !skippingRecord {
            // First line of a record.
            if name == "version" && !sawAnyRecord && recordLineCount == 1 {
                recordLineCount = 0
                return
            }
            sawAnyRecord = true
            if name == "dn" {
                let value = try decodeValue(line, colon: colon)
                entry = DirectoryEntry(distinguishedName: String(decoding: value, as: UTF8.self))
                return
            }
            if name == "search" || name == "result" || name == "ref" {
                skippingRecord = true
                return
            }
            throw DirectoryError(
                .missingDistinguishedName, source: sourceName, line: logicalStartLine,
                reason: "record starts with '\(name):' instead of 'dn:'")
        }
        if skippingRecord { return }

        if name == "changetype" {
            let value = String(decoding: try decodeValue(line, colon: colon), as: UTF8.self).lowercased()
            guard value == "add" else {
                throw DirectoryError(
                    .unsupportedChangeType, source: sourceName, line: logicalStartLine,
                    reason: "changetype '\(value)' is a change record, not an export; only 'changetype: add' is read")
            }
            return
        }
        if name == "dn" {
            throw DirectoryError(
                .malformedLine, source: sourceName, line: logicalStartLine,
                reason: "a second 'dn:' inside one record; records are separated by a blank line")
        }
        let baseName = DirectoryEntry.baseName(of: name)
        if let keptAttributes, !keptAttributes.contains(baseName) {
            // Still validate the value's form cheaply so a corrupt file is not half-accepted.
            if colon + 1 < line.count && line[colon + 1] == UInt8(ascii: ":") {
                try validateBase64(line, from: colon + 2)
            }
            return
        }
        let value = try decodeValue(line, colon: colon)
        entry!.append(value, to: baseName)
    }

    private mutating func endRecord(_ body: (DirectoryEntry) throws -> Void) throws {
        recordLineCount = 0
        if skippingRecord {
            skippingRecord = false
            return
        }
        guard let finished = entry else { return }
        entry = nil
        try body(finished)
    }

    /// Decodes the value after the colon: plain (`: text`), base64 (`:: ...`) or URL (`:< ...`).
    private func decodeValue(_ line: UnsafeBufferPointer<UInt8>, colon: Int) throws -> [UInt8] {
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
        if !base64 { return Array(rest) }
        guard let decoded = Base64.decode(rest) else {
            throw DirectoryError(
                .invalidBase64, source: sourceName, line: logicalStartLine,
                reason: "the base64 value of '\(String(decoding: line[0..<colon], as: UTF8.self))' is not valid base64")
        }
        return decoded
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
        var count = input.count
        if count == 0 { return [] }
        guard count % 4 == 0 else { return nil }
        var padding = 0
        if input[count - 1] == UInt8(ascii: "=") {
            padding = input[count - 2] == UInt8(ascii: "=") ? 2 : 1
        }
        count -= padding
        var output = [UInt8]()
        output.reserveCapacity(input.count / 4 * 3)
        var accumulator: UInt32 = 0
        var bits = 0
        return table.withUnsafeBufferPointer { table -> [UInt8]? in
            for index in 0..<count {
                let value = table[Int(input[index])]
                if value == 0xFF { return nil }
                accumulator = (accumulator << 6) | UInt32(value)
                bits += 6
                if bits >= 8 {
                    bits -= 8
                    output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                }
            }
            return output
        }
    }

    public static func decode(_ text: String) -> [UInt8]? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { decode($0) }
    }

    public static func isValid(_ input: UnsafeBufferPointer<UInt8>) -> Bool {
        decode(input) != nil
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
            output += [alphabet[Int(value >> 18 & 63)], alphabet[Int(value >> 12 & 63)], alphabet[Int(value >> 6 & 63)], 61]
        }
        return String(decoding: output, as: UTF8.self)
    }
}
