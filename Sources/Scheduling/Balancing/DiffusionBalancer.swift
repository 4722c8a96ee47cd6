import WaferModel

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

/// Diffusion load balancing as a cluster's balancing policy. At each load-signal tick a cluster
/// tells its mesh neighbours its pending cycles per TBU (when they changed by a tenth or more);
/// whenever its state changes it moves queued task blocks to each lighter neighbour in proportion
/// to the difference (``DiffusionBalancer``): whole blocks, youngest first, never a type the plan
/// reserves, never filling a neighbour's queue beyond half its capacity, and always keeping one
/// block. With a plan that has an elastic pool, only pool clusters are considered.
public struct DiffusionBalancing: BalancingPolicy {
    public let name = "diffusion"
    public let actsOnMessages = true
    public var rate: Double
    /// What each neighbour last said (pending cycles per TBU, queued blocks), plus what this
    /// cluster has sent it since.
    private var neighbourLoads: [Int: (pending: Cycle, queued: Int)] = [:]
    /// Pending cycles per TBU in the last signal to the neighbours.
    private var lastSignal: Cycle = .max

    public init(rate: Double) {
        self.rate = rate
    }

    public mutating func react(to trigger: BalancingTrigger, state: BalancingState) -> BalancingDecision {
        switch trigger {
        case .loadTick:
            return signalNeighbours(state)
        case .view, .blockFinished:
            return balance(state)
        case .signal(let signal):
            guard signal.kind == .load else { return .none }
            neighbourLoads[Int(signal.cluster)] = (signal.cycles, Int(signal.count))
            return balance(state)
        }
    }

    public func reacts(to trigger: BalancingTrigger, queueCount: Int) -> Bool {
        switch trigger {
        case .loadTick, .signal: return true
        // ``balance(_:)`` moves nothing without two queued blocks and a neighbour's load.
        case .view, .blockFinished: return queueCount > 1 && !neighbourLoads.isEmpty
        }
    }

    public func isQuiet(on trigger: BalancingTrigger, queueCount: Int) -> Bool {
        switch trigger {
        case .loadTick: return false
        // A neighbour's signal is recorded, then balanced on like a view: nothing moves without
        // two queued blocks.
        case .signal: return queueCount <= 1
        case .view, .blockFinished: return !reacts(to: trigger, queueCount: queueCount)
        }
    }

    public func reads(on trigger: BalancingTrigger, queueCount: Int) -> RecordedState {
        switch trigger {
        // A tick compares the cluster's own pending cycles with its own last signal.
        case .loadTick: return []
        // Never the view; the neighbours' loads only where ``balance(_:)`` (or ``reacts``) goes
        // past its first guard.
        case .signal, .view, .blockFinished: return queueCount > 1 ? .peerSignals : []
        }
    }

    private mutating func signalNeighbours(_ state: BalancingState) -> BalancingDecision {
        let perTBU = state.pendingCycles / Cycle(state.tbus)
        let last = lastSignal
        guard last == .max || (perTBU > last ? perTBU - last : last - perTBU) * 10 > max(last, 1) else { return .none }
        lastSignal = perTBU
        let signal = BalanceSignal(
            kind: .load, cluster: Int32(state.cluster), cycles: perTBU, count: UInt32(state.queueCount))
        return BalancingDecision(actions: state.mesh.neighbours(of: state.cluster).map { .signal(signal, to: $0) })
    }

    private mutating func balance(_ state: BalancingState) -> BalancingDecision {
        guard state.queueCount > 1, !neighbourLoads.isEmpty else { return .none }
        let tbus = state.tbus
        let own = Double(state.pendingCycles) / Double(tbus)
        let pool = state.plan.poolClusters
        let neighbours = neighbourLoads.sorted { $0.key < $1.key }
            .filter { pool.isEmpty || pool.contains($0.key) }
            .map { (cluster: $0.key, load: Double($0.value.pending)) }
        let flows = DiffusionBalancer(rate: rate).flows(own: own, neighbours: neighbours)
        var queue = state.queue
        var actions: [BalancingAction] = []
        for flow in flows {
            // The flow is per TBU; whole movable blocks move, youngest first, reserved types stay,
            // and a neighbour's queue is never filled beyond half its capacity.
            var budget = flow.amount * Double(tbus)
            var room = state.queueCapacity / 2 - neighbourLoads[flow.cluster]!.queued
            var positions: [Int] = []
            for position in queue.indices.reversed()
            where !queue[position].isControl && queue[position].movable
                && !state.plan.isReserved(queue[position].taskType)
            {
                guard room > 0, positions.count + 1 < queue.count else { break }
                let cycles = Double(queue[position].predictedCycles)
                guard cycles <= budget + cycles / 2 else { continue }
                positions.append(position)
                budget -= cycles
                room -= 1
                if budget <= 0 { break }
            }
            guard !positions.isEmpty else { continue }
            let moved = positions.reduce(Cycle(0)) { $0 + queue[$1].predictedCycles }
            for position in positions.sorted(by: >) { queue.remove(at: position) }
            actions.append(.migrate(positions: positions, to: flow.cluster))
            neighbourLoads[flow.cluster]!.pending += moved / Cycle(tbus)
            neighbourLoads[flow.cluster]!.queued += positions.count
        }
        return BalancingDecision(actions: actions, counted: true)
    }
}
