import UntrustedInput

/// One attribute's replication stamp on one DC (MS-DRSR 4.1.10.2.22 PROPERTY_META_DATA, or the
/// DS_REPL_ATTR_META_DATA that `msDS-ReplAttributeMetaData` renders as XML).
///
/// The stamp says how many originating writes the attribute has had (`version`), when the last one
/// was made and on which DC. Every DC holding the same write holds the same stamp, so a DC whose
/// unicodePwd version is lower than another's has not received the newest machine password.
public struct AttributeMetadata: Sendable, Equatable {
    /// The attribute's attid in replPropertyMetaData (`0x0009005a` for unicodePwd); nil when it came
    /// from msDS-ReplAttributeMetaData, which names it instead.
    public var attributeID: UInt32?
    /// The lDAPDisplayName: given by msDS-ReplAttributeMetaData, or looked up from `AttributeID` for
    /// the attids this table knows; nil for another attid.
    public var attributeName: String?
    /// dwVersion: one more for each originating write; replication does not change it.
    public var version: UInt32
    /// When the last originating write was made (stored to the second).
    public var originatingChangeTime: FileTime
    /// The invocationId of the DC that made it.
    public var originatingInvocationID: ObjectGUID?
    /// The USN it had on that DC.
    public var originatingUSN: Int64
    /// The USN at which this DC applied it (differs from DC to DC).
    public var localUSN: Int64
    /// The nTDSDSA DN of the DC that made it (msDS-ReplAttributeMetaData only).
    public var originatingDSA: String?

    public init(
        attributeID: UInt32? = nil, attributeName: String? = nil, version: UInt32, originatingChangeTime: FileTime,
        originatingInvocationID: ObjectGUID? = nil, originatingUSN: Int64 = 0, localUSN: Int64 = 0,
        originatingDSA: String? = nil
    ) {
        self.attributeID = attributeID
        self.attributeName = attributeName ?? attributeID.flatMap(AttributeID.name(of:))
        self.version = version
        self.originatingChangeTime = originatingChangeTime
        self.originatingInvocationID = originatingInvocationID
        self.originatingUSN = originatingUSN
        self.localUSN = localUSN
        self.originatingDSA = originatingDSA
    }

    /// Whether this is the stamp of `name` (AD's spelling, compared case-insensitively) or of its attid.
    public func describes(_ name: String, attributeID id: UInt32?) -> Bool {
        if let id, attributeID == id { return true }
        guard let attributeName else { return false }
        return attributeName.lowercased() == name.lowercased()
    }
}

/// The attids of the attributes whose stamps the audit reads (MS-ADA1..3 `attributeID` in the
/// prefix-mapped form replPropertyMetaData stores; the same in every forest for these base-schema
/// attributes, measured on Samba 4.17).
public enum AttributeID {
    public static let userAccountControl: UInt32 = 0x0009_0008
    public static let unicodePwd: UInt32 = 0x0009_005a
    public static let ntPwdHistory: UInt32 = 0x0009_005e
    public static let pwdLastSet: UInt32 = 0x0009_0060
    public static let supplementalCredentials: UInt32 = 0x0009_007d
    public static let dNSHostName: UInt32 = 0x0009_026b
    public static let servicePrincipalName: UInt32 = 0x0009_0303
    public static let isDeleted: UInt32 = 0x0002_0030

    /// The lDAPDisplayName of a known attid.
    public static func name(of id: UInt32) -> String? { names[id] }

    private static let names: [UInt32: String] = [
        userAccountControl: "userAccountControl", unicodePwd: "unicodePwd", ntPwdHistory: "ntPwdHistory",
        pwdLastSet: "pwdLastSet", supplementalCredentials: "supplementalCredentials", dNSHostName: "dNSHostName",
        servicePrincipalName: "servicePrincipalName", isDeleted: "isDeleted",
    ]
}

