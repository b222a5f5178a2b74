import Directory

/// Writes the sample domain as LDIF: the domain head, users and groups that must be ignored, the
/// OUs, every computer, the service accounts, and the referrals ldapsearch prints at the end.
extension SampleDomain {
    mutating func writeExport(to writer: LDIFWriter) {
        var scratch = Scratch()
        writeDomainHead(writer, &scratch)
        writeUser(
            writer, &scratch, name: "Administrator", container: usersContainer, rid: 500, control: 66048, spns: [],
            description: "Built-in account for administering the computer/domain")
        writeUser(
            writer, &scratch, name: "krbtgt", container: usersContainer, rid: 502, control: 514,
            spns: ["kadmin/changepw"],
            description: "Key Distribution Center Service Account")
        tally[ComputerPlan.Trait.userWithSPN.rawValue] += 1
        writeGroup(writer, &scratch, name: "Domain Computers", container: usersContainer, rid: 515)
        writeOrganizationalUnit(writer, &scratch, "Domain Controllers", parent: domainDN)

        var plan = ComputerPlan()
        for index in 0..<min(domainControllers, computers) {
            self.plan(index, into: &plan)
            writeComputer(writer, &scratch, plan)
        }
        writeOrganizationalUnit(writer, &scratch, "Workstations", parent: domainDN)
        for (name, parent) in [
            ("Laptops", workstationsOU), ("Berlin", workstationsOU), ("Kiosk", workstationsOU), ("Lab", workstationsOU),
        ] {
            writeOrganizationalUnit(writer, &scratch, name, parent: parent)
        }
        writeOrganizationalUnit(writer, &scratch, "Servers", parent: domainDN)
        writeOrganizationalUnit(writer, &scratch, "Web", parent: serversOU)
        writeOrganizationalUnit(writer, &scratch, "Linux", parent: serversOU)
        if computers > domainControllers {
            for index in domainControllers..<computers {
                self.plan(index, into: &plan)
                writeComputer(writer, &scratch, plan)
                if writer.writeError != 0 { return }
            }
        }

        let domain = String(decoding: dnsName, as: UTF8.self)
        writeOrganizationalUnit(writer, &scratch, "Service Accounts", parent: domainDN)
        writeUser(
            writer, &scratch, name: "svc-sql", container: serviceAccountsOU, rid: 1105, control: 66048,
            spns: ["MSSQLSvc/sql01.\(domain):1433", "MSSQLSvc/sql01.\(domain)"],
            description: "SQL Server service (SQL01)")
        tally[ComputerPlan.Trait.userWithSPN.rawValue] += 1
        writeUser(
            writer, &scratch, name: "svc-backup", container: serviceAccountsOU, rid: 1106, control: 66048, spns: [],
            description: "Backup agent")
        writeUser(
            writer, &scratch, name: "Jane Doe", samAccountName: "jdoe", container: usersContainer, rid: 1107,
            control: 512,
            spns: [], description: nil)
        writeGroup(writer, &scratch, name: "SQL Admins", container: serviceAccountsOU, rid: 1108)
        writeGroupManagedServiceAccount(
            writer, &scratch, name: "gmsa-intranet", rid: 1109,
            spns: ["HTTP/intranet.\(domain)", "HTTP/intranet"])
        tally[ComputerPlan.Trait.groupManagedServiceAccount.rawValue] += 1
        // With the hand-written accounts (APP01 among them): what a computer's life leaves behind.
        if computers >= firstRandomIndex { writeLifecycleObjects(writer, &scratch) }

        if format == .ldapsearch {
            let base = String(decoding: domainDN, as: UTF8.self)
            for reference in [
                "ForestDnsZones.\(domain)/DC=ForestDnsZones,\(base)",
                "DomainDnsZones.\(domain)/DC=DomainDnsZones,\(base)",
                "\(domain)/CN=Configuration,\(base)",
            ] {
                writer.put("# refldap://")
                writer.put(Array(reference.utf8))
                writer.endUnfoldedLine()
                writer.endRecord()
            }
        }
        writer.flush()
    }

