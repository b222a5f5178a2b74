import Directory

/// Inventory names with no computer account: the machines that would fail to log on, or fail a
/// migration, because the domain has no account for them.
///
/// A name matches a computer's sAMAccountName (without `$`), cn, dNSHostName, or one of its
/// msDS-AdditionalSamAccountName (without `$`) or msDS-AdditionalDnsHostName values (the names a
/// rename or an alias left), case-insensitively. A short name also matches the first label of a host
/// name; an FQDN also matches the short name of a computer that has no dNSHostName at all. Deleted
/// and conflict objects never answer for a machine; a name only a deleted account matched says so.
public struct MissingAccountRule: CollectingRule {
    public static let description = RuleDescription(
        id: "missing-account",
        title: "Inventory machines without a computer account",
        rationale: """
            A machine whose computer object was deleted cannot log on to the domain: its users see "The security \
            database on the server does not have a computer account for this workstation trust relationship". \
            Checking the inventory before a migration lists exactly which machines would fail.
            """)

    public static let attributes = [
        "sAMAccountName", "cn", "dNSHostName", "msDS-AdditionalDnsHostName", "msDS-AdditionalSamAccountName",
        "whenChanged", "isDeleted", "lastKnownParent",
    ]

    static let inventoryFile = DetailColumn("inventoryFile", .string)
    static let inventoryLine = DetailColumn("inventoryLine", .integer)
    public static let detailColumns = [inventoryFile, inventoryLine]
    /// The account is the inventory name as written; there is no DN, since there is no account.
    public static let csvColumns: [RuleColumn] = [
        .account("inventoryName"), .detail(inventoryFile), .detail(inventoryLine), .severity, .message, .fix,
    ]

    private let inventory: Inventory
    /// Lower-cased lookup key to the inventory items that use it, as an `ItemList`.
    private var byName: [String: Int32] = [:]
    /// FQDN items by their first label, for computers without dNSHostName.
    private var byFQDNFirstLabel: [String: Int32] = [:]
    /// The lists of keys used by more than one item.
    private var sharedKeys: [[Int32]] = []
    private var found: [Bool]
    /// Items matched by a deleted account (and perhaps later by a live one): the latest deletion.
    private var deletedMatch: [Int32: DirectoryObject] = [:]

    /// Almost every key names one item, so a key maps to that item's index (>= 0) rather than to an
    /// array of one; a key used again maps to `-1 - i`, with the indexes in `sharedKeys[i]`.
    private typealias ItemList = Int32

    /// Runs only when the audit was given an inventory.
    public init?(for audit: AuditInputs) {
        guard let inventory = audit.inventory else { return nil }
        self.init(inventory: inventory)
    }

    public init(inventory: Inventory) {
        self.inventory = inventory
        found = Array(repeating: false, count: inventory.items.count)
        byName.reserveCapacity(inventory.items.count)
        for (index, item) in inventory.items.enumerated() {
            var key = item.name.lowercased()
            if key.utf8.last == UInt8(ascii: "$") { key.removeLast() }
            Self.add(Int32(index), to: &byName[key], shared: &sharedKeys)
            if let dot = key.utf8.firstIndex(of: UInt8(ascii: ".")), dot != key.startIndex {
                Self.add(Int32(index), to: &byFQDNFirstLabel[String(key[..<dot])], shared: &sharedKeys)
            }
        }
    }

    private static func add(_ index: Int32, to list: inout ItemList?, shared: inout [[Int32]]) {
        guard let existing = list else {
            list = index
            return
        }
        if existing >= 0 {
            shared.append([existing, index])
            list = -Int32(shared.count)
        } else {
            shared[Int(-1 - existing)].append(index)
        }
    }

    /// Marks the inventory names the account answers to (computer accounts only, excluded or not:
    /// an excluded machine still has its account).
    public mutating func add(_ account: AccountView, excluded: Bool) {
        add(account.object)
    }

