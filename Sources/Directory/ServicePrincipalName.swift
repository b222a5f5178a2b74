/// A servicePrincipalName value: `serviceClass/host[:port][/serviceName]`.
///
/// AD compares SPNs case-insensitively, so equality and hashing here use the lower-cased form while
/// `value` keeps the spelling found in the directory, which is what `setspn` must be given back.
public struct ServicePrincipalName: Sendable, Hashable, CustomStringConvertible {
    public let value: String
    /// Lower-cased, used for comparison and indexing.
    public let normalized: String

    public init(_ value: String) {
        self.value = value
        // Most SPNs are stored lower-case ASCII already; share the text instead of copying it.
        var plain = true
        for byte in value.utf8 where byte >= 0x80 || (byte >= 65 && byte <= 90) {
            plain = false
            break
        }
        self.normalized = plain ? value : value.lowercased()
    }

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.init(String(decoding: bytes, as: UTF8.self))
    }

    /// The part before the first '/': HOST, RestrictedKrbHost, TERMSRV, MSSQLSvc...
    public var serviceClass: Substring {
        value.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first ?? Substring(value)
    }

    /// The host part without a port or service name, as written (short name or FQDN).
    public var host: Substring {
        let parts = value.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2 else { return "" }
        let hostAndPort = parts[1]
        if let colon = hostAndPort.firstIndex(of: ":") { return hostAndPort[..<colon] }
        return hostAndPort
    }

    /// True when the SPN names a port (`MSSQLSvc/db01.corp.example:1433`).
    public var hasPort: Bool {
        let parts = value.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count >= 2 && parts[1].contains(":")
    }

    public var description: String { value }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.normalized == rhs.normalized }
    public func hash(into hasher: inout Hasher) { hasher.combine(normalized) }
}
