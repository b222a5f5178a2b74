import Directory
import Foundation

/// Two or more live computer accounts that claim one host name.
///
/// A claim is a dNSHostName or msDS-AdditionalDnsHostName value (case-insensitive, trailing dot
/// ignored), or the first label of a dNSHostName, which in the same domain names the account whose
/// sAMAccountName (without `$`) it is. Deleted and conflict objects are for their own rules.
///
/// Like `DuplicateSPNRule`, it keeps per name only a keyed fingerprint and its first claimant (in a
/// `FirstHolderTable`), and per claimant only what a message needs, in one byte arena; a name's
/// claimants are listed only when a second one turns up.
public struct DuplicateHostnameRule: ObjectCollectingRule {
    public static let description = RuleDescription(
        id: "duplicate-hostname",
        title: "Host names claimed by two computer accounts",
        rationale: """
            A machine has one account; when two computer objects answer to one host name (a machine rejoined \
            under a new account, a re-imaged clone, a pre-staged account beside the real one), Kerberos tickets \
            for the host are issued to whichever holds its SPNs, DNS updates fight, and the admin who removes \
            "the old one" may remove the one in use: the machine's trust relationship then fails.
            """)

    public static let attributes = [
        "sAMAccountName", "dNSHostName", "msDS-AdditionalDnsHostName", "userAccountControl", "pwdLastSet",
        "lastLogonTimestamp", "whenCreated", "objectGUID", "operatingSystem",
    ]

    /// The host names this account shares, normalized (lower case, no trailing dot).
    static let hostNames = DetailColumn("hostNames", .strings)
    static let otherAccounts = DetailColumn("otherAccounts", .strings)
    static let otherDNs = DetailColumn("otherDNs", .strings)
    /// The account the machine most likely uses; null when that cannot be told.
    static let likelyInUse = DetailColumn("likelyInUse", .string)
    static let whenCreated = DetailColumn("whenCreated", .timestamp)
    static let lastLogonTimestamp = DetailColumn("lastLogonTimestamp", .timestamp)
    public static let detailColumns = [
        hostNames, otherAccounts, otherDNs, likelyInUse, whenCreated, lastLogonTimestamp,
    ]

    /// How a claimant holds a name: roles of one object for one fingerprint, as bits.
    struct Roles: OptionSet, Hashable {
        let rawValue: UInt32
        /// dNSHostName or msDS-AdditionalDnsHostName.
        static let fqdn = Roles(rawValue: 1)
        /// The first label of dNSHostName.
        static let label = Roles(rawValue: 2)
        /// sAMAccountName without `$`.
        static let account = Roles(rawValue: 4)
        static let bits: UInt32 = 3
    }

    private var firstClaimant = FirstHolderTable()
    /// Only for names with a second claimant: the name and every claimant with its roles.
    private var shared: [Fingerprint: (name: String, claims: [(claimant: UInt32, roles: Roles)])] = [:]
    private var claimants = ClaimantTable()
    private let seedHigh = UInt64.random(in: .min ... .max)
    private let seedLow = UInt64.random(in: .min ... .max)

    public init() {}

    /// Records the names a live computer claims; anything else is ignored.
    public mutating func add(_ object: DirectoryObject, excluded: Bool) {
        guard object.kind == .computer, !object.isDeleted, !object.isConflictObject else { return }
        let domain = NameSet.domainKey(of: object.distinguishedName)
        // The object's own keys first, merged: its first label and its account name are usually one key.
        var keys: [(fingerprint: Fingerprint, name: String, roles: Roles)] = []
        func claim(_ name: String, _ roles: Roles, tag: UInt8, domain: String = "") {
            guard !name.isEmpty else { return }
            let fingerprint = self.fingerprint(tag, domain, name)
            if let index = keys.firstIndex(where: { $0.fingerprint == fingerprint }) {
                keys[index].roles.formUnion(roles)
            } else {
                keys.append((fingerprint, name, roles))
            }
        }
        let normalized = object.dnsHostName.map(Self.normalizedHost)
        if let normalized { claim(normalized, .fqdn, tag: 1) }
        for host in object.additionalDnsHostNames {
            claim(Self.normalizedHost(host), .fqdn, tag: 1)
        }
        if let normalized {
            // The first label, found bytewise (a Character search costs thousands of instructions).
            let utf8 = normalized.utf8
            let dot = utf8.firstIndex(of: UInt8(ascii: ".")) ?? utf8.endIndex
            claim(String(normalized[..<dot]), .label, tag: 2, domain: domain)
        }
        claim(object.shortName.lowercased(), .account, tag: 2, domain: domain)
        guard !keys.isEmpty else { return }
        let claimant = claimants.append(object, excluded: excluded)
        precondition(claimant < 1 << (32 - Roles.bits), "too many computer accounts for one audit")
        for key in keys {
            let packed = claimant << Roles.bits | key.roles.rawValue
            guard let first = firstClaimant.firstHolder(of: key.fingerprint, recordingIfNew: packed) else { continue }
            let firstIndex = first >> Roles.bits
            // The runner gives each account once; a repeat is still never its own duplicate.
            if claimants.isSameAccount(firstIndex, claimant) { continue }
            if shared[key.fingerprint] == nil {
                shared[key.fingerprint] = (key.name, [(firstIndex, Roles(rawValue: first & ((1 << Roles.bits) - 1)))])
            }
            if let index = shared[key.fingerprint]!.claims.firstIndex(where: {
                claimants.isSameAccount($0.claimant, claimant)
            }) {
                shared[key.fingerprint]!.claims[index].roles.formUnion(key.roles)
            } else {
                shared[key.fingerprint]!.claims.append((claimant, key.roles))
            }
        }
    }

