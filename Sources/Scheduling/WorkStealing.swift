import WaferModel

/// Reactive threshold rebalancing by work stealing. A cluster with nothing queued and a free TBU
/// looks at the wafer-wide view; if some cluster's pending cycles exceed its own by more than
/// `threshold`, it asks the most loaded one for work. The victim, on the request, gives up to
/// `size` queued task blocks from the back of its queue (the youngest), but only while the
/// imbalance it sees still exceeds the threshold. Rebalancing therefore starts only after an
/// imbalance has been observed, which is exactly the behaviour the baseline stands for.
public struct WorkStealing: Equatable, Sendable {
    public var threshold: Cycle
    public var size: Int

    public init(threshold: Cycle, size: Int) {
        self.threshold = threshold
        self.size = size
    }

    /// The cluster `thief` should steal from, or nil when no imbalance exceeds the threshold.
    public func victim(for thief: Int, view: WaferLoadView) -> Int? {
        let own = view.clusters[thief].pendingCycles
        var best: (cluster: Int, pending: Cycle)?
        for load in view.clusters where load.cluster != thief && load.queuedTasks > 0 {
            guard load.pendingCycles > own, load.pendingCycles - own > threshold else { continue }
            if best == nil || load.pendingCycles > best!.pending { best = (load.cluster, load.pendingCycles) }
        }
        return best?.cluster
    }

    /// Queue positions (from the back) the victim gives away: task blocks only, at most `size`,
    /// none when its pending cycles no longer exceed the thief's by the threshold, and never so
    /// many that the victim would end up with less than the thief.
    public func give(queue: [QueuedTask], victimPending: Cycle, thiefPending: Cycle) -> [Int] {
        guard victimPending > thiefPending, victimPending - thiefPending > threshold else { return [] }
        var given: [Int] = []
        var moved: Cycle = 0
        for position in queue.indices.reversed() where !queue[position].isControl {
            guard given.count < size else { break }
            let cycles = queue[position].predictedCycles
            // Stop before the move would reverse the imbalance by more than the block itself.
            guard thiefPending + moved + cycles <= victimPending - moved else { break }
            given.append(position)
            moved += cycles
        }
        return given
    }
}

/// Diffusion load balancing (first-order diffusion on the mesh, as in Cybenko's scheme): every
/// cluster knows only its neighbours' loads and sends each lighter neighbour `rate` × the
/// difference. With `rate` ≤ 1 / (largest degree + 1) repeated steps conserve the total and converge
/// to the mean on a connected mesh.
public struct DiffusionBalancer: Equatable, Sendable {
    public var rate: Double

    public init(rate: Double) {
        self.rate = rate
    }

    /// Load to send to each lighter neighbour, by neighbour id.
    public func flows(own: Double, neighbours: [(cluster: Int, load: Double)]) -> [(cluster: Int, amount: Double)] {
        neighbours.compactMap { neighbour in
            own > neighbour.load ? (neighbour.cluster, rate * (own - neighbour.load)) : nil
        }
    }

    /// One synchronous diffusion step over the whole mesh (every cluster applies ``flows`` at once).
    public func step(_ loads: [Double], mesh: Mesh) -> [Double] {
        var next = loads
        for cluster in loads.indices {
            let neighbours = mesh.neighbours(of: cluster).map { (cluster: $0, load: loads[$0]) }
            for flow in flows(own: loads[cluster], neighbours: neighbours) {
                next[cluster] -= flow.amount
                next[flow.cluster] += flow.amount
            }
        }
        return next
    }
}
