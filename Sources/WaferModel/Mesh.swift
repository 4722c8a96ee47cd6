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
