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

    /// Arrival times of `count` requests starting at `start`, drawn from `rng`. Every time is at
    /// most ``Limits/latestArrival``; arrivals that would pass it are refused, never wrapped or clipped.
    public func arrivals(count: Int, start: Cycle, rng: inout SplitMix64) throws -> [Cycle] {
        func exponential(_ mean: Double) -> Double { -mean * log(1 - rng.nextUnit()) }  // 1 - u avoids log(0)
        let latest = Limits.latestArrival
        func tooLate(_ what: String) -> OutOfRange {
            OutOfRange(
                description:
                    "\(what) would arrive after cycle \(latest), the latest arrival the emulator accepts (fewer requests, shorter intervals or an earlier start_cycle)"
            )
        }
        /// A drawn clock value as a cycle, refused past the latest arrival.
        func cycle(_ clock: Double, request: Int) throws -> Cycle {
            guard clock < Double(latest) else { throw tooLate("request \(request + 1) of \(count)") }
            return Cycle(clock.rounded(.down))
        }
        guard start <= latest else { throw tooLate("the first request (start_cycle \(start))") }
        var times: [Cycle] = []
        times.reserveCapacity(count)
        switch self {
        case .periodic(let period, let jitter):
            // The last arrival bounds all others: start + (count - 1)·period + jitter.
            let (span, overflow) = period.multipliedReportingOverflow(by: Cycle(max(0, count - 1)))
            guard !overflow, span <= latest - start, jitter <= latest - start - span else {
                throw tooLate("the last of \(count) requests (every \(period) cycles)")
            }
            for i in 0..<count {
                let offset = jitter > 0 ? rng.next() % jitter : 0
                times.append(start + Cycle(i) * period + offset)
            }
        case .poisson(let mean):
            var clock = Double(start)
            for i in 0..<count {
                clock += exponential(mean)
                times.append(try cycle(clock, request: i))
            }
        case .burst:
            times = Array(repeating: start, count: count)
        case .onOff(let mean, let on, let off):
            // Time is measured in "on" time; each completed on period inserts an off gap.
            var onClock = 0.0
            for i in 0..<count {
                onClock += exponential(mean)
                let onTime = try cycle(onClock, request: i)
                let (gaps, overflow) = (onTime / on).multipliedReportingOverflow(by: off)
                guard !overflow, gaps <= latest, onTime <= latest - gaps, start <= latest - gaps - onTime else {
                    throw tooLate("request \(i + 1) of \(count)")
                }
                times.append(start + onTime + gaps)
            }
        case .markov(let states):
            var clock = Double(start)
            var state = 0
            var stateEnd = clock + exponential(states[0].meanDwell)
            // A state change that draws no arrival costs a step; a degenerate process (dwell times
            // far below the intervals) would otherwise spin without end.
            var budget = Limits.markovStateChangesPerArrival * (count + 1)
            while times.count < count {
                let candidate = clock + exponential(states[state].meanInterval)
                if candidate < stateEnd {
                    clock = candidate
                    times.append(try cycle(clock, request: times.count))
                } else {
                    // Memorylessness: the next gap restarts at the state change.
                    budget -= 1
                    guard budget > 0 else {
                        throw OutOfRange(
                            description:
                                "the Markov-modulated process changed state \(Limits.markovStateChangesPerArrival * (count + 1)) times and drew only \(times.count) of \(count) arrivals: its mean_dwell_cycles are far shorter than its mean_interval_cycles"
                        )
                    }
                    clock = stateEnd
                    guard clock < Double(latest) else { throw tooLate("request \(times.count + 1) of \(count)") }
                    state = (state + 1) % states.count
                    stateEnd = clock + exponential(states[state].meanDwell)
                }
            }
        case .replay(let offsets):
            // Beyond the recording, the trace repeats, each copy shifted by the trace's span (its
            // last arrival plus its mean gap), so the long-run rate is the recorded one.
            let span = offsets.last! + max(1, offsets.last! / Cycle(offsets.count))
            let copies = Cycle((count - 1) / offsets.count)
            let (shift, overflow) = copies.multipliedReportingOverflow(by: span)
            guard !overflow, shift <= latest - start, offsets.last! <= latest - start - shift else {
                throw tooLate("the last of \(count) replayed requests")
            }
            for i in 0..<count {
                times.append(start + Cycle(i / offsets.count) * span + offsets[i % offsets.count])
            }
        }
        // Jitter may reorder neighbours; arrivals are processed in time order.
        return times.sorted()
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
