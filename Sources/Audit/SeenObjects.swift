/// The objects the runner has already audited, by distinguished name, so each is audited once.
///
/// Two exports concatenated, or a query repeated, give the same object twice; audited twice, it
/// would be counted twice and "duplicate" its own SPNs, with a `setspn -D` that removes an SPN from
/// its only holder. DNs are compared as AD compares them, closely enough for a repeat of one
/// export: ASCII case folded, spaces around an unescaped `,` or `=` and at either end dropped.
///
/// A million DNs as Strings would be the audit's largest allocation, so only a 128-bit fingerprint
/// of each normalized DN is kept, from two per-process randomly keyed SipHashes (as
/// `DuplicateSPNIndex` does): nobody who can name an object can make another look like it.
struct SeenObjects {
    /// 256 sets chosen by the fingerprint's top byte, so a resize copies 1/256 of them, not all at once.
    private var partitions = [Set<DuplicateSPNIndex.Fingerprint>](repeating: [], count: 256)
    private var normalized: [UInt8] = []
    private let seedHigh = UInt64.random(in: .min ... .max)
    private let seedLow = UInt64.random(in: .min ... .max)

    /// Records `distinguishedName`; false when an equal DN was recorded before.
    mutating func insert(_ distinguishedName: String) -> Bool {
        Self.normalize(distinguishedName, into: &normalized)
        var high = Hasher()
        high.combine(seedHigh)
        var low = Hasher()
        low.combine(seedLow)
        normalized.withUnsafeBytes { bytes in
            high.combine(bytes: bytes)
            low.combine(bytes: bytes)
        }
        let fingerprint = DuplicateSPNIndex.Fingerprint(
            high: UInt64(bitPattern: Int64(high.finalize())), low: UInt64(bitPattern: Int64(low.finalize())))
        return partitions[Int(truncatingIfNeeded: fingerprint.high >> 56)].insert(fingerprint).inserted
    }

    /// The DN's bytes with ASCII letters lower-cased and insignificant spaces dropped: those at either
    /// end and around an unescaped `,` or `=`. An escaped byte (`\ `, `\,`) is kept as it is.
    static func normalize(_ distinguishedName: String, into output: inout [UInt8]) {
        output.removeAll(keepingCapacity: true)
        /// Output up to the last byte that must stay (not a trailing unescaped space).
        var kept = 0
        var skippingSpaces = true
        var escaping = false
        for byte in distinguishedName.utf8 {
            let lower = byte >= 65 && byte <= 90 ? byte + 32 : byte
            if escaping {
                output.append(lower)
                kept = output.count
                escaping = false
                continue
            }
            switch byte {
            case UInt8(ascii: " "):
                if !skippingSpaces { output.append(byte) }
            case UInt8(ascii: ","), UInt8(ascii: "="):
                output.removeSubrange(kept...)
                output.append(byte)
                kept = output.count
                skippingSpaces = true
            case UInt8(ascii: "\\"):
                output.append(byte)
                kept = output.count
                escaping = true
                skippingSpaces = false
            default:
                output.append(lower)
                kept = output.count
                skippingSpaces = false
            }
        }
        output.removeSubrange(kept...)
    }
}
