/// Geometry of the wafer: clusters on a 2-D mesh, grouped in dies, with dimension-order (XY)
/// routing. Latency of a transfer = Σ hop latencies along the route + bytes / narrowest bandwidth.
///
/// With defects (``WaferDefects``) routes go around dead links and dead routers: a transfer takes
/// a shortest path over live links whose intermediate clusters have live routers, choosing at each
/// hop, among the moves that stay on a shortest path, the XY move first (along the row towards the
/// target, then along the column), then north, west, east, south. Without defects this is the XY
/// route. Schedulers see only the live parts: ``hostsWork(_:)``, ``workingTBUs(of:)`` and
/// ``neighbours(of:)``.
public struct Mesh: Equatable, Sendable {
    public let rows: Int
    public let columns: Int
    public let dieRows: Int
    public let dieColumns: Int
    public let intraDie: LinkConfig
    public let interDie: LinkConfig
    /// TBUs per cluster, defective ones included.
    public let tbusPerCluster: Int
    public let defects: WaferDefects
    /// Working TBUs per cluster.
    private let workingTBUCounts: [Int]
    /// Shortest-path distances around the defects (nil without defects: XY routing).
    private let detours: DetourTable?
    /// Each cluster's row and column, on the mesh and in dies (``hops(from:to:)`` without
    /// divisions: placement asks it for every cluster at every decision).
    private let grid: [GridPosition]

    private struct GridPosition: Sendable {
        var row: Int32
        var column: Int32
        var dieRow: Int32
        var dieColumn: Int32
    }

    public init(config: WaferConfig) {
        rows = config.rows
        columns = config.columns
        dieRows = config.dieRows
        dieColumns = config.dieColumns
        intraDie = config.intraDie
        interDie = config.interDie
        tbusPerCluster = config.cluster.tbus
        defects = config.defects
        let count = config.rows * config.columns
        if config.defects.isEmpty {
            workingTBUCounts = Array(repeating: config.cluster.tbus, count: count)
            detours = nil
        } else {
            workingTBUCounts = (0..<count).map {
                config.defects.workingTBUs(of: $0, tbusPerCluster: config.cluster.tbus).count
            }
            detours = DetourTable(rows: config.rows, columns: config.columns, defects: config.defects)
        }
        grid = (0..<count).map { id in
            let (row, column) = (id / config.columns, id % config.columns)
            return GridPosition(
                row: Int32(row), column: Int32(column), dieRow: Int32(row / config.dieRows),
                dieColumn: Int32(column / config.dieColumns))
        }
    }

    public static func == (a: Mesh, b: Mesh) -> Bool {
        a.rows == b.rows && a.columns == b.columns && a.dieRows == b.dieRows && a.dieColumns == b.dieColumns
            && a.intraDie == b.intraDie && a.interDie == b.interDie && a.tbusPerCluster == b.tbusPerCluster
            && a.defects == b.defects
    }

    // MARK: Defects

    /// True when `cluster` can run work: it is not defective and has a working TBU.
    public func hostsWork(_ cluster: Int) -> Bool { workingTBUCounts[cluster] > 0 }

    /// Working TBUs of `cluster` (a cluster's TBUs are numbered 0..<this; ``physicalTBU(_:of:)``
    /// maps them to the wafer's TBU numbers).
    public func workingTBUs(of cluster: Int) -> Int { workingTBUCounts[cluster] }

    /// Working TBUs of the whole wafer.
    public var totalWorkingTBUs: Int { workingTBUCounts.reduce(0, +) }

    /// The wafer's number of working TBU `index` of `cluster` (its position among all of the
    /// cluster's TBUs, defective ones included).
    public func physicalTBU(_ index: Int, of cluster: Int) -> Int {
        guard !defects.tbus.isEmpty else { return index }
        return defects.workingTBUs(of: cluster, tbusPerCluster: tbusPerCluster)[index]
    }

    /// True when the link between neighbours `a` and `b` and both routers work.
    public func linkWorks(_ a: Int, _ b: Int) -> Bool {
        guard let detours else { return true }
        return detours.linkWorks(a, b)
    }

    /// True when the mesh can carry a transfer from `a` to `b`.
    public func reachable(from a: Int, to b: Int) -> Bool {
        guard let detours else { return true }
        return a == b || detours.distance(from: a, to: b) != nil
    }

    /// Number of clusters.
    public var count: Int { rows * columns }

    /// (row, column) of cluster `id` (row-major numbering).
    public func position(of id: Int) -> (row: Int, column: Int) { (id / columns, id % columns) }

    /// Cluster id at (row, column).
    public func id(row: Int, column: Int) -> Int { row * columns + column }

    /// (die row, die column) of the die that holds cluster `id`.
    public func die(of id: Int) -> (row: Int, column: Int) {
        let p = position(of: id)
        return (p.row / dieRows, p.column / dieColumns)
    }

