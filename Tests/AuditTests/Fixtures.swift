import Foundation
import XCTest

@testable import Audit
@testable import Directory

/// Builds audit inputs from LDIF as `ldapsearch -LLL` prints it, at a fixed moment.
enum Fixture {
    /// 2026-11-24T00:00:00Z, the `--now` of the bundled sample.
    static let now = Date(timeIntervalSince1970: 1_795_478_400)
    static let nowTicks: Int64 = 134_399_520_000_000_000
    static let day: Int64 = 864_000_000_000
    static let hour: Int64 = 36_000_000_000
    static let minute: Int64 = 600_000_000

    /// A FILETIME `days` whole days (plus `extra` ticks) before `now`; negative days are in the future.
    static func ticks(daysAgo days: Int64, extra: Int64 = 0) -> Int64 {
        nowTicks - days * day - extra
    }

    /// The four SPNs a Windows or adcli join registers.
    static func joinSPNs(_ name: String, domain: String = "corp.example") -> [String] {
        let fqdn = "\(name.lowercased()).\(domain)"
        return ["RestrictedKrbHost/\(name)", "HOST/\(name)", "RestrictedKrbHost/\(fqdn)", "HOST/\(fqdn)"]
    }

    /// One computer entry. `spns: nil` means the join's four; `dnsHostName: nil` means the usual
    /// `name.corp.example`, `""` leaves the attribute out.
    static func computer(
        _ name: String, container: String = "OU=Workstations,DC=corp,DC=example", commonName: String? = nil,
        userAccountControl: String? = "4096", pwdLastSet: Int64? = nil, lastLogonTimestamp: Int64? = nil,
        operatingSystem: String? = "Windows 11 Enterprise", dnsHostName: String? = nil, spns: [String]? = nil,
        objectClasses: [String] = ["top", "person", "organizationalPerson", "user", "computer"],
        objectCategory: String = "CN=Computer,CN=Schema,CN=Configuration,DC=corp,DC=example"
    ) -> String {
        let cn = commonName ?? name
        let rdn = cn.replacingOccurrences(of: ",", with: "\\,")
        var lines = ["dn: CN=\(rdn),\(container)"]
        lines += objectClasses.map { "objectClass: \($0)" }
        lines.append("cn: \(cn)")
        lines.append("distinguishedName: CN=\(rdn),\(container)")
        lines.append("objectGUID:: \(objectGUID(of: "CN=\(rdn),\(container)"))")
        if let userAccountControl { lines.append("userAccountControl: \(userAccountControl)") }
        lines.append("pwdLastSet: \(pwdLastSet ?? ticks(daysAgo: 10))")
        lines.append("objectSid:: \(objectSid(of: "CN=\(rdn),\(container)"))")
        lines.append("sAMAccountName: \(name)$")
        lines.append("sAMAccountType: 805306369")
        if let operatingSystem { lines.append("operatingSystem: \(operatingSystem)") }
        let fqdn = dnsHostName ?? "\(name.lowercased()).corp.example"
        if !fqdn.isEmpty { lines.append("dNSHostName: \(fqdn)") }
        for spn in spns ?? joinSPNs(name) { lines.append("servicePrincipalName: \(spn)") }
        lines.append("objectCategory: \(objectCategory)")
        if let lastLogonTimestamp { lines.append("lastLogonTimestamp: \(lastLogonTimestamp)") }
        return fold(lines).joined(separator: "\n") + "\n\n"
    }

    /// A version-4 objectGUID of its own for each DN (base64, as ldapsearch prints it): two fixture
    /// computers are two accounts, as in AD, and the same DN written twice is the same account.
    static func objectGUID(of dn: String) -> String {
        var bytes = digest(dn, seed: 0x6f62_6a65_6374_4755) + digest(dn, seed: 0x4944_2d66_6978_7475)
        bytes[7] = bytes[7] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        return Data(bytes).base64EncodedString()
    }

    /// S-1-5-21-1274087277-3231032394-1350288505-RID, in objectSid's binary layout, with a RID of its
    /// own for each DN (from 1104 up, above the well-known RIDs).
    static func objectSid(of dn: String) -> String {
        var bytes: [UInt8] = [1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0]
        for part: UInt32 in [1_274_087_277, 3_231_032_394, 1_350_288_505] {
            bytes += (0..<4).map { UInt8(truncatingIfNeeded: part >> (8 * UInt32($0))) }
        }
        let hash = digest(dn, seed: 0x7369_6400)
        let rid = 1104 + UInt32(hash[0]) | UInt32(hash[1]) << 8 | UInt32(hash[2] & 0x3F) << 16
        bytes += (0..<4).map { UInt8(truncatingIfNeeded: rid >> (8 * UInt32($0))) }
        return Data(bytes).base64EncodedString()
    }

