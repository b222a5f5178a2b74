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