    /// Hops on the XY route from `a` to `b`, split into hops inside a die and hops that cross a
    /// die boundary.
    public func hops(from a: Int, to b: Int) -> (intra: Int, inter: Int) {
        if detours != nil {
            var intra = 0
            var inter = 0
            for link in route(from: a, to: b) {
                if self.link(link).interDie { inter += 1 } else { intra += 1 }
            }
            return (intra, inter)
        }
        let pa = grid[a]
        let pb = grid[b]
        // X first (along the row), then Y: a straight run crosses each die boundary between its
        // ends once, so the inter-die hops are the difference of the die indexes (placement asks
        // this for every cluster at every decision, so no walk).
        let inter = Int(abs(pa.dieColumn - pb.dieColumn) + abs(pa.dieRow - pb.dieRow))
        let intra = Int(abs(pa.column - pb.column) + abs(pa.row - pb.row)) - inter
        return (intra, inter)
    }

    /// Total hops (Manhattan distance).
    public func distance(from a: Int, to b: Int) -> Int {
        let h = hops(from: a, to: b)
        return h.intra + h.inter
    }

    /// Cycles for `bytes` to travel from cluster `a` to cluster `b`: per-hop latencies plus
    /// serialisation at the narrowest link on the route. Zero when `a == b`.
    public func transferLatency(from a: Int, to b: Int, bytes: UInt64) -> Cycle {
        guard a != b else { return 0 }
        let h = hops(from: a, to: b)
        var bandwidth = Int.max
        if h.intra > 0 { bandwidth = min(bandwidth, intraDie.bandwidthBytesPerCycle) }
        if h.inter > 0 { bandwidth = min(bandwidth, interDie.bandwidthBytesPerCycle) }
        return Cycle(h.intra) * intraDie.hopLatency + Cycle(h.inter) * interDie.hopLatency
            + Self.serialisation(bytes: bytes, bandwidth: bandwidth)
    }

    /// Cycles `bytes` take through a link of `bandwidth` bytes per cycle (rounded up), at most
    /// ``Limits/horizon``: a transfer that long ends past the horizon, which stops the run with
    /// an error, and a few such latencies added to a time before it still fit in a ``Cycle``
    /// (`bytes` may come from another cluster's message, anything up to 2^64 − 1).
    public static func serialisation(bytes: UInt64, bandwidth: Int) -> Cycle {
        let width = UInt64(max(bandwidth, 1))
        return min(bytes / width + (bytes % width == 0 ? 0 : 1), Limits.horizon)
    }

    /// The directed links of the XY route from `a` to `b` (along the row first, then along the
    /// column; the order ``hops(from:to:)`` counts), each as ``linkIndex(from:to:)``. Empty when
    /// `a == b`.
    public func route(from a: Int, to b: Int) -> [Int] {
        if let detours { return detours.route(from: a, to: b, mesh: self) }
        return xyRoute(from: a, to: b)
    }

    /// The first directed link of the route from `a` to `b` (`a != b`). Routes are consistent: the
    /// rest of the route from `a` is the route from the link's far end.
    public func firstLink(from a: Int, to b: Int) -> Int {
        if let detours { return detours.route(from: a, to: b, mesh: self)[0] }
        let pa = position(of: a)
        let pb = position(of: b)
        if pa.column != pb.column {
            return linkIndex(from: a, to: id(row: pa.row, column: pa.column + (pb.column > pa.column ? 1 : -1)))
        }
        return linkIndex(from: a, to: id(row: pa.row + (pb.row > pa.row ? 1 : -1), column: pa.column))
    }

    /// The parameters of directed link `index`: intra- or inter-die.
    public func parameters(ofLink index: Int) -> LinkConfig { link(index).interDie ? interDie : intraDie }

    /// The XY route's directed links, whatever the defects.
    func xyRoute(from a: Int, to b: Int) -> [Int] {
        let target = position(of: b)
        var (row, column) = position(of: a)
        var links: [Int] = []
        while column != target.column {
            let next = column + (target.column > column ? 1 : -1)
            links.append(linkIndex(from: id(row: row, column: column), to: id(row: row, column: next)))
            column = next
        }
        while row != target.row {
            let next = row + (target.row > row ? 1 : -1)
            links.append(linkIndex(from: id(row: row, column: column), to: id(row: next, column: column)))
            row = next
        }
        return links
    }

    /// The index of the directed link from cluster `a` to its neighbour `b`: `4 × a + direction`,
    /// direction 0 north, 1 west, 2 east, 3 south.
    public func linkIndex(from a: Int, to b: Int) -> Int {
        let pa = position(of: a)
        let pb = position(of: b)
        let direction = pb.row < pa.row ? 0 : pb.column < pa.column ? 1 : pb.column > pa.column ? 2 : 3
        return 4 * a + direction
    }

