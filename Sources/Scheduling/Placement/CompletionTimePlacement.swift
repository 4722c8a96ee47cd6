import WaferModel

/// Places work where it is predicted to finish first: the cluster's pending cycles spread over its
/// TBUs, plus the transfer of the input from its origin, plus a reconfiguration when no TBU there
/// is configured (or planned) for the type, plus the block itself. Ties go to the shorter transfer,
/// then to the lower cluster id.
public struct CompletionTimePlacement: PlacementPolicy {
    public let name = "completion-time"
    public let usesRequestKey = false
    public var reconfigurationCycles: Cycle
    /// Clusters the proactive plan configures for each type (counted as configured).
    public var planned: [TaskType: Set<Int>]

    public init(reconfigurationCycles: Cycle = 0, planned: [TaskType: Set<Int>] = [:]) {
        self.reconfigurationCycles = reconfigurationCycles
        self.planned = planned
    }

    /// As a scheduler's policy: among the clusters with pool (unreserved) TBUs when the plan
    /// reserves some, counting the plan's configuration wishes as configured.
    public func place(_ request: PlacementRequest, in context: PlacementContext) -> Int {
        let pool = context.plan.poolClusters
        let candidates = pool.count == context.mesh.count || pool.isEmpty ? nil : pool
        return Self.place(
            request, view: context.view, mesh: context.mesh, candidates: candidates,
            reconfigurationCycles: context.reconfigurationCycles, planned: context.plan.plannedFlags[request.taskType],
            transfers: context.transfers)
    }

    /// The cluster for `request` among `candidates` (all clusters when nil), with this value's
    /// reconfiguration cost and planned configurations.
    public func place(_ request: PlacementRequest, view: WaferLoadView, mesh: Mesh, candidates: [Int]? = nil) -> Int {
        let flags = planned[request.taskType].map { clusters -> [Bool] in
            var flags = [Bool](repeating: false, count: (clusters.max() ?? -1) + 1)
            for cluster in clusters where cluster >= 0 { flags[cluster] = true }
            return flags
        }
        return Self.place(
            request, view: view, mesh: mesh, candidates: candidates, reconfigurationCycles: reconfigurationCycles,
            planned: flags)
    }

    /// The rule itself, with the planned clusters of the request's type as a flag per cluster id.
    private static func place(
        _ request: PlacementRequest, view: WaferLoadView, mesh: Mesh, candidates: [Int]?,
        reconfigurationCycles: Cycle, planned: [Bool]?, transfers: TransferTable? = nil
    ) -> Int {
        // The deciding cluster's table when the input is there (a successor block), else the
        // mesh's route for each candidate.
        let table = transfers.flatMap { $0.origin == request.origin ? $0 : nil }
        let sizing = table?.sizing(bytes: request.inputBytes)
        var best = candidates?.first ?? 0
        var bestKey = (finish: Cycle.max, transfer: Cycle.max)
        // Reads each load in place (by index): a copy of a ClusterLoad retains and releases its
        // five arrays, and this runs for every cluster at every placement.
        func consider(_ index: Int) {
            let cluster = view.clusters[index].cluster
            guard mesh.hostsWork(cluster) else { return }
            let transfer: Cycle
            if let table, let sizing {
                transfer = table.latency(to: cluster, sizing)
            } else {
                transfer =
                    request.origin.map { mesh.transferLatency(from: $0, to: cluster, bytes: request.inputBytes) } ?? 0
            }
            let wait = view.clusters[index].pendingCycles / Cycle(max(view.clusters[index].tbus, 1))
            let configured =
                view.clusters[index].configurations.contains(request.taskType)
                || (planned.map { cluster < $0.count && $0[cluster] } ?? false)
            let finish = wait + transfer + (configured ? 0 : reconfigurationCycles) + request.predictedCycles
            if finish < bestKey.finish || (finish == bestKey.finish && transfer < bestKey.transfer) {
                best = cluster
                bestKey = (finish, transfer)
            }
        }
        if let candidates {
            for cluster in candidates { consider(cluster) }
        } else {
            for index in view.clusters.indices { consider(index) }
        }
        return best
    }
}