    /// `host` lower-cased without its trailing dot.
    static func normalizedHost(_ host: String) -> String {
        var host = host.lowercased()
        while host.utf8.last == UInt8(ascii: ".") { host.removeLast() }
        return host
    }

    /// Why two claimants clash: the name, and how each holds it.
    struct Clash: Equatable {
        let name: String
        let mine: Roles
        let theirs: Roles
    }

    public func findings(in context: AuditContext) -> [Finding] {
        // Every claimant's clashes with each other claimant.
        var clashes: [UInt32: [UInt32: [Clash]]] = [:]
        for (_, entry) in shared {
            for mine in entry.claims {
                for theirs in entry.claims where !claimants.isSameAccount(mine.claimant, theirs.claimant) {
                    var roles: (Roles, Roles)?
                    if mine.roles.contains(.fqdn) && theirs.roles.contains(.fqdn) {
                        roles = (.fqdn, .fqdn)
                    } else if mine.roles.contains(.label) && theirs.roles.contains(.account) {
                        roles = (.label, .account)
                    } else if mine.roles.contains(.account) && theirs.roles.contains(.label) {
                        roles = (.account, .label)
                    }
                    guard let roles else { continue }
                    clashes[mine.claimant, default: [:]][theirs.claimant, default: []].append(
                        Clash(name: entry.name, mine: roles.0, theirs: roles.1))
                }
            }
        }
        var findings: [Finding] = []
        for (claimant, others) in clashes where !claimants.isExcluded(claimant) {
            let me = claimants.record(claimant)
            let clashesByOther = others.map { (claimants.record($0.key), $0.value) }.sorted {
                ($0.0.account.lowercased(), $0.0.distinguishedName) < (
                    $1.0.account.lowercased(), $1.0.distinguishedName
                )
            }
            let them = clashesByOther.map(\.0)
            let names = Array(Set(others.values.flatMap { $0.map(\.name) })).sorted()
            let inUse = Self.likelyInUse([me] + them, in: context)
            let enabledOther = them.contains { !$0.isDisabled }
            let severity: Severity = !me.isDisabled && enabledOther ? .high : .medium
            var details: [(key: String, value: DetailValue)] = [
                (Self.hostNames.key, .strings(names)),
                (Self.otherAccounts.key, .strings(them.map(\.account))),
                (Self.otherDNs.key, .strings(them.map(\.distinguishedName))),
                (Self.likelyInUse.key, inUse.account.map { .string($0.account) } ?? .null),
            ]
            if let created = me.whenCreated {
                details.append((Self.whenCreated.key, .string(UTCTime.timestamp(created))))
            }
            if let logon = me.lastLogon {
                details.append((Self.lastLogonTimestamp.key, AuditContext.timeDetail(logon)))
            }
            findings.append(
                Finding(
                    rule: Self.description.id,
                    severity: context.configuration.severity(for: Self.description.id, default: severity),
                    account: me.account,
                    distinguishedName: me.distinguishedName,
                    message: .claims(me, clashesByOther, inUse: inUse),
                    remediation: .keepOne(me, them, inUse: inUse, in: context),
                    details: details))
        }
        return findings
    }

    /// The account the machine most likely uses and why, or nil and why that cannot be told.
    struct InUse {
        let account: ClaimantTable.Record?
        let reason: String
    }

