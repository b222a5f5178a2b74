import Directory

/// Finds SPNs held by two or more objects of any kind, as `setspn -X` does.
///
/// This is the one rule that needs the whole domain before it can speak, so its memory is what
/// the audit's memory grows with. It keeps, per SPN, a 128-bit keyed fingerprint of the lower-cased
/// SPN and the index of its first holder, and per holder only its name and DN in one byte arena;
/// no SPN text is kept unless a second holder turns up. The fingerprints come from the standard
/// library's per-process randomly keyed SipHash, so nobody who can write an SPN into AD can forge a
/// collision that makes two different SPNs look the same.
///
/// The first-holder table is the bulk of that memory (millions of SPNs), so it is kept compact: 96
/// bits of the fingerprint and the holder in 16 bytes per slot (see `FirstHolderTable`), split into
/// partitions that grow one at a time, so the table never briefly needs its old and new storage at once.
public struct DuplicateSPNRule: ObjectCollectingRule {
    public static let description = RuleDescription(
        id: "duplicate-spn",
        title: "Duplicate service principal names",
        rationale: """
            When the same SPN is registered on two objects, the KDC cannot tell which account's key to use and \
            Kerberos to that service fails (the DC logs Event 2974, "The attribute value provided is not unique \
            in the forest or partition"). It often follows a cloned machine or a computer added twice with the \
            same host name.
            """)

    public static let attributes = ["servicePrincipalName", "sAMAccountName", "objectGUID"]

    /// The SPN as this holder spells it; what identifies the finding across runs (case-insensitively).
    public static let spn = DetailColumn("spn", .string)
    static let otherHolders = DetailColumn("otherHolders", .strings)
    static let otherHolderDNs = DetailColumn("otherHolderDNs", .strings)
    public static let detailColumns = [spn, otherHolders, otherHolderDNs]
    public static let csvColumns: [RuleColumn] = [
        .detail(spn), .account("account"), .distinguishedName, .severity, .detail(otherHolders),
        .detail(otherHolderDNs), .message, .fix,
    ]
    public static var identity: DetailColumn? { spn }

    private var firstHolder = FirstHolderTable()
    /// Only for SPNs with a second holder: every holder and the spelling each one used.
    private var shared: [Fingerprint: [(holder: UInt32, spelling: String)]] = [:]
    private var holders = HolderTable()
    private let seeds = Fingerprint.Seeds()

    public init() {}

    /// Records every SPN of `object`, as `add(_:excluded:)` does for an account view.
    ///
    /// Holders are told apart by who they are (objectGUID, else the DN as AD compares it), not by
    /// the order they came in: the same account given twice holds its SPNs once, and is never
    /// reported as a duplicate of itself.
    ///
    /// A deleted object (a Recycle Bin object keeps its SPNs) or a replication conflict object holds
    /// nothing here: the KDC does not find them, and the conflict-object rule reports them.
    public mutating func add(_ object: DirectoryObject, excluded: Bool) {
        guard !object.servicePrincipalNames.isEmpty, !object.isDeleted, !object.isConflictObject else { return }
        let holder = holders.append(
            name: object.accountName, distinguishedName: object.distinguishedName, guid: object.objectGUID,
            excluded: excluded, isComputer: object.kind == .computer)
        for spn in object.servicePrincipalNames {
            let fingerprint = Fingerprint(spn.normalized, seeds: seeds)
            if let first = firstHolder.firstHolder(of: fingerprint, recordingIfNew: holder) {
                guard first != holder else { continue }  // the same SPN twice on one object
                // Compared only when an SPN is seen again, which is rare: a duplicate, or a repeat.
                if holders.isSameAccount(first, holder) { continue }
                if shared[fingerprint] == nil {
                    // The first holder's spelling was not kept; until proven otherwise it is this one (AD
                    // compares case-insensitively, and setspn accepts either).
                    shared[fingerprint] = [(first, spn.value)]
                }
                if !shared[fingerprint]!.contains(where: { holders.isSameAccount($0.holder, holder) }) {
                    shared[fingerprint]!.append((holder, spn.value))
                }
            }
        }
    }

