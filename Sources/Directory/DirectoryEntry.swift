/// One object as a directory hands it over: its DN and its attribute values as raw bytes.
///
/// Values stay bytes because AD mixes text with binary (objectSid, objectGUID); each attribute is
/// decoded by the model that knows its syntax. Names are kept lower-cased so lookups are
/// case-insensitive, as LDAP attribute descriptions are.
public struct DirectoryEntry: Sendable, Equatable {
    public var distinguishedName: String
    /// Attribute name (lower-cased) to its values, in the order the source gave them.
    public private(set) var attributes: [String: [[UInt8]]]

    public init(distinguishedName: String, attributes: [String: [[UInt8]]] = [:]) {
        self.distinguishedName = distinguishedName
        self.attributes = [:]
        for (name, values) in attributes { self.attributes[name.lowercased(), default: []] += values }
    }

    /// Adds a value; the name is matched case-insensitively, and a ranged name
    /// (`servicePrincipalName;range=0-1499`) is folded into its base attribute.
    public mutating func append(_ value: [UInt8], to name: String) {
        attributes[Self.baseName(of: name), default: []].append(value)
    }

    /// Adds many values at once (a whole ranged chunk, say).
    public mutating func append(contentsOf values: [[UInt8]], to name: String) {
        attributes[Self.baseName(of: name), default: []].append(contentsOf: values)
    }

    public func values(_ name: String) -> [[UInt8]] {
        attributes[name.lowercased()] ?? []
    }

    public func firstValue(_ name: String) -> [UInt8]? {
        attributes[name.lowercased()]?.first
    }

    /// The values decoded as UTF-8 text; invalid sequences become U+FFFD rather than being dropped,
    /// so a hostile or corrupt value still shows up (escaped) in the reports.
    public func strings(_ name: String) -> [String] {
        values(name).map { String(decoding: $0, as: UTF8.self) }
    }

    public func string(_ name: String) -> String? {
        firstValue(name).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Lower-cases the name and strips options such as `;range=0-1499` or `;binary`.
    static func baseName(of name: String) -> String {
        var lowered = name.lowercased()
        if let semicolon = lowered.firstIndex(of: ";") { lowered = String(lowered[..<semicolon]) }
        return lowered
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
}