    /// The most recent lastLogonTimestamp, else the newest pwdLastSet; a tie, or neither, cannot tell.
    static func likelyInUse(_ candidates: [ClaimantTable.Record], in context: AuditContext) -> InUse {
        func usable(_ time: FileTime?) -> FileTime? {
            guard let time, time.isValid, !time.isNever, !context.isInFuture(time) else { return nil }
            return time
        }
        for (attribute, time) in [
            ("lastLogonTimestamp", { (record: ClaimantTable.Record) in usable(record.lastLogon) }),
            ("pwdLastSet", { (record: ClaimantTable.Record) in usable(record.passwordLastSet) }),
        ] {
            let dated = candidates.compactMap { record in time(record).map { (record, $0) } }
                .sorted { $0.1.ticks > $1.1.ticks }
            guard let best = dated.first else { continue }
            if dated.count > 1 && dated[1].1.ticks == best.1.ticks {
                return InUse(account: nil, reason: "their \(attribute) values are equal")
            }
            var reason = "the most recent \(attribute), \(AuditContext.day(best.1))"
            if attribute == "lastLogonTimestamp", dated.count > 1,
                best.1.ticks - dated[1].1.ticks < Int64(StalePasswordRule.lastLogonLagDays) * FileTime.ticksPerDay
            {
                reason +=
                    ", though within lastLogonTimestamp's 14-day lag of \(dated[1].0.account)'s: confirm on the machine"
            }
            return InUse(account: best.0, reason: reason)
        }
        return InUse(account: nil, reason: "none has a lastLogonTimestamp or pwdLastSet")
    }

    private func fingerprint(_ tag: UInt8, _ domain: String, _ name: String) -> Fingerprint {
        var high = Hasher()
        high.combine(seedHigh)
        var low = Hasher()
        low.combine(seedLow)
        high.combine(domain)
        low.combine(domain)
        high.combine(name)
        low.combine(name)
        high.combine(tag)
        low.combine(tag)
        return Fingerprint(
            high: UInt64(bitPattern: Int64(high.finalize())), low: UInt64(bitPattern: Int64(low.finalize())))
    }
}

/// The claimants of host names, packed: names, DNs and host names in one byte array, times and flags
/// in parallel arrays.
struct ClaimantTable {
    /// What a finding says about one claimant.
    struct Record {
        let account: String
        let distinguishedName: String
        let dnsHostName: String?
        let whenCreated: Date?
        let lastLogon: FileTime?
        let passwordLastSet: FileTime?
        let isDisabled: Bool
        let isKnownNonWindows: Bool

        /// A stand-in object for `AuditContext.server(for:)` and `RemediationSubject`.
        var object: DirectoryObject {
            DirectoryObject(
                kind: .computer, distinguishedName: distinguishedName, samAccountName: account,
                dnsHostName: dnsHostName, operatingSystem: isKnownNonWindows ? "Linux" : nil)
        }

        /// `WKS-0042$ (created 2024-01-05, last logon 2026-11-20)`
        var dates: String {
            let created = whenCreated.map { "created \(UTCTime.day($0))" } ?? "whenCreated unknown"
            let logon: String
            if let lastLogon, !lastLogon.isNever {
                logon = "last logon \(AuditContext.day(lastLogon))"
            } else {
                logon = "no logon recorded"
            }
            return "\(created), \(logon)" + (isDisabled ? ", disabled" : "")
        }
    }

    /// For claimant i, record i: its container (`UInt32.max` for none), the whenCreated,
    /// lastLogonTimestamp and pwdLastSet times, then its account name unless it is its RDN's value
    /// and `$`, its DN's first RDN, and its dNSHostName unless it has none or it is the usual
    /// `<name>.<domain>`. Only the claimants of a clash are read back.
    private var records = SpilledRecords.Owned(of: "claimants")
    private var containers = DNContainers()
    /// Each container's domain DNS name, by container index.
    private var containerDomains: [String?] = []
    /// A keyed hash of the account's identity (`AccountKey`), for the guard against comparing an account with itself.
    private var identities: [Int] = []
    /// Bit 0: excluded; 1: disabled; 2: a known non-Windows system; 3: has a dNSHostName; 4: it is the
    /// usual `<name>.<domain>` (not stored); 5: the account name is the RDN's value and `$` (not stored).
    private var flags: [UInt8] = []
    /// Unix seconds of whenCreated, and lastLogonTimestamp and pwdLastSet ticks, when absent.
    private static let absent = Int64.min

    var count: Int { flags.count }

