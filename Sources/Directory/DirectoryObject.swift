import Codecs
import Foundation

/// An object that matters to the audit, decoded from a `DirectoryEntry`.
///
/// Computer accounts are audited by every rule. Managed service accounts (gMSA, sMSA) are computer
/// subclasses whose passwords AD rotates and which carry no HOST SPNs, so they only count as SPN
/// holders, as do users and anything else with a servicePrincipalName.
public struct DirectoryObject: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case computer
        case groupManagedServiceAccount
        case managedServiceAccount
        /// A user or any other non-computer object holding an SPN.
        case otherSPNHolder
    }

    public var kind: Kind
    public var distinguishedName: String {
        didSet { marks = Self.marks(distinguishedName, samAccountName) }
    }
    /// sAMAccountName as stored, with its trailing `$` for computers; empty when absent.
    public var samAccountName: String {
        didSet { marks = Self.marks(distinguishedName, samAccountName) }
    }
    /// What the DN and sAMAccountName say of the object's lifecycle, worked out once when either is
    /// set: every rule asks `isDeleted` and `isConflictObject`, several times per account.
    private var marks: Marks
    public var commonName: String?
    public var dnsHostName: String?
    /// Nil when absent or not an integer.
    public var userAccountControl: UserAccountControl?
    public var passwordLastSet: FileTime?
    /// Replicated only every 9 to 14 days, so it lags real logons by up to about two weeks.
    public var lastLogonTimestamp: FileTime?
    public var servicePrincipalNames: [ServicePrincipalName]
    public var operatingSystem: String?
    public var operatingSystemVersion: String?
    /// What the account is, whatever its DN: the same object seen by two sources (two DCs, two
    /// exports, a DN that changed between them) has one objectGUID. Nil when the source did not
    /// export it or the value is not 16 bytes.
    public var objectGUID: ObjectGUID?
    /// When the object was created and last changed (for a tombstone, when it was deleted); nil when
    /// absent or not a GeneralizedTime.
    public var whenCreated: Date?
    public var whenChanged: Date?
    /// `isDeleted: TRUE`: a tombstone or a Recycle Bin object, read with the Show Deleted control.
    public var isDeletedFlag: Bool
    /// `isRecycled: TRUE`: past the Recycle Bin's lifetime (Samba sets it on every tombstone).
    public var isRecycled: Bool
    /// Where a deleted object lived before it moved to Deleted Objects.
    public var lastKnownParent: String?
    /// Further host names and NetBIOS names the computer answers to (aliases, a rename's old name).
    public var additionalDnsHostNames: [String]
    public var additionalSamAccountNames: [String]
    /// `mS-DS-CreatorSID`, as `S-1-5-21-...`: set when an account was created by a user through
    /// ms-DS-MachineAccountQuota rather than by an admin or a join with rights of its own.
    public var creatorSID: String?
    /// `lastLogon`: this DC's own record of the account's last logon, exact but not replicated; the
    /// newest over every DC is the true last logon. Only a multi-DC read asks for it.
    public var lastLogon: FileTime? {
        get { perDomainController?.lastLogon }
        set { updatePerDomainController { $0.lastLogon = newValue } }
    }
    /// The replication stamps of the machine password (unicodePwd) and of pwdLastSet on the DC this
    /// view came from, from replPropertyMetaData or msDS-ReplAttributeMetaData; nil when the source
    /// did not return them (a single-DC audit does not ask) or they hold no such stamp.
    public var unicodePwdMetadata: AttributeMetadata? {
        get { perDomainController?.unicodePwd }
        set { updatePerDomainController { $0.unicodePwd = newValue } }
    }
    public var pwdLastSetMetadata: AttributeMetadata? {
        get { perDomainController?.pwdLastSet }
        set { updatePerDomainController { $0.pwdLastSet = newValue } }
    }
    /// Why the replication metadata the source returned could not be read (a malformed value);
    /// nil when it could, or when there was none.
    public var replicationMetadataProblem: String? {
        get { perDomainController?.problem }
        set { updatePerDomainController { $0.problem = newValue } }
    }

    /// The per-DC values, boxed: they are absent from every object of a single-DC audit, which then
    /// carries one nil reference per object instead of some 250 bytes of optionals through the
    /// pipeline's copies.
    private var perDomainController: PerDomainControllerValues?

    /// Takes from `other`, the same account as another DC holds it, every value a DC comparison
    /// reads (`AuditedAttributes.domainControllerComparison`), keeping this view's others: the
    /// account as the DC with its newest password holds it, where that DC was asked only for those.
    public mutating func takeDomainControllerComparisonValues(of other: DirectoryObject) {
        userAccountControl = other.userAccountControl
        passwordLastSet = other.passwordLastSet
        lastLogonTimestamp = other.lastLogonTimestamp
        perDomainController = other.perDomainController
    }

    private mutating func updatePerDomainController(_ change: (inout PerDomainControllerValues.Fields) -> Void) {
        var fields = perDomainController?.fields ?? PerDomainControllerValues.Fields()
        change(&fields)
        perDomainController = fields == PerDomainControllerValues.Fields() ? nil : PerDomainControllerValues(fields)
    }

    public init(
        kind: Kind, distinguishedName: String, samAccountName: String, commonName: String? = nil,
        dnsHostName: String? = nil, userAccountControl: UserAccountControl? = nil,
        passwordLastSet: FileTime? = nil, lastLogonTimestamp: FileTime? = nil,
        servicePrincipalNames: [ServicePrincipalName] = [], operatingSystem: String? = nil,
        operatingSystemVersion: String? = nil, objectGUID: ObjectGUID? = nil, whenCreated: Date? = nil,
        whenChanged: Date? = nil, isDeleted: Bool = false, isRecycled: Bool = false, lastKnownParent: String? = nil,
        additionalDnsHostNames: [String] = [], additionalSamAccountNames: [String] = [], creatorSID: String? = nil,
        lastLogon: FileTime? = nil, unicodePwdMetadata: AttributeMetadata? = nil,
        pwdLastSetMetadata: AttributeMetadata? = nil, replicationMetadataProblem: String? = nil
    ) {
        self.kind = kind
        self.distinguishedName = distinguishedName
        self.samAccountName = samAccountName
        marks = Self.marks(distinguishedName, samAccountName)
        self.commonName = commonName
        self.dnsHostName = dnsHostName
        self.userAccountControl = userAccountControl
        self.passwordLastSet = passwordLastSet
        self.lastLogonTimestamp = lastLogonTimestamp
        self.servicePrincipalNames = servicePrincipalNames
        self.operatingSystem = operatingSystem
        self.operatingSystemVersion = operatingSystemVersion
        self.objectGUID = objectGUID
        self.whenCreated = whenCreated
        self.whenChanged = whenChanged
        self.isDeletedFlag = isDeleted
        self.isRecycled = isRecycled
        self.lastKnownParent = lastKnownParent
        self.additionalDnsHostNames = additionalDnsHostNames
        self.additionalSamAccountNames = additionalSamAccountNames
        self.creatorSID = creatorSID
        let fields = PerDomainControllerValues.Fields(
            lastLogon: lastLogon, unicodePwd: unicodePwdMetadata, pwdLastSet: pwdLastSetMetadata,
            problem: replicationMetadataProblem)
        self.perDomainController =
            fields == PerDomainControllerValues.Fields() ? nil : PerDomainControllerValues(fields)
    }

    /// A deleted object: `isDeleted: TRUE`, or an RDN AD mangled on deletion (`CN=WS2\0ADEL:<guid>`,
    /// or with the line feed itself where a source decoded the escape). Never an ordinary account:
    /// the runner hands it to the collecting rules only.
    public var isDeleted: Bool { isDeletedFlag || marks.contains(.deletedRDN) }

    /// A replication conflict object: two DCs made the same name, AD kept this one as the loser,
    /// renaming its RDN to `CN=PC7\0ACNF:<guid>` and (Windows) its sAMAccountName to `$DUPLICATE-<hex>`.
    public var isConflictObject: Bool { !marks.isDisjoint(with: [.conflictRDN, .duplicateAccountName]) }

    struct Marks: OptionSet, Sendable, Equatable {
        let rawValue: UInt8
        static let deletedRDN = Marks(rawValue: 1)
        static let conflictRDN = Marks(rawValue: 2)
        static let duplicateAccountName = Marks(rawValue: 4)
    }

    /// The lifecycle marks of a DN's first RDN (`\0ADEL:`, `\0ACNF:`, escaped or with the line feed
    /// decoded, any case) and of a `$DUPLICATE-` sAMAccountName, in one pass over the first RDN.
    static func marks(_ distinguishedName: String, _ samAccountName: String) -> Marks {
        var marks: Marks = []
        if samAccountName.utf8.count > 11 && samAccountName.utf8.prefix(11).elementsEqual("$DUPLICATE-".utf8) {
            marks.insert(.duplicateAccountName)
        }
        var dn = distinguishedName
        dn.withUTF8 { bytes in
            // The first RDN ends at the first comma that is not escaped.
            var index = 0
            var escaped = false
            while index < bytes.count {
                let byte = bytes[index]
                var markStart: Int?
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                    if index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "0"),
                        ASCII.lowercased(bytes[index + 2]) == UInt8(ascii: "a")
                    {
                        markStart = index + 3
                    }
                } else if byte == UInt8(ascii: ",") {
                    break
                } else if byte == 0x0A {
                    markStart = index + 1
                }
                if let start = markStart, start + 4 <= bytes.count, bytes[start + 3] == UInt8(ascii: ":") {
                    let tag = (
                        ASCII.lowercased(bytes[start]), ASCII.lowercased(bytes[start + 1]),
                        ASCII.lowercased(bytes[start + 2])
                    )
                    if tag == (UInt8(ascii: "d"), UInt8(ascii: "e"), UInt8(ascii: "l")) { marks.insert(.deletedRDN) }
                    if tag == (UInt8(ascii: "c"), UInt8(ascii: "n"), UInt8(ascii: "f")) { marks.insert(.conflictRDN) }
                }
                index += 1
            }
        }
        return marks
    }

    /// Whether the object carries `attribute` (AD's spelling, any case), for the attributes the
    /// model decodes into an optional or a list; nil for one it cannot tell (the classes, the names
    /// every object has). An attribute AD leaves unset is not returned, so absent and unset are one.
    public func holds(_ attribute: String) -> Bool? { holds(lowercased: attribute.lowercased()) }

    /// `holds(_:)` for a name already lower-cased, as a caller asking per object passes it.
    public func holds(lowercased attribute: String) -> Bool? {
        switch attribute {
        case "pwdlastset": passwordLastSet != nil
        case "lastlogontimestamp": lastLogonTimestamp != nil
        case "lastlogon": lastLogon != nil
        case "useraccountcontrol": userAccountControl != nil
        case "serviceprincipalname": !servicePrincipalNames.isEmpty
        case "dnshostname": dnsHostName != nil
        case "operatingsystem": operatingSystem != nil
        case "operatingsystemversion": operatingSystemVersion != nil
        case "objectguid": objectGUID != nil
        case "whencreated": whenCreated != nil
        default: nil
        }
    }

    /// The DNS name of the domain the object lives in, from its DN's DC= components (`corp.example`
    /// for `CN=PC1,OU=Sales,DC=corp,DC=example`); nil when the DN has none.
    public var domainDNSName: String? { DistinguishedName.domainDNSName(of: distinguishedName) }

    /// The NetBIOS-style short name: sAMAccountName without its trailing `$`, else the cn.
    public var shortName: String {
        // Bytewise: `$` is ASCII, and a Character-wise hasSuffix and dropLast cost more than the rest
        // of a computer's per-account rules together.
        if samAccountName.utf8.last == UInt8(ascii: "$") {
            let utf8 = samAccountName.utf8
            return String(samAccountName[..<utf8.index(before: utf8.endIndex)])
        }
        if !samAccountName.isEmpty { return samAccountName }
        return commonName ?? ""
    }

    /// The name an admin types into `setspn` and `Get-ADComputer`: sAMAccountName, else cn.
    public var accountName: String {
        samAccountName.isEmpty ? (commonName ?? distinguishedName) : samAccountName
    }

    public var isWindowsServer: Bool {
        guard let operatingSystem else { return false }
        if let found = Self.asciiContains(operatingSystem, "windows server") { return found }
        return operatingSystem.range(of: "windows server", options: .caseInsensitive) != nil
    }

    public var isWindows: Bool {
        guard let operatingSystem else { return false }
        if let found = Self.asciiContains(operatingSystem, "windows") { return found }
        return operatingSystem.range(of: "windows", options: .caseInsensitive) != nil
    }

    /// A case-insensitive search in ASCII text; nil when `text` is not ASCII (Unicode case folding
    /// is then left to Foundation).
    private static func asciiContains(_ text: String, _ lowercasedNeedle: StaticString) -> Bool? {
        var text = text
        return text.withUTF8 { bytes -> Bool? in
            for byte in bytes where byte >= 0x80 { return nil }
            let needle = lowercasedNeedle.utf8Start
            let length = lowercasedNeedle.utf8CodeUnitCount
            guard bytes.count >= length else { return false }
            outer: for start in 0...(bytes.count - length) {
                for index in 0..<length where ASCII.lowercased(bytes[start + index]) != needle[index] { continue outer }
                return true
            }
            return false
        }
    }

    /// Decodes the objects the audit cares about; nil for everything else (users without SPNs,
    /// OUs, groups), which lets sources skip them cheaply.
    public init?(entry: DirectoryEntry) {
        switch entry.predecoded {
        case .object(let object):
            self = object
            return
        case .notAudited:
            return nil
        case .none:
            break
        }
        // One pass over the values: the first value of each attribute, the classes, the SPNs. The
        // first-value table is one slot per audited attribute, on the stack: no heap array per entry.
        let decoded = withUnsafeTemporaryAllocation(of: Int.self, capacity: AuditedAttributes.count) { first in
            first.initialize(repeating: -1)
            return Self.decode(entry, first: first)
        }
        guard let decoded else { return nil }
        self = decoded
    }

    /// Decodes `entry` with `first` as the scratch first-value table (one slot per audited attribute).
    private static func decode(_ entry: DirectoryEntry, first: UnsafeMutableBufferPointer<Int>) -> DirectoryObject? {
        typealias A = AuditedAttributes
        var isComputer = false
        var isGroupManaged = false
        var isManaged = false
        var spnSlots = 0
        let slots = entry.slots
        return entry.storage.withUnsafeBufferPointer { storage -> DirectoryObject? in
            @inline(__always) func bytes(_ slot: DirectoryEntry.Slot) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(rebasing: storage[Int(slot.start)..<Int(slot.end)])
            }
            for (index, slot) in slots.enumerated() {
                let attribute = slot.attribute
                guard attribute < A.count else { continue }
                if first[Int(attribute)] < 0 { first[Int(attribute)] = index }
                if attribute == A.objectClass {
                    let value = bytes(slot)
                    if Self.equalsIgnoringCase(value, "msds-groupmanagedserviceaccount") {
                        isGroupManaged = true
                    } else if Self.equalsIgnoringCase(value, "msds-managedserviceaccount") {
                        isManaged = true
                    } else if Self.equalsIgnoringCase(value, "computer") {
                        isComputer = true
                    }
                } else if attribute == A.servicePrincipalName {
                    spnSlots += 1
                }
            }
            func firstBytes(_ attribute: UInt16) -> UnsafeBufferPointer<UInt8>? {
                let index = first[Int(attribute)]
                return index < 0 ? nil : bytes(slots[index])
            }
            func firstString(_ attribute: UInt16) -> String? {
                firstBytes(attribute).map { String(decoding: $0, as: UTF8.self) }
            }
            func allStrings(_ attribute: UInt16) -> [String] {
                guard first[Int(attribute)] >= 0 else { return [] }
                return slots.filter { $0.attribute == attribute }.map { String(decoding: bytes($0), as: UTF8.self) }
            }
            let category = firstBytes(A.objectCategory)
            let kind: Kind
            if isGroupManaged || Self.categoryIs(category, "cn=ms-ds-group-managed-service-account") {
                kind = .groupManagedServiceAccount
            } else if isManaged || Self.categoryIs(category, "cn=ms-ds-managed-service-account") {
                kind = .managedServiceAccount
            } else if isComputer {
                kind = .computer
            } else if spnSlots > 0 {
                kind = .otherSPNHolder
            } else {
                return nil
            }
            var spns: [ServicePrincipalName] = []
            if spnSlots > 0 {
                spns.reserveCapacity(spnSlots)
                for slot in slots where slot.attribute == A.servicePrincipalName {
                    spns.append(ServicePrincipalName(bytes: bytes(slot)))
                }
            }
            var object = DirectoryObject(
                kind: kind, distinguishedName: entry.distinguishedName,
                samAccountName: firstString(A.samAccountName) ?? "",
                commonName: firstString(A.cn),
                dnsHostName: firstString(A.dnsHostName).flatMap { $0.isEmpty ? nil : $0 },
                userAccountControl: firstBytes(A.userAccountControl).flatMap(UserAccountControl.init(ldapBytes:)),
                passwordLastSet: firstBytes(A.pwdLastSet).flatMap(FileTime.init(ldapBytes:)),
                lastLogonTimestamp: firstBytes(A.lastLogonTimestamp).flatMap(FileTime.init(ldapBytes:)),
                servicePrincipalNames: spns,
                operatingSystem: firstString(A.operatingSystem),
                operatingSystemVersion: firstString(A.operatingSystemVersion),
                objectGUID: firstBytes(A.objectGUID).flatMap(ObjectGUID.init(ldapBytes:)),
                whenCreated: firstString(A.whenCreated).flatMap(UTCTime.date(generalizedTime:)),
                whenChanged: firstString(A.whenChanged).flatMap(UTCTime.date(generalizedTime:)),
                isDeleted: firstBytes(A.isDeleted).map { Self.equalsIgnoringCase($0, "true") } ?? false,
                isRecycled: firstBytes(A.isRecycled).map { Self.equalsIgnoringCase($0, "true") } ?? false,
                lastKnownParent: firstString(A.lastKnownParent),
                additionalDnsHostNames: allStrings(A.additionalDnsHostName),
                additionalSamAccountNames: allStrings(A.additionalSamAccountName),
                creatorSID: firstBytes(A.creatorSID).flatMap(SecurityIdentifier.text(ldapBytes:)))
            // The per-DC values are there only when a multi-DC read asked for them.
            if first[Int(A.lastLogon)] >= 0 {
                object.lastLogon = firstBytes(A.lastLogon).flatMap(FileTime.init(ldapBytes:))
            }
            if first[Int(A.replPropertyMetaData)] >= 0 || first[Int(A.replAttributeMetaData)] >= 0 {
                object.decodePasswordStamps(
                    binary: firstBytes(A.replPropertyMetaData).map(Array.init),
                    xml: slots.filter { $0.attribute == A.replAttributeMetaData }.map { Array(bytes($0)) })
            }
            return object
        }
    }

    private static func equalsIgnoringCase(_ value: UnsafeBufferPointer<UInt8>, _ lowercasedName: StaticString) -> Bool
    {
        ASCII.equalsIgnoringCase(value, lowercased: lowercasedName)
    }

    /// objectCategory is a DN (`CN=ms-DS-Group-Managed-Service-Account,CN=Schema,...`); compare its first RDN.
    private static func categoryIs(_ value: UnsafeBufferPointer<UInt8>?, _ lowercasedRDN: StaticString) -> Bool {
        guard let value else { return false }
        let count = lowercasedRDN.utf8CodeUnitCount
        let target = lowercasedRDN.utf8Start
        guard value.count >= count else { return false }
        for index in 0..<count where ASCII.lowercased(value[index]) != target[index] { return false }
        return value.count == count || value[count] == UInt8(ascii: ",")
    }
}

