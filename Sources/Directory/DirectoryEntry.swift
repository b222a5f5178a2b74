import UntrustedInput

/// One object as a directory hands it over: its DN and its attribute values as raw bytes.
///
/// Values stay bytes because AD mixes text with binary (objectSid, objectGUID); each attribute is
/// decoded by the model that knows its syntax. Names are kept lower-cased so lookups are
/// case-insensitive, as LDAP attribute descriptions are.
///
/// Storage is compact because a million of these stream through an audit: all values sit back to
/// back in one byte array, each tagged with its attribute (a small number for the audited
/// attributes, an index into `otherNames` for the rest). `attributes` rebuilds the dictionary view.
public struct DirectoryEntry: Sendable, Equatable {
    public var distinguishedName: String
    /// Every value's bytes, back to back, in the order the source gave them.
    var storage: [UInt8] = []
    /// One per value, in order.
    var slots: [Slot] = []
    /// Lower-cased names of attributes that are not among `AuditedAttributes`, in first-seen order.
    var otherNames: [String] = []
    /// `otherNames` by name, built once there are more than a few: a crafted entry with tens of
    /// thousands of names would otherwise make every lookup a linear scan (quadratic in all).
    private var otherNameIndex: [String: UInt16]?

    /// The object decoded ahead of time on a reader thread; not part of the entry's value.
    var predecoded: Predecoded = .none

    enum Predecoded: Sendable {
        case none
        case object(DirectoryObject)
        /// Decoded: not an object the audit cares about.
        case notAudited
    }

    struct Slot: Sendable {
        /// Below `AuditedAttributes.all.count`: that audited attribute; above: `otherNames[attribute - count]`.
        var attribute: UInt16
        var start: UInt32
        var end: UInt32
    }

    public init(distinguishedName: String) {
        self.distinguishedName = distinguishedName
    }

    /// An entry with these values; throws only past the limits of the compact storage (see `Limits`).
    public init(distinguishedName: String, attributes: [String: [[UInt8]]]) throws(DirectoryError) {
        self.distinguishedName = distinguishedName
        for (name, values) in attributes.sorted(by: { $0.key < $1.key }) {
            let id = try attributeID(forLowercased: name.lowercased())
            for value in values { try append(value, attribute: id) }
        }
    }

    /// Attribute name (lower-cased) to its values, in the order the source gave them.
    public var attributes: [String: [[UInt8]]] {
        var result: [String: [[UInt8]]] = [:]
        for slot in slots {
            result[name(of: slot.attribute), default: []].append(Array(storage[Int(slot.start)..<Int(slot.end)]))
        }
        return result
    }

    /// Adds a value; the name is matched case-insensitively, and a ranged name
    /// (`servicePrincipalName;range=0-1499`) is folded into its base attribute.
    public mutating func append(_ value: [UInt8], to name: String) throws(DirectoryError) {
        try append(value, attribute: attributeID(forLowercased: Self.baseName(of: name)))
    }

    /// Adds many values at once (a whole ranged chunk, say).
    public mutating func append(contentsOf values: [[UInt8]], to name: String) throws(DirectoryError) {
        let id = try attributeID(forLowercased: Self.baseName(of: name))
        for value in values { try append(value, attribute: id) }
    }

    public func values(_ name: String) -> [[UInt8]] {
        guard let id = existingAttributeID(forLowercased: name.lowercased()) else { return [] }
        return slots.lazy.filter { $0.attribute == id }.map { Array(self.storage[Int($0.start)..<Int($0.end)]) }
    }

    public func firstValue(_ name: String) -> [UInt8]? {
        guard let id = existingAttributeID(forLowercased: name.lowercased()),
            let slot = slots.first(where: { $0.attribute == id })
        else { return nil }
        return Array(storage[Int(slot.start)..<Int(slot.end)])
    }

    /// The values decoded as UTF-8 text; invalid sequences become U+FFFD rather than being dropped,
    /// so a hostile or corrupt value still shows up (escaped) in the reports.
    public func strings(_ name: String) -> [String] {
        values(name).map { String(decoding: $0, as: UTF8.self) }
    }

    public func string(_ name: String) -> String? {
        firstValue(name).map { String(decoding: $0, as: UTF8.self) }
    }

    public static func == (lhs: DirectoryEntry, rhs: DirectoryEntry) -> Bool {
        lhs.distinguishedName == rhs.distinguishedName && lhs.attributes == rhs.attributes
    }

    /// Lower-cases the name and strips options such as `;range=0-1499` or `;binary`.
    static func baseName(of name: String) -> String {
        var lowered = name.lowercased()
        if let semicolon = lowered.utf8.firstIndex(of: UInt8(ascii: ";")) { lowered = String(lowered[..<semicolon]) }
        return lowered
    }

    // MARK: Compact storage

    /// What the compact storage can index. No real AD object comes near either (the schema has
    /// about 1,500 attributes; the largest objects are a few MB), but a crafted export or a
    /// `keptAttributes: nil` read can, and must get an error rather than a narrowing trap.
    enum Limits {
        /// Slot offsets are 32-bit.
        static let storageBytes = Int(UInt32.max)
        /// Attribute numbers are 16-bit; the audited attributes take the first ones.
        static let otherNames = Int(UInt16.max) + 1 - AuditedAttributes.lowercasedList.count
    }

    mutating func append(_ value: [UInt8], attribute: UInt16) throws(DirectoryError) {
        let start = try offset(storage.count)
        let end = try offset(storage.count + value.count)
        storage.append(contentsOf: value)
        slots.append(Slot(attribute: attribute, start: start, end: end))
    }

