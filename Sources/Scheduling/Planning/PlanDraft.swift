import WaferModel

/// The proactive planner's candidate plan, built in flat arrays: the same plan as
/// ``ProportionalMapping/map(_:mesh:tbus:)``, then ``ProportionalMapping/plan(_:clusters:tbus:stable:epoch:)``
/// with `stable`, then the pool's configuration wishes (``ProactivePlanner/referencePlan(demand:stable:mesh:tbus:current:)``
/// is that definition, and the tests hold the two equal) — with the same floating-point operations in
/// the same order, so the same plan bit for bit.
///
/// Why it exists: the planner runs every planning period, and most steps keep the current plan
/// (the hysteresis), so it only needs to *count* how many TBUs would change. Built as nested
/// arrays, every step allocated a list per TBU several times over; here a step allocates a
/// handful of flat arrays, and the nested ``WaferPlan`` is built only when it is published.
/// The TBU slots of a wafer in snake order (``ProportionalMapping/snakeOrder(_:)``, working TBUs
/// only) and the slot of every TBU of the `clusters` × `tbus` grid: fixed for a wafer, so the
/// planner builds it once.
public struct PlanGeometry: Sendable {
    let clusters: Int
    let tbus: Int
    let slotCluster: [Int]
    let slotTBU: [Int]
    /// The slot of each TBU of the grid (`cluster * tbus + tbu`), or -1 where no slot covers it.
    let cellSlot: [Int]
    /// `min(clusters × tbus, working TBUs)`: what the planner's hysteresis is a share of.
    let plannedTBUs: Int

    public init(mesh: Mesh, tbus: Int) {
        clusters = mesh.count
        self.tbus = tbus
        var slotCluster: [Int] = []
        var slotTBU: [Int] = []
        var cellSlot = Array(repeating: -1, count: mesh.count * tbus)
        for cluster in ProportionalMapping.snakeOrder(mesh) {
            for tbu in 0..<min(tbus, mesh.workingTBUs(of: cluster)) {
                cellSlot[cluster * tbus + tbu] = slotCluster.count
                slotCluster.append(cluster)
                slotTBU.append(tbu)
            }
        }
        self.slotCluster = slotCluster
        self.slotTBU = slotTBU
        self.cellSlot = cellSlot
        plannedTBUs = min(mesh.count * tbus, mesh.totalWorkingTBUs)
    }
}

struct PlanDraft: Sendable {
    let clusters: Int
    let tbus: Int
    /// Demand entries in type order (every entry of the demand, also those without load).
    private var entries: [TypeDemand] = []
    /// Indexes into `entries` of the types with load: the types laid on the line.
    private var laid: [Int] = []
    let geometry: PlanGeometry
    /// Hosted types of slot `s`: `hostedEntry[slotStart[s]..<slotStart[s + 1]]` (indexes into
    /// `entries`) with their overlaps in `hostedShare`.
    private var slotStart: [Int] = [0]
    private var hostedEntry: [Int] = []
    private var hostedShare: [Double] = []
    /// Whether slot `s` keeps its stable types reserved.
    private var slotReserved: [Bool] = []
    /// Each TBU's configuration wish, by grid cell: an index into `entries`, or -1.
    private var cellWish: [Int] = []
    private var isStable: [Bool] = []
    /// The stable types of the last rebuild (with `entries`, all a draft depends on).
    private var stable: Set<TaskType> = []
    /// Whether the draft was ever built (an empty draft's `entries` say nothing).
    private var built = false
    // Working arrays of one build, kept so the next build reuses their storage: the planner
    // builds a draft every planning period, and allocating a dozen arrays each time (and
    // looking up their metadata) was a fifth of a step.
    private var lengths: [Double] = []
    private var dynamicSlots: [(index: Int, share: Double)] = []
    private var reservedAnywhere: [Bool] = []
    private var ordered: [Int] = []
    private var pool: [Int] = []

    init(demand: [TaskType: Double], stable: Set<TaskType>, geometry: PlanGeometry) {
        self.init(entries: TypeDemand.ordered(demand), stable: stable, geometry: geometry)
    }

    /// `entries`: the demand in type order, one entry per type.
    init(entries demand: [TypeDemand], stable: Set<TaskType>, geometry: PlanGeometry) {
        self.init(geometry: geometry)
        rebuild(entries: demand, stable: stable)
    }

