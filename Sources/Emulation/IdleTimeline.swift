import WaferModel

/// Idle PE-array time of one cluster over virtual time, split as the run's accounting splits it:
/// *starved* (idle while the cluster's queue was empty) and *unassigned* (idle while work was
/// queued that the dispatcher did not give this array), summed over the cluster's TBUs, in bins of
/// ``width`` cycles. Built once at the end of a run from the TBUs' idle periods and the times the
/// queue became non-empty and empty again, so it is exact and costs the engine only two logs.
public struct IdleTimeline: Codable, Equatable, Sendable {
    /// Cycles per bin (1,000 × a power of two, as ``UtilisationTimeline`` chooses).
    public var width: Cycle
    /// Starved TBU-cycles in each bin.
    public var starved: [Cycle]
    /// Unassigned TBU-cycles in each bin.
    public var unassigned: [Cycle]

    public init(width: Cycle, starved: [Cycle], unassigned: [Cycle]) {
        self.width = width
        self.starved = starved
        self.unassigned = unassigned
    }

    /// The timeline of idle `periods` (half-open `[start, end)`, any TBU, any order) against a
    /// queue that was non-empty over `[toggles[0], toggles[1])`, `[toggles[2], toggles[3])`, …
    /// (an odd count: non-empty from the last toggle on), in bins of `width` up to `end`.
    public init(periods: [(start: Cycle, end: Cycle)], queueToggles toggles: [Cycle], end: Cycle, width: Cycle) {
        self.width = max(1, width)
        let count = end == 0 ? 0 : Int((end - 1) / self.width) + 1
        starved = Array(repeating: 0, count: count)
        unassigned = Array(repeating: 0, count: count)
        for period in periods {
            let stop = min(period.end, end)
            var time = period.start
            while time < stop {
                let bin = Int(time / self.width)
                let binEnd = min(stop, Cycle(bin + 1) * self.width)
                let queued = Self.nonEmptyCycles(from: time, to: binEnd, toggles: toggles)
                unassigned[bin] += queued
                starved[bin] += binEnd - time - queued
                time = binEnd
            }
        }
    }

    /// Cycles within `[from, to)` during which the queue held something.
    static func nonEmptyCycles(from: Cycle, to: Cycle, toggles: [Cycle]) -> Cycle {
        // The first toggle after `from`: an odd index there means the queue is non-empty at `from`.
        var low = 0
        var high = toggles.count
        while low < high {
            let middle = (low + high) / 2
            if toggles[middle] <= from { low = middle + 1 } else { high = middle }
        }
        var total: Cycle = 0
        var index = low
        var time = from
        var nonEmpty = index % 2 == 1
        while time < to {
            let next = index < toggles.count ? min(toggles[index], to) : to
            if nonEmpty { total += next - time }
            time = next
            nonEmpty.toggle()
            index += 1
        }
        return total
    }

    /// The same timeline in bins of `wider` cycles (a multiple of ``width``).
    public func coarsened(to wider: Cycle) -> IdleTimeline {
        guard wider > width, wider % width == 0 else { return self }
        let factor = Int(wider / width)
        func merge(_ values: [Cycle]) -> [Cycle] {
            stride(from: 0, to: values.count, by: factor).map {
                values[$0..<min(values.count, $0 + factor)].reduce(0) { $0.adding($1) }  // a cluster's counts
            }
        }
        return IdleTimeline(width: wider, starved: merge(starved), unassigned: merge(unassigned))
    }
}