    /// A computer deleted nine days ago that no live account replaced (a tombstone with the Recycle
    /// Bin on, as an export made with the Show Deleted control holds it), and a replication conflict
    /// object left beside APP01 by two joins on two DCs. Their cn holds the line feed AD puts before
    /// `DEL:` and `CNF:`, so it is base64 in the file; the DN shows it escaped (`\0A`).
    private func writeLifecycleObjects(_ writer: LDIFWriter, _ scratch: inout Scratch) {
        let domain = String(decoding: dnsName, as: UTF8.self)
        let base = String(decoding: domainDN, as: UTF8.self)
        for (index, object) in [
            (name: "WKS-RETIRED", tag: "DEL", container: "CN=Deleted Objects,\(base)"),
            (name: "APP01", tag: "CNF", container: "OU=Servers,\(base)"),
        ].enumerated() {
            var random = SplitMix64(seed: seed, index: 9000 + index, stream: 5)
            let high = random.next()
            let low = random.next()
            var stored =
                (0..<8).map { UInt8(truncatingIfNeeded: high >> (8 * UInt64($0))) }
                + (0..<8).map { UInt8(truncatingIfNeeded: low >> (8 * UInt64($0))) }
            stored[7] = stored[7] & 0x0F | 0x40
            stored[8] = stored[8] & 0x3F | 0x80
            let text = stored.withUnsafeBufferPointer { ObjectGUID(bytes: $0)!.description }
            scratch.dn = Array("CN=\(object.name)\\0A\(object.tag):\(text),\(object.container)".utf8)
            let created = now - Int64(300 + random.below(600)) * Self.day
            let changed = object.tag == "DEL" ? now - 9 * Self.day : created + 2 * 60
            writeCommonHead(
                writer, &scratch, classes: ["top", "person", "organizationalPerson", "user", "computer"],
                commonName: Array("\(object.name)\n\(object.tag):\(text)".utf8), description: nil,
                created: created, changed: changed)
            // The objectGUID the mangled RDN names.
            stored.withUnsafeBufferPointer { writer.binaryAttribute("objectGUID", $0) }
            writer.attribute("userAccountControl", decimal: 4096)
            writer.attribute("pwdLastSet", decimal: Clock.fileTime(unixSeconds: created + 3600))
            writeSID(writer, &scratch, rid: UInt32(1190 + index))
            if object.tag == "DEL" {
                writer.attribute("sAMAccountName", Array("\(object.name)$".utf8))
                writer.attribute("dNSHostName", Array("\(object.name.lowercased()).\(domain)".utf8))
                writer.attribute("isDeleted", "TRUE")
                writer.attribute("lastKnownParent", Array("OU=Workstations,\(base)".utf8))
                writer.attribute("msDS-LastKnownRDN", Array(object.name.utf8))
            } else {
                // Windows renames the loser's sAMAccountName too; its SPNs are the twin's.
                writer.attribute("sAMAccountName", "$DUPLICATE-4e2")
                writer.attribute("dNSHostName", Array("app01.\(domain)".utf8))
                writer.attribute("servicePrincipalName", "HOST/APP01")
                writer.attribute("servicePrincipalName", Array("HOST/app01.\(domain)".utf8))
            }
            writer.attribute("sAMAccountType", decimal: 805_306_369)
            writer.attribute("objectCategory", computerCategory)
            writer.endRecord()
        }
    }

    /// Per-object values that are bytes, reused from object to object.
    struct Scratch {
        var sid = [UInt8](repeating: 0, count: 28)
        var guid = [UInt8](repeating: 0, count: 16)
        var dn: [UInt8] = []
        var usn: Int64 = 12_000
    }

    private func beginRecord(_ writer: LDIFWriter, _ scratch: inout Scratch) {
        writer.attribute("dn", scratch.dn)
        if format == .ldifde { writer.attribute("changetype", "add") }
    }

    private func writeSID(_ writer: LDIFWriter, _ scratch: inout Scratch, rid: UInt32) {
        // Revision 1, five sub-authorities, authority 5 (NT), then 21-x-y-z-RID little-endian.
        scratch.sid[0] = 1
        scratch.sid[1] = 5
        for offset in 2..<7 { scratch.sid[offset] = 0 }
        scratch.sid[7] = 5
        let parts: [UInt32] = [21, sidAuthorities.0, sidAuthorities.1, sidAuthorities.2, rid]
        for (position, part) in parts.enumerated() {
            for byte in 0..<4 {
                scratch.sid[8 + position * 4 + byte] = UInt8(truncatingIfNeeded: part >> (8 * UInt32(byte)))
            }
        }
        scratch.sid.withUnsafeBufferPointer { writer.binaryAttribute("objectSid", $0) }
    }