    /// The clusters a directed link joins, and whether it crosses a die boundary.
    public func link(_ index: Int) -> (from: Int, to: Int, interDie: Bool) {
        let from = index / 4
        let p = position(of: from)
        let (row, column) =
            switch index % 4 {
            case 0: (p.row - 1, p.column)
            case 1: (p.row, p.column - 1)
            case 2: (p.row, p.column + 1)
            default: (p.row + 1, p.column)
            }
        let crosses = p.row / dieRows != row / dieRows || p.column / dieColumns != column / dieColumns
        return (from, id(row: row, column: column), crosses)
    }

    /// Neighbours of `id` on the mesh (north, west, east, south order) that host work and are
    /// joined to it by a working link: the clusters a neighbour-to-neighbour policy talks to.
    public func neighbours(of id: Int) -> [Int] {
        let all = adjacent(to: id)
        guard detours != nil else { return all }
        return all.filter { hostsWork($0) && linkWorks(id, $0) }
    }

    /// Every cluster next to `id` on the mesh, defective or not (north, west, east, south order).
    public func adjacent(to id: Int) -> [Int] {
        let p = position(of: id)
        var result: [Int] = []
        if p.row > 0 { result.append(self.id(row: p.row - 1, column: p.column)) }
        if p.column > 0 { result.append(self.id(row: p.row, column: p.column - 1)) }
        if p.column + 1 < columns { result.append(self.id(row: p.row, column: p.column + 1)) }
        if p.row + 1 < rows { result.append(self.id(row: p.row + 1, column: p.column)) }
        return result
    }
}

/// Hop distances between every pair of clusters over working links, where only the endpoints of
/// a route may have dead routers (built once per run when the wafer has defects).
final class DetourTable: Sendable {
    private let count: Int
    private let columns: Int
    private let deadRouters: Set<Int>
    private let deadLinks: Set<WaferDefects.Link>
    /// `distances[target * count + source]`, `UInt16.max` when unreachable.
    private let distances: [UInt16]

    init(rows: Int, columns: Int, defects: WaferDefects) {
        let count = rows * columns
        self.count = count
        self.columns = columns
        deadRouters = Set(defects.clusters)
        deadLinks = Set(defects.links)
        var distances = Array(repeating: UInt16.max, count: count * count)
        var frontier: [Int] = []
        for target in 0..<count {
            let base = target * count
            distances[base + target] = 0
            frontier = [target]
            var head = 0
            while head < frontier.count {
                let u = frontier[head]
                head += 1
                // `u` lies on the route of whatever reaches it now, so it must forward (or be the target).
                guard u == target || !deadRouters.contains(u) else { continue }
                for v in Self.adjacent(u, rows: rows, columns: columns)
                where distances[base + v] == .max && !deadLinks.contains(WaferDefects.Link(u, v)) {
                    distances[base + v] = distances[base + u] + 1
                    frontier.append(v)
                }
            }
        }
        self.distances = distances
    }

    private static func adjacent(_ id: Int, rows: Int, columns: Int) -> [Int] {
        let (row, column) = (id / columns, id % columns)
        var result: [Int] = []
        if row > 0 { result.append(id - columns) }
        if column > 0 { result.append(id - 1) }
        if column + 1 < columns { result.append(id + 1) }
        if row + 1 < rows { result.append(id + columns) }
        return result
    }

    func distance(from a: Int, to b: Int) -> Int? {
        let d = distances[b * count + a]
        return d == .max ? nil : Int(d)
    }

    func linkWorks(_ a: Int, _ b: Int) -> Bool {
        !deadLinks.contains(WaferDefects.Link(a, b)) && !deadRouters.contains(a) && !deadRouters.contains(b)
    }

    /// The route's directed links (see ``Mesh``'s rule). A pair the mesh cannot join — only ever
    /// asked for a defective cluster, which sends and receives nothing over the mesh — gets the XY
    /// route, as if the defect were not there.
    func route(from a: Int, to b: Int, mesh: Mesh) -> [Int] {
        guard a != b else { return [] }
        guard var remaining = distance(from: a, to: b) else { return mesh.xyRoute(from: a, to: b) }
        let target = mesh.position(of: b)
        var links: [Int] = []
        var u = a
        while u != b {
            let p = mesh.position(of: u)
            var preferred: [Int] = []
            if target.column != p.column { preferred.append(u + (target.column > p.column ? 1 : -1)) }
            if target.row != p.row { preferred.append(u + (target.row > p.row ? columns : -columns)) }
            let candidates = preferred + mesh.adjacent(to: u)
            guard
                let next = candidates.first(where: { v in
                    !deadLinks.contains(WaferDefects.Link(u, v)) && (v == b || !deadRouters.contains(v))
                        && distance(from: v, to: b) == remaining - 1
                })
            else { preconditionFailure("no next hop from \(u) towards \(b)") }
            links.append(mesh.linkIndex(from: u, to: next))
            u = next
            remaining -= 1
        }
        return links
    }
}
