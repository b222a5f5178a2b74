import Codecs

/// The output flavours: what `ldapsearch -LLL '*'` prints, and what Windows' `ldifde -f` writes.
enum ExportFormat: String, Sendable {
    case ldapsearch, ldifde
}

/// Builds the sample domain and writes it: the plan for each object is derived from the seed and
/// the object's index alone, so the same arguments always give the same bytes.
struct SampleDomain {
    let computers: Int
    let seed: UInt64
    /// Unix seconds of `--now`: every age in the export is relative to it.
    let now: Int64
    let format: ExportFormat
    /// `corp.example`, lower-cased.
    let dnsName: [UInt8]
    /// `DC=corp,DC=example`.
    let domainDN: [UInt8]
    /// `CORP`.
    let netbiosName: [UInt8]
    /// The three random sub-authorities of the domain SID (S-1-5-21-x-y-z).
    let sidAuthorities: (UInt32, UInt32, UInt32)
    /// Zero-padded width of generated computer numbers (`WKS-0042`, or `WKS-0000042` for a million).
    let numberWidth: Int
    let domainControllers: Int
    let firstRandomIndex: Int

    // Containers, as full DNs.
    let domainControllersOU: [UInt8]
    let workstationsOU: [UInt8]
    let laptopsOU: [UInt8]
    let berlinOU: [UInt8]
    let kioskOU: [UInt8]
    let labOU: [UInt8]
    let serversOU: [UInt8]
    let webOU: [UInt8]
    let linuxOU: [UInt8]
    let serviceAccountsOU: [UInt8]
    let usersContainer: [UInt8]
    let managedServiceAccountsContainer: [UInt8]
    let computerCategory: [UInt8]

    /// What each generated trait was used for, counted while writing (for `--stats`).
    var tally = [Int](repeating: 0, count: ComputerPlan.Trait.allCases.count)

    static let day: Int64 = 86_400
    static let specialNames = ["SQL01", "WEB01", "WEB02", "APP01", "APP01-OLD", "SMITHJOHNPC", "LAB-PC07", "KSK-LOBBY"]

    init(computers: Int, seed: UInt64, now: Int64, format: ExportFormat, domain: String) {
        self.computers = computers
        self.seed = seed
        self.now = now
        self.format = format
        let labels = domain.lowercased().split(separator: ".").map(String.init)
        dnsName = Array(labels.joined(separator: ".").utf8)
        domainDN = Array(labels.map { "DC=" + $0 }.joined(separator: ",").utf8)
        netbiosName = Array((labels.first ?? "CORP").uppercased().prefix(15).utf8)
        var random = SplitMix64(seed: seed, index: -1, stream: 7)
        sidAuthorities = (
            UInt32(truncatingIfNeeded: random.next()), UInt32(truncatingIfNeeded: random.next()),
            UInt32(truncatingIfNeeded: random.next())
        )
        numberWidth = max(4, String(max(computers - 1, 0)).count)
        domainControllers = computers <= 2 ? computers : min(20, max(2, computers / 5000))
        firstRandomIndex = domainControllers + Self.specialNames.count
        let base = String(decoding: domainDN, as: UTF8.self)
        func dn(_ rdns: String) -> [UInt8] { Array((rdns + "," + base).utf8) }
        domainControllersOU = dn("OU=Domain Controllers")
        workstationsOU = dn("OU=Workstations")
        laptopsOU = dn("OU=Laptops,OU=Workstations")
        berlinOU = dn("OU=Berlin,OU=Workstations")
        kioskOU = dn("OU=Kiosk,OU=Workstations")
        labOU = dn("OU=Lab,OU=Workstations")
        serversOU = dn("OU=Servers")
        webOU = dn("OU=Web,OU=Servers")
        linuxOU = dn("OU=Linux,OU=Servers")
        serviceAccountsOU = dn("OU=Service Accounts")
        usersContainer = dn("CN=Users")
        managedServiceAccountsContainer = dn("CN=Managed Service Accounts")
        computerCategory = dn("CN=Computer,CN=Schema,CN=Configuration")
    }

    // MARK: Constant values

