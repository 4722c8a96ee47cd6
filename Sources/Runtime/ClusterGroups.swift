/// Which clusters share a process when a process hosts several (`octopus run
/// --clusters-per-process`, `octopus cluster --count`).
public enum ClusterGroups {
    /// Consecutive runs of at most `perProcess` cluster ids from 0 to `clusters` − 1, none
    /// spanning two hosts (`host(of:)`), in id order.
    public static func partition(
        clusters: Int, perProcess: Int, host: (Int) -> String = { _ in "" }
    ) -> [Range<Int>] {
        precondition(perProcess >= 1, "a process hosts at least one cluster")
        var groups: [Range<Int>] = []
        var first = 0
        for cluster in 0..<clusters where cluster > first {
            if cluster - first == perProcess || host(cluster) != host(first) {
                groups.append(first..<cluster)
                first = cluster
            }
        }
        if clusters > 0 { groups.append(first..<clusters) }
        return groups
    }
}
