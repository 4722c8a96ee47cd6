import Foundation

/// When the requests of one injection arrive, in virtual time.
public enum ArrivalProcess: Codable, Equatable, Sendable {
    /// Request `i` arrives at `start + i·period + u`, `u` uniform in `[0, jitter)` (XRBench-style frames).
    case periodic(period: Cycle, jitter: Cycle)
    /// Exponential gaps with the given mean (a Poisson process).
    case poisson(meanInterval: Double)
    /// All requests arrive at the start.
    case burst

    /// Arrival times of `count` requests starting at `start`, drawn from `rng`.
    public func arrivals(count: Int, start: Cycle, rng: inout SplitMix64) -> [Cycle] {
        var times: [Cycle] = []
        times.reserveCapacity(count)
        var clock = Double(start)
        for i in 0..<count {
            switch self {
            case .periodic(let period, let jitter):
                let offset = jitter > 0 ? rng.next() % jitter : 0
                times.append(start + Cycle(i) * period + offset)
            case .poisson(let mean):
                // Inverse-CDF sampling; 1 - u avoids log(0).
                clock += -mean * log(1 - rng.nextUnit())
                times.append(Cycle(clock.rounded(.down)))
            case .burst:
                times.append(start)
            }
        }
        // Jitter may reorder neighbours; arrivals are processed in time order.
        return times.sorted()
    }
}
