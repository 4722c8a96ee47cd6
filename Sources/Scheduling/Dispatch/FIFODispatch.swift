import WaferModel

/// First come, first served: the oldest queued blocks go to the lowest free TBUs that accept them,
/// whatever those are configured for (reconfiguring when needed).
public struct FIFODispatch: TBUDispatchPolicy {
    public let name = "fifo"
    /// Never splits a block.
    public func maximumArrays(of tbus: Int) -> Int { 1 }

    public init() {}

    public func dispatch(queue: QueueView, tbus: [TBUSnapshot], context: DispatchContext)
        -> [DispatchDecision]
    {
        var free = tbus.filter { !$0.isBusy }
        var decisions: [DispatchDecision] = []
        for (position, task) in queue.enumerated() {
            guard !free.isEmpty else { break }
            guard let slot = free.firstIndex(where: { $0.accepts(task) }) else { continue }
            decisions.append(DispatchDecision(queuePosition: position, tbu: free[slot].index))
            free.remove(at: slot)
        }
        return decisions
    }
}
