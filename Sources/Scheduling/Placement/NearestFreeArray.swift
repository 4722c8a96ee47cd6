import WaferModel

/// The indiscriminate baseline's central queue: each block goes to the cluster with a free TBU
/// nearest its input (the shortest transfer; ties to the lower cluster id), whatever that TBU is
/// configured for. An entry block, whose input comes from off-wafer, takes the lowest free cluster.
public struct NearestFreeArray: CentralQueuePolicy {
    public let name = "nearest-free-array"

    public init() {}

    public func cluster(for entry: CentralQueueEntry, busyTBUs: [Int], tbus: Int, mesh: Mesh) -> Int? {
        if let pinned = entry.pinned { return busyTBUs[pinned] < mesh.workingTBUs(of: pinned) ? pinned : nil }
        var best = (latency: Cycle.max, cluster: Int?.none)
        for cluster in busyTBUs.indices where busyTBUs[cluster] < mesh.workingTBUs(of: cluster) {
            let latency = entry.origin.map { mesh.transferLatency(from: $0, to: cluster, bytes: entry.bytes) } ?? 0
            if latency < best.latency { best = (latency, cluster) }
        }
        return best.cluster
    }
}
