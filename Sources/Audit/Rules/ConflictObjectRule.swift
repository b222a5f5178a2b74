import Codecs
import Directory

/// Replication conflict objects: a computer two domain controllers created at once, which AD kept as
/// the loser (`CN=PC7\0ACNF:<guid>`, or a sAMAccountName renamed to `$DUPLICATE-<hex>`).
///
/// The rule keeps the conflict objects themselves (there are few) and, of every live computer, only
/// two 64-bit keyed fingerprints (its DN, and its cn in its domain), so the live twin is found
/// whichever of the two the export gives first.
public struct ConflictObjectRule: ObjectCollectingRule {
    public static let description = RuleDescription(
        id: "conflict-object",
        title: "Replication conflict objects",
        rationale: """
            When two domain controllers create the same computer before replicating, AD keeps one object and \
            renames the other (CN=PC7\\0ACNF:<guid>, sAMAccountName $DUPLICATE-<hex>). A machine whose join wrote \
            its password to the loser can no longer log on under its own name, and the loser's SPNs duplicate \
            the winner's; it has to be checked against its twin, then deleted.
            """)

    public static let attributes = [
        "sAMAccountName", "cn", "whenCreated", "pwdLastSet", "servicePrincipalName", "objectGUID",
    ]

    static let whenCreated = DetailColumn("whenCreated", .timestamp)
    static let pwdLastSet = DetailColumn("pwdLastSet", .timestamp)
    /// The live twin: its DN, or its name when it lives in another container; null when none was read.
    static let twin = DetailColumn("twin", .string)
    static let spns = DetailColumn("spns", .strings)
    public static let detailColumns = [whenCreated, pwdLastSet, twin, spns]

    /// What a finding needs of one conflict object.
    struct Conflict {
        let object: DirectoryObject
        let excluded: Bool
        /// The name before `\0ACNF:` (or the cn of a `$DUPLICATE-` object).
        let name: String
        /// `CN=<name>,<parent>`: the twin in the same container; nil for a `$DUPLICATE-` object whose RDN
        /// is its own.
        let twinDN: String?
    }

    private var conflicts: [Conflict] = []
    private var live = NameSet()
    /// The normalized DN being hashed (one buffer, not a String per computer).
    private var scratch: [UInt8] = []

    public init() {}

    public mutating func add(_ object: DirectoryObject, excluded: Bool) {
        guard object.kind == .computer, !object.isDeleted else { return }
        let domain = NameSet.domainKey(of: object.distinguishedName)
        guard object.isConflictObject else {
            AccountKeys.normalize(object.distinguishedName, into: &scratch)
            live.insert(tag: 1, bytes: scratch)
            if let cn = object.commonName ?? Self.rdnValue(of: object.distinguishedName)?.value {
                live.insert(tag: 2, domain, cn.lowercased())
            }
            return
        }
        if let rdn = Self.rdnValue(of: object.distinguishedName), let name = Self.beforeConflictMark(rdn.value) {
            conflicts.append(
                Conflict(
                    object: object, excluded: excluded, name: name,
                    twinDN: "\(rdn.attribute)=\(name)" + (rdn.parent.map { "," + $0 } ?? "")))
        } else {
            let name = object.commonName ?? Self.rdnValue(of: object.distinguishedName)?.value ?? object.shortName
            conflicts.append(Conflict(object: object, excluded: excluded, name: name, twinDN: nil))
        }
    }

    /// The first RDN's attribute and value, and the parent DN; nil for a DN without `=`.
    static func rdnValue(of dn: String) -> (attribute: Substring, value: String, parent: String?)? {
        let rdns = DistinguishedName.relativeNames(of: dn)
        guard let first = rdns.first, let equals = first.firstIndex(of: "=") else { return nil }
        let parent = rdns.count > 1 ? rdns.dropFirst().joined(separator: ",") : nil
        return (first[..<equals], String(first[first.index(after: equals)...]), parent)
    }

    /// `PC7` from `PC7\0ACNF:7a1e...` (escaped as in an LDIF DN, or with the line feed decoded); nil
    /// when `value` has no conflict mark.
    static func beforeConflictMark(_ value: String) -> String? { name(value, beforeMark: "cnf") }

    /// The name an RDN value held before AD mangled it with the line feed and `tag` (`cnf` for a
    /// conflict, `del` for a deletion), the line feed escaped (`\0A`) or decoded; nil without the mark.
    static func name(_ value: String, beforeMark tag: String) -> String? {
        for mark in ["\\0a\(tag):", "\n\(tag):"] {
            if let range = value.range(of: mark, options: .caseInsensitive) {
                return String(value[..<range.lowerBound])
            }
        }
        return nil
    }

