import WaferModel

/// The resources of one cluster's router under the contention link model
/// (``InterconnectConfig/Model/contention``): the four directed links that leave it and the
/// cluster's injection (cluster → router) and ejection (router → cluster) ports. Each carries one
/// transfer at a time, first come first served in the order the router handles them (virtual time,
/// then the delivery order of simultaneous events), and is free again once the transfer's last
/// byte has passed.
///
/// Transfers cross routers by virtual cut-through: a transfer's first byte moves on as soon as the
/// next link is free, without waiting for its last byte. On each resource a transfer occupies
/// `[start, end)` with
///
///     start = max(first byte here, resource free)
///     end   = max(start + ⌈bytes / bandwidth⌉, last byte here)
///
/// and reaches the next router `hop latency` later (first byte at `start + hop`, last byte at
/// `end + hop`). Alone on its route this gives exactly the delay model's
/// `Σ hop latencies + ⌈bytes / narrowest bandwidth⌉` (as long as the ports are no narrower than
/// the narrowest link); with other transfers on its links it can only take longer, so the
/// lookahead (one hop) stays valid.
struct RouterPorts {
    /// The resources of a router: links by direction (``Mesh/linkIndex(from:to:)``'s 0–3), then
    /// the ports.
    enum Resource: Int, CaseIterable {
        case north = 0
        case west, east, south, injection, ejection
    }

    private var freeAt: [Cycle] = Array(repeating: 0, count: Resource.allCases.count)

    /// Reserves `resource` for a transfer of `bytes` whose first byte is at the router at `head`
    /// and whose last byte is there at `tail` (`tail ≥ head`).
    mutating func reserve(_ resource: Int, head: Cycle, tail: Cycle, bytes: UInt64, bandwidth: Int) -> (
        start: Cycle, end: Cycle
    ) {
        let start = max(head, freeAt[resource])
        let serialisation = Mesh.serialisation(bytes: bytes, bandwidth: bandwidth)
        // At most the horizon (`start` and `tail` are): a time there stops the run anyway, and the
        // hop latency added to it must not wrap (a block's size may be absurd, from another cluster).
        let end = min(max(start.adding(serialisation), tail), max(start, Limits.horizon))
        freeAt[resource] = end
        return (start, end)
    }
}

/// A transfer on its way across the mesh under the contention link model, from router to router.
public struct Transit: Equatable, Sendable {
    /// The block the transfer carries.
    public var task: TaskMessage
    /// The cluster it is going to.
    public var destination: Int32
    /// Virtual time its last byte reaches the router it is delivered to (its first byte arrives
    /// with the message).
    public var tail: Cycle
    /// True while it still has to leave its source cluster through the injection port (a block a
    /// central queue sent from the cluster holding it); false once it is on the mesh.
    public var entering: Bool

    public init(task: TaskMessage, destination: Int32, tail: Cycle, entering: Bool) {
        self.task = task
        self.destination = destination
        self.tail = tail
        self.entering = entering
    }
}

/// How busy one link or port was over a run, and how long transfers waited for it.
public struct LinkOccupancy: Codable, Equatable, Sendable {
    public var transfers: UInt64 = 0
    /// Cycles it carried a transfer.
    public var busyCycles: UInt64 = 0
    /// Cycles transfers waited for it, summed.
    public var queueingCycles: UInt64 = 0
    /// The longest wait of one transfer.
    public var maxQueueingCycles: UInt64 = 0

    public init() {}

    mutating func add(start: Cycle, end: Cycle, head: Cycle) {
        transfers += 1
        busyCycles += end - start
        queueingCycles += start - head
        maxQueueingCycles = max(maxQueueingCycles, start - head)
    }
}
