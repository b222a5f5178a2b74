/// Everything that varies from one computer account to the next, decided before it is written.
///
/// One plan is reused for every computer (`reset()` keeps the arrays' capacity), so a million
/// computers cost no allocations beyond the rare duplicate SPN.
struct ComputerPlan {
    enum Role: Sendable {
        case domainController, workstation, laptop, branchWorkstation, kiosk, server, linux, special
    }

    enum Host: Sendable {
        /// The NetBIOS name as sAMAccountName spells it (`WKS-0042`).
        case short
        /// dNSHostName (`wks-0042.corp.example`).
        case fqdn
    }

    enum SPN {
        case standard(StaticString, Host)
        /// An index into `literalSPNs`.
        case literal(Int)

        var host: Host? {
            if case .standard(_, let host) = self { return host }
            return nil
        }

        func isClass(_ serviceClass: StaticString) -> Bool {
            guard case .standard(let own, _) = self else { return false }
            return own.utf8CodeUnitCount == serviceClass.utf8CodeUnitCount
                && own.withUTF8Buffer { a in serviceClass.withUTF8Buffer { b in a.elementsEqual(b) } }
        }
    }

    /// What the generator meant this account to show, for `--stats`.
    enum Trait: Int, CaseIterable {
        case domainController, workstation, server, linux, groupManagedServiceAccount, userWithSPN
        case disabled, disabledAndStale, aliveNotRotating, rotationStopped, dormant, neverLoggedOn, preStaged
        case resetPending, passwordInFuture, logonInFutureStale, logonInFutureFresh
        case missingHostShort, missingHostFQDN, missingRestrictedKrbHost, missingRestrictedKrbHostFQDN
        case noDNSHostName, serverWithoutTermsrv, halfTermsrvPair, workstationWithTermsrv
        case cloneDuplicateSPN, caseDifferingDuplicateSPN, description, nonASCIIDescription

        var label: String {
            switch self {
            case .domainController: return "domain controllers"
            case .workstation: return "Windows workstations"
            case .server: return "Windows member servers"
            case .linux: return "Linux (adcli) members"
            case .groupManagedServiceAccount: return "group managed service accounts"
            case .userWithSPN: return "users holding SPNs"
            case .disabled: return "disabled, otherwise healthy"
            case .disabledAndStale: return "disabled and stale (dormant)"
            case .aliveNotRotating: return "stale password, alive-not-rotating"
            case .rotationStopped: return "stale password, rotation-stopped"
            case .dormant: return "stale password, dormant"
            case .neverLoggedOn: return "stale password, never logged on"
            case .preStaged: return "pwdLastSet 0, pre-staged (never set)"
            case .resetPending: return "pwdLastSet 0 with a logon (reset pending)"
            case .passwordInFuture: return "pwdLastSet in the future"
            case .logonInFutureStale: return "lastLogonTimestamp in the future, stale password"
            case .logonInFutureFresh: return "lastLogonTimestamp in the future, fresh password"
            case .missingHostShort: return "missing HOST/<short>"
            case .missingHostFQDN: return "missing HOST/<fqdn>"
            case .missingRestrictedKrbHost: return "missing both RestrictedKrbHost/ forms"
            case .missingRestrictedKrbHostFQDN: return "missing RestrictedKrbHost/<fqdn>"
            case .noDNSHostName: return "no dNSHostName"
            case .serverWithoutTermsrv: return "Windows server without TERMSRV/"
            case .halfTermsrvPair: return "half a TERMSRV/ pair"
            case .workstationWithTermsrv: return "workstation with both TERMSRV/ forms (healthy)"
            case .cloneDuplicateSPN: return "computer holding another computer's SPN"
            case .caseDifferingDuplicateSPN: return "  of which spelt in a different case"
            case .description: return "with a description"
            case .nonASCIIDescription: return "  of which non-ASCII (base64)"
            }
        }
    }

    var index = 0
    var role = Role.workstation
    /// sAMAccountName without its `$`.
    var name: [UInt8] = []
    /// The cn value, unescaped (`Smith, John PC`).
    var commonName: [UInt8] = []
    /// The cn as it appears in the DN (`Smith\, John PC`).
    var relativeName: [UInt8] = []
    /// The full DN of the container (`OU=Workstations,DC=corp,DC=example`).
    var container: [UInt8] = []
    var operatingSystem: [UInt8]?
    var operatingSystemVersion: [UInt8]?
    var description: [UInt8]?
    /// msDS-AdditionalDnsHostName: a name a rename or an alias left on the account.
    var additionalDnsHostName: [UInt8]?
    var userAccountControl: Int64 = 4096
    var primaryGroupID: Int64 = 515
    /// FILETIME ticks; 0 is "never set".
    var passwordLastSet: Int64 = 0
    /// FILETIME ticks; nil when the attribute is absent (never logged on).
    var lastLogonTimestamp: Int64?
    /// Unix seconds.
    var created: Int64 = 0
    var dnsHostName: [UInt8] = []
    var hasDNSHostName = true
    var spns: [SPN] = []
    var literalSPNs: [[UInt8]] = []
    var encryptionTypes: Int64? = 28
    var logonCount: Int64 = 0
    var isCriticalSystemObject = false
    var traits: [Trait] = []

    mutating func reset() {
        name.removeAll(keepingCapacity: true)
        commonName.removeAll(keepingCapacity: true)
        relativeName.removeAll(keepingCapacity: true)
        container = []
        operatingSystem = nil
        operatingSystemVersion = nil
        description = nil
        additionalDnsHostName = nil
        userAccountControl = 4096
        primaryGroupID = 515
        passwordLastSet = 0
        lastLogonTimestamp = nil
        created = 0
        dnsHostName.removeAll(keepingCapacity: true)
        hasDNSHostName = true
        spns.removeAll(keepingCapacity: true)
        literalSPNs.removeAll(keepingCapacity: true)
        encryptionTypes = 28
        logonCount = 0
        isCriticalSystemObject = false
        traits.removeAll(keepingCapacity: true)
    }

    mutating func addLiteralSPN(_ value: [UInt8]) {
        literalSPNs.append(value)
        spns.append(.literal(literalSPNs.count - 1))
    }

    /// The text of one SPN (used only off the hot path: clones and the inventory).
    func text(of spn: SPN) -> [UInt8] {
        switch spn {
        case .literal(let index): return literalSPNs[index]
        case .standard(let serviceClass, let host):
            var bytes = serviceClass.withUTF8Buffer { Array($0) }
            bytes.append(UInt8(ascii: "/"))
            bytes += host == .short ? name : dnsHostName
            return bytes
        }
    }
}
