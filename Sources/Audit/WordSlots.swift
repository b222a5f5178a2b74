/// The open addressing both flat fingerprint tables share (`FirstHolderTable`, `NameSet`): linear
/// probing over an array of 64-bit words, 0 marking an empty slot, grown by half at 3/4 full.
///
/// The words are random (keyed SipHash), so their bits below the top byte (which, for a NameSet,
/// chose the partition) place a word, scaled to a capacity that need not be a power of two. Growing by half
/// keeps a table between 1/2 and 3/4 full; doubling left it, at times, nearly empty.
enum WordSlots {
    /// Whether one more word would take a table of `capacity` slots holding `count` past 3/4 full
    /// (longer probe runs past that cost more than the memory saved).
    static func isFull(count: Int, capacity: Int) -> Bool { (count + 1) * 4 > capacity * 3 }

    /// The capacity a full table grows to.
    static func grown(_ capacity: Int) -> Int { max(64, capacity + capacity / 2) }

    /// The slot holding `word`, or the empty slot where it goes; `words` must have one.
    static func slot(of word: UInt64, in words: [UInt64]) -> Int {
        let capacity = words.count
        var index = Int(truncatingIfNeeded: (word << 8).multipliedFullWidth(by: UInt64(capacity)).high)
        while words[index] != 0 && words[index] != word {
            index += 1
            if index == capacity { index = 0 }
        }
        return index
    }

    /// Grows a table of `words` with `valuesPerSlot` values beside each, by half, every word moved
    /// to its slot in the new capacity with its values (`empty` fills the new free slots' values).
    static func grow<Value>(_ words: inout [UInt64], _ values: inout [Value], empty: Value, valuesPerSlot: Int = 1) {
        let (oldWords, oldValues) = (words, values)
        let capacity = grown(oldWords.count)
        words = [UInt64](repeating: 0, count: capacity)
        values = [Value](repeating: empty, count: capacity * valuesPerSlot)
        for (old, word) in oldWords.enumerated() where word != 0 {
            let index = slot(of: word, in: words)
            words[index] = word
            for part in 0..<valuesPerSlot {
                values[index * valuesPerSlot + part] = oldValues[old * valuesPerSlot + part]
            }
        }
    }

    /// The 256 partitions of a table of 128-bit fingerprints kept as 72 bits (`FirstHolderTable`,
    /// `NamedAccounts`): only 1/256 of it is ever being resized.
    static let fingerprintPartitions = 256

    /// Where such a table keeps `fingerprint`: its top byte chooses the partition, and the word is
    /// its next 56 bits and 8 of the low half (0, which marks an empty slot, is the caller's to keep
    /// apart).
    static func place(_ fingerprint: Fingerprint) -> (partition: Int, word: UInt64) {
        (Int(truncatingIfNeeded: fingerprint.high >> 56), fingerprint.high << 8 | (fingerprint.low & 0xFF))
    }
}
