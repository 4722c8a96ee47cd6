import WaferModel

/// What a placement decision may read besides the block itself.
public struct PlacementContext {
    /// The deciding participant's copy of the wafer's load (the coordinator's own view, or the
    /// last view it published, updated with the cluster's own placements since).
    public var view: WaferLoadView
    /// Lookups of the scheduler's current plan.
    public var plan: PlanIndex
    public var mesh: Mesh
    /// Cycles a TBU needs to load another block type's configuration.
    public var reconfigurationCycles: Cycle
    /// The transfer latencies from the deciding cluster to every cluster (nil when the
    /// coordinator decides): for a request whose origin is the table's, equal to
    /// `mesh.transferLatency` and cheaper.
    public var transfers: TransferTable?

    public init(
        view: WaferLoadView, plan: PlanIndex, mesh: Mesh, reconfigurationCycles: Cycle,
        transfers: TransferTable? = nil
    ) {
        self.view = view
        self.plan = plan
        self.mesh = mesh
        self.reconfigurationCycles = reconfigurationCycles
        self.transfers = transfers
    }
}

/// Cluster-level placement: which cluster a ready block runs on. The coordinator asks it for the
/// entry block of every injected request; each cluster asks it for the successors of the blocks it
/// finishes, over its copy of the coordinator's published view.
///
/// The contract the engines rely on:
/// - **Deterministic and pure.** The answer depends only on the arguments (never on wall time,
///   a global random generator or hidden mutable state), so the in-process oracle and the
///   multi-process wafer place every block on the same cluster. Randomised policies draw from
///   `request.key`, which is fixed by the request's position in its workflow.
/// - **Valid.** The result is a cluster id in `0..<context.mesh.count`.
/// - **Honest about its inputs.** `usesRequestKey` is true when `place` reads `request.key`;
///   otherwise the engines skip drawing the key (it costs a random stream per decision).
/// - It never knows whether it runs in the coordinator or a cluster, in one process or many.
public protocol PlacementPolicy: Sendable {
    /// Name used in documentation and errors.
    var name: String { get }
    /// True when ``place(_:in:)`` reads ``PlacementRequest/key``.
    var usesRequestKey: Bool { get }
    /// The cluster for `request`.
    func place(_ request: PlacementRequest, in context: PlacementContext) -> Int
}

/// Where ready blocks wait and who hands them to clusters.
public enum ReadyBlockRouting: Sendable {
    /// The producer of a block's input (or the coordinator, for an entry block) places it with the
    /// policy, and it queues at the chosen cluster.
    case placement(any PlacementPolicy)
    /// Every ready block waits in one queue in the coordinator, which hands blocks to clusters as
    /// they report free TBUs (the indiscriminate dynamic baseline).
    case centralQueue(any CentralQueuePolicy)
}
