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
        operatingSystem?.range(of: "windows server", options: .caseInsensitive) != nil
    }

    public var isWindows: Bool {
        operatingSystem?.range(of: "windows", options: .caseInsensitive) != nil
    }

    /// Decodes the objects the audit cares about; nil for everything else (users without SPNs,
    /// OUs, groups), which lets sources skip them cheaply.
    public init?(entry: DirectoryEntry) {
        let classes = entry.values("objectClass")
        let category = entry.firstValue("objectCategory")
        let kind: Kind
        if Self.contains(classes, "msds-groupmanagedserviceaccount")
            || Self.categoryIs(category, "cn=ms-ds-group-managed-service-account")
        {
            kind = .groupManagedServiceAccount
        } else if Self.contains(classes, "msds-managedserviceaccount")
            || Self.categoryIs(category, "cn=ms-ds-managed-service-account")
        {
            kind = .managedServiceAccount
        } else if Self.contains(classes, "computer") {
            kind = .computer
        } else if !entry.values("servicePrincipalName").isEmpty {
            kind = .otherSPNHolder
        } else {
            return nil
        }
        self.kind = kind
        distinguishedName = entry.distinguishedName
        samAccountName = entry.string("sAMAccountName") ?? ""
        commonName = entry.string("cn")
        dnsHostName = entry.string("dNSHostName").flatMap { $0.isEmpty ? nil : $0 }
        userAccountControl = entry.firstValue("userAccountControl").flatMap(UserAccountControl.init(ldapValue:))
        passwordLastSet = entry.firstValue("pwdLastSet").flatMap(FileTime.init(ldapValue:))
        lastLogonTimestamp = entry.firstValue("lastLogonTimestamp").flatMap(FileTime.init(ldapValue:))
        servicePrincipalNames = entry.strings("servicePrincipalName").map(ServicePrincipalName.init)
        operatingSystem = entry.string("operatingSystem")
        operatingSystemVersion = entry.string("operatingSystemVersion")
    }

    private static func contains(_ values: [[UInt8]], _ lowercasedName: String) -> Bool {
        let target = Array(lowercasedName.utf8)
        return values.contains { value in
            value.count == target.count && zip(value, target).allSatisfy { asciiLower($0) == $1 }
        }
    }

    /// objectCategory is a DN (`CN=ms-DS-Group-Managed-Service-Account,CN=Schema,...`); compare its first RDN.
    private static func categoryIs(_ value: [UInt8]?, _ lowercasedRDN: String) -> Bool {
        guard let value else { return false }
        let target = Array(lowercasedRDN.utf8)
        guard value.count >= target.count else { return false }
        for index in 0..<target.count where asciiLower(value[index]) != target[index] { return false }
        return value.count == target.count || value[target.count] == UInt8(ascii: ",")
    }

    @inline(__always) private static func asciiLower(_ byte: UInt8) -> UInt8 {
        byte >= 65 && byte <= 90 ? byte + 32 : byte
    }
}

extension DirectoryObject.Kind {
    /// Managed service accounts and plain computers are all `computer` objects in AD.
    public var isComputerClass: Bool { self != .otherSPNHolder }
}

import Foundation