    private func writeGUID(_ writer: LDIFWriter, _ scratch: inout Scratch, _ random: inout SplitMix64) {
        let high = random.next()
        let low = random.next()
        for byte in 0..<8 {
            scratch.guid[byte] = UInt8(truncatingIfNeeded: high >> (8 * UInt64(byte)))
            scratch.guid[8 + byte] = UInt8(truncatingIfNeeded: low >> (8 * UInt64(byte)))
        }
        scratch.guid[7] = scratch.guid[7] & 0x0F | 0x40  // version 4, as AD's are
        scratch.guid[8] = scratch.guid[8] & 0x3F | 0x80
        scratch.guid.withUnsafeBufferPointer { writer.binaryAttribute("objectGUID", $0) }
    }

    private func writeCommonHead(
        _ writer: LDIFWriter, _ scratch: inout Scratch, classes: [StaticString], commonName: [UInt8],
        description: [UInt8]?, created: Int64, changed: Int64
    ) {
        beginRecord(writer, &scratch)
        for objectClass in classes { writer.attribute("objectClass", objectClass) }
        writer.attribute("cn", commonName)
        if let description { writer.attribute("description", description) }
        writer.attribute("distinguishedName", scratch.dn)
        writer.attribute("instanceType", decimal: 4)
        writer.attribute("whenCreated", generalizedTime: created)
        writer.attribute("whenChanged", generalizedTime: changed)
        scratch.usn += 7
        writer.attribute("uSNCreated", decimal: scratch.usn)
        writer.attribute("uSNChanged", decimal: scratch.usn + (changed - created) / 86_400 * 3 + 2)
        writer.attribute("name", commonName)
    }

    private mutating func writeComputer(_ writer: LDIFWriter, _ scratch: inout Scratch, _ plan: ComputerPlan) {
        for trait in plan.traits { tally[trait.rawValue] += 1 }
        var random = SplitMix64(seed: seed, index: plan.index, stream: 3)
        scratch.dn.removeAll(keepingCapacity: true)
        scratch.dn += "CN=".utf8
        scratch.dn += plan.relativeName
        scratch.dn.append(UInt8(ascii: ","))
        scratch.dn += plan.container

        let passwordSeconds =
            plan.passwordLastSet == 0
            ? plan.created : plan.passwordLastSet / FileTime.ticksPerSecond - FileTime.epochOffsetSeconds
        let logonSeconds =
            plan.lastLogonTimestamp.map { $0 / FileTime.ticksPerSecond - FileTime.epochOffsetSeconds } ?? plan.created
        let changed = max(plan.created, min(now, max(passwordSeconds, logonSeconds)))
        writeCommonHead(
            writer, &scratch, classes: ["top", "person", "organizationalPerson", "user", "computer"],
            commonName: plan.commonName, description: plan.description, created: plan.created, changed: changed)
        writeGUID(writer, &scratch, &random)
        writer.attribute("userAccountControl", decimal: plan.userAccountControl)
        writer.attribute("badPwdCount", decimal: 0)
        writer.attribute("codePage", decimal: 0)
        writer.attribute("countryCode", decimal: 0)
        writer.attribute("badPasswordTime", decimal: 0)
        writer.attribute("lastLogoff", decimal: 0)
        // lastLogon is per DC and not replicated: this DC saw a logon at most a few days after the
        // replicated lastLogonTimestamp, or none.
        if let logon = plan.lastLogonTimestamp, logon <= Clock.fileTime(unixSeconds: now) {
            let nowTicks = Clock.fileTime(unixSeconds: now)
            let seen = logon + Int64(random.below(10 * 86_400)) * FileTime.ticksPerSecond
            writer.attribute(
                "lastLogon",
                decimal: seen < nowTicks ? seen : nowTicks - Int64(random.below(3600)) * FileTime.ticksPerSecond)
        } else {
            writer.attribute("lastLogon", decimal: 0)
        }
        writer.attribute("localPolicyFlags", decimal: 0)
        writer.attribute("pwdLastSet", decimal: plan.passwordLastSet)
        writer.attribute("primaryGroupID", decimal: plan.primaryGroupID)
        writeSID(
            writer, &scratch,
            rid: UInt32(truncatingIfNeeded: (plan.role == .domainController ? 1000 : 1200) + plan.index))
        writer.attribute("accountExpires", decimal: Int64.max)
        writer.attribute("logonCount", decimal: plan.logonCount)
        writer.put("sAMAccountName: ")
        writer.put(plan.name)
        writer.put(UInt8(ascii: "$"))
        writer.endLine()
        writer.attribute("sAMAccountType", decimal: 805_306_369)
        if let operatingSystem = plan.operatingSystem { writer.attribute("operatingSystem", operatingSystem) }
        if let version = plan.operatingSystemVersion { writer.attribute("operatingSystemVersion", version) }
        if plan.hasDNSHostName { writer.attribute("dNSHostName", plan.dnsHostName) }
        if let additional = plan.additionalDnsHostName { writer.attribute("msDS-AdditionalDnsHostName", additional) }
        for spn in plan.spns {
            writer.put("servicePrincipalName: ")
            switch spn {
            case .standard(let serviceClass, let host):
                writer.put(serviceClass)
                writer.put(UInt8(ascii: "/"))
                writer.put(host == .short ? plan.name : plan.dnsHostName)
            case .literal(let index):
                writer.put(plan.literalSPNs[index])
            }
            writer.endLine()
        }
        if plan.role == .domainController {
            writer.put("serverReferenceBL: CN=")
            writer.put(plan.name)
            writer.put(",CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,")
            writer.put(domainDN)
            writer.endLine()
        }
        writer.attribute("objectCategory", computerCategory)
        if plan.isCriticalSystemObject { writer.attribute("isCriticalSystemObject", "TRUE") }
        writer.attribute("dSCorePropagationData", "16010101000000.0Z")
        if let logon = plan.lastLogonTimestamp { writer.attribute("lastLogonTimestamp", decimal: logon) }
        if let types = plan.encryptionTypes { writer.attribute("msDS-SupportedEncryptionTypes", decimal: types) }
        writer.endRecord()
    }