extension DirectoryObject.Kind {
    /// Managed service accounts and plain computers are all `computer` objects in AD.
    public var isComputerClass: Bool { self != .otherSPNHolder }
}

/// An object's objectGUID: 16 bytes, as AD stores them (the first three fields little-endian).
///
/// Kept as two integers rather than `UUID` or `[UInt8]`, so it costs no allocation per object and
/// hashes as one 128-bit value.
public struct ObjectGUID: Hashable, Sendable, CustomStringConvertible {
    /// Bytes 0-7 and 8-15 of the stored value, each read little-endian.
    public let low: UInt64
    public let high: UInt64

    /// Nil unless `bytes` is exactly 16 bytes long (a damaged or crafted value is no identity).
    public init?(bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var low: UInt64 = 0
        var high: UInt64 = 0
        for index in 0..<8 {
            low |= UInt64(bytes[index]) << (8 * UInt64(index))
            high |= UInt64(bytes[8 + index]) << (8 * UInt64(index))
        }
        self.low = low
        self.high = high
    }

    public init?(bytes: [UInt8]) {
        guard let guid = bytes.withUnsafeBufferPointer({ ObjectGUID(bytes: $0) }) else { return nil }
        self = guid
    }

    /// The value as an LDAP source gives it: the 16 stored bytes, or the text form
    /// (`3c8411a5-92b6-40b2-acef-a14a2b23420e`) that some dump converters write instead; nil otherwise.
    public init?(ldapBytes bytes: UnsafeBufferPointer<UInt8>) {
        if let guid = ObjectGUID(bytes: bytes) {
            self = guid
            return
        }
        guard bytes.count == 36 else { return nil }
        // Text order to stored order: the first three fields are little-endian in storage.
        let storedIndex = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15]
        var stored = [UInt8](repeating: 0, count: 16)
        var position = 0
        var offset = 0
        while offset < 36 {
            if offset == 8 || offset == 13 || offset == 18 || offset == 23 {
                guard bytes[offset] == UInt8(ascii: "-") else { return nil }
                offset += 1
                continue
            }
            guard let high = Self.hexValue(bytes[offset]), let low = Self.hexValue(bytes[offset + 1]) else {
                return nil
            }
            stored[storedIndex[position]] = high << 4 | low
            position += 1
            offset += 2
        }
        self.init(bytes: stored)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The 16 bytes as stored.
    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: low >> (8 * UInt64($0))) }
            + (0..<8).map { UInt8(truncatingIfNeeded: high >> (8 * UInt64($0))) }
    }

    /// `28fd1070-9893-4b29-869b-b6b5af137f65`, as `Get-ADComputer` shows it (the first three fields
    /// byte-swapped from the stored order).
    public var description: String {
        let stored = bytes
        let order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15]
        var text = ""
        for (position, index) in order.enumerated() {
            if position == 4 || position == 6 || position == 8 || position == 10 { text += "-" }
            let hex = String(stored[index], radix: 16)
            text += hex.count == 1 ? "0" + hex : hex
        }
        return text
    }
}

