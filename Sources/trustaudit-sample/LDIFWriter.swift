import Directory

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes LDIF the way `ldapsearch -LLL` (LF) or `ldifde -f` (CRLF) does, through one large buffer.
///
/// A logical line is composed in a fixed scratch buffer (`put...`), then `endLine()` copies it into
/// the output buffer folded at 76 columns: the first physical line holds 76 bytes, each continuation
/// a space and 75 more. Nothing here allocates per line, which is what lets a million computers
/// (about 2.5 GB) be written in seconds. Not thread-safe; it owns the buffers and frees them in `deinit`.
final class LDIFWriter {
    static let foldWidth = 76

    private let descriptor: Int32
    private let lineEnding: [UInt8]
    private let outputCapacity = 1 << 22
    private let output: UnsafeMutablePointer<UInt8>
    private var outputCount = 0
    private let lineCapacity = 1 << 16
    private let line: UnsafeMutablePointer<UInt8>
    private var lineCount = 0
    /// errno of the first failed write; once set, nothing more is written.
    private(set) var writeError: Int32 = 0
    private(set) var bytesWritten: Int64 = 0

    init(descriptor: Int32, crlf: Bool) {
        self.descriptor = descriptor
        lineEnding = crlf ? [0x0D, 0x0A] : [0x0A]
        output = .allocate(capacity: outputCapacity)
        line = .allocate(capacity: lineCapacity)
    }

    deinit {
        output.deallocate()
        line.deallocate()
    }

    // MARK: Composing a logical line

    @inline(__always) func put(_ byte: UInt8) {
        precondition(lineCount < lineCapacity, "an LDIF line longer than 64 KiB")
        line[lineCount] = byte
        lineCount += 1
    }

