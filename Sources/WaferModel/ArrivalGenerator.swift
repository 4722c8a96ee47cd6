import Foundation
import HeapModule

/// Draws the arrivals of one injection one at a time, in time order, so an injection of many
/// requests costs constant memory instead of a list of its times. The sequence is exactly what
/// drawing them all and sorting would give: the random draws happen in request order, and the
/// only process whose draws can come out of order (periodic with jitter beyond the period) is
/// reordered through a heap bounded by jitter / period.
public struct ArrivalGenerator: Sendable {
    public let process: ArrivalProcess
    /// Requests in the injection.
    public let count: Int
    public let start: Cycle
    /// The random stream, after the draws made so far.
    public private(set) var rng: SplitMix64

    /// Requests drawn so far (not necessarily handed out yet: see `pending`).
    private var drawn = 0
    /// Drawn arrivals not yet handed out (periodic with jitter only).
    private var pending = Heap<Cycle>()
    /// Process state: the running clock (Poisson, on/off "on" time, Markov), the Markov state and
    /// its end, and the Markov state changes left before the process counts as degenerate.
    private var clock = 0.0
    private var state = 0
    private var stateEnd = 0.0
    private var stateChangesLeft = 0

    /// Why the arrivals cannot be drawn.
    public typealias OutOfRange = ArrivalProcess.OutOfRange

    public init(_ process: ArrivalProcess, count: Int, start: Cycle, rng: SplitMix64) throws {
        self.process = process
        self.count = count
        self.start = start
        self.rng = rng
        let latest = Limits.latestArrival
        guard start <= latest else { throw Self.tooLate("the first request (start_cycle \(start))", count: count) }
        switch process {
        case .periodic(let period, let jitter):
            // The last arrival bounds all others: start + (count - 1)·period + jitter.
            let (span, overflow) = period.multipliedReportingOverflow(by: Cycle(max(0, count - 1)))
            guard !overflow, span <= latest - start, jitter <= latest - start - span else {
                throw Self.tooLate("the last of \(count) requests (every \(period) cycles)", count: count)
            }
        case .replay(let offsets):
            let span = Self.replaySpan(offsets)
            let (shift, overflow) = Cycle((count - 1) / offsets.count).multipliedReportingOverflow(by: span)
            guard !overflow, shift <= latest - start, offsets.last! <= latest - start - shift else {
                throw Self.tooLate("the last of \(count) replayed requests", count: count)
            }
        case .poisson: clock = Double(start)
        case .markov(let states):
            clock = Double(start)
            stateEnd = clock + exponential(states[0].meanDwell)
            stateChangesLeft = Limits.markovStateChangesPerArrival * (count + 1)
        case .burst, .onOff: break
        }
    }

    /// Beyond the recording a replay repeats, each copy shifted by the trace's span (its last
    /// arrival plus its mean gap), so the long-run rate is the recorded one.
    static func replaySpan(_ offsets: [Cycle]) -> Cycle {
        offsets.last! + max(1, offsets.last! / Cycle(offsets.count))
    }

    static func tooLate(_ what: String, count: Int) -> OutOfRange {
        OutOfRange(
            description:
                "\(what) would arrive after cycle \(Limits.latestArrival), the latest arrival the emulator accepts (fewer requests, shorter intervals or an earlier start_cycle)"
        )
    }

    /// True when every arrival has been handed out.
    public var isFinished: Bool { drawn == count && pending.isEmpty }

    /// The next arrival time, or nil when all `count` have been handed out.
    public mutating func next() throws -> Cycle? {
        switch process {
        case .periodic(let period, let jitter):
            // Arrival i lies in [start + i·period, start + i·period + jitter): draw until the next
            // undrawn one cannot come before the earliest pending.
            while drawn < count, pending.isEmpty || start + Cycle(drawn) * period <= pending.min! {
                let offset = jitter > 0 ? rng.next() % jitter : 0
                pending.insert(start + Cycle(drawn) * period + offset)
                drawn += 1
            }
            return pending.popMin()
        case .burst:
            guard drawn < count else { return nil }
            drawn += 1
            return start
        case .replay(let offsets):
            guard drawn < count else { return nil }
            defer { drawn += 1 }
            return start + Cycle(drawn / offsets.count) * Self.replaySpan(offsets) + offsets[drawn % offsets.count]
        case .poisson(let mean):
            guard drawn < count else { return nil }
            clock += exponential(mean)
            return try cycle(clock)
        case .onOff(let mean, let on, let off):
            // Time is measured in "on" time; each completed on period inserts an off gap.
            guard drawn < count else { return nil }
            clock += exponential(mean)
            let onTime = try cycle(clock, offset: 0)
            let (gaps, overflow) = (onTime / on).multipliedReportingOverflow(by: off)
            let latest = Limits.latestArrival
            guard !overflow, gaps <= latest, onTime <= latest - gaps, start <= latest - gaps - onTime else {
                throw Self.tooLate("request \(drawn) of \(count)", count: count)
            }
            return start + onTime + gaps
        case .markov(let states):
            guard drawn < count else { return nil }
            while true {
                let candidate = clock + exponential(states[state].meanInterval)
                if candidate < stateEnd {
                    clock = candidate
                    return try cycle(clock)
                }
                // Memorylessness: the next gap restarts at the state change. A state change that
                // draws no arrival costs a step; a degenerate process would otherwise spin.
                stateChangesLeft -= 1
                guard stateChangesLeft > 0 else {
                    throw OutOfRange(
                        description:
                            "the Markov-modulated process changed state \(Limits.markovStateChangesPerArrival * (count + 1)) times and drew only \(drawn) of \(count) arrivals: its mean_dwell_cycles are far shorter than its mean_interval_cycles"
                    )
                }
                clock = stateEnd
                guard clock < Double(Limits.latestArrival) else {
                    throw Self.tooLate("request \(drawn + 1) of \(count)", count: count)
                }
                state = (state + 1) % states.count
                stateEnd = clock + exponential(states[state].meanDwell)
            }
        }
    }

    /// An exponential draw with mean `mean` (1 − u avoids log(0)).
    private mutating func exponential(_ mean: Double) -> Double { -mean * log(1 - rng.nextUnit()) }

    /// A drawn clock value as a cycle (the next request's), refused past the latest arrival.
    private mutating func cycle(_ clock: Double, offset: Int = 1) throws -> Cycle {
        guard clock < Double(Limits.latestArrival) else {
            throw Self.tooLate("request \(drawn + offset) of \(count)", count: count)
        }
        drawn += 1
        return Cycle(clock.rounded(.down))
    }
}