    /// Holders seen so far (objects with at least one SPN).
    public var holderCount: Int { holders.count }

    /// One finding per non-excluded holder of each shared SPN, but for SPNs shared by design.
    ///
    /// Each domain's krbtgt, and each RODC's `krbtgt_NNNNN`, holds `kadmin/changepw`, which every
    /// realm resolves within itself: such a holder gets no finding, and counts as another holder
    /// only for an account of its own domain. SPNs the configuration lists
    /// (`duplicateSPNExclusions`) are not reported at all.
    public func findings(in context: AuditContext) -> [Finding] {
        var findings: [Finding] = []
        let exclusions = context.configuration.duplicateSPNExclusions
        // Each holder of a shared SPN read back once, however many SPNs it shares.
        var read: [UInt32: HolderTable.Holder] = [:]
        for entries in shared.values {
            for entry in entries where read[entry.holder] == nil { read[entry.holder] = holders.holder(entry.holder) }
        }
        for (_, entries) in shared {
            if !exclusions.isEmpty {
                let spn = ServicePrincipalName(entries[0].spelling)
                if exclusions.contains(where: { $0.matches(spn) }) { continue }
            }
            let sorted = entries.map { (holder: read[$0.holder]!, spelling: $0.spelling) }.sorted {
                $0.holder.name.lowercased() < $1.holder.name.lowercased()
            }
            let byDesign = sorted.map { Self.isSharedByDesign($0.spelling, holder: $0.holder.name) }
            for (index, entry) in sorted.enumerated() where !entry.holder.isExcluded && !byDesign[index] {
                let dn = entry.holder.distinguishedName
                let domain = DistinguishedName.domainDNSName(of: dn)
                let others = sorted.indices.filter { other in
                    other != index
                        && (!byDesign[other]
                            || DistinguishedName.domainDNSName(of: sorted[other].holder.distinguishedName) == domain)
                }.map { sorted[$0] }
                guard !others.isEmpty else { continue }
                let spn = entry.spelling
                let name = entry.holder.name
                let otherNames = others.map(\.holder.name)
                let otherDNs = others.map(\.holder.distinguishedName)
                let accounts = ([entry] + others).map { entry -> DuplicateHolder in
                    let dn = entry.holder.distinguishedName
                    // Only its DN matters to `server(for:)`: the object's domain against the audited one.
                    let object = DirectoryObject(kind: .otherSPNHolder, distinguishedName: dn, samAccountName: "")
                    return DuplicateHolder(
                        name: entry.holder.setspnTarget, dn: dn, server: context.knownServer(for: object),
                        isForeign: context.isOutsideAuditedDomain(object))
                }
                findings.append(
                    Finding(
                        rule: Self.description.id,
                        severity: context.configuration.severity(for: Self.description.id, default: .high),
                        account: name,
                        distinguishedName: dn,
                        message: .duplicate(spn: spn, holder: name, others: otherNames, otherDNs: otherDNs),
                        remediation: .removeDuplicate(spn: spn, holders: accounts),
                        details: [
                            (Self.spn.key, .string(spn)),
                            (Self.otherHolders.key, .strings(otherNames)),
                            (Self.otherHolderDNs.key, .strings(otherDNs)),
                        ]))
            }
        }
        return findings
    }

