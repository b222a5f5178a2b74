import Codecs

/// The attributes TrustAudit reads; a live search asks for these and nothing else.
///
/// This is the table `DirectoryObject` decodes from: an attribute's number is its position here, so
/// new attributes go at the end (the numbers, the LDAP request and the bench stay as they were).
/// Which of them the audit needs is declared by the rules (`AuditRules.attributes` in Audit, which a
/// test holds equal to `all`); this target cannot see the rules, so the table lives here.
public enum AuditedAttributes {
    public static let all: [String] = [
        "objectClass", "objectCategory", "sAMAccountName", "cn", "dNSHostName", "userAccountControl",
        "pwdLastSet", "lastLogonTimestamp", "servicePrincipalName", "operatingSystem",
        "operatingSystemVersion", "whenCreated", "objectGUID", "whenChanged", "isDeleted", "isRecycled",
        "lastKnownParent", "msDS-AdditionalDnsHostName", "msDS-AdditionalSamAccountName", "mS-DS-CreatorSID",
        "lastLogon", "replPropertyMetaData", "msDS-ReplAttributeMetaData",
    ]
    /// What a single-DC audit asks each object for: `all` without `perDomainControllerAttributes`.
    public static let singleSource: [String] = all.filter { !perDomainControllerAttributes.contains($0) }
    /// The values that differ from DC to DC and only matter when several DCs are compared:
    /// `lastLogon` (not replicated; the newest over all DCs is the true last logon) and the
    /// replication metadata that tells whose machine password is behind. They cost bytes on every
    /// object (replPropertyMetaData is 16 + 48 bytes per attribute ever written, about 1.5 KB for a
    /// computer), so only `SourceRequest.domainControllerView` asks for them.
    public static let perDomainControllerAttributes = [
        "lastLogon", "replPropertyMetaData", "msDS-ReplAttributeMetaData",
    ]
    /// What a multi-DC audit asks every DC but one for: what a comparison of DCs reads (the machine
    /// password's stamps, pwdLastSet, both logon times, the account's flags) and what tells a computer
    /// from a managed service account. One DC (the one the audit was pointed at) gives the full view
    /// the rules judge; the others' SPNs, names and OS strings would only be decoded and held to be
    /// dropped. (A Samba DC's own cost is mostly per object, not per attribute.)
    public static let domainControllerComparison: [String] = [
        "objectClass", "objectCategory", "userAccountControl", "pwdLastSet", "lastLogonTimestamp", "objectGUID",
        "lastLogon", "replPropertyMetaData", "msDS-ReplAttributeMetaData",
    ]
    /// How many attributes are audited: the size of `DirectoryObject`'s first-value table.
    public static let count = all.count
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
    static let whenCreated: UInt16 = 11
    static let objectGUID: UInt16 = 12
    static let whenChanged: UInt16 = 13
    static let isDeleted: UInt16 = 14
    static let isRecycled: UInt16 = 15
    static let lastKnownParent: UInt16 = 16
    static let additionalDnsHostName: UInt16 = 17
    static let additionalSamAccountName: UInt16 = 18
    static let creatorSID: UInt16 = 19
    static let lastLogon: UInt16 = 20
    static let replPropertyMetaData: UInt16 = 21
    static let replAttributeMetaData: UInt16 = 22

    /// The number of the audited attribute spelt (in any case) by `name`, or nil.
    static func id(ofName name: UnsafeBufferPointer<UInt8>) -> Int? {
        let count = name.count
        guard count < idsByLength.count else { return nil }
        for id in idsByLength[count] {
            let candidate = lowercasedUTF8[id]
            var equal = true
            for index in 0..<count where ASCII.lowercased(name[index]) != candidate[index] {
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
}
