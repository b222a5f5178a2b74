/// One directory entry as the server sent it: the DN and every attribute's values as raw bytes.
///
/// Values stay bytes (objectSid and objectGUID are binary); names are compared case-insensitively,
/// as LDAP attribute descriptions are. Ranged chunks (`member;range=0-1499`) have already been
/// fetched in full and merged under the plain name by the time a search hands an entry over.
public struct LDAPEntry: Sendable, Equatable {
    public var dn: String
    /// In the order the server sent them.
    public var attributes: [(name: String, values: [[UInt8]])]

    public init(dn: String, attributes: [(name: String, values: [[UInt8]])] = []) {
        self.dn = dn
        self.attributes = attributes
    }

    /// The values of the attribute whose description equals `name`, ignoring case.
    public func values(_ name: String) -> [[UInt8]] {
        let lowered = name.lowercased()
        return attributes.first { $0.name.lowercased() == lowered }?.values ?? []
    }

    /// The first value decoded as UTF-8 (invalid bytes become U+FFFD).
    public func string(_ name: String) -> String? {
        values(name).first.map { String(decoding: $0, as: UTF8.self) }
    }

    /// All values decoded as UTF-8 (invalid bytes become U+FFFD).
    public func strings(_ name: String) -> [String] {
        values(name).map { String(decoding: $0, as: UTF8.self) }
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.dn == rhs.dn && lhs.attributes.count == rhs.attributes.count
            && zip(lhs.attributes, rhs.attributes).allSatisfy { $0.name == $1.name && $0.values == $1.values }
    }
}

/// How far below the base a search looks.
public enum LDAPSearchScope: Int32, Sendable {
    case base = 0
    case oneLevel = 1
    case subtree = 2
}

/// A server control (RFC 4511 4.1.11) to send with a search, besides the paging control that
/// `LDAPConnection.search` adds itself.
public struct LDAPServerControl: Sendable, Equatable {
    /// The numeric OID, e.g. "1.2.840.113556.1.4.417" (Show Deleted).
    public var oid: String
    /// The BER-encoded controlValue; nil sends none.
    public var value: [UInt8]?
    /// True: a server that does not support the control must refuse the request, not ignore it.
    public var isCritical: Bool

    public init(oid: String, value: [UInt8]? = nil, isCritical: Bool) {
        self.oid = oid
        self.value = value
        self.isCritical = isCritical
    }

    /// "1.2.840.113556.1.4.417": digits separated by single dots, at least two arcs.
    static func isNumericOID(_ text: String) -> Bool {
        let arcs = text.split(separator: ".", omittingEmptySubsequences: false)
        return arcs.count >= 2 && !text.hasSuffix(".")
            && arcs.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
    }
}

/// One page of a paged search, handed over as soon as it arrives.
public struct LDAPSearchPage: Sendable {
    /// 1-based.
    public var number: Int
    public var entries: [LDAPEntry]
    /// Continuation references (referrals to other partitions) in this page, skipped.
    public var skippedReferences: Int
}

/// The `range=low-high` option of a ranged attribute description (`member;range=0-1499`).
///
/// AD splits a large multi-valued attribute (more than 1,500 values on current versions) and
/// names each chunk this way; `high` is nil for the last chunk (`range=3000-*`).
public struct LDAPAttributeRange: Sendable, Equatable {
    /// The description without the range option (`servicePrincipalName`, other options kept).
    public var attribute: String
    public var low: Int
    /// nil when the chunk is the last one (`*`).
    public var high: Int?

    public init(attribute: String, low: Int, high: Int?) {
        self.attribute = attribute
        self.low = low
        self.high = high
    }

    /// Parses `name;range=low-high` or `name;range=low-*`; nil when there is no valid range option.
    public init?(attributeDescription: String) {
        let parts = attributeDescription.split(separator: ";", omittingEmptySubsequences: false)
        guard parts.count >= 2,
            !parts[0].isEmpty,
            let index = parts.firstIndex(where: { $0.lowercased().hasPrefix("range=") }), index > 0
        else { return nil }
        let bounds = parts[index].dropFirst(6).split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2, let low = Int(bounds[0]), low >= 0 else { return nil }
        if bounds[1] == "*" {
            high = nil
        } else {
            guard let value = Int(bounds[1]), value >= low else { return nil }
            high = value
        }
        self.low = low
        var rest = parts
        rest.remove(at: index)
        attribute = rest.joined(separator: ";")
    }

    /// True for the last chunk.
    public var isLast: Bool { high == nil }

    /// The description to ask for the chunk after this one: `attr;range=high+1-*`, or a chunk of
    /// `step` values when given (tests use a step to force several round trips).
    public func nextRequest(step: Int? = nil) -> String? {
        guard let high else { return nil }
        let next = high + 1
        if let step, step > 0 { return "\(attribute);range=\(next)-\(next + step - 1)" }
        return "\(attribute);range=\(next)-*"
    }
}