    private func writeUser(
        _ writer: LDIFWriter, _ scratch: inout Scratch, name: String, samAccountName: String? = nil, container: [UInt8],
        rid: UInt32, control: Int64, spns: [String], description: String?
    ) {
        var random = SplitMix64(seed: seed, index: Int(rid), stream: 4)
        scratch.dn = Array("CN=\(name),".utf8) + container
        let created = now - Int64(1500 + random.below(900)) * Self.day - Int64(random.below(86_400))
        let password = now - Int64(20 + random.below(300)) * Self.day - Int64(random.below(86_400))
        writeCommonHead(
            writer, &scratch, classes: ["top", "person", "organizationalPerson", "user"], commonName: Array(name.utf8),
            description: description.map { Array($0.utf8) }, created: created, changed: password)
        writeGUID(writer, &scratch, &random)
        writer.attribute("userAccountControl", decimal: control)
        writer.attribute("badPwdCount", decimal: 0)
        writer.attribute("codePage", decimal: 0)
        writer.attribute("countryCode", decimal: 0)
        writer.attribute("badPasswordTime", decimal: 0)
        writer.attribute("lastLogoff", decimal: 0)
        writer.attribute("lastLogon", decimal: 0)
        writer.attribute(
            "pwdLastSet", decimal: Clock.fileTime(unixSeconds: password, subTicks: Int64(random.below(10_000_000))))
        writer.attribute("primaryGroupID", decimal: 513)
        writeSID(writer, &scratch, rid: rid)
        writer.attribute("accountExpires", decimal: Int64.max)
        writer.attribute("logonCount", decimal: 0)
        writer.attribute("sAMAccountName", Array((samAccountName ?? name).utf8))
        writer.attribute("sAMAccountType", decimal: 805_306_368)
        for spn in spns { writer.attribute("servicePrincipalName", Array(spn.utf8)) }
        writer.put("objectCategory: CN=Person,CN=Schema,CN=Configuration,")
        writer.put(domainDN)
        writer.endLine()
        writer.attribute("dSCorePropagationData", "16010101000000.0Z")
        writer.endRecord()
    }

