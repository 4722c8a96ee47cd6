import WaferModel

/// Places work on the cluster where it is predicted to finish first: the cluster's pending cycles
/// spread over its TBUs, plus the transfer of the input from its origin. Ties go to the shorter
/// transfer, then to the lower cluster id, so decisions are deterministic.
public struct LeastLoadedPlacement: ClusterPlacementPolicy {
    public let name = "least-loaded"

    public init() {}

    public func place(_ request: PlacementRequest, view: WaferLoadView, mesh: Mesh) -> Int {
        var best = 0
        var bestKey = (finish: Cycle.max, transfer: Cycle.max)
        for load in view.clusters {
            let transfer = request.origin.map { mesh.transferLatency(from: $0, to: load.cluster, bytes: request.inputBytes) } ?? 0
            let wait = load.pendingCycles / Cycle(max(load.tbus, 1))
            let finish = wait + transfer + request.predictedCycles
            if finish < bestKey.finish || (finish == bestKey.finish && transfer < bestKey.transfer) {
                best = load.cluster
                bestKey = (finish, transfer)
            }
        }
        return best
    }
}
