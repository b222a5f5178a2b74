/// Sebastiano Vigna's SplitMix64: tiny, fast, and the same numbers on every platform and run.
///
/// Every object gets its own generator, keyed by the seed and the object's index, so the plan of
/// computer 41 can be recomputed (for the inventory, or to copy one of its SPNs onto a clone)
/// without replaying computers 0 to 40.
struct SplitMix64 {
    private var state: UInt64

    init(state: UInt64) { self.state = state }

    /// A generator for one object: `stream` tells apart the uses of one index (export, inventory).
    init(seed: UInt64, index: Int, stream: UInt64) {
        state = Self.mix(seed ^ Self.mix(UInt64(truncatingIfNeeded: index) &+ stream &* 0x9E37_79B9_7F4A_7C15))
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// Uniform in `0..<bound` (Lemire's multiply-high; the bias is far below anything visible here).
    mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// Uniform in `range`.
    mutating func within(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    /// True with probability `perMille` / 1000.
    mutating func chance(perMille: Int) -> Bool { below(1000) < perMille }

    /// The SplitMix64 finalizer: a bijection that spreads every input bit over the output.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
