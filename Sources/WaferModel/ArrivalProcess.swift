import Foundation

/// When the requests of one injection arrive, in virtual time.
public enum ArrivalProcess: Codable, Equatable, Sendable {
    /// Request `i` arrives at `start + i·period + u`, `u` uniform in `[0, jitter)` (XRBench-style frames).
    case periodic(period: Cycle, jitter: Cycle)
    /// Exponential gaps with the given mean (a Poisson process).
    case poisson(meanInterval: Double)
    /// All requests arrive at the start.
    case burst
    /// Bursty on/off traffic: Poisson arrivals with `meanInterval` during `on` cycles, then
    /// nothing for `off` cycles, repeating (starting with an on period).
    case onOff(meanInterval: Double, on: Cycle, off: Cycle)
    /// A Markov-modulated Poisson process: in each state arrivals are Poisson with the state's
    /// mean interval; the state lasts an exponential time with the state's mean dwell, then the
    /// process moves to the next state (cyclically). Starts in the first state.
    case markov([MarkovState])
    /// Replay of recorded arrival times (cycles after the injection's start, sorted on load).
    case replay([Cycle])

    /// One state of a Markov-modulated Poisson process.
    public struct MarkovState: Codable, Equatable, Sendable {
        public var meanInterval: Double
        public var meanDwell: Double

        public init(meanInterval: Double, meanDwell: Double) {
            self.meanInterval = meanInterval
            self.meanDwell = meanDwell
        }
    }

    /// Arrivals that cannot be drawn: they would reach past ``Limits/latestArrival``, or a Markov
    /// process would change state without end.
    public struct OutOfRange: Error, CustomStringConvertible {
        public var description: String
    }

    /// Arrival times of `count` requests starting at `start`, drawn from `rng`, in time order.
    /// Every time is at most ``Limits/latestArrival``; arrivals that would pass it are refused,
    /// never wrapped or clipped. (The coordinator draws them one at a time with
    /// ``ArrivalGenerator``; this collects the same sequence.)
    public func arrivals(count: Int, start: Cycle, rng: inout SplitMix64) throws -> [Cycle] {
        var generator = try ArrivalGenerator(self, count: count, start: start, rng: rng)
        var times: [Cycle] = []
        times.reserveCapacity(count)
        while let time = try generator.next() { times.append(time) }
        rng = generator.rng
        return times
    }

    /// The same process with arrivals `factor` times as frequent (intervals and jitter divided by
    /// `factor`; Markov dwell times and on/off periods unchanged, so phases keep their length).
    public func scaled(rate factor: Double) -> ArrivalProcess {
        precondition(factor > 0 && factor.isFinite, "a rate factor is positive")
        func shrink(_ cycles: Cycle) -> Cycle { Cycle((Double(cycles) / factor).rounded()) }
        switch self {
        case .periodic(let period, let jitter): return .periodic(period: max(1, shrink(period)), jitter: shrink(jitter))
        case .poisson(let mean): return .poisson(meanInterval: mean / factor)
        case .burst: return .burst
        case .onOff(let mean, let on, let off): return .onOff(meanInterval: mean / factor, on: on, off: off)
        case .markov(let states):
            return .markov(states.map { MarkovState(meanInterval: $0.meanInterval / factor, meanDwell: $0.meanDwell) })
        case .replay(let offsets): return .replay(offsets.map(shrink))
        }
    }

    /// Mean arrivals per cycle in the long run (nil for a burst or a replay).
    public var meanRate: Double? {
        switch self {
        case .periodic(let period, _): return 1 / Double(period)
        case .poisson(let mean): return 1 / mean
        case .burst, .replay: return nil
        case .onOff(let mean, let on, let off): return Double(on) / Double(on + off) / mean
        case .markov(let states):
            let dwell = states.reduce(0) { $0 + $1.meanDwell }
            return states.reduce(0) { $0 + $1.meanDwell / dwell / $1.meanInterval }
        }
    }
}