/// A security identifier (MS-DTYP 2.4.2) in its text form.
public enum SecurityIdentifier {
    /// `S-1-5-21-3539700351-1165401899-3544196954-1110` from the binary value (revision, sub-authority
    /// count, 48-bit big-endian authority, then little-endian 32-bit sub-authorities), or the value
    /// itself when a converter already wrote the text form, or from base64 that a converter wrote
    /// after a single colon (`mS-DS-CreatorSID: AQUAAAAAAAUVAAAA...`, as bofhound's dumps do: a binary
    /// SID starts with revision 1, so its base64 starts with `AQ`); nil for anything else.
    public static func text(ldapBytes bytes: UnsafeBufferPointer<UInt8>) -> String? {
        if bytes.count >= 12, bytes[0] == UInt8(ascii: "A"), bytes[1] == UInt8(ascii: "Q"),
            let decoded = Base64.decode(bytes)
        {
            return decoded.withUnsafeBufferPointer { binary($0) }
        }
        if bytes.count >= 3, bytes[0] == UInt8(ascii: "S"), bytes[1] == UInt8(ascii: "-") {
            let text = String(decoding: bytes, as: UTF8.self)
            let parts = text.split(separator: "-", omittingEmptySubsequences: false).dropFirst()
            guard parts.count >= 3, parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } })
            else { return nil }
            return text
        }
        return binary(bytes)
    }

    /// The text form of a binary SID; nil unless it is one.
    private static func binary(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard bytes.count >= 8, bytes[0] == 1 else { return nil }
        let count = Int(bytes[1])
        guard count <= 15, bytes.count == 8 + 4 * count else { return nil }
        var authority: UInt64 = 0
        for index in 2..<8 { authority = authority << 8 | UInt64(bytes[index]) }
        var text = "S-1-\(authority)"
        for sub in 0..<count {
            let base = 8 + 4 * sub
            let value =
                UInt32(bytes[base]) | UInt32(bytes[base + 1]) << 8 | UInt32(bytes[base + 2]) << 16
                | UInt32(bytes[base + 3]) << 24
            text += "-\(value)"
        }
        return text
    }
}

