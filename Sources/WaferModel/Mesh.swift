/// Geometry of the wafer: clusters on a 2-D mesh, grouped in dies, with dimension-order (XY)
/// routing. Latency of a transfer = Σ hop latencies along the route + bytes / narrowest bandwidth.
public struct Mesh: Equatable, Sendable {
    public let rows: Int
    public let columns: Int
    public let dieRows: Int
    public let dieColumns: Int
    public let intraDie: LinkConfig
    public let interDie: LinkConfig

    public init(config: WaferConfig) {
        rows = config.rows
        columns = config.columns
        dieRows = config.dieRows
        dieColumns = config.dieColumns
        intraDie = config.intraDie
        interDie = config.interDie
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
        let pa = position(of: a)
        let pb = position(of: b)
        var intra = 0
        var inter = 0
        // X first (along the row), then Y.
        var column = pa.column
        while column != pb.column {
            let next = column + (pb.column > column ? 1 : -1)
            if column / dieColumns == next / dieColumns { intra += 1 } else { inter += 1 }
            column = next
        }
        var row = pa.row
        while row != pb.row {
            let next = row + (pb.row > row ? 1 : -1)
            if row / dieRows == next / dieRows { intra += 1 } else { inter += 1 }
            row = next
        }
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
        let serialisation = (bytes + UInt64(bandwidth) - 1) / UInt64(bandwidth)
        return Cycle(h.intra) * intraDie.hopLatency + Cycle(h.inter) * interDie.hopLatency + serialisation
    }

    /// The directed links of the XY route from `a` to `b` (along the row first, then along the
    /// column; the order ``hops(from:to:)`` counts), each as ``linkIndex(from:to:)``. Empty when
    /// `a == b`.
    public func route(from a: Int, to b: Int) -> [Int] {
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

    /// Neighbours of `id` on the mesh (north, west, east, south order).
    public func neighbours(of id: Int) -> [Int] {
        let p = position(of: id)
        var result: [Int] = []
        if p.row > 0 { result.append(self.id(row: p.row - 1, column: p.column)) }
        if p.column > 0 { result.append(self.id(row: p.row, column: p.column - 1)) }
        if p.column + 1 < columns { result.append(self.id(row: p.row, column: p.column + 1)) }
        if p.row + 1 < rows { result.append(self.id(row: p.row + 1, column: p.column)) }
        return result
    }
}
