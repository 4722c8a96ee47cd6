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

    /// Queue positions (from the back) the victim gives away: movable task blocks only, at most
    /// `size`, none when its pending cycles no longer exceed the thief's by the threshold, and
    /// never so many that the victim would end up with less than the thief.
    public func give(queue: [QueuedTask], victimPending: Cycle, thiefPending: Cycle) -> [Int] {
        guard victimPending > thiefPending, victimPending - thiefPending > threshold else { return [] }
        var given: [Int] = []
        var moved: Cycle = 0
        for position in queue.indices.reversed() where !queue[position].isControl && queue[position].movable {
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

/// Reactive threshold rebalancing as a cluster's balancing policy: an idle cluster (empty queue,
/// a free TBU) asks the most loaded cluster of its view for work when the imbalance exceeds the
/// threshold (one request outstanding at a time); a cluster asked for work gives what
/// ``WorkStealing/give(queue:victimPending:thiefPending:)`` allows and answers how much it sent.
/// After an empty answer the thief waits for the next view before asking again.
public struct WorkStealingBalancing: BalancingPolicy {
    public let name = "stealing"
    public let actsOnMessages = true
    public var rule: WorkStealing
    /// A request is on its way and not yet answered.
    private var outstanding = false
    /// The last request came back empty: ask again only once the view has changed.
    private var refused = false

    public init(threshold: Cycle, size: Int) {
        rule = WorkStealing(threshold: threshold, size: size)
    }

    public func reacts(to trigger: BalancingTrigger, queueCount: Int) -> Bool { trigger != .loadTick }

    public mutating func react(to trigger: BalancingTrigger, state: BalancingState) -> BalancingDecision {
        switch trigger {
        case .loadTick:
            return .none
        case .view:
            refused = false
            return requestWork(state)
        case .blockFinished:
            return requestWork(state)
        case .signal(let signal):
            switch signal.kind {
            case .request:
                let thief = Int(signal.cluster)
                let positions = rule.give(
                    queue: state.queue, victimPending: state.pendingCycles, thiefPending: signal.cycles)
                var actions: [BalancingAction] = positions.isEmpty ? [] : [.migrate(positions: positions, to: thief)]
                actions.append(
                    .signal(
                        BalanceSignal(
                            kind: .reply, cluster: Int32(state.cluster), cycles: 0, count: UInt32(positions.count)),
                        to: thief))
                return BalancingDecision(actions: actions)
            case .reply:
                outstanding = false
                // A refusal is news only when the view changes: asking again at once would repeat
                // the same question every round trip while nothing has changed.
                refused = signal.count == 0
                return requestWork(state)
            case .load:
                return requestWork(state)
            }
        }
    }

    private mutating func requestWork(_ state: BalancingState) -> BalancingDecision {
        guard !outstanding, !refused, state.queueCount == 0, state.hasFreeTBU else { return .none }
        var view = state.view
        let pending = state.pendingCycles
        view.clusters[state.cluster].pendingCycles = pending
        view.clusters[state.cluster].queuedTasks = 0
        guard let victim = rule.victim(for: state.cluster, view: view) else { return .none }
        outstanding = true
        let request = BalanceSignal(kind: .request, cluster: Int32(state.cluster), cycles: pending, count: 0)
        return BalancingDecision(actions: [.signal(request, to: victim)], counted: true)
    }
}