/// `DirectoryObject`'s per-DC values, immutable and shared between copies of the object.
final class PerDomainControllerValues: Sendable, Equatable {
    struct Fields: Sendable, Equatable {
        var lastLogon: FileTime?
        var unicodePwd: AttributeMetadata?
        var pwdLastSet: AttributeMetadata?
        var problem: String?
    }

    let fields: Fields

    init(_ fields: Fields) { self.fields = fields }

    var lastLogon: FileTime? { fields.lastLogon }
    var unicodePwd: AttributeMetadata? { fields.unicodePwd }
    var pwdLastSet: AttributeMetadata? { fields.pwdLastSet }
    var problem: String? { fields.problem }

    static func == (lhs: PerDomainControllerValues, rhs: PerDomainControllerValues) -> Bool { lhs.fields == rhs.fields }
}

extension DirectoryObject {
    /// Finds the unicodePwd and pwdLastSet stamps in the object's replication metadata: the binary
    /// replPropertyMetaData when present, else the XML values of msDS-ReplAttributeMetaData (only
    /// those naming one of the two are parsed). A malformed value leaves both nil and says why in
    /// `replicationMetadataProblem`, so a rule can fall back to pwdLastSet and tell the admin.
    mutating func decodePasswordStamps(binary: [UInt8]?, xml: [[UInt8]]) {
        let source = accountName
        do throws(DirectoryError) {
            if let binary {
                for entry in try ReplicationMetadata.decode(
                    replPropertyMetaData: binary, source: source,
                    only: [AttributeID.unicodePwd, AttributeID.pwdLastSet])
                {
                    if entry.attributeID == AttributeID.unicodePwd { unicodePwdMetadata = entry }
                    if entry.attributeID == AttributeID.pwdLastSet { pwdLastSetMetadata = entry }
                }
                return
            }
            for value in xml
            where Self.mentions(value, "unicodePwd") || Self.mentions(value, "pwdLastSet") {
                let entry = try ReplAttributeMetaDataXML.parse(value, source: source)
                if entry.describes("unicodePwd", attributeID: nil) { unicodePwdMetadata = entry }
                if entry.describes("pwdLastSet", attributeID: nil) { pwdLastSetMetadata = entry }
            }
        } catch {
            unicodePwdMetadata = nil
            pwdLastSetMetadata = nil
            replicationMetadataProblem = error.reason
        }
    }

    /// Whether an XML value names `attribute` (`>unicodePwd<`), so the others are not parsed.
    private static func mentions(_ value: [UInt8], _ attribute: String) -> Bool {
        let needle = Array(">\(attribute)<".utf8)
        guard value.count >= needle.count else { return false }
        for start in 0...(value.count - needle.count)
        where value[start] == needle[0] && value[start..<(start + needle.count)].elementsEqual(needle) {
            return true
        }
        return false
    }
}