    mutating func append(_ object: DirectoryObject, excluded: Bool) -> UInt32 {
        let account = object.accountName
        let (rdn, rest) = Self.split(object.distinguishedName)
        let derived = DNContainers.isRDNValueAndDollar(account, rdn)
        var domain: String?
        let container = containers.intern(rest)
        if let (index, isNew) = container {
            if isNew { containerDomains.append(rest.flatMap(DistinguishedName.domainDNSName(of:))) }
            domain = containerDomains[Int(index)]
        }
        let usualHost = object.dnsHostName != nil && object.dnsHostName == Self.usualHost(object.shortName, domain)
        records.append { bytes in
            RecordFields.append(container?.index ?? UInt32.max, to: &bytes)
            func append(_ time: Int64?) { RecordFields.append(UInt64(bitPattern: time ?? Self.absent), to: &bytes) }
            append(object.whenCreated.map { UTCTime.unixSeconds($0) })
            append(object.lastLogonTimestamp?.ticks)
            append(object.passwordLastSet?.ticks)
            if !derived { RecordFields.append(account, to: &bytes) }
            RecordFields.append(rdn, to: &bytes)
            if let host = object.dnsHostName, !usualHost { RecordFields.append(host, to: &bytes) }
        }
        identities.append(AccountKey(object).hashValue)
        let disabled = object.userAccountControl?.isDisabled ?? false
        let nonWindows = object.operatingSystem != nil && !object.isWindows
        flags.append(
            (excluded ? 1 : 0) | (disabled ? 2 : 0) | (nonWindows ? 4 : 0) | (object.dnsHostName != nil ? 8 : 0)
                | (usualHost ? 16 : 0) | (derived ? 32 : 0))
        return UInt32(flags.count - 1)
    }

    /// A DN's first RDN and the rest, split at the first comma that is not escaped, byte for byte.
    static func split(_ dn: String) -> (rdn: Substring, rest: String?) {
        var escaped = false
        for index in dn.utf8.indices {
            let byte = dn.utf8[index]
            if escaped {
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: ",") {
                return (dn[..<index], String(dn[dn.utf8.index(after: index)...]))
            }
        }
        return (dn[...], nil)
    }

    /// `wks-0042.corp.example` for WKS-0042 in corp.example: what a join writes.
    private static func usualHost(_ shortName: String, _ domain: String?) -> String? {
        domain.map { shortName.lowercased() + "." + $0 }
    }

    /// Whether two claimants are one account: the same objectGUID, else the same DN as AD compares DNs.
    func isSameAccount(_ lhs: UInt32, _ rhs: UInt32) -> Bool {
        lhs == rhs || identities[Int(lhs)] == identities[Int(rhs)]
    }

    func isExcluded(_ claimant: UInt32) -> Bool { flags[Int(claimant)] & 1 != 0 }

    func record(_ claimant: UInt32) -> Record {
        let index = Int(claimant)
        let flag = flags[index]
        let bytes = records.record(index)
        var reader = RecordFields.Reader(bytes: bytes[...])
        let stored = reader.uint32()
        let container = stored == UInt32.max ? nil : stored
        func time() -> Int64? {
            let value = Int64(bitPattern: reader.uint64())
            return value == Self.absent ? nil : value
        }
        let (created, logon, passwordSet) = (time(), time(), time())
        let storedAccount = flag & 32 == 0 ? reader.string() : nil
        let rdn = reader.string()
        let account = storedAccount ?? String(decoding: rdn.utf8.dropFirst(3), as: UTF8.self) + "$"
        let dn = containers.distinguishedName(rdn, container: container)
        let host: String?
        if flag & 8 == 0 {
            host = nil
        } else if flag & 16 != 0 {
            let short = account.hasSuffix("$") ? String(account.dropLast()) : account
            host = Self.usualHost(short, container.flatMap { containerDomains[Int($0)] })
        } else {
            host = reader.string()
        }
        return Record(
            account: account, distinguishedName: dn, dnsHostName: host,
            whenCreated: created.map { UTCTime.date(unixSeconds: $0) },
            lastLogon: logon.map { FileTime(ticks: $0) }, passwordLastSet: passwordSet.map { FileTime(ticks: $0) },
            isDisabled: flag & 2 != 0, isKnownNonWindows: flag & 4 != 0)
    }
}