    /// `kadmin/changepw` on a domain's `krbtgt` or an RODC's `krbtgt_<digits>`: registered there by
    /// design in every domain.
    static func isSharedByDesign(_ spn: String, holder: String) -> Bool {
        guard spn.utf8.count == 15, spn.lowercased() == "kadmin/changepw" else { return false }
        let name = holder.lowercased()
        if name == "krbtgt" { return true }
        guard name.hasPrefix("krbtgt_") else { return false }
        let digits = name.utf8.dropFirst(7)
        return !digits.isEmpty && digits.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}

/// The first holder of every SPN (or, for duplicate-hostname, every name claimed) seen, by fingerprint.
///
/// Millions of entries, so it is kept compact: 256 partitions chosen by the fingerprint's top byte
/// (only 1/256 of the table is ever being resized), each a flat open-addressing table of 12-byte
/// slots: the fingerprint's next 56 bits and 8 more as one word, the holder beside it (`WordSlots`).
/// Partitions grow by half, not double, so a table is never much emptier than its 3/4 limit: a
/// `[UInt64: UInt64]` per partition kept 45 bytes an SPN and, doubling, sometimes twice the slots
/// it needed (massif, 1M computers: 203 MB for the SPNs, 67 MB for the host names); this keeps
/// about 18.
///
/// 72 bits of a 128-bit fingerprint tell SPNs apart: two different SPNs are taken for one with
/// a probability of about n^2 / 2^73, two in a billion audits of a million computers.
struct FirstHolderTable {
    private var partitions = [Partition](repeating: Partition(), count: WordSlots.fingerprintPartitions)
    /// The one word an empty slot cannot hold (0), when a fingerprint gives it.
    private var zeroWord: UInt32?

    /// Words and their holders side by side (`WordSlots`).
    private struct Partition {
        var words: [UInt64] = []
        var holders: [UInt32] = []
        var count = 0

        /// The holder of `word`, or nil after recording `holder` for it.
        mutating func holder(of word: UInt64, recordingIfNew holder: UInt32) -> UInt32? {
            if WordSlots.isFull(count: count, capacity: words.count) { grow() }
            let index = WordSlots.slot(of: word, in: words)
            if words[index] == word { return holders[index] }
            words[index] = word
            holders[index] = holder
            count += 1
            return nil
        }

        private mutating func grow() { WordSlots.grow(&words, &holders, empty: 0) }
    }

    /// The first holder recorded for `fingerprint`; if there is none, records `holder` and returns nil.
    mutating func firstHolder(of fingerprint: Fingerprint, recordingIfNew holder: UInt32) -> UInt32? {
        let (partition, word) = WordSlots.place(fingerprint)
        guard word != 0 else {
            if let first = zeroWord { return first }
            zeroWord = holder
            return nil
        }
        return partitions[partition].holder(of: word, recordingIfNew: holder)
    }
}

/// Names, DNs and objectGUIDs of SPN holders: every holder is kept, since any may be the first of
/// an SPN a later one repeats, but only those that share an SPN are read back.
///
/// Each holder is a record in `SpilledRecords` (on disk, not in memory), with its DN as its first
/// RDN and the index of the rest, which is kept once per container (a domain has far fewer
/// containers than SPN holders), and no name when the name is its RDN's value and a `$`, as a join
/// writes it. Only the flags stay in memory.
struct HolderTable {
    /// What the table knows of one holder, read back at once.
    struct Holder {
        let name: String
        let distinguishedName: String
        let guid: ArraySlice<UInt8>?
        let flags: UInt8

        var isExcluded: Bool { flags & 1 != 0 }

        /// The account name as `setspn` takes it: a computer's name without `$`, anything else as stored.
        var setspnTarget: String {
            flags & 2 != 0 && name.hasSuffix("$") ? String(name.dropLast()) : name
        }
    }

    /// For holder i, record i: its container (`UInt32.max` for none), its objectGUID's 16 bytes if
    /// it has one, its name unless derived from the RDN, and its DN's first RDN.
    private var records = SpilledRecords.Owned(of: "spn-holders")
    private var containers = DNContainers()
    /// Bit 0: excluded by the configuration; bit 1: a plain computer (setspn names it without `$`);
    /// bit 2: an objectGUID is stored; bit 3: the name is the RDN's value and `$` (not stored).
    private var flags: [UInt8] = []

    var count: Int { flags.count }

    mutating func append(
        name: String, distinguishedName: String, guid: ObjectGUID?, excluded: Bool, isComputer: Bool
    ) -> UInt32 {
        let (rdn, rest) = ClaimantTable.split(distinguishedName)
        let derived = DNContainers.isRDNValueAndDollar(name, rdn)
        let container = containers.intern(rest)?.index
        records.append { bytes in
            RecordFields.append(container ?? UInt32.max, to: &bytes)
            if let guid { bytes.append(contentsOf: guid.bytes) }
            if !derived { RecordFields.append(name, to: &bytes) }
            RecordFields.append(rdn, to: &bytes)
        }
        flags.append((excluded ? 1 : 0) | (isComputer ? 2 : 0) | (guid != nil ? 4 : 0) | (derived ? 8 : 0))
        return UInt32(flags.count - 1)
    }