    /// Records that the bytes appended to `storage` since `start` are one value of `attribute`.
    mutating func closeValue(attribute: UInt16, start: Int) throws(DirectoryError) {
        let end = try offset(storage.count)
        slots.append(Slot(attribute: attribute, start: UInt32(truncatingIfNeeded: start), end: end))
    }

    /// `count` as a slot offset, or the error that says the entry is too large.
    func offset(_ count: Int) throws(DirectoryError) -> UInt32 {
        guard count <= Limits.storageBytes else {
            throw DirectoryError(
                .entryTooLarge, source: TerminalText.escaped(distinguishedName), line: nil,
                reason: "the entry holds more than 4 GiB of values; no AD object is that large")
        }
        return UInt32(count)
    }

    func name(of attribute: UInt16) -> String {
        let known = AuditedAttributes.lowercasedList
        return Int(attribute) < known.count ? known[Int(attribute)] : otherNames[Int(attribute) - known.count]
    }

    mutating func attributeID(forLowercased name: String) throws(DirectoryError) -> UInt16 {
        if let id = existingAttributeID(forLowercased: name) { return id }
        guard otherNames.count < Limits.otherNames else {
            throw DirectoryError(
                .entryTooLarge, source: TerminalText.escaped(distinguishedName), line: nil,
                reason:
                    "the entry has more than \(Limits.otherNames) distinct attribute names; AD's schema has about 1,500"
            )
        }
        otherNames.append(name)
        let id = UInt16(AuditedAttributes.lowercasedList.count + otherNames.count - 1)
        if otherNameIndex != nil {
            otherNameIndex![name] = id
        } else if otherNames.count > 32 {
            var index: [String: UInt16] = [:]
            for (offset, other) in otherNames.enumerated() {
                index[other] = UInt16(AuditedAttributes.lowercasedList.count + offset)
            }
            otherNameIndex = index
        }
        return id
    }

    func existingAttributeID(forLowercased name: String) -> UInt16? {
        if let id = AuditedAttributes.idByLowercasedName[name] { return UInt16(id) }
        if let otherNameIndex { return otherNameIndex[name] }
        if let index = otherNames.firstIndex(of: name) { return UInt16(AuditedAttributes.lowercasedList.count + index) }
        return nil
    }

    /// Calls `body` with the bytes of one value; the buffer must not escape.
    @inline(__always)
    func withValue<R>(_ slot: Slot, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[Int(slot.start)..<Int(slot.end)]))
        }
    }
}

/// Where directory objects come from: an LDIF export or a live domain controller.
///
/// A source pushes entries to a closure instead of returning an array so that a domain of a
/// million computers never has to sit in memory at once.
public protocol DirectorySource {
    /// A short description of where the data came from, for the reports ("corp.ldif", "ldaps://dc01").
    var description: String { get }
    /// Calls `body` once per entry, in the source's order. Throws `DirectoryError` (or a source-specific
    /// error) when the source cannot be read; entries already delivered stay delivered.
    func forEachEntry(_ body: (DirectoryEntry) throws -> Void) throws
}

/// The attributes TrustAudit reads; a live search asks for these and nothing else.
public enum AuditedAttributes {
    public static let all: [String] = [
        "objectClass", "objectCategory", "sAMAccountName", "cn", "dNSHostName", "userAccountControl",
        "pwdLastSet", "lastLogonTimestamp", "servicePrincipalName", "operatingSystem",
        "operatingSystemVersion", "whenCreated",
    ]
    /// Lower-cased, for fast filtering while parsing.
    public static let lowercased: Set<String> = Set(all.map { $0.lowercased() })

    /// `all` lower-cased, in the same order: the attribute numbers of `DirectoryEntry`'s storage.
    static let lowercasedList: [String] = all.map { $0.lowercased() }
    static let lowercasedUTF8: [[UInt8]] = lowercasedList.map { Array($0.utf8) }
    static let idByLowercasedName: [String: Int] = Dictionary(
        uniqueKeysWithValues: lowercasedList.enumerated().map { ($1, $0) })

    // Attribute numbers, positions in `all`.
    static let objectClass: UInt16 = 0
    static let objectCategory: UInt16 = 1
    static let samAccountName: UInt16 = 2
    static let cn: UInt16 = 3
    static let dnsHostName: UInt16 = 4
    static let userAccountControl: UInt16 = 5
    static let pwdLastSet: UInt16 = 6
    static let lastLogonTimestamp: UInt16 = 7
    static let servicePrincipalName: UInt16 = 8
    static let operatingSystem: UInt16 = 9
    static let operatingSystemVersion: UInt16 = 10

    /// The number of the audited attribute spelt (in any case) by `name`, or nil.
    static func id(ofName name: UnsafeBufferPointer<UInt8>) -> Int? {
        let count = name.count
        guard count < idsByLength.count else { return nil }
        for id in idsByLength[count] {
            let candidate = lowercasedUTF8[id]
            var equal = true
            for index in 0..<count where asciiLower(name[index]) != candidate[index] {
                equal = false
                break
            }
            if equal { return id }
        }
        return nil
    }

    /// Attribute numbers by the length of their name, so most other names are rejected at once.
    private static let idsByLength: [[Int]] = {
        var table = [[Int]](repeating: [], count: (lowercasedUTF8.map(\.count).max() ?? 0) + 1)
        for (id, name) in lowercasedUTF8.enumerated() { table[name.count].append(id) }
        return table
    }()

    @inline(__always) static func asciiLower(_ byte: UInt8) -> UInt8 {
        byte >= 65 && byte <= 90 ? byte + 32 : byte
    }
}