    /// Eight bytes of FNV-1a over `text` (deterministic across runs, unlike `Hasher`).
    private static func digest(_ text: String, seed: UInt64) -> [UInt8] {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for byte in text.lowercased().utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return (0..<8).map { UInt8(truncatingIfNeeded: hash >> (8 * UInt64($0))) }
    }

    /// A user (service) account, which holds SPNs but is never audited as a computer.
    static func user(_ name: String, container: String = "OU=Service Accounts,DC=corp,DC=example", spns: [String])
        -> String
    {
        var lines = [
            "dn: CN=\(name),\(container)", "objectClass: top", "objectClass: person",
            "objectClass: organizationalPerson",
            "objectClass: user", "cn: \(name)", "userAccountControl: 66048", "pwdLastSet: \(ticks(daysAgo: 900))",
            "sAMAccountName: \(name)", "sAMAccountType: 805306368",
        ]
        lines += spns.map { "servicePrincipalName: \($0)" }
        lines.append("objectCategory: CN=Person,CN=Schema,CN=Configuration,DC=corp,DC=example")
        return fold(lines).joined(separator: "\n") + "\n\n"
    }

    /// The intranet farm's group managed service account, with an old password and a disabled bit
    /// that no rule may judge (AD rotates gMSA passwords itself).
    static let groupManagedServiceAccount = computer(
        "gmsa-intranet", container: "CN=Managed Service Accounts,DC=corp,DC=example", userAccountControl: "4098",
        pwdLastSet: ticks(daysAgo: 400), operatingSystem: nil, dnsHostName: "intranet.corp.example",
        spns: ["HTTP/intranet.corp.example", "HTTP/intranet"],
        objectClasses: [
            "top", "person", "organizationalPerson", "user", "computer", "msDS-GroupManagedServiceAccount",
        ],
        objectCategory: "CN=ms-DS-Group-Managed-Service-Account,CN=Schema,CN=Configuration,DC=corp,DC=example")

    /// Folds lines at 76 columns as ldapsearch does, so every fixture also exercises unfolding.
    static func fold(_ lines: [String]) -> [String] {
        lines.map { line in
            var bytes = Array(line.utf8)
            guard bytes.count > 76 else { return line }
            var folded = Array(bytes.prefix(76))
            bytes.removeFirst(76)
            while !bytes.isEmpty {
                folded += Array("\n ".utf8) + bytes.prefix(75)
                bytes.removeFirst(min(75, bytes.count))
            }
            return String(decoding: folded, as: UTF8.self)
        }
    }

    static func objects(_ ldif: String, file: StaticString = #filePath, line: UInt = #line) throws -> [DirectoryObject]
    {
        var objects: [DirectoryObject] = []
        try LDIFReader(bytes: Array(ldif.utf8), name: "fixture.ldif").forEachEntry { entry in
            if let object = DirectoryObject(entry: entry) { objects.append(object) }
        }
        return objects
    }

    static func object(_ ldif: String, file: StaticString = #filePath, line: UInt = #line) throws -> DirectoryObject {
        let objects = try objects(ldif)
        XCTAssertEqual(objects.count, 1, "expected one object", file: file, line: line)
        return try XCTUnwrap(objects.first, file: file, line: line)
    }

    static func context(_ configuration: AuditConfiguration = AuditConfiguration()) -> AuditContext {
        AuditContext(now: now, configuration: configuration, domain: "corp.example")
    }

    static func evaluate(
        _ rule: some AccountRule, _ ldif: String, configuration: AuditConfiguration = AuditConfiguration()
    ) throws -> [Finding] {
        var findings: [Finding] = []
        rule.evaluate(try object(ldif), in: context(configuration), into: &findings)
        return findings
    }

    /// Runs the whole audit over LDIF text, as the CLI does.
    static func audit(
        _ ldif: String, configuration: AuditConfiguration = AuditConfiguration(), inventory: Inventory? = nil
    ) throws -> AuditResult {
        var runner = AuditRunner(configuration: configuration, now: now, source: "fixture.ldif", inventory: inventory)
        try LDIFReader(bytes: Array(ldif.utf8), name: "fixture.ldif").forEachEntry { runner.add($0) }
        return runner.finish()
    }

    /// The repair text every Windows remediation carries, with the host and the `-Server` filled in.
    static func windowsRepair(host: String, server: String = "corp.example") -> String {
        """
        On \(host), as a local administrator: Test-ComputerSecureChannel -Verbose
        If it reports a broken channel: Test-ComputerSecureChannel -Repair -Credential (Get-Credential)
        or: Reset-ComputerMachinePassword -Server \(server) -Credential (Get-Credential)
        or (cmd.exe): netdom resetpwd /Server:\(server) /UserD:<domain admin> /PasswordD:*
        """
    }
}

extension Finding {
    /// The `details` as plain keys, for asserting their order.
    var detailKeys: [String] { details.map(\.key) }
}
