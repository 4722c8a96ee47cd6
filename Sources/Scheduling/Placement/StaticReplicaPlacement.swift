import WaferModel

/// The traditional spatial mapping's placement: a block goes to one of the clusters hosting its
/// type, chosen by a hash of the request's key in proportion to each cluster's share of the type —
/// a fixed stream split that never looks at load.
public struct StaticReplicaPlacement: Sendable {
    public init() {}

    public func place(_ request: PlacementRequest, hosts: [(cluster: Int, weight: Double)]) -> Int {
        precondition(!hosts.isEmpty, "a reserved type has hosts")
        guard hosts.count > 1 else { return hosts[0].cluster }
        let total = hosts.reduce(0) { $0 + $1.weight }
        // The key is the request's (its workflow is in it), so the block alone tells the types apart;
        // a workflow's index in the library would make the split depend on the library's other files.
        var rng = SplitMix64(keys: request.key, UInt64(request.taskType.block))
        var point = rng.nextUnit() * total
        for host in hosts {
            point -= host.weight
            if point < 0 { return host.cluster }
        }
        return hosts[hosts.count - 1].cluster
    }
}