    func put(_ text: StaticString) {
        put(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    func put(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { put($0) }
    }

    func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        precondition(lineCount + bytes.count <= lineCapacity, "an LDIF line longer than 64 KiB")
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        (line + lineCount).update(from: base, count: bytes.count)
        lineCount += bytes.count
    }

    func put(decimal value: Int64) {
        if value < 0 {
            put(UInt8(ascii: "-"))
            put(unsigned: value == .min ? UInt64(Int64.max) + 1 : UInt64(-value))
        } else {
            put(unsigned: UInt64(value))
        }
    }

    func put(unsigned value: UInt64) {
        var digits = 1
        var scale: UInt64 = 10
        while digits < 20 && value >= scale {
            digits += 1
            scale = scale &* 10
        }
        precondition(lineCount + digits <= lineCapacity, "an LDIF line longer than 64 KiB")
        var rest = value
        var position = lineCount + digits
        while position > lineCount {
            position -= 1
            line[position] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        lineCount += digits
    }

    /// `value` in decimal, left-padded with zeros to `width` digits.
    func put(decimal value: Int64, width: Int) {
        var magnitude: Int64 = 1
        var digits = 1
        while digits < width {
            magnitude *= 10
            digits += 1
        }
        var padding = magnitude
        while padding > 1 && value < padding {
            put(UInt8(ascii: "0"))
            padding /= 10
        }
        put(decimal: value)
    }

    /// GeneralizedTime as AD writes it: `20240101120000.0Z`.
    func put(generalizedTime unixSeconds: Int64) {
        let (days, second) = UTCTime.split(unixSeconds)
        let (year, month, day) = UTCTime.civil(days: days)
        put(decimal: Int64(year), width: 4)
        put(decimal: Int64(month), width: 2)
        put(decimal: Int64(day), width: 2)
        put(decimal: Int64(second / 3600), width: 2)
        put(decimal: Int64(second / 60 % 60), width: 2)
        put(decimal: Int64(second % 60), width: 2)
        put(".0Z")
    }

    /// The generator's own base64, deliberately not Codecs' `Base64`, which the LDIF reader decodes
    /// with: were both one codec, a bug in it would write and read the same wrong bytes and every
    /// round-trip test would still pass. Written independently, a reader bug shows up.
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    func putBase64(_ bytes: UnsafeBufferPointer<UInt8>) {
        Self.alphabet.withUnsafeBufferPointer { alphabet in
            var index = 0
            while index + 2 < bytes.count {
                let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
                put(alphabet[Int(value >> 18 & 63)])
                put(alphabet[Int(value >> 12 & 63)])
                put(alphabet[Int(value >> 6 & 63)])
                put(alphabet[Int(value & 63)])
                index += 3
            }
            let remaining = bytes.count - index
            if remaining == 1 {
                let value = UInt32(bytes[index]) << 16
                put(alphabet[Int(value >> 18 & 63)])
                put(alphabet[Int(value >> 12 & 63)])
                put(UInt8(ascii: "="))
                put(UInt8(ascii: "="))
            } else if remaining == 2 {
                let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
                put(alphabet[Int(value >> 18 & 63)])
                put(alphabet[Int(value >> 12 & 63)])
                put(alphabet[Int(value >> 6 & 63)])
                put(UInt8(ascii: "="))
            }
        }
    }

    // MARK: Whole lines

    /// `name: value`, or `name:: base64` when the value is not a SAFE-STRING (RFC 2849) or is not
    /// printable ASCII, which is the rule ldapsearch applies.
    func attribute(_ name: StaticString, _ value: [UInt8]) {
        value.withUnsafeBufferPointer { attribute(name, $0) }
    }

    func attribute(_ name: StaticString, _ value: UnsafeBufferPointer<UInt8>) {
        put(name)
        if Self.isSafe(value) {
            put(": ")
            put(value)
        } else {
            put(":: ")
            putBase64(value)
        }
        endLine()
    }

    func attribute(_ name: StaticString, _ value: StaticString) {
        attribute(name, UnsafeBufferPointer(start: value.utf8Start, count: value.utf8CodeUnitCount))
    }

    func attribute(_ name: StaticString, decimal value: Int64) {
        put(name)
        put(": ")
        put(decimal: value)
        endLine()
    }

    func attribute(_ name: StaticString, generalizedTime unixSeconds: Int64) {
        put(name)
        put(": ")
        put(generalizedTime: unixSeconds)
        endLine()
    }

    /// Always base64, as ldapsearch prints binary attributes (objectGUID, objectSid).
    func binaryAttribute(_ name: StaticString, _ value: UnsafeBufferPointer<UInt8>) {
        put(name)
        put(":: ")
        putBase64(value)
        endLine()
    }

    /// Ends the logical line: copies it out folded at 76 columns.
    func endLine() {
        reserve(lineCount + (lineCount / (Self.foldWidth - 1) + 1) * (lineEnding.count + 1) + lineEnding.count)
        let first = min(lineCount, Self.foldWidth)
        copyOut(from: 0, count: first)
        var copied = first
        while copied < lineCount {
            putEnding()
            output[outputCount] = 0x20
            outputCount += 1
            let count = min(Self.foldWidth - 1, lineCount - copied)
            copyOut(from: copied, count: count)
            copied += count
        }
        putEnding()
        lineCount = 0
    }

    /// Ends the logical line without folding (comments, as ldapsearch prints referrals).
    func endUnfoldedLine() {
        reserve(lineCount + lineEnding.count)
        copyOut(from: 0, count: lineCount)
        putEnding()
        lineCount = 0
    }

    /// The empty line that ends a record.
    func endRecord() {
        precondition(lineCount == 0)
        reserve(lineEnding.count)
        putEnding()
    }

    // MARK: Output

    @inline(__always) private func copyOut(from start: Int, count: Int) {
        (output + outputCount).update(from: line + start, count: count)
        outputCount += count
    }

    @inline(__always) private func putEnding() {
        for byte in lineEnding {
            output[outputCount] = byte
            outputCount += 1
        }
    }

    private func reserve(_ count: Int) {
        if outputCount + count > outputCapacity { flush() }
    }

    /// Writes out what is buffered; after a failed write, keeps discarding (see `writeError`).
    func flush() {
        var written = 0
        while written < outputCount && writeError == 0 {
            let result = write(descriptor, output + written, outputCount - written)
            if result < 0 {
                if errno == EINTR { continue }
                writeError = errno
            } else {
                written += result
            }
        }
        bytesWritten += Int64(written)
        outputCount = 0
    }

    /// SAFE-STRING per RFC 2849, tightened as OpenLDAP does: printable ASCII only.
    static func isSafe(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = value.first else { return true }
        if first == UInt8(ascii: " ") || first == UInt8(ascii: ":") || first == UInt8(ascii: "<") { return false }
        if value.last == UInt8(ascii: " ") { return false }
        for byte in value where byte < 0x20 || byte > 0x7E { return false }
        return true
    }
}
