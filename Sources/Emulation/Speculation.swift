import WaferModel

/// How long speculative windows are. The length adapts to what windows cost, by a deterministic
/// estimate — each round costs `roundCost`, each cluster run `runCost`, each event (re-)executed
/// `eventCost` — per cycle of virtual time committed: after every window the length keeps moving
/// (doubling or halving) in the direction that lowered the estimate, and turns when it rose. Long
/// windows need fewer rounds and first runs, but every message that lands inside one makes its
/// receiver run the window again, events and all. A window that has not settled after
/// `maximumRounds` is abandoned for a conservative one and the length quartered. The estimate
/// uses counts only (never wall time), which depend only on the model, so the windowing — and with
/// it everything but wall time — is reproducible.
public struct Speculation: Sendable {
    public var enabled: Bool
    /// The current window length in cycles.
    public private(set) var length: Cycle
    public var minimumLength: Cycle
    public var maximumLength: Cycle
    /// Rounds after which a window is abandoned.
    public var maximumRounds: UInt64
    /// Relative costs of a round, a cluster run and an event (microseconds on a 2-core host).
    public var roundCost = 100.0
    public var runCost = 60.0
    public var eventCost = 4.0
    private var growing = true
    private var lastCostPerCycle: Double?

    public init(
        enabled: Bool, length: Cycle = 4_000, minimumLength: Cycle = 500, maximumLength: Cycle = 4_000_000,
        maximumRounds: UInt64 = 16
    ) {
        self.enabled = enabled
        self.length = length
        self.minimumLength = minimumLength
        self.maximumLength = maximumLength
        self.maximumRounds = maximumRounds
    }

    /// A window of `cycles` settled after `rounds` rounds, `runs` cluster runs and `events` events.
    mutating func committed(cycles: Cycle, rounds: UInt64, runs: UInt64, events: UInt64) {
        // A window costs at least one round (its planning and grants), whatever ran in it.
        let cost = Double(max(rounds, 1)) * roundCost + Double(runs) * runCost + Double(events) * eventCost
        let perCycle = cost / Double(max(cycles, 1))
        if let last = lastCostPerCycle, perCycle > last { growing.toggle() }
        lastCostPerCycle = perCycle
        length = growing ? min(maximumLength, length * 2) : max(minimumLength, length / 2)
    }

    /// A window was abandoned after `rounds` rounds.
    mutating func abandoned(rounds: UInt64) {
        length = max(minimumLength, length / 4)
        growing = false
        lastCostPerCycle = nil
    }
}
