import Foundation

/// One domain controller of the audited domain, as its server object under CN=Sites describes it.
///
/// A multi-DC audit reads every DC's own view (pwdLastSet, lastLogon, replication metadata, repsFrom,
/// its clock), so it first has to know the DCs: the server objects (`dNSHostName`, `serverReference`)
/// and their `CN=NTDS Settings` child, cross-checked with the computers that carry
/// SERVER_TRUST_ACCOUNT or, for a read-only DC, PARTIAL_SECRETS_ACCOUNT.
public struct DomainController: Sendable, Equatable {
    /// The DC's DNS name (`dc01.corp.example`): what the audit connects to, with the same bind
    /// method and TLS settings as the first DC.
    public var hostName: String
    /// The server object, `CN=DC01,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,...`.
    public var serverDN: String
    /// The site's name (`Default-First-Site-Name`), from the server object's DN.
    public var site: String?
    /// The DC's computer account (`serverReference`), `CN=DC01,OU=Domain Controllers,...`.
    public var computerDN: String?
    /// The objectGUID of its `CN=NTDS Settings` object: how repsFrom names a replication partner.
    public var dsaGUID: ObjectGUID?
    /// The nTDSDSA's `invocationId`: how replication metadata names the DC that made a change.
    public var invocationID: ObjectGUID?
    /// The nTDSDSA `options`.
    public var options: NTDSDSAOptions
    /// A read-only DC (nTDSDSARO, or its computer carries PARTIAL_SECRETS_ACCOUNT): it holds few or
    /// no passwords, so a machine password "behind" on it is expected, not a finding.
    public var isReadOnly: Bool
    /// The PDC emulator (`fSMORoleOwner` of the domain head): the domain's reference clock.
    public var isPDCEmulator: Bool

    public init(
        hostName: String, serverDN: String, site: String? = nil, computerDN: String? = nil,
        dsaGUID: ObjectGUID? = nil, invocationID: ObjectGUID? = nil, options: NTDSDSAOptions = [],
        isReadOnly: Bool = false, isPDCEmulator: Bool = false
    ) {
        self.hostName = hostName
        self.serverDN = serverDN
        self.site = site
        self.computerDN = computerDN
        self.dsaGUID = dsaGUID
        self.invocationID = invocationID
        self.options = options
        self.isReadOnly = isReadOnly
        self.isPDCEmulator = isPDCEmulator
    }

    /// A Global Catalog: the nTDSDSA options say so.
    public var isGlobalCatalog: Bool { options.contains(.isGlobalCatalog) }
}

/// The `options` attribute of a DC's `CN=NTDS Settings` object (MS-ADTS 6.1.1.2.2.1.2.1.1).
public struct NTDSDSAOptions: OptionSet, Sendable, Equatable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// NTDSDSA_OPT_IS_GC.
    public static let isGlobalCatalog = NTDSDSAOptions(rawValue: 0x1)
    /// NTDSDSA_OPT_DISABLE_INBOUND_REPL: the DC takes no changes from its partners.
    public static let disableInboundReplication = NTDSDSAOptions(rawValue: 0x2)
    /// NTDSDSA_OPT_DISABLE_OUTBOUND_REPL: its partners get no changes from it.
    public static let disableOutboundReplication = NTDSDSAOptions(rawValue: 0x4)
    /// NTDSDSA_OPT_DISABLE_NTDSCONN_XLATE: the KCC does not translate connection objects for it.
    public static let disableConnectionTranslation = NTDSDSAOptions(rawValue: 0x8)
}

/// What the audit learnt from one DC when it asked: its clock and replication state, or why it
/// could not ask.
public struct DomainControllerReading: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// The DC answered and the bind succeeded.
        case answered
        /// The DC could not be reached or refused the bind; the text says why, in the words of the
        /// error it gave (it is shown to the admin as is, after terminal escaping).
        case failed(String)
    }

    public var domainController: DomainController
    public var outcome: Outcome
    /// The DC's clock (rootDSE currentTime) when it answered.
    public var currentTime: Date?
    /// The audit host's clock when the DC's currentTime was read, to compare the two.
    public var askedAt: Date?
    /// The raw values of `repsFrom` on the domain head, as this DC holds them: one REPS_FROM blob per
    /// inbound replication partner (MS-DRSR 5.170).
    public var repsFrom: [[UInt8]]

    public init(
        domainController: DomainController, outcome: Outcome, currentTime: Date? = nil, askedAt: Date? = nil,
        repsFrom: [[UInt8]] = []
    ) {
        self.domainController = domainController
        self.outcome = outcome
        self.currentTime = currentTime
        self.askedAt = askedAt
        self.repsFrom = repsFrom
    }

    public var answered: Bool { outcome == .answered }
}