/// Decoders for the two forms of an object's replication metadata.
public enum ReplicationMetadata {
    /// `replPropertyMetaData` (binary, every DC, returned only when asked for by name): Samba's
    /// drsblobs.idl `replPropertyMetaDataBlob` version 1, little-endian:
    /// `u32 version | u32 reserved | u32 count | u32 reserved`, then `count` entries of 48 bytes:
    /// `u32 attid | u32 version | u64 originating time (seconds since 1601) | GUID invocationId |
    /// i64 originating USN | i64 local USN`.
    ///
    /// Throws `DirectoryError.Code.malformedReplicationMetadata` for a value shorter than its header,
    /// another version, or a count that runs past the value's end; `source` names where it came from.
    ///
    /// `only`: the attids wanted; the other entries are stepped over without being decoded (an
    /// audit reads the password stamps of about thirty per computer, on every DC).
    public static func decode(
        replPropertyMetaData bytes: [UInt8], source: String, only wanted: [UInt32]? = nil
    ) throws(DirectoryError) -> [AttributeMetadata] {
        var reader = LittleEndianReader(bytes: bytes, source: source, code: .malformedReplicationMetadata)
        guard bytes.count >= 16 else {
            throw reader.error("replPropertyMetaData is \(bytes.count) bytes, shorter than its 16-byte header")
        }
        let version = try reader.u32()
        guard version == 1 else {
            throw reader.error("replPropertyMetaData has version \(version); only version 1 is defined")
        }
        _ = try reader.u32()
        let count = Int(try reader.u32())
        _ = try reader.u32()
        let available = (bytes.count - 16) / 48
        guard count <= available else {
            throw reader.error(
                "replPropertyMetaData says \(count) entries but its \(bytes.count) bytes hold \(available)")
        }
        var entries: [AttributeMetadata] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let attid = try reader.u32()
            if let wanted, !wanted.contains(attid) {
                _ = try reader.take(44)
                continue
            }
            let attributeVersion = try reader.u32()
            let time = try reader.u64Time(field: "originating change time")
            let invocation = try reader.guid()
            let originatingUSN = Int64(bitPattern: try reader.u64())
            let localUSN = Int64(bitPattern: try reader.u64())
            entries.append(
                AttributeMetadata(
                    attributeID: attid, version: attributeVersion, originatingChangeTime: time,
                    originatingInvocationID: invocation, originatingUSN: originatingUSN, localUSN: localUSN))
        }
        return entries
    }

    /// `msDS-ReplAttributeMetaData` (constructed by Windows DCs; Samba does not): one XML
    /// `<DS_REPL_ATTR_META_DATA>` element per value, usually ending in a NUL.
    public static func decode(replAttributeMetaData values: [[UInt8]], source: String) throws(DirectoryError)
        -> [AttributeMetadata]
    {
        var entries: [AttributeMetadata] = []
        entries.reserveCapacity(values.count)
        for value in values { entries.append(try ReplAttributeMetaDataXML.parse(value, source: source)) }
        return entries
    }
}

/// A strict reader of exactly the XML a Windows DC writes for one msDS-ReplAttributeMetaData value.
///
/// Not a general XML parser (FoundationXML would pull in libxml2): one root element
/// `DS_REPL_ATTR_META_DATA` whose children are elements holding text only, whitespace between
/// them, the five predefined entities and numeric character references, and trailing whitespace or
/// NULs. Anything else (attributes, comments, CDATA, nesting, a second root) is refused, because a
/// value that is not what Windows writes is not a stamp to compare.
enum ReplAttributeMetaDataXML {
    static let root = "DS_REPL_ATTR_META_DATA"

