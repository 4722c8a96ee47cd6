/// A schedule over virtual time that changes a workflow's distributions (quiet scene → crowded
/// scene; short prompts → long prompts), so demand shifts during a run.
///
/// A request lives in the phase of the virtual time it arrived at the wafer: every decision it
/// takes uses that phase's distributions, wherever and whenever the decision is evaluated.
public struct PhaseSchedule: Codable, Equatable, Sendable {
    public struct Phase: Codable, Equatable, Sendable {
        public var name: String
        /// Length in cycles; nil only for the last phase of a non-repeating schedule (it lasts forever).
        public var durationCycles: Cycle?

        /// A phase called `name` lasting `durationCycles` (nil: for ever, the last phase only).
        public init(name: String, durationCycles: Cycle?) {
            self.name = name
            self.durationCycles = durationCycles
        }
    }

    public var phases: [Phase]
    /// When true the schedule starts over after its last phase.
    public var repeats: Bool

    /// A single phase that lasts forever (a workflow without `phases:`).
    public static let constant = PhaseSchedule(phases: [Phase(name: "all", durationCycles: nil)], repeats: false)

    public init(phases: [Phase], repeats: Bool) {
        self.phases = phases
        self.repeats = repeats
    }

    /// Index of the phase at virtual time `time`.
    public func index(at time: Cycle) -> Int {
        guard phases.count > 1 else { return 0 }
        var t = time
        if repeats {
            let period = phases.reduce(Cycle(0)) { $0 + ($1.durationCycles ?? 0) }
            if period > 0 { t %= period }
        }
        for (index, phase) in phases.enumerated() {
            guard let duration = phase.durationCycles else { return index }
            if t < duration { return index }
            t -= duration
        }
        return phases.count - 1
    }

    public var names: [String] { phases.map(\.name) }
}

/// A value that may differ by phase: one value for all phases, or one per phase (in schedule order).
public struct Phased<Value: Codable & Equatable & Sendable>: Codable, Equatable, Sendable {
    public var values: [Value]

    /// The same value in every phase.
    public init(_ value: Value) { values = [value] }

    /// One value per phase, in schedule order.
    public init(perPhase: [Value]) { values = perPhase }

    /// The value in phase `phase`.
    @inline(__always)
    public subscript(phase: Int) -> Value { values.count == 1 ? values[0] : values[phase] }

    /// True when the value does not change with the phase.
    public var isConstant: Bool { values.count == 1 }
}
