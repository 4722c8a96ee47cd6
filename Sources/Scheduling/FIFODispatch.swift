/// First come, first served: the oldest queued blocks go to the free TBUs in index order,
/// whatever they are configured for (reconfiguring when needed).
public struct FIFODispatch: TBUDispatchPolicy {
    public let name = "fifo"

    public init() {}

    public func dispatch(queue: some RandomAccessCollection<QueuedTask>, tbus: [TBUSnapshot]) -> [DispatchDecision] {
        var decisions: [DispatchDecision] = []
        var position = 0
        for tbu in tbus where !tbu.isBusy {
            guard position < queue.count else { break }
            decisions.append(DispatchDecision(queuePosition: position, tbu: tbu.index))
            position += 1
        }
        return decisions
    }
}
