import WaferModel

/// How long speculative windows are, adapted to how many rounds they take to settle.
///
/// A speculative window runs `length` cycles at once; every message that arrives inside it costs
/// its receiver another run (a round). Few rounds: the window doubles; many: it halves; a window
/// that has not settled after `maximumRounds` is abandoned for a conservative one and the length
/// quartered. The length depends only on round counts, which depend only on the model, so
/// windowing — and with it everything but wall time — is reproducible.
public struct Speculation: Sendable {
    public var enabled: Bool
    /// The current window length in cycles.
    public private(set) var length: Cycle
    public var minimumLength: Cycle
    public var maximumLength: Cycle
    /// Rounds after which a window is abandoned.
    public var maximumRounds: UInt64
    /// Grow when a window settles in at most this many rounds; shrink at `shrinkRounds` or more.
    public var growRounds: UInt64 = 2
    public var shrinkRounds: UInt64 = 5

    public init(
        enabled: Bool, length: Cycle = 2_000, minimumLength: Cycle = 200, maximumLength: Cycle = 4_000_000,
        maximumRounds: UInt64 = 12
    ) {
        self.enabled = enabled
        self.length = length
        self.minimumLength = minimumLength
        self.maximumLength = maximumLength
        self.maximumRounds = maximumRounds
    }

    mutating func committed(rounds: UInt64) {
        if rounds <= growRounds {
            length = min(maximumLength, length * 2)
        } else if rounds >= shrinkRounds {
            length = max(minimumLength, length / 2)
        }
    }

    mutating func abandoned(rounds: UInt64) {
        length = max(minimumLength, length / 4)
    }
}
