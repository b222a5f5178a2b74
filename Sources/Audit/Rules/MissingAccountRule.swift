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
    private var index: InventoryIndex
    private var found: [Bool]
    /// Items matched by a deleted account (and perhaps later by a live one): the latest deletion.
    private var deletedMatch: [Int32: DirectoryObject] = [:]

    /// Runs only when the audit was given an inventory.
    public init?(for audit: AuditInputs) {
        guard let inventory = audit.inventory else { return nil }
        self.init(inventory: inventory)
    }

    public init(inventory: Inventory) {
        self.inventory = inventory
        found = Array(repeating: false, count: inventory.items.count)
        index = InventoryIndex(inventory)
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
        index.collect(short, .name, into: &matched)
        if let cn = computer.commonName?.lowercased(), cn != short { index.collect(cn, .name, into: &matched) }
        for name in computer.additionalSamAccountNames {
            var key = name.lowercased()
            if key.utf8.last == UInt8(ascii: "$") { key.removeLast() }
            if key != short { index.collect(key, .name, into: &matched) }
        }
        func collectHost(_ host: String) {
            var fqdn = host.lowercased()
            while fqdn.utf8.last == UInt8(ascii: ".") { fqdn.removeLast() }
            index.collect(fqdn, .name, into: &matched)
            if let dot = fqdn.utf8.firstIndex(of: UInt8(ascii: ".")), fqdn[..<dot] != short {
                index.collect(String(fqdn[..<dot]), .name, into: &matched)
            }
        }
        if let host = computer.dnsHostName { collectHost(host) }
        for host in computer.additionalDnsHostNames { collectHost(host) }
        if computer.dnsHostName == nil { index.collect(short, .fqdnFirstLabel, into: &matched) }
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

/// The inventory's lookup keys to the items that use them: a name lower-cased without its `$`
/// (`.name`), and an FQDN item's first label (`.fqdnFirstLabel`).
///
/// Keys are kept as 64-bit hashes in flat slots (`WordSlots`) beside a list of items, not as a
/// dictionary of Strings: at a million inventory names the two dictionaries this replaces were
/// about 60 MB, most of it the Strings. A hash only finds candidates; each is checked against the
/// item's own key, so keys that share a hash never match each other's items.
private struct InventoryIndex {
    enum Kind: UInt8 {
        case name
        case fqdnFirstLabel
    }

    private let items: Inventory.Items
    private var words: [UInt64] = []
    /// Per slot, the items whose keys hash to its word: one item's index (>= 0), or `-1 - i` for
    /// the indexes in `shared[i]` (almost every key names one item).
    private var lists: [Int32] = []
    private var shared: [[Int32]] = []
    private var count = 0

    init(_ inventory: Inventory) {
        items = inventory.items
        for (position, item) in items.enumerated() {
            let key = Self.key(of: item)
            add(Int32(position), Self.word(key, .name))
            if let label = Self.firstLabel(of: key) { add(Int32(position), Self.word(label, .fqdnFirstLabel)) }
        }
    }

    /// An item's name as it is looked up: lower-cased, without a trailing `$`.
    static func key(of item: Inventory.Item) -> String {
        var key = item.name.lowercased()
        if key.utf8.last == UInt8(ascii: "$") { key.removeLast() }
        return key
    }

    /// The first label of an FQDN key; nil for a short name (or one that starts with a dot).
    static func firstLabel(of key: String) -> Substring? {
        guard let dot = key.utf8.firstIndex(of: UInt8(ascii: ".")), dot != key.startIndex else { return nil }
        return key[..<dot]
    }

    /// Never 0, which marks an empty slot: a hash of 0 shares 1's slot, which the check against the
    /// item's key makes harmless.
    private static func word(_ key: some StringProtocol, _ kind: Kind) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(kind.rawValue)
        hasher.combine(String(key))
        let word = UInt64(bitPattern: Int64(hasher.finalize()))
        return word == 0 ? 1 : word
    }

    private mutating func add(_ item: Int32, _ word: UInt64) {
        if WordSlots.isFull(count: count, capacity: words.count) { grow() }
        let slot = WordSlots.slot(of: word, in: words)
        guard words[slot] == word else {
            words[slot] = word
            lists[slot] = item
            count += 1
            return
        }
        let existing = lists[slot]
        if existing >= 0 {
            shared.append([existing, item])
            lists[slot] = -Int32(shared.count)
        } else {
            shared[Int(-1 - existing)].append(item)
        }
    }

    private mutating func grow() { WordSlots.grow(&words, &lists, empty: 0) }

    /// Appends the items whose `kind` key is `key` (lower-cased, as the item keys are).
    func collect(_ key: String, _ kind: Kind, into matched: inout [Int32]) {
        guard count > 0 else { return }
        let word = Self.word(key, kind)
        let slot = WordSlots.slot(of: word, in: words)
        guard words[slot] == word else { return }
        func check(_ item: Int32) {
            let itemKey = Self.key(of: items[Int(item)])
            let matches = kind == .name ? itemKey == key : Self.firstLabel(of: itemKey).map { $0 == key } ?? false
            if matches { matched.append(item) }
        }
        let list = lists[slot]
        if list >= 0 {
            check(list)
        } else {
            for item in shared[Int(-1 - list)] { check(item) }
        }
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
