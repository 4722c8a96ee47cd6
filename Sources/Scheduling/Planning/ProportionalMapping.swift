import WaferModel

/// The spatial mapping of task-block types onto TBUs in proportion to their load.
///
/// Types are laid end to end on a line in type order (so a workflow's blocks sit next to each
/// other), each with a length proportional to its load (every type gets at least a small length, so
/// none is left without a TBU). The line is cut into as many equal segments as there are TBUs, and
/// TBU slots are visited in snake order over the mesh (row 0 left to right, row 1 right to left, …)
/// so consecutive segments sit in neighbouring clusters and a workflow's pipeline stays local.
/// TBU `k` hosts every type that overlaps segment `k`, weighted by the overlap: a heavy type spans
/// several TBUs (replicas), light types share one TBU (time-multiplexed, reconfiguring between them).
public enum ProportionalMapping {
    /// One TBU's share of the mapping.
    public struct Slot: Equatable, Sendable {
        public var cluster: Int
        public var tbu: Int
        /// Hosted types and their overlap with this TBU's segment (in TBU units, summing to 1).
        public var types: [(TaskType, Double)]

        public static func == (a: Slot, b: Slot) -> Bool {
            a.cluster == b.cluster && a.tbu == b.tbu && a.types.map(\.0) == b.types.map(\.0)
                && a.types.map(\.1) == b.types.map(\.1)
        }
    }

    /// The mapping of `loads` (type → expected cycles per unit of time) onto `mesh` with `tbus`
    /// TBUs per cluster. Types with no load are left out.
    public static func map(_ loads: [TaskType: Double], mesh: Mesh, tbus: Int) -> [Slot] {
        let types = loads.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        // Only working TBUs take a share (a cluster's working TBUs are numbered from 0).
        let slots = snakeOrder(mesh).flatMap { cluster in
            (0..<min(tbus, mesh.workingTBUs(of: cluster))).map { (cluster, $0) }
        }
        guard !types.isEmpty, !slots.isEmpty else { return slots.map { Slot(cluster: $0.0, tbu: $0.1, types: []) } }
        let total = types.reduce(0) { $0 + $1.value }
        let floor = total * 0.002
        let lengths = types.map { max($0.value, floor) }
        let line = lengths.reduce(0, +)
        let segment = line / Double(slots.count)
        var result: [Slot] = []
        var typeIndex = 0
        var typeStart = 0.0
        for (k, slot) in slots.enumerated() {
            let start = Double(k) * segment
            let end = Double(k + 1) * segment
            var hosted: [(TaskType, Double)] = []
            var t = typeIndex
            var tStart = typeStart
            while t < types.count {
                let tEnd = tStart + lengths[t]
                let overlap = min(end, tEnd) - max(start, tStart)
                if overlap > segment * 1e-9 { hosted.append((types[t].key, overlap / segment)) }
                if tEnd > end { break }
                tStart = tEnd
                t += 1
            }
            // The next segment starts with the type still open at this segment's end.
            typeIndex = t
            typeStart = tStart
            if hosted.isEmpty, let last = result.last?.types.last { hosted = [(last.0, 1)] }
            result.append(Slot(cluster: slot.0, tbu: slot.1, types: hosted))
        }
        return result
    }

    /// Cluster ids in snake order over the mesh.
    public static func snakeOrder(_ mesh: Mesh) -> [Int] {
        (0..<mesh.rows).flatMap { row -> [Int] in
            let columns = Array(0..<mesh.columns)
            return (row % 2 == 0 ? columns : columns.reversed()).map { mesh.id(row: row, column: $0) }
        }
    }

    /// The plan of a mapping. With `stable` nil every hosted type is reserved (the static
    /// mapping). Otherwise only types in `stable` stay reserved, and only on TBUs where they cover
    /// at least half the segment; the other TBUs form the elastic pool (at least one when a
    /// dynamic type exists).
    public static func plan(_ slots: [Slot], clusters: Int, tbus: Int, stable: Set<TaskType>?, epoch: UInt32)
        -> WaferPlan
    {
        // Built in local arrays (uniquely owned, so every write is in place) and without
        // intermediate filtered copies: the planner calls this every planning period.
        var reserved = Array(repeating: Array(repeating: [TaskType](), count: tbus), count: clusters)
        var weights = Array(repeating: Array(repeating: [Double](), count: tbus), count: clusters)
        var dynamicSlots: [(index: Int, share: Double)] = []
        var hasPool = false
        for (index, slot) in slots.enumerated() {
            guard let stable else {
                reserved[slot.cluster][slot.tbu] = slot.types.map(\.0)
                weights[slot.cluster][slot.tbu] = slot.types.map(\.1)
                if slot.types.isEmpty { hasPool = true }
                continue
            }
            // Shares summed in slot order, as the kept and dynamic parts' sums.
            var keptShare = 0.0
            var dynamicShare = 0.0
            var keptCount = 0
            for (type, share) in slot.types {
                if stable.contains(type) {
                    keptShare += share
                    keptCount += 1
                } else {
                    dynamicShare += share
                }
            }
            if dynamicShare > 0 { dynamicSlots.append((index, dynamicShare)) }
            guard keptCount > 0, keptShare >= 0.5 else {
                hasPool = true
                continue
            }
            var types: [TaskType] = []
            var shares: [Double] = []
            types.reserveCapacity(keptCount)
            shares.reserveCapacity(keptCount)
            for (type, share) in slot.types where stable.contains(type) {
                types.append(type)
                shares.append(share)
            }
            reserved[slot.cluster][slot.tbu] = types
            weights[slot.cluster][slot.tbu] = shares
        }
        // TBUs no slot covers (none on a wafer without defects) stay in the pool too.
        if !hasPool { hasPool = reserved.contains { $0.contains { $0.isEmpty } } }
        if stable != nil, !hasPool,
            let widest = dynamicSlots.max(by: { $0.share < $1.share || ($0.share == $1.share && $0.index > $1.index) })
        {
            let slot = slots[widest.index]
            reserved[slot.cluster][slot.tbu] = []
            weights[slot.cluster][slot.tbu] = []
        }
        let configure = Array(repeating: Array(repeating: TaskType?.none, count: tbus), count: clusters)
        return WaferPlan(epoch: epoch, reserved: reserved, weights: weights, configure: configure)
    }
}
