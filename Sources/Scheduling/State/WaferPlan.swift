import WaferModel

/// How the scheduler has partitioned the wafer's TBUs among task-block types, as the coordinator
/// publishes it with the load view.
///
/// - `reserved`: hard reservations. A TBU with a non-empty list runs only those types (and control
///   blocks); a TBU with an empty list belongs to the elastic pool and runs anything.
/// - `configure`: soft wishes of the proactive planner. An idle TBU is reconfigured ahead of demand
///   for the type named here; dispatch may still give it other work.
/// - `weights`: each reserved TBU's share of each type's stream (the length of the type's
///   segment the TBU covers in the proportional mapping), for the load-oblivious replica choice.
public struct WaferPlan: Equatable, Sendable {
    /// Changes whenever the plan does, so receivers rebuild their indexes only then.
    public var epoch: UInt32
    public var reserved: [[[TaskType]]]
    public var weights: [[[Double]]]
    public var configure: [[TaskType?]]

    public init(epoch: UInt32, reserved: [[[TaskType]]], weights: [[[Double]]], configure: [[TaskType?]]) {
        self.epoch = epoch
        self.reserved = reserved
        self.weights = weights
        self.configure = configure
    }

    /// No reservations and no wishes.
    public static func empty(clusters: Int, tbus: Int) -> WaferPlan {
        WaferPlan(
            epoch: 0, reserved: Array(repeating: Array(repeating: [], count: tbus), count: clusters),
            weights: Array(repeating: Array(repeating: [], count: tbus), count: clusters),
            configure: Array(repeating: Array(repeating: nil, count: tbus), count: clusters))
    }

    /// True when some TBU is reserved.
    public var hasReservations: Bool { reserved.contains { $0.contains { !$0.isEmpty } } }
}

/// Lookups derived from a ``WaferPlan``, rebuilt when its epoch changes.
public struct PlanIndex: Sendable {
    public let epoch: UInt32
    /// For each reserved type: the clusters hosting it and their summed weight, by cluster id.
    public let hosts: [TaskType: [(cluster: Int, weight: Double)]]
    /// Clusters with at least one pool (unreserved) TBU.
    public let poolClusters: [Int]
    /// Clusters that the proactive planner wants configured for a type, by type.
    public let planned: [TaskType: Set<Int>]
    /// The same, as a flag per cluster id (placement reads it for every cluster).
    public let plannedFlags: [TaskType: [Bool]]

    public init(_ plan: WaferPlan) {
        epoch = plan.epoch
        var hosts: [TaskType: [Int: Double]] = [:]
        var pool: [Int] = []
        var planned: [TaskType: Set<Int>] = [:]
        for (cluster, tbus) in plan.reserved.enumerated() {
            var hasPool = false
            for (tbu, types) in tbus.enumerated() {
                if types.isEmpty { hasPool = true }
                for (i, type) in types.enumerated() {
                    hosts[type, default: [:]][cluster, default: 0] += plan.weights[cluster][tbu][i]
                }
            }
            if hasPool { pool.append(cluster) }
            for case let type? in plan.configure[cluster] { planned[type, default: []].insert(cluster) }
        }
        self.hosts = hosts.mapValues { $0.sorted { $0.key < $1.key }.map { (cluster: $0.key, weight: $0.value) } }
        poolClusters = pool
        self.planned = planned
        plannedFlags = planned.mapValues { clusters in
            var flags = [Bool](repeating: false, count: plan.reserved.count)
            for cluster in clusters where cluster < flags.count { flags[cluster] = true }
            return flags
        }
    }

    /// True when `type` has reserved TBUs somewhere.
    public func isReserved(_ type: TaskType) -> Bool { hosts[type] != nil }
}
