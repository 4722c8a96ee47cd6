import WaferModel

/// Adaptive TBU Scheduling, inside one cluster (event-driven, at every arrival and completion).
///
/// - **Configuration-aware**: the oldest block first, onto a free TBU already configured for its
///   type; failing that, onto a free TBU whose configuration no queued block wants (the cheapest
///   one to overwrite); failing that, the lowest free TBU.
/// - **Adaptive parallelism**: when every queued block has a TBU and arrays are still free, the
///   longest started blocks are split across the free arrays (each array computes a slice of the
///   output columns; see `SystolicTiming.splitGemmCycles`) as long as one more array shortens the
///   block by at least `minimumGain` after paying its reconfiguration. When the queue is long, no
///   block is split: blocks run side by side, one per array.
public struct AdaptiveDispatch: TBUDispatchPolicy {
    public let name = "adaptive"
    /// May lend every array of the cluster to one block.
    public func maximumArrays(of tbus: Int) -> Int { tbus }
    /// Blocks shorter than this are never split (the merge would eat the gain).
    public var minimumSplitCycles: Cycle
    /// Fraction of a block's time one more array must save to be worth taking.
    public var minimumGain: Double

    public init(minimumSplitCycles: Cycle = 20_000, minimumGain: Double = 0.1) {
        self.minimumSplitCycles = minimumSplitCycles
        self.minimumGain = minimumGain
    }

    public func dispatch(queue: QueueView, tbus: [TBUSnapshot], context: DispatchContext)
        -> [DispatchDecision]
    {
        var free = tbus.filter { !$0.isBusy }
        guard !free.isEmpty else { return [] }
        // Types some queued task block wants, computed only if a configured TBU's fate depends on it.
        var wantedTypes: Set<TaskType>?
        func wanted(_ type: TaskType) -> Bool {
            if wantedTypes == nil { wantedTypes = Set(queue.lazy.filter { !$0.isControl }.map(\.taskType)) }
            return wantedTypes!.contains(type)
        }
        var decisions: [DispatchDecision] = []
        var unassigned = 0
        for (position, task) in queue.enumerated() {
            guard !free.isEmpty else {
                // No array left: the rest stays queued, and nothing will be split.
                unassigned += 1
                break
            }
            // The first free TBU configured for the type; else the first whose configuration no
            // queued block wants (or that has none); else the first that accepts the block.
            var configured: Int?
            var unwanted: Int?
            var first: Int?
            for slot in free.indices where free[slot].accepts(task) {
                if first == nil { first = slot }
                if free[slot].configuredFor == task.taskType {
                    configured = slot
                    break
                }
                if unwanted == nil, free[slot].configuredFor.map({ !wanted($0) }) ?? true { unwanted = slot }
            }
            guard let slot = configured ?? unwanted ?? first else {
                unassigned += 1
                continue
            }
            decisions.append(DispatchDecision(queuePosition: position, tbu: free[slot].index))
            free.remove(at: slot)
        }
        guard unassigned == 0, !free.isEmpty else { return decisions }

        // Short queue: lend the remaining arrays to the longest blocks just started.
        let queueArray = Array(queue)
        let order = decisions.indices.filter { !queueArray[decisions[$0].queuePosition].isControl }
            .sorted {
                queueArray[decisions[$0].queuePosition].predictedCycles
                    > queueArray[decisions[$1].queuePosition].predictedCycles
            }
        for d in order {
            let position = decisions[d].queuePosition
            let task = queueArray[position]
            guard task.predictedCycles >= minimumSplitCycles else { continue }
            var current = context.splitCycles(position, decisions[d].tbus.count)
            while let slot = free.firstIndex(where: { $0.accepts(task) }) {
                let parts = decisions[d].tbus.count + 1
                let reconfiguration = free[slot].configuredFor == task.taskType ? 0 : context.reconfigurationCycles
                let next = context.splitCycles(position, parts) + reconfiguration
                guard Double(next) <= Double(current) * (1 - minimumGain) else { break }
                decisions[d].tbus.append(free[slot].index)
                free.remove(at: slot)
                current = next
            }
            if free.isEmpty { break }
        }
        return decisions
    }
}