    public func findings(in context: AuditContext) -> [Finding] {
        conflicts.filter { !$0.excluded }.map { conflict in
            let object = conflict.object
            let domain = NameSet.domainKey(of: object.distinguishedName)
            let twin: Twin
            if let dn = conflict.twinDN, live.contains(tag: 1, bytes: NameSet.normalized(dn)) {
                twin = .sameContainer(dn)
            } else if live.contains(tag: 2, domain, conflict.name.lowercased()) {
                twin = .named(conflict.name)
            } else {
                twin = .none
            }
            var details: [(key: String, value: DetailValue)] = []
            if let created = object.whenCreated {
                details.append((Self.whenCreated.key, .string(UTCTime.timestamp(created))))
            }
            if let password = object.passwordLastSet {
                details.append((Self.pwdLastSet.key, AuditContext.timeDetail(password)))
            }
            details.append((Self.twin.key, twin.detail))
            details.append((Self.spns.key, .strings(object.servicePrincipalNames.map(\.value))))
            return Finding(
                rule: Self.description.id,
                severity: context.configuration.severity(for: Self.description.id, default: .medium),
                account: object.accountName,
                distinguishedName: object.distinguishedName,
                message: .conflict(object, name: conflict.name, twin: twin),
                remediation: .resolveConflict(object, twin: twin, in: context),
                details: details)
        }
    }

    /// The live object the conflict object lost to.
    enum Twin {
        /// `CN=PC7,<the conflict object's container>` is in the export.
        case sameContainer(String)
        /// A live computer with this cn is in the domain, in another container.
        case named(String)
        case none

        var detail: DetailValue {
            switch self {
            case .sameContainer(let dn): return .string(dn)
            case .named(let name): return .string(name)
            case .none: return .null
            }
        }
    }
}

/// 64-bit keyed fingerprints of names, in 256 partitions (a resize copies 1/256 of them): what the
/// deleted-account and conflict-object rules keep of every live computer. Two different names share
/// a fingerprint about once in 2^64 / (names × lookups) audits; the per-process random key means
/// nobody who writes a name into AD can make one on purpose.
///
/// Each partition is a flat open-addressing table of the fingerprints grown by half (a `Set<UInt64>`
/// per partition kept about 20 bytes a name and, doubling, sometimes twice the slots it needed).
struct NameSet {
    private var partitions = [Partition](repeating: Partition(), count: 256)
    /// The fingerprint an empty slot cannot hold (0), when a name gives it.
    private var holdsZero = false
    private let seed = UInt64.random(in: .min ... .max)

    /// The fingerprints (`WordSlots`).
    private struct Partition {
        var keys: [UInt64] = []
        var count = 0

        mutating func insert(_ key: UInt64) {
            if WordSlots.isFull(count: count, capacity: keys.count) { grow() }
            let index = WordSlots.slot(of: key, in: keys)
            if keys[index] == 0 {
                keys[index] = key
                count += 1
            }
        }

        func contains(_ key: UInt64) -> Bool {
            !keys.isEmpty && keys[WordSlots.slot(of: key, in: keys)] == key
        }

        private mutating func grow() {
            let old = keys
            keys = [UInt64](repeating: 0, count: WordSlots.grown(old.count))
            for key in old where key != 0 { keys[WordSlots.slot(of: key, in: keys)] = key }
        }
    }

    private mutating func insert(_ key: UInt64) {
        if key == 0 {
            holdsZero = true
        } else {
            partitions[Int(truncatingIfNeeded: key >> 56)].insert(key)
        }
    }

    private func contains(_ key: UInt64) -> Bool {
        key == 0 ? holdsZero : partitions[Int(truncatingIfNeeded: key >> 56)].contains(key)
    }

    mutating func insert(tag: UInt8, bytes: [UInt8]) {
        insert(fingerprint(tag, bytes: bytes))
    }

    func contains(tag: UInt8, bytes: [UInt8]) -> Bool {
        contains(fingerprint(tag, bytes: bytes))
    }

    private func fingerprint(_ tag: UInt8, bytes: [UInt8]) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(seed)
        hasher.combine(tag)
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        return UInt64(bitPattern: Int64(hasher.finalize()))
    }

    mutating func insert(tag: UInt8, _ parts: String...) {
        insert(fingerprint(tag, parts))
    }

    func contains(tag: UInt8, _ parts: String...) -> Bool {
        contains(fingerprint(tag, parts))
    }

    private func fingerprint(_ tag: UInt8, _ parts: [String]) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(seed)
        hasher.combine(tag)
        for part in parts { hasher.combine(part) }
        return UInt64(bitPattern: Int64(hasher.finalize()))
    }

    /// A DN's bytes as AD compares DNs (`AccountKeys.normalize`).
    static func normalized(_ dn: String) -> [UInt8] {
        var bytes: [UInt8] = []
        AccountKeys.normalize(dn, into: &bytes)
        return bytes
    }

    /// What names a DN's domain in a key: its DC= components from the first one on, lower-cased
    /// (`dc=corp,dc=example`); empty when it has none. Cheaper than the DNS name, and the same for
    /// a live computer and a deleted or conflict object of its domain.
    static func domainKey(of dn: String) -> String {
        var dn = dn
        return dn.withUTF8 { bytes -> String in
            var escaped = false
            for index in bytes.indices {
                let byte = bytes[index]
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: ","), index + 3 < bytes.count,
                    ASCII.lowercased(bytes[index + 1]) == UInt8(ascii: "d"),
                    ASCII.lowercased(bytes[index + 2]) == UInt8(ascii: "c"), bytes[index + 3] == UInt8(ascii: "=")
                {
                    let rest = UnsafeBufferPointer(rebasing: bytes[(index + 1)...])
                    // Bytewise for ASCII (every real domain), written straight into the String's
                    // storage; Unicode case folding otherwise.
                    for byte in rest where byte >= 0x80 { return String(decoding: rest, as: UTF8.self).lowercased() }
                    return String(unsafeUninitializedCapacity: rest.count) { buffer in
                        for offset in 0..<rest.count { buffer[offset] = ASCII.lowercased(rest[offset]) }
                        return rest.count
                    }
                }
            }
            return ""
        }
    }
}