    private func writeGroupManagedServiceAccount(
        _ writer: LDIFWriter, _ scratch: inout Scratch, name: String, rid: UInt32, spns: [String]
    ) {
        var random = SplitMix64(seed: seed, index: Int(rid), stream: 4)
        scratch.dn = Array("CN=\(name),".utf8) + managedServiceAccountsContainer
        let created = now - Int64(600 + random.below(300)) * Self.day - Int64(random.below(86_400))
        let password = now - Int64(random.below(30)) * Self.day - Int64(random.below(86_400))
        writeCommonHead(
            writer, &scratch,
            classes: ["top", "person", "organizationalPerson", "user", "computer", "msDS-GroupManagedServiceAccount"],
            commonName: Array(name.utf8), description: nil, created: created, changed: password)
        writeGUID(writer, &scratch, &random)
        writer.attribute("userAccountControl", decimal: 4096)
        writer.attribute(
            "pwdLastSet", decimal: Clock.fileTime(unixSeconds: password, subTicks: Int64(random.below(10_000_000))))
        writer.attribute("primaryGroupID", decimal: 515)
        writeSID(writer, &scratch, rid: rid)
        writer.attribute("accountExpires", decimal: Int64.max)
        writer.attribute("sAMAccountName", Array((name + "$").utf8))
        writer.attribute("sAMAccountType", decimal: 805_306_369)
        writer.attribute("dNSHostName", Array("intranet.".utf8) + dnsName)
        for spn in spns { writer.attribute("servicePrincipalName", Array(spn.utf8)) }
        writer.put("objectCategory: CN=ms-DS-Group-Managed-Service-Account,CN=Schema,CN=Configuration,")
        writer.put(domainDN)
        writer.endLine()
        writer.attribute("msDS-ManagedPasswordInterval", decimal: 30)
        writer.attribute("msDS-SupportedEncryptionTypes", decimal: 28)
        writer.attribute(
            "lastLogonTimestamp", decimal: Clock.fileTime(unixSeconds: now - Int64(random.below(10 * 86_400))))
        writer.endRecord()
    }

    private func writeGroup(
        _ writer: LDIFWriter, _ scratch: inout Scratch, name: String, container: [UInt8], rid: UInt32
    ) {
        var random = SplitMix64(seed: seed, index: Int(rid), stream: 4)
        scratch.dn = Array("CN=\(name),".utf8) + container
        let created = now - Int64(1500 + random.below(900)) * Self.day - Int64(random.below(86_400))
        writeCommonHead(
            writer, &scratch, classes: ["top", "group"], commonName: Array(name.utf8), description: nil,
            created: created,
            changed: created)
        writeGUID(writer, &scratch, &random)
        writeSID(writer, &scratch, rid: rid)
        writer.attribute("sAMAccountName", Array(name.utf8))
        writer.attribute("sAMAccountType", decimal: 268_435_456)
        writer.attribute("groupType", decimal: -2_147_483_646)
        writer.put("objectCategory: CN=Group,CN=Schema,CN=Configuration,")
        writer.put(domainDN)
        writer.endLine()
        writer.endRecord()
    }

    private func writeOrganizationalUnit(
        _ writer: LDIFWriter, _ scratch: inout Scratch, _ name: String, parent: [UInt8]
    ) {
        var random = SplitMix64(
            seed: seed, index: Int(truncatingIfNeeded: SplitMix64.mix(UInt64(name.utf8.count))), stream: 5)
        scratch.dn = Array("OU=\(name),".utf8) + parent
        let created = now - Int64(2400 + random.below(200)) * Self.day - Int64(random.below(86_400))
        beginRecord(writer, &scratch)
        writer.attribute("objectClass", "top")
        writer.attribute("objectClass", "organizationalUnit")
        writer.attribute("ou", Array(name.utf8))
        writer.attribute("distinguishedName", scratch.dn)
        writer.attribute("instanceType", decimal: 4)
        writer.attribute("whenCreated", generalizedTime: created)
        writer.attribute("whenChanged", generalizedTime: created)
        writer.attribute("name", Array(name.utf8))
        writeGUID(writer, &scratch, &random)
        writer.put("objectCategory: CN=Organizational-Unit,CN=Schema,CN=Configuration,")
        writer.put(domainDN)
        writer.endLine()
        writer.endRecord()
    }

    private func writeDomainHead(_ writer: LDIFWriter, _ scratch: inout Scratch) {
        var random = SplitMix64(seed: seed, index: 0, stream: 6)
        scratch.dn = domainDN
        beginRecord(writer, &scratch)
        writer.attribute("objectClass", "top")
        writer.attribute("objectClass", "domain")
        writer.attribute("objectClass", "domainDNS")
        writer.attribute("distinguishedName", domainDN)
        writer.attribute("instanceType", decimal: 5)
        writer.attribute("whenCreated", generalizedTime: now - 2600 * Self.day)
        writer.attribute("name", netbiosName.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 })
        writeGUID(writer, &scratch, &random)
        writer.attribute("ms-DS-MachineAccountQuota", decimal: 10)
        writer.attribute("dc", Array(netbiosName.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }))
        writer.put("objectCategory: CN=Domain-DNS,CN=Schema,CN=Configuration,")
        writer.put(domainDN)
        writer.endLine()
        writer.endRecord()
    }
}
