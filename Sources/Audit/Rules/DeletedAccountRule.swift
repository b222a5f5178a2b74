import Directory

/// Deleted computer accounts (tombstones and Recycle Bin objects), from exports made with the Show
/// Deleted control: a machine whose account is gone can no longer log on.
///
/// High when nothing live took its place (no live computer holds its name in its domain): the
/// machine may still be in use, and the message says when the inventory still lists it. Low when a
/// live account of the same name replaced it, inventory or not: that account answers for the name
/// (missing-account is silent), and the deleted object is leftover.
/// It keeps the deleted objects (few) and, of every live computer, only 64-bit keyed fingerprints of
/// its names (`NameSet`), so the order of the export does not matter.
public struct DeletedAccountRule: CollectingRule {
    public static let description = RuleDescription(
        id: "deleted-account",
        title: "Deleted computer accounts",
        rationale: """
            A machine whose computer object was deleted cannot log on to the domain ("The security database on \
            the server does not have a computer account for this workstation trust relationship"). With the \
            Recycle Bin the object comes back whole, password included; a tombstone comes back without a \
            password, so the machine has to be rejoined.
            """)

    public static let attributes = [
        "sAMAccountName", "cn", "dNSHostName", "msDS-AdditionalSamAccountName", "whenChanged", "isDeleted",
        "isRecycled", "lastKnownParent", "mS-DS-CreatorSID", "objectGUID", "operatingSystem",
    ]

    /// whenChanged: for a deleted object, when it was deleted.
    static let deleted = DetailColumn("deleted", .timestamp)
    static let lastKnownParent = DetailColumn("lastKnownParent", .string)
    static let isRecycled = DetailColumn("isRecycled", .bool)
    static let creatorSID = DetailColumn("creatorSID", .string)
    /// The name a live computer account now holds, when one replaced it.
    static let replacedBy = DetailColumn("replacedBy", .string)
    static let inventoryLine = DetailColumn("inventoryLine", .integer)
    public static let detailColumns = [deleted, lastKnownParent, isRecycled, creatorSID, replacedBy, inventoryLine]

    private struct Deleted {
        let object: DirectoryObject
        let excluded: Bool
        /// Its short names, lower-cased: the RDN before `\0ADEL:` and the sAMAccountName without `$`.
        let names: [String]
    }

    private var deletedObjects: [Deleted] = []
    private var live = NameSet()
    private let inventory: Inventory?

    public init(inventory: Inventory? = nil) {
        self.inventory = inventory
    }

    /// Runs in every audit; the inventory, when given, tells which deleted machines are still expected.
    public init?(for audit: AuditInputs) {
        self.init(inventory: audit.inventory)
    }

    public mutating func add(_ account: AccountView, excluded: Bool) {
        add(account.object, excluded: excluded)
    }

    public mutating func add(_ object: DirectoryObject, excluded: Bool) {
        guard object.kind == .computer else { return }
        let domain = NameSet.domainKey(of: object.distinguishedName)
        if object.isDeleted {
            deletedObjects.append(Deleted(object: object, excluded: excluded, names: Self.names(ofDeleted: object)))
            return
        }
        guard !object.isConflictObject else { return }
        let short = Self.withoutDollar(object.shortName)
        if !short.isEmpty { live.insert(tag: 1, domain, short) }
        if let cn = object.commonName?.lowercased(), cn != short, !cn.isEmpty { live.insert(tag: 1, domain, cn) }
        for name in object.additionalSamAccountNames {
            let alias = Self.withoutDollar(name)
            if !alias.isEmpty && alias != short { live.insert(tag: 1, domain, alias) }
        }
    }

    /// The RDN value before `\0ADEL:` and the sAMAccountName without `$`, lower-cased, each once.
    static func names(ofDeleted object: DirectoryObject) -> [String] {
        var names: [String] = []
        if let rdn = ConflictObjectRule.rdnValue(of: object.distinguishedName),
            let name = ConflictObjectRule.name(rdn.value, beforeMark: "del")
        {
            names.append(name.lowercased())
        }
        let account = withoutDollar(object.samAccountName)
        if !account.isEmpty && !names.contains(account) { names.append(account) }
        return names
    }

    private static func withoutDollar(_ name: String) -> String {
        var name = name.lowercased()
        if name.hasSuffix("$") { name.removeLast() }
        return name
    }

    /// The inventory's first item per name the deleted objects could be listed under (lower-cased,
    /// without `$`), and per FQDN item's first label.
    ///
    /// Worked out once, in `findings(in:)`, for the few names asked: an index of the whole inventory
    /// kept through the audit cost about 50 MB at a million names, for the handful of deletions a
    /// domain shows.
    struct InventoryMatches {
        var byName: [String: Int] = [:]
        var byFirstLabel: [String: Int] = [:]