    static let windows10 = Array("Windows 10 Enterprise".utf8)
    static let windows10Version = Array("10.0 (19045)".utf8)
    static let windows11 = Array("Windows 11 Enterprise".utf8)
    static let windows11Version = Array("10.0 (22631)".utf8)
    static let server2019 = Array("Windows Server 2019 Datacenter".utf8)
    static let server2019Version = Array("10.0 (17763)".utf8)
    static let server2022 = Array("Windows Server 2022 Standard".utf8)
    static let server2022Version = Array("10.0 (20348)".utf8)
    static let ubuntu = Array("Ubuntu 22.04".utf8)
    static let ubuntuVersion = Array("22.04".utf8)
    static let redHat = Array("Red Hat Enterprise Linux".utf8)
    static let redHatVersion = Array("9.4".utf8)
    static let hostileOperatingSystem = Array("<script>alert(1)</script>".utf8)
    static let hostileDescription = Array("=cmd|' /C calc'!A0".utf8)
    static let longDescription = Array("Büro Köln – Empfang, 3. OG, Raum 3.114 (Schlüssel beim Pförtner)".utf8)
    static let descriptions: [[UInt8]] = [
        "Reception desk", "Büro Köln", "Meeting room 4.12", "Finance – month-end close", "Lab bench 3",
        "Loaner pool", "Zürich sales",
    ].map { Array($0.utf8) }

    // MARK: Plans

    /// The role of a generated (not special) computer: the first draw of its generator, so that it
    /// can be known without planning the whole computer.
    static func role(draw: Int) -> ComputerPlan.Role {
        switch draw {
        case ..<500: return .workstation
        case ..<680: return .laptop
        case ..<780: return .branchWorkstation
        case ..<800: return .kiosk
        case ..<940: return .server
        default: return .linux
        }
    }

    func plan(_ index: Int, into plan: inout ComputerPlan, resolvingClones: Bool = true) {
        plan.reset()
        plan.index = index
        if index < domainControllers {
            planDomainController(index, into: &plan)
        } else if index < firstRandomIndex {
            planSpecial(index - domainControllers, into: &plan)
        } else {
            planMember(index, into: &plan, resolvingClones: resolvingClones)
        }
    }

    private func setName(_ plan: inout ComputerPlan, _ prefix: StaticString, number: Int) {
        prefix.withUTF8Buffer { plan.name.append(contentsOf: $0) }
        var digits = String(number)
        if digits.utf8.count < numberWidth {
            digits = String(repeating: "0", count: numberWidth - digits.utf8.count) + digits
        }
        plan.name.append(contentsOf: digits.utf8)
        plan.commonName.append(contentsOf: plan.name)
        plan.relativeName.append(contentsOf: plan.name)
    }