    static func parse(_ bytes: [UInt8], source: String) throws(DirectoryError) -> AttributeMetadata {
        func fail(_ reason: String) -> DirectoryError {
            DirectoryError(
                .malformedReplicationMetadata, source: source, line: nil,
                reason: "msDS-ReplAttributeMetaData value: \(reason)")
        }
        var index = 0
        func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }
        /// Reads `<name>` or `</name>`; returns the name and whether it closes.
        func tag() throws(DirectoryError) -> (name: String, closing: Bool) {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "<") else {
                throw fail("expected '<' at byte \(index)")
            }
            index += 1
            var closing = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "/") {
                closing = true
                index += 1
            }
            let start = index
            while index < bytes.count, isNameByte(bytes[index]) { index += 1 }
            guard index > start, index < bytes.count, bytes[index] == UInt8(ascii: ">") else {
                throw fail(
                    "malformed tag at byte \(start - 1) (attributes, comments and empty-element tags are not written by AD)"
                )
            }
            let name = String(decoding: bytes[start..<index], as: UTF8.self)
            index += 1
            return (name, closing)
        }
        skipSpace()
        let opening = try tag()
        guard opening.name == root, !opening.closing else {
            throw fail("the root element is <\(TerminalText.escaped(opening.name))>, not <\(root)>")
        }
        var fields: [String: String] = [:]
        while true {
            skipSpace()
            let child = try tag()
            if child.closing {
                guard child.name == root else {
                    throw fail("</\(TerminalText.escaped(child.name))> closes nothing that is open")
                }
                break
            }
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "<") { index += 1 }
            let text = try decodeEntities(bytes[start..<index], fail: fail)
            let end = try tag()
            guard end.closing, end.name == child.name else {
                throw fail("<\(TerminalText.escaped(child.name))> holds more than text")
            }
            guard fields.updateValue(text, forKey: child.name) == nil else {
                throw fail("<\(TerminalText.escaped(child.name))> appears twice")
            }
        }
        while index < bytes.count, [0x00, 0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        guard index == bytes.count else { throw fail("text after </\(root)> at byte \(index)") }

        guard let name = fields["pszAttributeName"], !name.isEmpty else { throw fail("no <pszAttributeName>") }
        guard let versionText = fields["dwVersion"], let version = UInt32(versionText) else {
            throw fail("<dwVersion> is missing or not a 32-bit number")
        }
        guard let timeText = fields["ftimeLastOriginatingChange"],
            let seconds = UTCTime.unixSeconds(iso8601: timeText)
        else {
            throw fail("<ftimeLastOriginatingChange> is missing or not a time such as 2026-11-20T09:14:03Z")
        }
        func usn(_ key: String) throws(DirectoryError) -> Int64 {
            guard let text = fields[key] else { return 0 }
            guard let value = Int64(text) else { throw fail("<\(key)> is not a number") }
            return value
        }
        var invocation: ObjectGUID?
        if let text = fields["uuidLastOriginatingDsaInvocationID"] {
            let utf8 = Array(text.utf8)
            guard utf8.count == 36, let guid = utf8.withUnsafeBufferPointer(ObjectGUID.init(ldapBytes:)) else {
                throw fail("<uuidLastOriginatingDsaInvocationID> is not a GUID")
            }
            invocation = guid
        }
        return AttributeMetadata(
            attributeName: name, version: version, originatingChangeTime: UTCTime.fileTime(unixSeconds: seconds),
            originatingInvocationID: invocation, originatingUSN: try usn("usnOriginatingChange"),
            localUSN: try usn("usnLocalChange"),
            originatingDSA: fields["pszLastOriginatingDsaDN"].flatMap { $0.isEmpty ? nil : $0 })
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }

    /// `text` with `&amp;` `&lt;` `&gt;` `&quot;` `&apos;` and `&#NN;`/`&#xHH;` decoded; any other `&` is refused.
    static func decodeEntities(
        _ text: ArraySlice<UInt8>, fail: (String) -> DirectoryError
    ) throws(DirectoryError) -> String {
        guard text.contains(UInt8(ascii: "&")) else { return String(decoding: text, as: UTF8.self) }
        var result = ""
        var index = text.startIndex
        var plainStart = index
        while index < text.endIndex {
            guard text[index] == UInt8(ascii: "&") else {
                index += 1
                continue
            }
            result += String(decoding: text[plainStart..<index], as: UTF8.self)
            guard let semicolon = text[index...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else {
                throw fail("a '&' that starts no entity")
            }
            let entity = String(decoding: text[(index + 1)..<semicolon], as: UTF8.self)
            switch entity {
            case "amp": result += "&"
            case "lt": result += "<"
            case "gt": result += ">"
            case "quot": result += "\""
            case "apos": result += "'"
            default:
                var scalarValue: UInt32?
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    scalarValue = UInt32(entity.dropFirst(2), radix: 16)
                } else if entity.hasPrefix("#") {
                    scalarValue = UInt32(entity.dropFirst(), radix: 10)
                }
                guard let value = scalarValue, value != 0, let scalar = Unicode.Scalar(value) else {
                    throw fail("unknown entity &\(TerminalText.escaped(entity));")
                }
                result.unicodeScalars.append(scalar)
            }
            index = semicolon + 1
            plainStart = index
        }
        result += String(decoding: text[plainStart..<index], as: UTF8.self)
        return result
    }
}

/// Reads little-endian fields from a binary attribute value, throwing the error of its kind when
/// the value ends early.
struct LittleEndianReader {
    let bytes: [UInt8]
    let source: String
    let code: DirectoryError.Code
    var offset = 0

    init(bytes: [UInt8], source: String, code: DirectoryError.Code, offset: Int = 0) {
        self.bytes = bytes
        self.source = source
        self.code = code
        self.offset = offset
    }

    func error(_ reason: String) -> DirectoryError {
        DirectoryError(code, source: source, line: nil, reason: reason)
    }

    mutating func take(_ count: Int) throws(DirectoryError) -> ArraySlice<UInt8> {
        guard count >= 0, offset <= bytes.count - count else {
            throw error("the value ends at byte \(bytes.count), inside a field at byte \(offset)")
        }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    mutating func u32() throws(DirectoryError) -> UInt32 {
        let field = try take(4)
        return field.reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func u64() throws(DirectoryError) -> UInt64 {
        let field = try take(8)
        return field.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func guid() throws(DirectoryError) -> ObjectGUID? {
        ObjectGUID(bytes: Array(try take(16)))
    }

    /// Reads a time stored as whole seconds since 1601 (NTTIME_1sec), as a FILETIME.
    mutating func u64Time(field: String) throws(DirectoryError) -> FileTime {
        let seconds = try u64()
        let (ticks, overflow) = Int64(clamping: seconds).multipliedReportingOverflow(by: FileTime.ticksPerSecond)
        guard !overflow, seconds <= UInt64(Int64.max) else {
            throw error("the \(field) \(seconds) is past the last FILETIME")
        }
        return FileTime(ticks: ticks)
    }
}
