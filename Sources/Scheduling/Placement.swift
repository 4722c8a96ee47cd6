import WaferModel

/// A block that needs a cluster.
public struct PlacementRequest: Equatable, Sendable {
    public var taskType: TaskType
    /// Predicted cycles of the block on one TBU.
    public var predictedCycles: Cycle
    /// Bytes that must travel to the chosen cluster.
    public var inputBytes: UInt64
    /// Cluster that holds the input, or nil when it comes from off-wafer (injection).
    public var origin: Int?
    /// A key fixed by the request (and its loop iterations and fan-out items), for load-oblivious
    /// replica choices that every cluster makes the same way.
    public var key: UInt64

    public init(taskType: TaskType, predictedCycles: Cycle, inputBytes: UInt64, origin: Int?, key: UInt64 = 0) {
        self.taskType = taskType
        self.predictedCycles = predictedCycles
        self.inputBytes = inputBytes
        self.origin = origin
        self.key = key
    }
}

/// Cluster-level placement: picks the cluster a block runs on, as a pure function of a load view
/// and the mesh. Implementations know nothing of processes or sockets; the coordinator evaluates
/// them for injected work and publishes the view so clusters evaluate the same policy for the
/// successors of finished blocks.
public protocol ClusterPlacementPolicy: Sendable {
    /// Name used in reports.
    var name: String { get }
    /// The cluster for `request`, among `candidates` (all clusters when nil). Deterministic.
    func place(_ request: PlacementRequest, view: WaferLoadView, mesh: Mesh, candidates: [Int]?) -> Int
}

/// Places work where it is predicted to finish first: the cluster's pending cycles spread over its
/// TBUs, plus the transfer of the input from its origin, plus a reconfiguration when no TBU there
/// is configured (or planned) for the type, plus the block itself. Ties go to the shorter transfer,
/// then to the lower cluster id.
public struct CompletionTimePlacement: ClusterPlacementPolicy {
    public let name = "completion-time"
    public var reconfigurationCycles: Cycle
    /// Clusters the proactive plan configures for each type (counted as configured).
    public var planned: [TaskType: Set<Int>]

    public init(reconfigurationCycles: Cycle = 0, planned: [TaskType: Set<Int>] = [:]) {
        self.reconfigurationCycles = reconfigurationCycles
        self.planned = planned
    }

    public func place(_ request: PlacementRequest, view: WaferLoadView, mesh: Mesh, candidates: [Int]? = nil) -> Int {
        var best = candidates?.first ?? 0
        var bestKey = (finish: Cycle.max, transfer: Cycle.max)
        func consider(_ load: ClusterLoad) {
            let transfer = request.origin.map { mesh.transferLatency(from: $0, to: load.cluster, bytes: request.inputBytes) } ?? 0
            let wait = load.pendingCycles / Cycle(max(load.tbus, 1))
            let configured = load.configurations.contains(request.taskType) || planned[request.taskType]?.contains(load.cluster) == true
            let finish = wait + transfer + (configured ? 0 : reconfigurationCycles) + request.predictedCycles
            if finish < bestKey.finish || (finish == bestKey.finish && transfer < bestKey.transfer) {
                best = load.cluster
                bestKey = (finish, transfer)
            }
        }
        if let candidates {
            for cluster in candidates { consider(view.clusters[cluster]) }
        } else {
            for load in view.clusters { consider(load) }
        }
        return best
    }
}

/// The traditional spatial mapping's placement: a block goes to one of the clusters hosting its
/// type, chosen by a hash of the request's key in proportion to each cluster's share of the type —
/// a fixed stream split that never looks at load.
public struct StaticReplicaPlacement: Sendable {
    public init() {}

    public func place(_ request: PlacementRequest, hosts: [(cluster: Int, weight: Double)]) -> Int {
        precondition(!hosts.isEmpty, "a reserved type has hosts")
        guard hosts.count > 1 else { return hosts[0].cluster }
        let total = hosts.reduce(0) { $0 + $1.weight }
        var rng = SplitMix64(keys: request.key, UInt64(request.taskType.workflow) << 16 | UInt64(request.taskType.block))
        var point = rng.nextUnit() * total
        for host in hosts {
            point -= host.weight
            if point < 0 { return host.cluster }
        }
        return hosts[hosts.count - 1].cluster
    }
}

/// The placement of a whole ``SchedulerSpec``: picks among the placement policies by the spec and
/// the current plan. (The global FIFO of `Placement.global` is the coordinator's and never reaches here.)
public struct SchedulerPlacement: Sendable {
    public let spec: SchedulerSpec
    public let reconfigurationCycles: Cycle

    public init(spec: SchedulerSpec, reconfigurationCycles: Cycle) {
        self.spec = spec
        self.reconfigurationCycles = reconfigurationCycles
    }

    /// The cluster for `request` given the view and the index of its plan.
    public func place(_ request: PlacementRequest, view: WaferLoadView, plan: PlanIndex, mesh: Mesh) -> Int {
        switch spec.placement {
        case .local:
            if let origin = request.origin { return origin }
            return CompletionTimePlacement().place(request, view: view, mesh: mesh, candidates: nil)
        case .mapped, .completion, .global:
            if spec.placement == .mapped, let hosts = plan.hosts[request.taskType] {
                return StaticReplicaPlacement().place(request, hosts: hosts)
            }
            let candidates = plan.poolClusters.count == mesh.count || plan.poolClusters.isEmpty ? nil : plan.poolClusters
            return CompletionTimePlacement(reconfigurationCycles: reconfigurationCycles, planned: plan.planned)
                .place(request, view: view, mesh: mesh, candidates: candidates)
        }
    }
}