    func holder(_ index: UInt32) -> Holder {
        let flag = flags[Int(index)]
        var reader = RecordFields.Reader(bytes: records.record(Int(index))[...])
        let stored = reader.uint32()
        let guid = flag & 4 != 0 ? reader.bytes(16) : nil
        let storedName = flag & 8 == 0 ? reader.string() : nil
        let rdn = reader.string()
        return Holder(
            name: storedName ?? String(decoding: rdn.utf8.dropFirst(3), as: UTF8.self) + "$",
            distinguishedName: containers.distinguishedName(rdn, container: stored == UInt32.max ? nil : stored),
            guid: guid, flags: flag)
    }

    /// Whether two holders are one account: the same objectGUID, or when either has none, the same
    /// DN as AD compares DNs. Asked only when an SPN is seen again, so reading both back is rare.
    func isSameAccount(_ lhs: UInt32, _ rhs: UInt32) -> Bool {
        if lhs == rhs { return true }
        let (left, right) = (holder(lhs), holder(rhs))
        if let leftGUID = left.guid, let rightGUID = right.guid { return leftGUID.elementsEqual(rightGUID) }
        var leftDN: [UInt8] = []
        var rightDN: [UInt8] = []
        AccountKeys.normalize(left.distinguishedName, into: &leftDN)
        AccountKeys.normalize(right.distinguishedName, into: &rightDN)
        return leftDN == rightDN
    }
}

extension String {
    fileprivate static func duplicate(spn: String, holder: String, others: [String], otherDNs: [String]) -> String {
        let list = zip(others, otherDNs).map { "\($0) (\($1))" }.joined(separator: ", ")
        return "SPN \(spn) on \(holder) is also registered on \(list): Kerberos to this service fails (Event 2974)."
    }

    fileprivate static func removeDuplicate(spn: String, holders: [DuplicateHolder]) -> String {
        // Holders in more than one domain: only a forest-wide query finds them all.
        let forest = Set(holders.map { DistinguishedName.domainDNSName(of: $0.dn) ?? "" }).count > 1
        let query = Remediation.command(
            .commandPrompt, tool: "setspn -Q", instead: "every holder is named in this finding"
        ) { writer throws(UnwritableValue) in
            "setspn \(forest ? "-F " : "")-Q \(try writer.argument(spn, "SPN"))"
        }
        var lines = [
            "Confirm every holder: \(query)   (forest-wide: setspn -X -F)",
            "Keep the SPN only on the account that runs the service; remove it from the others:",
        ]
        for account in holders {
            func setADObject() -> String {
                Remediation.command(.powerShell, tool: "Set-ADObject") { writer throws(UnwritableValue) in
                    "Set-ADObject -Identity \(try writer.quoted(account.dn, "distinguishedName")) -Remove @{servicePrincipalName=\(try writer.quoted(spn, "SPN"))} -Server \(try writer.server(account.server))"
                }
            }
            let remove =
                account.isForeign
                ? setADObject()
                : Remediation.command(
                    .commandPrompt, tool: "setspn -D", instead: "remove it with PowerShell: " + setADObject()
                ) { writer throws(UnwritableValue) in
                    "setspn -D \(try writer.argument(spn, "SPN")) \(try writer.argument(account.name, "account name"))"
                }
            lines.append("  \(remove)   (if \(Remediation.prose(account.name)) should not hold it)")
        }
        return lines.joined(separator: "\n")
    }
}

/// One holder as a duplicate-spn fix names it: the name setspn takes, its DN, the `-Server` for its
/// domain, and whether it lies outside the audited domain (setspn then cannot reach it).
private struct DuplicateHolder {
    let name: String
    let dn: String
    let server: String?
    let isForeign: Bool
}