    /// An empty draft for the wafer of `geometry`, to ``rebuild(entries:stable:)``.
    init(geometry: PlanGeometry) {
        clusters = geometry.clusters
        tbus = geometry.tbus
        self.geometry = geometry
    }

    /// Makes this the draft for `demand` (in type order, one entry per type), reusing the storage
    /// of the previous one: the same draft as ``init(entries:stable:geometry:)``.
    mutating func rebuild(entries demand: [TypeDemand], stable: Set<TaskType>) {
        // The draft is a function of the demand and the stable types (and the fixed geometry):
        // built from the same ones, it would come out as it is. While nothing runs and requests
        // are pending (a quiet spell), the planner steps every period with the same demand, and
        // drafting was most of each step.
        if built, demand == entries, stable == self.stable { return }
        built = true
        self.stable = stable
        entries = demand
        isStable.removeAll(keepingCapacity: true)
        for entry in entries { isStable.append(stable.contains(entry.type)) }
        cellWish.removeAll(keepingCapacity: true)
        cellWish.append(contentsOf: repeatElement(-1, count: clusters * tbus))
        lay()
        reserve()
        wish()
    }

    private var slotCluster: [Int] { geometry.slotCluster }
    private var slotTBU: [Int] { geometry.slotTBU }
    private var cellSlot: [Int] { geometry.cellSlot }

    // MARK: ProportionalMapping.map

    private mutating func lay() {
        laid.removeAll(keepingCapacity: true)
        slotStart.removeAll(keepingCapacity: true)
        hostedEntry.removeAll(keepingCapacity: true)
        hostedShare.removeAll(keepingCapacity: true)
        for (index, entry) in entries.enumerated() where entry.cycles > 0 { laid.append(index) }
        let slots = slotCluster.count
        guard !laid.isEmpty, slots > 0 else {
            slotStart.append(contentsOf: repeatElement(0, count: slots + 1))
            return
        }
        slotStart.append(0)
        let total = laid.reduce(0) { $0 + entries[$1].cycles }
        let floor = total * 0.002
        lengths.removeAll(keepingCapacity: true)
        for index in laid { lengths.append(max(entries[index].cycles, floor)) }
        let line = lengths.reduce(0, +)
        let segment = line / Double(slots)
        slotStart.reserveCapacity(slots + 1)
        // A slot hosts the types overlapping it: at most one more than it shares with the next.
        hostedEntry.reserveCapacity(slots + laid.count)
        hostedShare.reserveCapacity(slots + laid.count)
        var typeIndex = 0
        var typeStart = 0.0
        for k in 0..<slots {
            let start = Double(k) * segment
            let end = Double(k + 1) * segment
            let first = hostedEntry.count
            var t = typeIndex
            var tStart = typeStart
            while t < laid.count {
                let tEnd = tStart + lengths[t]
                let overlap = min(end, tEnd) - max(start, tStart)
                if overlap > segment * 1e-9 {
                    hostedEntry.append(laid[t])
                    hostedShare.append(overlap / segment)
                }
                if tEnd > end { break }
                tStart = tEnd
                t += 1
            }
            typeIndex = t
            typeStart = tStart
            // A slot nothing overlaps hosts the previous slot's last type, whole.
            if hostedEntry.count == first, first > 0 {
                hostedEntry.append(hostedEntry[first - 1])
                hostedShare.append(1)
            }
            slotStart.append(hostedEntry.count)
        }
    }

    // MARK: ProportionalMapping.plan with stable types

    private mutating func reserve() {
        let slots = geometry.slotCluster.count
        slotReserved.removeAll(keepingCapacity: true)
        slotReserved.append(contentsOf: repeatElement(false, count: slots))
        dynamicSlots.removeAll(keepingCapacity: true)
        dynamicSlots.reserveCapacity(slots)
        var hasPool = false
        for slot in 0..<slots {
            var keptShare = 0.0
            var dynamicShare = 0.0
            var keptCount = 0
            for h in slotStart[slot]..<slotStart[slot + 1] {
                if isStable[hostedEntry[h]] {
                    keptShare += hostedShare[h]
                    keptCount += 1
                } else {
                    dynamicShare += hostedShare[h]
                }
            }
            if dynamicShare > 0 { dynamicSlots.append((slot, dynamicShare)) }
            if keptCount > 0, keptShare >= 0.5 {
                slotReserved[slot] = true
            } else {
                hasPool = true
            }
        }
        // TBUs no slot covers (none on a wafer without defects) stay in the pool too.
        if !hasPool { hasPool = geometry.cellSlot.contains(-1) }
        if !hasPool,
            let widest = dynamicSlots.max(by: { $0.share < $1.share || ($0.share == $1.share && $0.index > $1.index) })
        {
            slotReserved[widest.index] = false
        }
    }