    private func setName(_ plan: inout ComputerPlan, _ name: String, commonName: String? = nil) {
        plan.name.append(contentsOf: name.utf8)
        plan.commonName.append(contentsOf: (commonName ?? name).utf8)
        // RFC 4514: escape , + " \ < > ; in an RDN value.
        for byte in plan.commonName {
            if [
                UInt8(ascii: ","), UInt8(ascii: "+"), UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "<"),
                UInt8(ascii: ">"), UInt8(ascii: ";"),
            ].contains(byte) {
                plan.relativeName.append(UInt8(ascii: "\\"))
            }
            plan.relativeName.append(byte)
        }
    }

    private func setDNSHostName(_ plan: inout ComputerPlan) {
        plan.dnsHostName.removeAll(keepingCapacity: true)
        for byte in plan.name { plan.dnsHostName.append(ASCII.lowercased(byte)) }
        plan.dnsHostName.append(UInt8(ascii: "."))
        plan.dnsHostName.append(contentsOf: dnsName)
    }

    /// A time `days` (plus a random part of a day) before now, in Unix seconds.
    private func daysAgo(_ days: Int, _ random: inout SplitMix64) -> Int64 {
        now - Int64(days) * Self.day - Int64(random.below(Int(Self.day)))
    }

    private func fileTime(_ unixSeconds: Int64, _ random: inout SplitMix64) -> Int64 {
        Clock.fileTime(unixSeconds: unixSeconds, subTicks: Int64(random.below(10_000_000)))
    }

    private func standardSPNs(_ plan: inout ComputerPlan, server: Bool, linux: Bool) {
        if linux {
            // adcli/realmd registers exactly these four.
            plan.spns += [.standard("HOST", .short), .standard("HOST", .fqdn)]
            plan.spns += [.standard("RestrictedKrbHost", .short), .standard("RestrictedKrbHost", .fqdn)]
            return
        }
        if server {
            plan.spns += [.standard("WSMAN", .short), .standard("WSMAN", .fqdn)]
            plan.spns += [.standard("TERMSRV", .short), .standard("TERMSRV", .fqdn)]
        }
        // The order AD returns them in for a fresh Windows join.
        plan.spns += [.standard("RestrictedKrbHost", .short), .standard("HOST", .short)]
        plan.spns += [.standard("RestrictedKrbHost", .fqdn), .standard("HOST", .fqdn)]
    }

    private func removeSPNs(_ plan: inout ComputerPlan, _ serviceClass: StaticString, host: ComputerPlan.Host?) {
        plan.spns.removeAll { spn in spn.isClass(serviceClass) && (host == nil || spn.host == host) }
    }

    private func planDomainController(_ index: Int, into plan: inout ComputerPlan) {
        var random = SplitMix64(seed: seed, index: index, stream: 1)
        plan.role = .domainController
        setName(&plan, "DC" + (index + 1 < 10 ? "0" : "") + String(index + 1))
        setDNSHostName(&plan)
        plan.container = domainControllersOU
        plan.operatingSystem = index % 2 == 0 ? Self.server2022 : Self.server2019
        plan.operatingSystemVersion = index % 2 == 0 ? Self.server2022Version : Self.server2019Version
        plan.userAccountControl = 532_480
        plan.primaryGroupID = 516
        plan.isCriticalSystemObject = true
        plan.created = daysAgo(2000 + random.below(400), &random)
        plan.passwordLastSet = fileTime(daysAgo(random.below(28), &random), &random)
        plan.lastLogonTimestamp = fileTime(daysAgo(random.below(9), &random), &random)
        plan.logonCount = Int64(random.within(5000...90000))
        plan.traits.append(.domainController)
        let fqdn = String(decoding: plan.dnsHostName, as: UTF8.self)
        let domain = String(decoding: dnsName, as: UTF8.self)
        let netbios = String(decoding: netbiosName, as: UTF8.self)
        let short = String(decoding: plan.name, as: UTF8.self)
        let ntdsGUID = Self.guidString(&random)
        plan.addLiteralSPN(Array("Dfsr-12F9A27C-BF97-4787-9364-D31B6C55EB04/\(fqdn)".utf8))
        plan.addLiteralSPN(Array("ldap/\(fqdn)/ForestDnsZones.\(domain)".utf8))
        plan.addLiteralSPN(Array("ldap/\(fqdn)/DomainDnsZones.\(domain)".utf8))
        plan.addLiteralSPN(Array("DNS/\(fqdn)".utf8))
        plan.addLiteralSPN(Array("GC/\(fqdn)/\(domain)".utf8))
        plan.spns += [.standard("TERMSRV", .short), .standard("TERMSRV", .fqdn)]
        plan.spns += [.standard("RestrictedKrbHost", .fqdn), .standard("RestrictedKrbHost", .short)]
        plan.addLiteralSPN(Array("RPC/\(ntdsGUID)._msdcs.\(domain)".utf8))
        plan.addLiteralSPN(Array("HOST/\(short)/\(netbios)".utf8))
        plan.addLiteralSPN(Array("HOST/\(fqdn)/\(netbios)".utf8))
        plan.spns += [.standard("HOST", .short), .standard("HOST", .fqdn)]
        plan.addLiteralSPN(Array("HOST/\(fqdn)/\(domain)".utf8))
        plan.addLiteralSPN(Array("E3514235-4B06-11D1-AB04-00C04FC2DCD2/\(ntdsGUID)/\(domain)".utf8))
        plan.addLiteralSPN(Array("ldap/\(short)/\(netbios)".utf8))
        plan.addLiteralSPN(Array("ldap/\(ntdsGUID)._msdcs.\(domain)".utf8))
        plan.addLiteralSPN(Array("ldap/\(fqdn)/\(netbios)".utf8))
        plan.addLiteralSPN(Array("ldap/\(short)".utf8))
        plan.addLiteralSPN(Array("ldap/\(fqdn)".utf8))
        plan.addLiteralSPN(Array("ldap/\(fqdn)/\(domain)".utf8))
    }

    /// The hand-written accounts every sample has: the duplicates, the hostile values, the odd names.
    private func planSpecial(_ number: Int, into plan: inout ComputerPlan) {
        var random = SplitMix64(seed: seed, index: domainControllers + number, stream: 1)
        let domain = String(decoding: dnsName, as: UTF8.self)
        plan.role = .special
        plan.created = daysAgo(400 + random.below(1500), &random)
        plan.passwordLastSet = fileTime(daysAgo(random.below(28), &random), &random)
        plan.lastLogonTimestamp = fileTime(daysAgo(random.below(12), &random), &random)
        plan.logonCount = Int64(random.within(200...6000))
        switch number {
        case 0:
            // SQL Server once ran as LocalSystem and registered its SPN here; it now runs as svc-sql,
            // where an admin registered it again.
            setName(&plan, "SQL01")
            setDNSHostName(&plan)
            plan.container = serversOU
            plan.operatingSystem = Self.server2019
            plan.operatingSystemVersion = Self.server2019Version
            standardSPNs(&plan, server: true, linux: false)
            plan.addLiteralSPN(Array("MSSQLSvc/sql01.\(domain):1433".utf8))
            plan.traits += [.server]
        case 1, 2:
            // Two web farm nodes and the farm's gMSA all claim the intranet name.
            setName(&plan, number == 1 ? "WEB01" : "WEB02")
            setDNSHostName(&plan)
            plan.container = webOU
            plan.operatingSystem = Self.server2022
            plan.operatingSystemVersion = Self.server2022Version
            standardSPNs(&plan, server: true, linux: false)
            plan.addLiteralSPN(Array("HTTP/intranet.\(domain)".utf8))
            plan.traits += [.server]
        case 3:
            setName(&plan, "APP01")
            setDNSHostName(&plan)
            plan.container = serversOU
            plan.operatingSystem = Self.server2022
            plan.operatingSystemVersion = Self.server2022Version
            standardSPNs(&plan, server: true, linux: false)
            plan.traits += [.server]
        case 4:
            // APP01's account before it was rebuilt: disabled, dormant, and still holding APP01's
            // HOST/ FQDN in another spelling.
            setName(&plan, "APP01-OLD")
            setDNSHostName(&plan)
            plan.container = serversOU
            plan.operatingSystem = Self.server2019
            plan.operatingSystemVersion = Self.server2019Version
            plan.userAccountControl = 4098
            let password = daysAgo(420 + random.below(30), &random)
            plan.passwordLastSet = fileTime(password, &random)
            plan.lastLogonTimestamp = fileTime(password + 3 * Self.day, &random)
            standardSPNs(&plan, server: true, linux: false)
            plan.addLiteralSPN(Array("host/APP01.\(domain)".utf8))
            // And APP01's host name, kept as an additional name: two accounts claim app01.
            plan.additionalDnsHostName = Array("app01.\(domain)".utf8)
            plan.traits += [.server, .disabledAndStale]
        case 5:
            // A cn with a comma: the DN escapes it, sAMAccountName cannot hold it.
            // and a long non-ASCII description, whose base64 is folded mid-value.
            setName(&plan, "SMITHJOHNPC", commonName: "Smith, John PC")
            setDNSHostName(&plan)
            plan.container = workstationsOU
            plan.operatingSystem = Self.windows11
            plan.operatingSystemVersion = Self.windows11Version
            plan.description = Self.longDescription
            standardSPNs(&plan, server: false, linux: false)
            plan.traits += [.workstation, .description, .nonASCIIDescription]
        case 6:
            // Anyone allowed to write operatingSystem can put markup in a report.
            setName(&plan, "LAB-PC07")
            setDNSHostName(&plan)
            plan.container = labOU
            plan.operatingSystem = Self.hostileOperatingSystem
            plan.operatingSystemVersion = Self.windows11Version
            standardSPNs(&plan, server: false, linux: false)
            plan.traits += [.workstation]
        default:
            // A spreadsheet formula in a description, for the CSV report to defuse.
            setName(&plan, "KSK-LOBBY")
            setDNSHostName(&plan)
            plan.container = kioskOU
            plan.operatingSystem = Self.windows10
            plan.operatingSystemVersion = Self.windows10Version
            plan.description = Self.hostileDescription
            standardSPNs(&plan, server: false, linux: false)
            plan.traits += [.workstation, .description]
        }
    }

    private func planMember(_ index: Int, into plan: inout ComputerPlan, resolvingClones: Bool) {
        var random = SplitMix64(seed: seed, index: index, stream: 1)
        let role = Self.role(draw: random.below(1000))
        plan.role = role
        let isServer = role == .server
        let isLinux = role == .linux
        switch role {
        case .laptop:
            setName(&plan, "LT-", number: index)
            plan.container = laptopsOU
        case .branchWorkstation:
            setName(&plan, "BER-", number: index)
            plan.container = berlinOU
        case .kiosk:
            setName(&plan, "KSK-", number: index)
            plan.container = kioskOU
        case .server:
            setName(&plan, "SRV-", number: index)
            plan.container = serversOU
        case .linux:
            setName(&plan, "LNX-", number: index)
            plan.container = linuxOU
        default:
            setName(&plan, "WKS-", number: index)
            plan.container = workstationsOU
        }
        setDNSHostName(&plan)
        if isLinux {
            let redHat = random.chance(perMille: 400)
            plan.operatingSystem = redHat ? Self.redHat : Self.ubuntu
            plan.operatingSystemVersion = redHat ? Self.redHatVersion : Self.ubuntuVersion
            plan.encryptionTypes = 24
            plan.traits.append(.linux)
        } else if isServer {
            let newer = random.chance(perMille: 550)
            plan.operatingSystem = newer ? Self.server2022 : Self.server2019
            plan.operatingSystemVersion = newer ? Self.server2022Version : Self.server2019Version
            plan.traits.append(.server)
        } else {
            let newer = random.chance(perMille: role == .laptop ? 750 : 550)
            plan.operatingSystem = newer ? Self.windows11 : Self.windows10
            plan.operatingSystemVersion = newer ? Self.windows11Version : Self.windows10Version
            plan.traits.append(.workstation)
        }
        standardSPNs(&plan, server: isServer, linux: isLinux)

        // The password story.
        var password: Int64? = daysAgo(random.below(29), &random)
        var logon: Int64? = daysAgo(random.below(14), &random)
        let story = random.below(1000)
        switch story {
        case ..<20:
            plan.userAccountControl = 4098
            plan.traits.append(.disabled)
        case ..<40:
            plan.userAccountControl = random.chance(perMille: 300) ? 4098 | 0x1_0000 : 4098
            password = daysAgo(random.within(200...900), &random)
            logon = password! + Int64(random.below(20)) * Self.day
            plan.traits.append(.disabledAndStale)
        case ..<65:
            password = daysAgo(random.within(61...400), &random)
            logon = daysAgo(random.within(0...40), &random)
            plan.traits.append(.aliveNotRotating)
        case ..<80:
            let age = random.within(150...700)
            password = daysAgo(age, &random)
            logon = daysAgo(random.within(60...(age - 40)), &random)
            plan.traits.append(.rotationStopped)
        case ..<110:
            password = daysAgo(random.within(120...1200), &random)
            logon = password! + Int64(random.below(25)) * Self.day
            plan.traits.append(.dormant)
        case ..<125:
            password = daysAgo(random.within(61...900), &random)
            logon = nil
            plan.traits.append(.neverLoggedOn)
        case ..<140:
            // Pre-staged in ADUC and never joined: no password, no OS, no DNS name, no SPNs.
            password = nil
            logon = nil
            plan.userAccountControl = 4128
            plan.operatingSystem = nil
            plan.operatingSystemVersion = nil
            plan.hasDNSHostName = false
            plan.spns.removeAll()
            plan.encryptionTypes = nil
            plan.traits.append(.preStaged)
        case ..<150:
            password = nil
            logon = daysAgo(random.within(0...30), &random)
            plan.traits.append(.resetPending)
        case ..<160:
            password = now + Int64(random.within(1...400)) * Self.day
            plan.traits.append(.passwordInFuture)
        case ..<170:
            password = daysAgo(random.within(61...500), &random)
            logon = now + Int64(random.within(1...3000)) * Self.day
            plan.traits.append(.logonInFutureStale)
        case ..<180:
            logon = now + Int64(random.within(1...3000)) * Self.day
            plan.traits.append(.logonInFutureFresh)
        default:
            break
        }
        plan.passwordLastSet = password.map { fileTime($0, &random) } ?? 0
        plan.lastLogonTimestamp = logon.map { fileTime($0, &random) }
        plan.logonCount = logon == nil ? 0 : Int64(random.within(20...4000))
        let earliest = min(password ?? now, min(logon ?? now, now))
        plan.created = earliest - Int64(random.within(2...2500)) * Self.day - Int64(random.below(Int(Self.day)))

        // The SPN story (pre-staged accounts have none to lose).
        let spnStory = random.below(1000)
        if plan.traits.last != .preStaged {
            switch spnStory {
            case ..<10:
                removeSPNs(&plan, "HOST", host: .short)
                plan.traits.append(.missingHostShort)
            case ..<20:
                removeSPNs(&plan, "HOST", host: .fqdn)
                plan.traits.append(.missingHostFQDN)
            case ..<35:
                removeSPNs(&plan, "RestrictedKrbHost", host: nil)
                plan.traits.append(.missingRestrictedKrbHost)
            case ..<45:
                removeSPNs(&plan, "RestrictedKrbHost", host: .fqdn)
                plan.traits.append(.missingRestrictedKrbHostFQDN)
            case ..<60:
                // No DNS name, so no FQDN SPNs either.
                plan.hasDNSHostName = false
                plan.spns.removeAll { $0.host == .fqdn }
                plan.traits.append(.noDNSHostName)
            case ..<140 where isServer:
                removeSPNs(&plan, "TERMSRV", host: nil)
                plan.traits.append(.serverWithoutTermsrv)
            case ..<180 where isServer:
                removeSPNs(&plan, "TERMSRV", host: random.chance(perMille: 500) ? .short : .fqdn)
                plan.traits.append(.halfTermsrvPair)
            case ..<70 where !isServer && !isLinux:
                plan.spns.insert(.standard("TERMSRV", .short), at: 0)
                plan.traits.append(.halfTermsrvPair)
            case ..<120 where !isServer && !isLinux:
                plan.spns.insert(contentsOf: [.standard("TERMSRV", .short), .standard("TERMSRV", .fqdn)], at: 0)
                plan.traits.append(.workstationWithTermsrv)
            default:
                break
            }
        }

        // A clone made without sysprep, or a machine added twice: it holds an earlier computer's SPN.
        if random.chance(perMille: 12), resolvingClones, index > firstRandomIndex {
            let other = firstRandomIndex + random.below(index - firstRandomIndex)
            var original = ComputerPlan()
            self.plan(other, into: &original, resolvingClones: false)
            let hostSPNs = original.spns.filter { $0.isClass("HOST") }
            if !hostSPNs.isEmpty {
                var text = original.text(of: hostSPNs[random.below(hostSPNs.count)])
                if random.chance(perMille: 500) {
                    text = ASCII.lowercased(text)
                    plan.traits.append(.caseDifferingDuplicateSPN)
                }
                plan.addLiteralSPN(text)
                plan.traits.append(.cloneDuplicateSPN)
            }
        }

        if random.chance(perMille: 25) {
            let choice = random.below(Self.descriptions.count)
            plan.description = Self.descriptions[choice]
            plan.traits.append(.description)
            if Self.descriptions[choice].contains(where: { $0 >= 0x80 }) { plan.traits.append(.nonASCIIDescription) }
        }
    }

    /// A GUID in its registry form (`8a6f...-...`), for the DC SPNs that embed the NTDS Settings GUID.
    static func guidString(_ random: inout SplitMix64) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for position in 0..<32 {
            if [8, 12, 16, 20].contains(position) { text.append(UInt8(ascii: "-")) }
            text.append(hex[random.below(16)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