extension String {
    fileprivate static func claims(
        _ me: ClaimantTable.Record, _ others: [(ClaimantTable.Record, [DuplicateHostnameRule.Clash])],
        inUse: DuplicateHostnameRule.InUse
    ) -> String {
        func why(_ clash: DuplicateHostnameRule.Clash, _ other: ClaimantTable.Record) -> String {
            if clash.mine == .fqdn { return "both answer to \(clash.name)" }
            if clash.mine == .label {
                return "its dNSHostName \(me.dnsHostName ?? clash.name) names \(other.account)"
            }
            return "its dNSHostName \(other.dnsHostName ?? clash.name) names \(me.account)"
        }
        let list = others.map { other, clashes in
            let sorted = clashes.sorted { ($0.mine == .fqdn ? 0 : 1, $0.name) < ($1.mine == .fqdn ? 0 : 1, $1.name) }
            return
                "\(other.account) (\(other.distinguishedName); \(sorted.map { why($0, other) }.joined(separator: ", ")); \(other.dates))"
        }
        let verdict =
            inUse.account.map { "The machine most likely uses \($0.account) (\(inUse.reason))." }
            ?? "Which account the machine uses cannot be told (\(inUse.reason))."
        return
            "\(me.account) (\(me.dates)) claims the host name of another live computer account: \(list.joined(separator: "; ")). \(verdict) Tickets for the host go to whichever account holds its SPNs, and removing the wrong account breaks the machine's trust relationship."
    }

    fileprivate static func keepOne(
        _ me: ClaimantTable.Record, _ others: [ClaimantTable.Record], inUse: DuplicateHostnameRule.InUse,
        in context: AuditContext
    ) -> String {
        let target = inUse.account ?? me
        let host = Remediation.prose(target.dnsHostName ?? target.object.shortName)
        let lead =
            inUse.account.map { "The machine most likely uses \(Remediation.prose($0.account))." }
            ?? "Which account the machine uses cannot be told from the directory."
        var lines = [
            "\(lead) Confirm on \(host): $env:COMPUTERNAME is the name of the account it uses, without the $.",
            "Keep the account it uses; remove the others:",
        ]
        for record in [me] + others {
            let object = record.object
            let remove = Remediation.command(.powerShell, tool: "Remove-ADComputer") { writer throws(UnwritableValue) in
                "Remove-ADComputer -Identity \(try writer.quoted(record.distinguishedName, "distinguishedName")) -Server \(try writer.server(context.knownServer(for: object)))"
            }
            lines.append("  \(remove)   (if it does not use \(Remediation.prose(record.account)))")
        }
        lines.append(
            "If two machines answer to the name, rename one of them instead: on it, Rename-Computer -NewName <new name> -DomainCredential (Get-Credential) -Restart"
        )
        lines.append("Then repair the machine's secure channel against the account it kept:")
        lines.append(Remediation.repairSecureChannel(RemediationSubject.about(target.object, in: context)))
        return lines.joined(separator: "\n")
    }
}

extension RemediationSubject {
    /// The subject for `object` with the `-Server` and domain of `AuditContext.server(for:)`, so a
    /// child domain's computer in a forest-wide export is repaired against its own domain.
    static func about(_ object: DirectoryObject, in context: AuditContext) -> RemediationSubject {
        var own = context
        own.domainController = context.knownServer(for: object)
        own.domain = context.domain(of: object)
        return RemediationSubject(object, in: own)
    }
}

/// Where a table's entries sit: the rest of each DN after its first RDN
/// (`OU=Workstations,DC=corp,DC=example`), each distinct one kept once, since a domain has far
/// fewer containers than computers; the table keeps the first RDN (`ClaimantTable.split`).
struct DNContainers {
    /// Whether `name` is `WKS-0042$` for `CN=WKS-0042`, byte for byte (an escaped value is simply
    /// kept), as a join writes it: then a table keeps the RDN alone and derives the name from it.
    static func isRDNValueAndDollar(_ name: String, _ rdn: Substring) -> Bool {
        let rdn = rdn.utf8
        let name = name.utf8
        guard rdn.count > 3, name.count == rdn.count - 2, name.last == UInt8(ascii: "$"),
            rdn.starts(with: "CN=".utf8)
        else { return false }
        return rdn.dropFirst(3).elementsEqual(name.dropLast())
    }

    private var containers: [String] = []
    private var index: [String: UInt32] = [:]

    /// The index of `rest`, the DN after its first RDN, and whether it was new; nil for a DN of one
    /// RDN. A table keeps the index with the entry.
    mutating func intern(_ rest: String?) -> (index: UInt32, isNew: Bool)? {
        guard let rest else { return nil }
        if let known = index[rest] { return (known, false) }
        let new = UInt32(containers.count)
        index[rest] = new
        containers.append(rest)
        return (new, true)
    }

    /// The DN whose first RDN is `rdn`, in container `container` (nil: a DN of one RDN).
    func distinguishedName(_ rdn: String, container: UInt32?) -> String {
        container.map { rdn + "," + containers[Int($0)] } ?? rdn
    }
}