        init() {}

        init(_ inventory: Inventory, wanted: Set<String>) {
            guard !wanted.isEmpty else { return }
            for (index, item) in inventory.items.enumerated() {
                var key = item.name.lowercased()
                if key.utf8.last == UInt8(ascii: "$") { key.removeLast() }
                if wanted.contains(key), byName[key] == nil { byName[key] = index }
                if let dot = key.utf8.firstIndex(of: UInt8(ascii: ".")), dot != key.startIndex {
                    let label = String(key[..<dot])
                    if wanted.contains(label), byFirstLabel[label] == nil { byFirstLabel[label] = index }
                }
            }
        }
    }

    /// What a deleted machine is looked up by in the inventory, in the order tried: items named by
    /// its short names, its dNSHostName or that name's first label; without a dNSHostName, FQDN
    /// items whose first label is one of its short names.
    struct LookupNames {
        var itemNames: [String]
        var firstLabels: [String] = []

        init(of object: DirectoryObject, names: [String]) {
            guard let fqdn = object.dnsHostName.map({ DuplicateHostnameRule.normalizedHost($0) }) else {
                itemNames = names
                firstLabels = names
                return
            }
            itemNames = names + [fqdn]
            if let dot = fqdn.utf8.firstIndex(of: UInt8(ascii: ".")) { itemNames.append(String(fqdn[..<dot])) }
        }

        var all: [String] { itemNames + firstLabels }
    }

    /// The inventory item naming a deleted machine: the first that `lookup` finds.
    func inventoryItem(naming lookup: LookupNames, in matches: InventoryMatches) -> Inventory.Item? {
        guard let inventory else { return nil }
        let found =
            lookup.itemNames.lazy.compactMap { matches.byName[$0] }.first
            ?? lookup.firstLabels.lazy.compactMap { matches.byFirstLabel[$0] }.first
        return found.map { inventory.items[$0] }
    }

    public func findings(in context: AuditContext) -> [Finding] {
        let reported = deletedObjects.filter { !$0.excluded }
        let lookups = reported.map { LookupNames(of: $0.object, names: $0.names) }
        let matches =
            inventory.map { InventoryMatches($0, wanted: Set(lookups.flatMap(\.all))) } ?? InventoryMatches()
        return zip(reported, lookups).map { deleted, lookup in
            let object = deleted.object
            let domain = NameSet.domainKey(of: object.distinguishedName)
            let replacement = deleted.names.first { live.contains(tag: 1, domain, $0) }
            let listed = inventoryItem(naming: lookup, in: matches)
            var details: [(key: String, value: DetailValue)] = []
            if let changed = object.whenChanged {
                details.append((Self.deleted.key, .string(UTCTime.timestamp(changed))))
            }
            if let parent = object.lastKnownParent { details.append((Self.lastKnownParent.key, .string(parent))) }
            details.append((Self.isRecycled.key, .bool(object.isRecycled)))
            if let sid = object.creatorSID { details.append((Self.creatorSID.key, .string(sid))) }
            if let replacement { details.append((Self.replacedBy.key, .string(replacement))) }
            if let listed { details.append((Self.inventoryLine.key, .integer(Int64(listed.line)))) }
            return Finding(
                rule: Self.description.id,
                severity: context.configuration.severity(
                    for: Self.description.id, default: replacement == nil ? .high : .low),
                account: object.accountName,
                distinguishedName: object.distinguishedName,
                message: .deleted(
                    object, replacement: replacement, listed: listed, inventory: inventory?.source,
                    recycleBin: context.recycleBinEnabled),
                remediation: .restore(object, replacement: replacement, in: context),
                details: details)
        }
    }
}

extension String {
    /// `2026-11-20 from OU=Workstations,DC=corp,DC=example`, as both deleted-account and
    /// missing-account say when and where an account was deleted.
    static func deletion(_ object: DirectoryObject) -> String {
        let when = object.whenChanged.map { "on \(UTCTime.day($0))" } ?? "on an unknown date"
        return when + (object.lastKnownParent.map { " from \($0)" } ?? "")
    }