    /// Marks the inventory names this computer account answers to; a deleted account only notes
    /// which names it would have answered, and a conflict object none.
    public mutating func add(_ computer: DirectoryObject) {
        guard computer.kind == .computer, !inventory.items.isEmpty, !computer.isConflictObject else { return }
        var matched: [Int32] = []
        let short = computer.shortName.lowercased()
        collect(byName[short], into: &matched)
        if let cn = computer.commonName?.lowercased(), cn != short { collect(byName[cn], into: &matched) }
        for name in computer.additionalSamAccountNames {
            var key = name.lowercased()
            if key.utf8.last == UInt8(ascii: "$") { key.removeLast() }
            if key != short { collect(byName[key], into: &matched) }
        }
        func collectHost(_ host: String) {
            var fqdn = host.lowercased()
            while fqdn.utf8.last == UInt8(ascii: ".") { fqdn.removeLast() }
            collect(byName[fqdn], into: &matched)
            if let dot = fqdn.utf8.firstIndex(of: UInt8(ascii: ".")), fqdn[..<dot] != short {
                collect(byName[String(fqdn[..<dot])], into: &matched)
            }
        }
        if let host = computer.dnsHostName { collectHost(host) }
        for host in computer.additionalDnsHostNames { collectHost(host) }
        if computer.dnsHostName == nil { collect(byFQDNFirstLabel[short], into: &matched) }
        if computer.isDeleted {
            for index in matched where deletedMatch[index].map({ Self.isLater(computer, than: $0) }) ?? true {
                deletedMatch[index] = computer
            }
        } else {
            for index in matched { found[Int(index)] = true }
        }
    }

    /// Whether `deleted` was deleted after `other` (an unknown time counts as earliest).
    private static func isLater(_ deleted: DirectoryObject, than other: DirectoryObject) -> Bool {
        (deleted.whenChanged ?? .distantPast) > (other.whenChanged ?? .distantPast)
    }

    private func collect(_ list: ItemList?, into matched: inout [Int32]) {
        guard let list else { return }
        if list >= 0 {
            matched.append(list)
        } else {
            matched += sharedKeys[Int(-1 - list)]
        }
    }

    public func findings(in context: AuditContext) -> [Finding] {
        var findings: [Finding] = []
        var reported: Set<String> = []
        for (index, item) in inventory.items.enumerated() where !found[index] {
            // A name listed twice is one missing machine.
            guard reported.insert(item.name.lowercased()).inserted else { continue }
            findings.append(
                Finding(
                    rule: Self.description.id,
                    severity: context.configuration.severity(for: Self.description.id, default: .high),
                    account: item.name,
                    distinguishedName: nil,
                    message: .missing(
                        item, inventory: inventory.source, domain: context.domain, deleted: deletedMatch[Int32(index)]),
                    remediation: .recreate(item, deleted: deletedMatch[Int32(index)] != nil, in: context),
                    details: [
                        (Self.inventoryFile.key, .string(inventory.source)),
                        (Self.inventoryLine.key, .integer(Int64(item.line))),
                    ]))
        }
        return findings
    }
}

extension String {
    fileprivate static func missing(
        _ item: Inventory.Item, inventory: String, domain: String?, deleted: DirectoryObject?
    ) -> String {
        let why = deleted.map { ": its account was deleted \(String.deletion($0)); see deleted-account" } ?? ""
        return
            "\(item.name) (\(inventory) line \(item.line)) has no computer account in \(domain ?? "the domain")\(why): it cannot log on to the domain (\"The security database on the server does not have a computer account for this workstation trust relationship\")."
    }

    fileprivate static func recreate(_ item: Inventory.Item, deleted: Bool, in context: AuditContext) -> String {
        let short = item.name.split(separator: ".").first.map(String.init) ?? item.name
        let server = context.knownServer
        let join = Remediation.command(.powerShell, tool: "Add-Computer") { writer throws(UnwritableValue) in
            "Add-Computer -DomainName \(try writer.domain(context.domain)) -Credential (Get-Credential) -Restart"
        }
        let create = Remediation.command(.powerShell, tool: "New-ADComputer") { writer throws(UnwritableValue) in
            let name = try writer.quoted(short, "inventory name")
            var create = "New-ADComputer -Name \(name) -SamAccountName \(name)"
            if item.name.contains(".") { create += " -DNSHostName \(try writer.quoted(item.name, "inventory name"))" }
            return create + " -Path '<OU distinguished name>' -Server \(try writer.server(server))"
        }
        let restore = deleted ? "Its deleted account may be restored instead; see the deleted-account finding.\n" : ""
        return restore + """
            If the machine is still in service, rejoin it (\(join)), \
            or recreate its account and repair the channel from the machine:
              \(create)
              then on the machine: Test-ComputerSecureChannel -Repair -Credential (Get-Credential)
            If it was decommissioned, remove it from the inventory.
            """
    }
}
