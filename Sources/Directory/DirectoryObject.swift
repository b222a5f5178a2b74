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

    public init(
        kind: Kind, distinguishedName: String, samAccountName: String, commonName: String? = nil,
        dnsHostName: String? = nil, userAccountControl: UserAccountControl? = nil,
        passwordLastSet: FileTime? = nil, lastLogonTimestamp: FileTime? = nil,
        servicePrincipalNames: [ServicePrincipalName] = [], operatingSystem: String? = nil,
        operatingSystemVersion: String? = nil
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
                for index in 0..<length where asciiLower(bytes[start + index]) != needle[index] { continue outer }
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
        // One pass over the values: the first value of each attribute, the classes, the SPNs.
        typealias A = AuditedAttributes
        var first = [Int](repeating: -1, count: 11)
        var isComputer = false
        var isGroupManaged = false
        var isManaged = false
        var spnSlots = 0
        let slots = entry.slots
        let decoded: DirectoryObject? = entry.storage.withUnsafeBufferPointer { storage -> DirectoryObject? in
            @inline(__always) func bytes(_ slot: DirectoryEntry.Slot) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(rebasing: storage[Int(slot.start)..<Int(slot.end)])
            }
            for (index, slot) in slots.enumerated() {
                let attribute = slot.attribute
                guard attribute < 11 else { continue }
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
                operatingSystemVersion: firstString(A.operatingSystemVersion))
        }
        guard let decoded else { return nil }
        self = decoded
    }

    private static func equalsIgnoringCase(_ value: UnsafeBufferPointer<UInt8>, _ lowercasedName: StaticString) -> Bool
    {
        guard value.count == lowercasedName.utf8CodeUnitCount else { return false }
        let target = lowercasedName.utf8Start
        for index in 0..<value.count where asciiLower(value[index]) != target[index] { return false }
        return true
    }

    /// objectCategory is a DN (`CN=ms-DS-Group-Managed-Service-Account,CN=Schema,...`); compare its first RDN.
    private static func categoryIs(_ value: UnsafeBufferPointer<UInt8>?, _ lowercasedRDN: StaticString) -> Bool {
        guard let value else { return false }
        let count = lowercasedRDN.utf8CodeUnitCount
        let target = lowercasedRDN.utf8Start
        guard value.count >= count else { return false }
        for index in 0..<count where asciiLower(value[index]) != target[index] { return false }
        return value.count == count || value[count] == UInt8(ascii: ",")
    }

    @inline(__always) private static func asciiLower(_ byte: UInt8) -> UInt8 {
        byte >= 65 && byte <= 90 ? byte + 32 : byte
    }
}

extension DirectoryObject.Kind {
    /// Managed service accounts and plain computers are all `computer` objects in AD.
    public var isComputerClass: Bool { self != .otherSPNHolder }
}