extension String {
    fileprivate static func conflict(_ object: DirectoryObject, name: String, twin: ConflictObjectRule.Twin) -> String {
        let created = object.whenCreated.map { "created \(UTCTime.day($0))" } ?? "whenCreated unknown"
        let password = object.passwordLastSet.map { "pwdLastSet \(AuditContext.day($0))" } ?? "no pwdLastSet"
        let twinText: String
        switch twin {
        case .sameContainer(let dn): twinText = "its live twin is \(dn)"
        case .named(let name): twinText = "its live twin is the computer named \(name) in another container"
        case .none: twinText = "no live twin in this export"
        }
        let spns = object.servicePrincipalNames.map(\.value)
        let spnText: String
        if spns.isEmpty {
            spnText = "It holds no SPNs."
        } else {
            let shown = spns.prefix(3).joined(separator: ", ") + (spns.count > 3 ? " and \(spns.count - 3) more" : "")
            spnText = "It holds \(spns.count) SPN(s) (\(shown)), which duplicate the twin's if it holds them too."
        }
        return
            "\(object.accountName) (\(created), \(password)) is a replication conflict object for \(name): two domain controllers created it at once and AD kept it as the loser; \(twinText). \(spnText) If the machine's join wrote its password here, it cannot log on under its own name."
    }

    fileprivate static func resolveConflict(
        _ object: DirectoryObject, twin: ConflictObjectRule.Twin, in context: AuditContext
    ) -> String {
        let server = context.knownServer(for: object)
        func get(_ identity: String, _ attribute: String) -> String {
            Remediation.command(.powerShell, tool: "Get-ADComputer") { writer throws(UnwritableValue) in
                "Get-ADComputer -Identity \(try writer.quoted(identity, attribute)) -Properties whenCreated,pwdLastSet,servicePrincipalName -Server \(try writer.server(server))"
            }
        }
        let conflict =
            object.objectGUID.map { get($0.description, "objectGUID") }
            ?? get(object.distinguishedName, "distinguishedName")
        let remove = Remediation.command(.powerShell, tool: "Remove-ADObject") { writer throws(UnwritableValue) in
            "Remove-ADObject -Identity \(try writer.quoted(object.distinguishedName, "distinguishedName")) -Server \(try writer.server(server))"
        }
        var lines = ["Compare the conflict object with its twin: \(conflict)"]
        switch twin {
        case .sameContainer(let dn): lines.append("  and the twin: \(get(dn, "distinguishedName"))")
        case .named(let name): lines.append("  and the twin: \(get(name, "cn"))")
        case .none:
            lines.append("  No twin was in this export; look for it in the domain before deleting anything.")
        }
        lines += [
            "If the twin has the newer pwdLastSet (the machine uses it), delete the conflict object: \(remove)",
            "If the conflict object has the newer pwdLastSet, the machine joined to it: delete it all the same, then reset the machine's password into the twin:",
            "  "
                + Remediation.indentingContinuationLines(
                    Remediation.repairSecureChannel(RemediationSubject.about(twinObject(object, twin), in: context)),
                    with: "  "),
        ]
        return lines.joined(separator: "\n")
    }

    /// The machine the conflict object stands for, as the secure-channel repair names it.
    private static func twinObject(_ object: DirectoryObject, _ twin: ConflictObjectRule.Twin) -> DirectoryObject {
        var machine = object
        if case .sameContainer(let dn) = twin { machine.distinguishedName = dn }
        if object.isConflictObject && object.samAccountName.hasPrefix("$DUPLICATE-") { machine.samAccountName = "" }
        machine.commonName =
            ConflictObjectRule.rdnValue(of: object.distinguishedName).flatMap {
                ConflictObjectRule.beforeConflictMark($0.value)
            } ?? object.commonName
        return machine
    }
}
