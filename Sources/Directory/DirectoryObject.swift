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
    public var distinguishedName: String
    /// sAMAccountName as stored, with its trailing `$` for computers; empty when absent.
    public var samAccountName: String
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

    public init(
        kind: Kind, distinguishedName: String, samAccountName: String, commonName: String? = nil,
        dnsHostName: String? = nil, userAccountControl: UserAccountControl? = nil,
        passwordLastSet: FileTime? = nil, lastLogonTimestamp: FileTime? = nil,
        servicePrincipalNames: [ServicePrincipalName] = [], operatingSystem: String? = nil,
        operatingSystemVersion: String? = nil, objectGUID: ObjectGUID? = nil
    ) {
        self.kind = kind
        self.distinguishedName = distinguishedName
        self.samAccountName = samAccountName
        self.commonName = commonName
        self.dnsHostName = dnsHostName
        self.userAccountControl = userAccountControl
        self.passwordLastSet = passwordLastSet
        self.lastLogonTimestamp = lastLogonTimestamp
        self.servicePrincipalNames = servicePrincipalNames
        self.operatingSystem = operatingSystem
        self.operatingSystemVersion = operatingSystemVersion
        self.objectGUID = objectGUID
    }

    /// The NetBIOS-style short name: sAMAccountName without its trailing `$`, else the cn.
    public var shortName: String {
        if samAccountName.hasSuffix("$") { return String(samAccountName.dropLast()) }
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
            return DirectoryObject(
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
                objectGUID: firstBytes(A.objectGUID).flatMap(ObjectGUID.init(bytes:)))
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
