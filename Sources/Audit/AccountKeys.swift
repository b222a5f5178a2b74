import Codecs
import Directory

/// A 128-bit keyed fingerprint: two per-process randomly keyed SipHashes of the same bytes.
///
/// Kept instead of the text it stands for, where millions of keys would otherwise be held as
/// Strings; the random keys mean nobody who can write a name into AD can forge a collision.
public struct Fingerprint: Hashable, Sendable {
    let high: UInt64
    let low: UInt64

    /// The per-process random keys of one table's fingerprints.
    public struct Seeds: Sendable {
        let high = UInt64.random(in: .min ... .max)
        let low = UInt64.random(in: .min ... .max)

        public init() {}
    }

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The fingerprint of `text` under `seeds`.
    public init(_ text: String, seeds: Seeds) {
        self.init(CollectionOfOne(text), seeds: seeds)
    }

    /// The fingerprint of the sequence `texts` under `seeds`: a String hashes with a terminator no
    /// UTF-8 text contains, so ("ab", "c") and ("a", "bc") differ.
    public init<Texts: Sequence<String>>(_ texts: Texts, seeds: Seeds) {
        var high = Hasher()
        high.combine(seeds.high)
        var low = Hasher()
        low.combine(seeds.low)
        for text in texts {
            high.combine(text)
            low.combine(text)
        }
        self.init(high: UInt64(bitPattern: Int64(high.finalize())), low: UInt64(bitPattern: Int64(low.finalize())))
    }
}

/// The accounts the runner has already audited, by `AccountKey`, so each is audited once.
///
/// Two exports concatenated, a query repeated, or two DCs' views of one domain give the same account
/// twice; audited twice, it would be counted twice and "duplicate" its own SPNs, with a `setspn -D`
/// that removes an SPN from its only holder. An account is its objectGUID; a source that exports no
/// GUID names it by DN, compared as AD compares DNs, closely enough for a repeat of one export:
/// ASCII case folded, spaces around an unescaped `,` or `=` and at either end dropped. (One account
/// exported once with and once without its GUID therefore counts twice; AD always has a GUID, so
/// that takes two differently made exports.)
///
/// A million keys as Strings would be the audit's largest allocation, so only a fingerprint of each
/// is kept, from two per-process randomly keyed SipHashes, in a `FirstHolderTable` (72 of its 128
/// bits, in 12-byte slots: two accounts taken for one, and the second not audited, about twice in a
/// billion audits of a million accounts). A `Set` of the whole fingerprints kept about 34 bytes an
/// account (massif, 1M computers: 33.8 MB); this keeps about 19.
struct AccountKeys {
    private var recorded = FirstHolderTable()
    private var normalized: [UInt8] = []
    private let seedHigh = UInt64.random(in: .min ... .max)
    private let seedLow = UInt64.random(in: .min ... .max)

    /// Records `object`'s account; false when the same account was recorded before.
    mutating func insert(_ object: DirectoryObject) -> Bool {
        var high = Hasher()
        high.combine(seedHigh)
        var low = Hasher()
        low.combine(seedLow)
        // The first byte keeps a GUID and a DN that happened to share bytes apart.
        if let guid = object.objectGUID {
            high.combine(UInt8(1))
            high.combine(guid)
            low.combine(UInt8(1))
            low.combine(guid)
        } else {
            Self.normalize(object.distinguishedName, into: &normalized)
            high.combine(UInt8(0))
            low.combine(UInt8(0))
            normalized.withUnsafeBytes { bytes in
                high.combine(bytes: bytes)
                low.combine(bytes: bytes)
            }
        }
        let fingerprint = Fingerprint(
            high: UInt64(bitPattern: Int64(high.finalize())), low: UInt64(bitPattern: Int64(low.finalize())))
        return recorded.firstHolder(of: fingerprint, recordingIfNew: 0) == nil
    }

    /// Records `distinguishedName` as an account without a GUID; false when it was recorded before.
    mutating func insert(distinguishedName: String) -> Bool {
        insert(DirectoryObject(kind: .otherSPNHolder, distinguishedName: distinguishedName, samAccountName: ""))
    }

    /// The DN's bytes with ASCII letters lower-cased and insignificant spaces dropped: those at either
    /// end and around an unescaped `,` or `=`. An escaped byte (`\ `, `\,`) is kept as it is.
    static func normalize(_ distinguishedName: String, into output: inout [UInt8]) {
        var distinguishedName = distinguishedName
        distinguishedName.withUTF8 { input in
            // Written through a pointer into a buffer at least as long as the input (the output is
            // never longer): appending byte by byte costs several times the rest of the work.
            if output.count < input.count {
                output.append(contentsOf: repeatElement(0, count: input.count - output.count))
            }
            let length = output.withUnsafeMutableBufferPointer { buffer -> Int in
                /// Output up to the last byte that must stay (not a trailing unescaped space).
                var count = 0
                var kept = 0
                var skippingSpaces = true
                var escaping = false
                for byte in input {
                    let lower = ASCII.lowercased(byte)
                    if escaping {
                        buffer[count] = lower
                        count += 1
                        kept = count
                        escaping = false
                        continue
                    }
                    switch byte {
                    case UInt8(ascii: " "):
                        if !skippingSpaces {
                            buffer[count] = byte
                            count += 1
                        }
                    case UInt8(ascii: ","), UInt8(ascii: "="):
                        count = kept
                        buffer[count] = byte
                        count += 1
                        kept = count
                        skippingSpaces = true
                    case UInt8(ascii: "\\"):
                        buffer[count] = byte
                        count += 1
                        kept = count
                        escaping = true
                        skippingSpaces = false
                    default:
                        buffer[count] = lower
                        count += 1
                        kept = count
                        skippingSpaces = false
                    }
                }
                return kept
            }
            output.removeLast(output.count - length)
        }
    }
}