    // MARK: The pool's wishes (ProactivePlanner)

    private mutating func wish() {
        reservedAnywhere.removeAll(keepingCapacity: true)
        reservedAnywhere.append(contentsOf: repeatElement(false, count: entries.count))
        for slot in slotReserved.indices where slotReserved[slot] {
            for h in slotStart[slot]..<slotStart[slot + 1] where isStable[hostedEntry[h]] {
                reservedAnywhere[hostedEntry[h]] = true
            }
        }
        ordered.removeAll(keepingCapacity: true)
        for index in entries.indices where !isStable[index] || !reservedAnywhere[index] { ordered.append(index) }
        pool.removeAll(keepingCapacity: true)
        for slot in slotReserved.indices where !slotReserved[slot] { pool.append(slot) }
        guard !pool.isEmpty, !ordered.isEmpty else { return }
        let total = ordered.reduce(0) { $0 + entries[$1].cycles }
        // The wafer's slot arrays, read once rather than through the geometry in the loop.
        let slotCluster = geometry.slotCluster
        let slotTBU = geometry.slotTBU
        var start = 0.0
        var index = 0
        for (k, slot) in pool.enumerated() {
            // The type covering the middle of this pool TBU's segment.
            let middle = (Double(k) + 0.5) / Double(pool.count) * total
            while index < ordered.count - 1 && start + entries[ordered[index]].cycles <= middle {
                start += entries[ordered[index]].cycles
                index += 1
            }
            cellWish[slotCluster[slot] * tbus + slotTBU[slot]] = ordered[index]
        }
    }

    // MARK: Reading the draft

    /// The number of TBUs whose reservation differs from `current`'s plus those whose wish does,
    /// or nil when `current` is not a plan of `clusters` × `tbus` TBUs.
    func changedCount(against current: WaferPlan) -> Int? {
        guard current.reserved.count == clusters, current.configure.count == clusters,
            current.reserved.allSatisfy({ $0.count == tbus }), current.configure.allSatisfy({ $0.count == tbus })
        else { return nil }
        var changed = 0
        let cellSlot = geometry.cellSlot
        for cluster in 0..<clusters {
            for tbu in 0..<tbus {
                let cell = cluster * tbus + tbu
                if !reservation(slot: cellSlot[cell], equals: current.reserved[cluster][tbu]) { changed += 1 }
                let wish = cellWish[cell] < 0 ? nil : entries[cellWish[cell]].type
                if wish != current.configure[cluster][tbu] { changed += 1 }
            }
        }
        return changed
    }

    /// True when the types reserved on the TBUs of `slot` (-1: a TBU no slot covers) are `types`, in order.
    private func reservation(slot: Int, equals types: [TaskType]) -> Bool {
        guard slot >= 0, slotReserved[slot] else { return types.isEmpty }
        var position = 0
        for h in slotStart[slot]..<slotStart[slot + 1] where isStable[hostedEntry[h]] {
            guard position < types.count, types[position] == entries[hostedEntry[h]].type else { return false }
            position += 1
        }
        return position == types.count
    }

    /// The draft as a plan.
    func plan(epoch: UInt32) -> WaferPlan {
        var reserved = Array(repeating: Array(repeating: [TaskType](), count: tbus), count: clusters)
        var weights = Array(repeating: Array(repeating: [Double](), count: tbus), count: clusters)
        var configure = Array(repeating: Array(repeating: TaskType?.none, count: tbus), count: clusters)
        for slot in slotReserved.indices where slotReserved[slot] {
            var types: [TaskType] = []
            var shares: [Double] = []
            for h in slotStart[slot]..<slotStart[slot + 1] where isStable[hostedEntry[h]] {
                types.append(entries[hostedEntry[h]].type)
                shares.append(hostedShare[h])
            }
            reserved[slotCluster[slot]][slotTBU[slot]] = types
            weights[slotCluster[slot]][slotTBU[slot]] = shares
        }
        for cell in cellWish.indices where cellWish[cell] >= 0 {
            configure[cell / tbus][cell % tbus] = entries[cellWish[cell]].type
        }
        return WaferPlan(epoch: epoch, reserved: reserved, weights: weights, configure: configure)
    }
}
