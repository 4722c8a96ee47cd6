import WaferModel

/// The episodes behind the summary's imbalance and contagion figures, one by one, for
/// `episodes.csv` and reports.
public enum Episodes {
    /// A stretch of load imbalance: from when the coefficient of variation of the clusters'
    /// pending cycles rose above `onset` until it fell to `resolved` (or the run ended).
    public struct Imbalance: Equatable, Sendable {
        public var start: Cycle
        public var end: Cycle
        /// The highest coefficient of variation reached.
        public var peak: Double
        /// Whether it was still open when the run ended.
        public var open: Bool
    }

    /// A cascade of idleness: idle periods that began on neighbouring clusters, each within the
    /// contagion window after one that began on a neighbour (connected through that relation).
    public struct Cascade: Equatable, Sendable {
        public var start: Cycle
        public var end: Cycle
        /// Clusters the cascade reached, ascending.
        public var clusters: [Int]
        /// Idle periods in it.
        public var idlePeriods: Int
    }

    /// Imbalance episodes of a step function given by its change points (`points` in time order).
    public static func imbalance(
        _ points: [(time: Cycle, value: Double)], end: Cycle, onset: Double = 1.0, resolved: Double = 0.5
    ) -> [Imbalance] {
        var episodes: [Imbalance] = []
        var current: Imbalance?
        for point in points where point.time < end {
            if current == nil, point.value > onset {
                current = Imbalance(start: point.time, end: end, peak: point.value, open: true)
            }
            if var episode = current {
                episode.peak = max(episode.peak, point.value)
                if point.value <= resolved {
                    episode.end = point.time
                    episode.open = false
                    episodes.append(episode)
                    current = nil
                } else {
                    current = episode
                }
            }
        }
        if let current { episodes.append(current) }
        return episodes
    }

    /// Cascades of two or more clusters, largest first (then earliest), from each cluster's idle
    /// starts (`starts[cluster]`, in time order) on `mesh`, with the contagion window `window`.
    /// Idle periods that begin at cycle 0 are left out: the wafer starts idle, nothing spread.
    public static func cascades(starts: [[Cycle]], mesh: Mesh, window: Cycle) -> [Cascade] {
        // Every idle start is a node, numbered cluster by cluster; one following a neighbour's start
        // within the window joins it. Long runs have millions of idle starts, so the nodes live in
        // flat arrays and only cascades of two or more clusters are ever built as values.
        // Lists are in time order, so the starts at cycle 0 lead them.
        let first = starts.map { list in list.firstIndex { $0 > 0 } ?? list.count }
        var offsets: [Int] = []
        var total = 0
        for (cluster, list) in starts.enumerated() {
            offsets.append(total - first[cluster])
            total += list.count - first[cluster]
        }
        var parent = Array(0..<total)
        func root(_ node: Int) -> Int {
            var node = node
            while parent[node] != node {
                parent[node] = parent[parent[node]]
                node = parent[node]
            }
            return node
        }
        for (cluster, list) in starts.enumerated() where cluster < mesh.count {
            for index in first[cluster]..<list.count {
                let time = list[index]
                let from = time >= window ? time - window + 1 : 0
                for neighbour in mesh.neighbours(of: cluster) where neighbour < starts.count {
                    let other = starts[neighbour]
                    var low = first[neighbour]
                    var high = other.count
                    while low < high {
                        let middle = (low + high) / 2
                        if other[middle] < from { low = middle + 1 } else { high = middle }
                    }
                    while low < other.count, other[low] <= time {
                        let a = root(offsets[cluster] + index)
                        let b = root(offsets[neighbour] + low)
                        if a != b { parent[a] = b }
                        low += 1
                    }
                }
            }
        }
        // Which components reach two clusters: per root, the cluster of its first node, or
        // `spread` once a node of another cluster joined. Roots are final now, so each node keeps
        // its own for the second pass.
        let unseen: Int32 = -1
        let spread: Int32 = -2
        var owner = [Int32](repeating: unseen, count: total)
        for (cluster, list) in starts.enumerated() {
            for index in first[cluster]..<list.count {
                let node = offsets[cluster] + index
                let key = root(node)
                parent[node] = key
                if owner[key] == unseen {
                    owner[key] = Int32(cluster)
                } else if owner[key] != Int32(cluster) {
                    owner[key] = spread
                }
            }
        }
        var groups: [Int: Cascade] = [:]
        for (cluster, list) in starts.enumerated() {
            for index in first[cluster]..<list.count {
                let key = parent[offsets[cluster] + index]
                guard owner[key] == spread else { continue }
                let time = list[index]
                var cascade = groups[key] ?? Cascade(start: time, end: time, clusters: [], idlePeriods: 0)
                cascade.start = min(cascade.start, time)
                cascade.end = max(cascade.end, time)
                if cascade.clusters.last != cluster { cascade.clusters.append(cluster) }
                cascade.idlePeriods += 1
                groups[key] = cascade
            }
        }
        return groups.values.sorted { a, b in
            if a.clusters.count != b.clusters.count { return a.clusters.count > b.clusters.count }
            if a.start != b.start { return a.start < b.start }
            if a.end != b.end { return a.end < b.end }
            if a.clusters != b.clusters { return a.clusters.lexicographicallyPrecedes(b.clusters) }
            return a.idlePeriods < b.idlePeriods
        }
    }
}