    fileprivate static func deleted(
        _ object: DirectoryObject, replacement: String?, listed: Inventory.Item?, inventory: String?,
        recycleBin: Bool?
    ) -> String {
        var text = "Computer account \(object.accountName) was deleted \(deletion(object))"
        if object.isRecycled {
            text += " and is already recycled (isRecycled): the Recycle Bin can no longer restore it"
        }
        text += "."
        switch recycleBin {
        case true?: text += " The Recycle Bin is enabled."
        case false?: text += " The Recycle Bin is not enabled: a restore brings the account back without its password."
        case nil: break
        }
        if let listed, let inventory { text += " The inventory still lists it (\(inventory) line \(listed.line))." }
        if let replacement {
            text +=
                " A live computer account now holds the name \(replacement): the deleted one is leftover, unless the machine still uses it."
        } else {
            text +=
                " No live computer account holds its name: if the machine is still in use, it cannot log on (\"The security database on the server does not have a computer account for this workstation trust relationship\")."
        }
        if let sid = object.creatorSID {
            text += " It was created by \(sid) (mS-DS-CreatorSID: a user joined it with ms-DS-MachineAccountQuota)."
        }
        return text
    }

    fileprivate static func restore(_ object: DirectoryObject, replacement: String?, in context: AuditContext) -> String
    {
        let server = context.knownServer(for: object)
        let subject = RemediationSubject.about(machine(object), in: context)
        let repair = Remediation.repairSecureChannel(subject)
        if let replacement {
            return """
                Nothing to restore: the live account named \(Remediation.prose(replacement)) took its place (a restore would clash with it), and the deleted object goes when its lifetime ends.
                If the machine still fails to log on, reset its password into the live account:
                  \(Remediation.indentingContinuationLines(repair, with: "  "))
                """
        }
        let restore = Remediation.command(.powerShell, tool: "Restore-ADObject") { writer throws(UnwritableValue) in
            let identity: String
            if let guid = object.objectGUID {
                identity = try writer.quoted(guid.description, "objectGUID")
            } else {
                identity = try writer.quoted(object.distinguishedName, "distinguishedName")
            }
            return "Restore-ADObject -Identity \(identity) -Server \(try writer.server(server))"
        }
        let name = machine(object).shortName
        let create = Remediation.command(.powerShell, tool: "New-ADComputer") { writer throws(UnwritableValue) in
            let quoted = try writer.quoted(name, "sAMAccountName")
            var path = "'<OU distinguished name>'"
            if let parent = object.lastKnownParent { path = try writer.quoted(parent, "lastKnownParent") }
            return
                "New-ADComputer -Name \(quoted) -SamAccountName \(quoted) -Path \(path) -Server \(try writer.server(server))"
        }
        let join = Remediation.command(.powerShell, tool: "Add-Computer") { writer throws(UnwritableValue) in
            "Add-Computer -DomainName \(try writer.domain(context.domain(of: object))) -Credential (Get-Credential) -Restart"
        }
        let rejoin = """
            give the machine a new account (a restored tombstone has no password): recreate it and reset the machine's password into it:
              \(create)
              then on \(Remediation.prose(subject.host)), as a local administrator: Test-ComputerSecureChannel -Repair -Credential (Get-Credential)
              or rejoin the machine: move it to a workgroup, restart, then: \(join)
              The new account has a new SID: give it back its group memberships.
            """
        // A live read knows whether the Recycle Bin is on: then only the way back that applies.
        if object.isRecycled || context.recycleBinEnabled == false {
            return "If the machine is still in use, " + rejoin + "\nIf it was retired, nothing needs doing."
        }
        if context.recycleBinEnabled == true {
            return """
                If the machine is still in use: \(restore)
                  It returns to its lastKnownParent with its password, SID and group memberships (if that OU was deleted too, restore it first, or add -TargetPath '<OU distinguished name>'). Then:
                  \(Remediation.indentingContinuationLines(repair, with: "  "))
                If it was retired, nothing needs doing.
                """
        }
        return """
            If the machine is still in use and the Recycle Bin is enabled: \(restore)
              It returns to its lastKnownParent with its password, SID and group memberships (if that OU was deleted too, restore it first, or add -TargetPath '<OU distinguished name>'). Then:
              \(Remediation.indentingContinuationLines(repair, with: "  "))
            Otherwise (no Recycle Bin), \(rejoin)
            If it was retired, nothing needs doing.
            """
    }

    /// The machine a deleted object stands for, under the names it had before it was deleted.
    private static func machine(_ object: DirectoryObject) -> DirectoryObject {
        var machine = object
        if machine.samAccountName.isEmpty, let rdn = ConflictObjectRule.rdnValue(of: object.distinguishedName) {
            for mark in ["\\0ADEL:", "\nDEL:"] {
                if let range = rdn.value.range(of: mark, options: .caseInsensitive) {
                    machine.commonName = String(rdn.value[..<range.lowerBound])
                }
            }
        }
        return machine
    }
}
