/// Standard base64 (RFC 4648 section 4), the one codec for LDIF values, MIME parts and SMTP AUTH.
///
/// Decoding accepts exactly what LDIF allows: the standard alphabet, `=` padding to a multiple of
/// four, and no whitespace (LDIF unfolds lines before decoding, so a space inside is an error).
/// Encoding appends to a caller's buffer, so the LDIF reader decodes a million values without an
/// array per value and SMTP AUTH can build a credential line in one buffer it wipes afterwards.
public enum Base64 {
    @usableFromInline static let alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Each byte's 6-bit value, 0xFF for a byte outside the alphabet (`=` included).
    @usableFromInline static let table: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// The line length MIME allows for base64 bodies (RFC 2045 section 6.8).
    public static let mimeLineLength = 76

    // MARK: Decoding

    public static func decode(_ input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var output = [UInt8]()
        return decode(input, appendingTo: &output) ? output : nil
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode($0) }
    }

    /// Decodes `input` onto the end of `output`; false (with `output` as it was) when it is not valid base64.
    ///
    /// Inlinable so the LDIF reader's loop holds it as it did when the codec lived in Directory:
    /// it runs for every objectSid and objectGUID of a million-entry export.
    @inlinable
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

    /// Whether `input` would decode, without decoding it (for values the reader does not keep).
    @inlinable
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

    // MARK: Encoding

    /// How many characters the base64 of `count` bytes takes, padding included.
    @inlinable public static func encodedCount(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    /// Appends the base64 of `bytes` to `output`.
    ///
    /// Reserve `encodedCount(bytes.count)` more first where the buffer will hold a secret: only an
    /// array that grows leaves its old storage, secret included, to the allocator unwiped.
    public static func encode(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        alphabet.withUnsafeBufferPointer { alphabet in
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
            guard remaining > 0 else { return }
            let second = remaining == 2 ? UInt32(bytes[index + 1]) << 8 : 0
            let value = UInt32(bytes[index]) << 16 | second
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            output.append(remaining == 2 ? alphabet[Int(value >> 6 & 63)] : UInt8(ascii: "="))
            output.append(UInt8(ascii: "="))
        }
    }

    /// Appends the base64 of `bytes` to `output` (see the buffer-pointer form).
    public static func encode(_ bytes: [UInt8], into output: inout [UInt8]) {
        bytes.withUnsafeBufferPointer { encode($0, into: &output) }
    }

    public static func encode(_ bytes: [UInt8]) -> String {
        var output = [UInt8]()
        output.reserveCapacity(encodedCount(bytes.count))
        encode(bytes, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends the base64 of `bytes` in lines of `lineLength` characters, each ending in CRLF, as a
    /// MIME body carries it; nothing at all for no bytes.
    public static func encode(
        _ bytes: [UInt8], into output: inout [UInt8], lineLength: Int
    ) {
        precondition(lineLength > 0 && lineLength % 4 == 0, "a base64 line holds whole 4-character groups")
        let bytesPerLine = lineLength / 4 * 3
        let lines = (bytes.count + bytesPerLine - 1) / bytesPerLine
        output.reserveCapacity(output.count + encodedCount(bytes.count) + 2 * lines)
        bytes.withUnsafeBufferPointer { bytes in
            var start = 0
            while start < bytes.count {
                let end = min(start + bytesPerLine, bytes.count)
                encode(UnsafeBufferPointer(rebasing: bytes[start..<end]), into: &output)
                output.append(13)
                output.append(10)
                start = end
            }
        }
    }
}
