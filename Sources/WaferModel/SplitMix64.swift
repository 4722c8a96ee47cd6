/// A small, fast, seedable random stream (SplitMix64). Every random draw in the emulator comes
/// from a stream owned by one entity, so results never depend on the order in which processes run.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A stream starting from `seed`.
    public init(seed: UInt64) { state = seed }

    /// A stream derived from several keys (e.g. run seed, request id, block, visit): the same keys
    /// always give the same stream, wherever it is drawn.
    public init(keys: UInt64...) { self.init(keyList: keys) }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// A uniform double in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SplitMix64 {
    /// A stream derived from a list of keys (as ``init(keys:)``, for key lists built at run time).
    public init(keyList: [UInt64]) {
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15
        for key in keyList { hash = SplitMix64.mix(hash ^ SplitMix64.mix(key &+ 0x632B_E59B_D9B4_E019)) }
        self.init(seed: hash)
    }
}

extension SplitMix64 {
    /// The key of a name (FNV-1a, 64 bits): streams keyed by what a thing is called rather than by
    /// where it stands in a list, so adding a workflow to a library moves no other workflow's draws.
    public static func key(ofName name: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
