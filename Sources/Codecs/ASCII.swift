/// Bytewise ASCII: the case folding LDAP names and DNS names use, digits, and line ends.
///
/// LDAP attribute names, object classes and host names compare case-insensitively in ASCII only,
/// so these fold A-Z and leave every other byte (UTF-8 included) as it is. Inlinable because the
/// LDIF reader and the rules call them per byte.
public enum ASCII {
    /// `byte` with A-Z folded to a-z.
    @inlinable @inline(__always)
    public static func lowercased(_ byte: UInt8) -> UInt8 {
        byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
    }

    /// `byte` with a-z folded to A-Z.
    @inlinable @inline(__always)
    public static func uppercased(_ byte: UInt8) -> UInt8 {
        byte &- UInt8(ascii: "a") < 26 ? byte & 0xDF : byte
    }

    @inlinable @inline(__always)
    public static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    @inlinable @inline(__always)
    public static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) &- UInt8(ascii: "a") < 26 }

    /// CR or LF.
    @inlinable @inline(__always)
    public static func isLineEnd(_ byte: UInt8) -> Bool { byte == 13 || byte == 10 }

    /// `bytes` with A-Z folded to a-z.
    @inlinable
    public static func lowercased(_ bytes: [UInt8]) -> [UInt8] { bytes.map(lowercased) }

    /// `bytes` with a-z folded to A-Z.
    @inlinable
    public static func uppercased(_ bytes: [UInt8]) -> [UInt8] { bytes.map(uppercased) }

    /// `text` with only A-Z folded (unlike `String.lowercased()`, which folds every script).
    public static func lowercased(_ text: String) -> String {
        String(decoding: text.utf8.map(lowercased), as: UTF8.self)
    }

    /// Whether two byte strings are equal when A-Z and a-z are taken as the same.
    @inlinable
    public static func equalsIgnoringCase(_ lhs: UnsafeBufferPointer<UInt8>, _ rhs: UnsafeBufferPointer<UInt8>) -> Bool
    {
        guard lhs.count == rhs.count else { return false }
        for index in 0..<lhs.count where lowercased(lhs[index]) != lowercased(rhs[index]) { return false }
        return true
    }

    /// Whether `bytes` equals `lowercasedName` (already lower-case, like `"computer"`) ignoring ASCII case.
    ///
    /// Folds one side only, which is what the reader's name tests need: the literal is written lower-case.
    @inlinable
    public static func equalsIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, lowercased lowercasedName: StaticString)
        -> Bool
    {
        guard bytes.count == lowercasedName.utf8CodeUnitCount else { return false }
        let target = lowercasedName.utf8Start
        for index in 0..<bytes.count where lowercased(bytes[index]) != target[index] { return false }
        return true
    }

    @inlinable
    public static func equalsIgnoringCase(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        lhs.withUnsafeBufferPointer { lhs in rhs.withUnsafeBufferPointer { equalsIgnoringCase(lhs, $0) } }
    }

    /// Whether two strings are equal ignoring ASCII case only (`"É"` and `"é"` stay different).
    public static func equalsIgnoringCase(_ lhs: String, _ rhs: String) -> Bool {
        guard lhs.utf8.count == rhs.utf8.count else { return false }
        return zip(lhs.utf8, rhs.utf8).allSatisfy { lowercased($0) == lowercased($1) }
    }

    /// How many bytes the line end at `index` takes: 2 for CRLF, 1 for a bare CR or LF, 0 when
    /// `bytes[index]` does not end a line.
    ///
    /// Mail text is normalized to CRLF with it (RFC 5322 section 2.3 forbids bare CR and LF), in the
    /// quoted-printable encoder and in SMTP's DATA, so both count a CRLF as one line end.
    @inlinable
    public static func lineEndLength(_ bytes: [UInt8], at index: Int) -> Int {
        switch bytes[index] {
        case 10: 1
        case 13: index + 1 < bytes.count && bytes[index + 1] == 10 ? 2 : 1
        default: 0
        }
    }
}
