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
