/// The userAccountControl flags TrustAudit reasons about, with AD's own names.
///
/// AD returns the attribute as a signed 32-bit decimal; the bits are what matter.
public struct UserAccountControl: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let accountDisable = UserAccountControl(rawValue: 0x0002)
    public static let passwordNotRequired = UserAccountControl(rawValue: 0x0020)
    public static let normalAccount = UserAccountControl(rawValue: 0x0200)
    public static let interdomainTrustAccount = UserAccountControl(rawValue: 0x0800)
    public static let workstationTrustAccount = UserAccountControl(rawValue: 0x1000)
    public static let serverTrustAccount = UserAccountControl(rawValue: 0x2000)
    public static let dontExpirePassword = UserAccountControl(rawValue: 0x1_0000)
    public static let trustedForDelegation = UserAccountControl(rawValue: 0x8_0000)
    public static let partialSecretsAccount = UserAccountControl(rawValue: 0x400_0000)

    /// Parses the decimal value AD sends; negative values (high bit set) are read as their 32-bit pattern.
    public init?(ldapValue bytes: [UInt8]) {
        guard let control = bytes.withUnsafeBufferPointer(UserAccountControl.init(ldapBytes:)) else { return nil }
        self = control
    }

    init?(ldapBytes bytes: UnsafeBufferPointer<UInt8>) {
        guard let value = Int64(ldapDecimalBytes: bytes), value >= Int64(Int32.min), value <= Int64(UInt32.max) else {
            return nil
        }
        rawValue = UInt32(truncatingIfNeeded: value)
    }

    public var isDisabled: Bool { contains(.accountDisable) }
    /// Domain controllers (SERVER_TRUST_ACCOUNT) and read-only DCs (PARTIAL_SECRETS_ACCOUNT).
    public var isDomainController: Bool { contains(.serverTrustAccount) || contains(.partialSecretsAccount) }
}
