import Scheduling
import WaferModel

/// The TBUs (PE arrays) of one cluster: what each runs or is configured for, and the accounting
/// of each one's time (busy, reconfiguring, and idle split into starved and unassigned).
struct TBUPool {
    struct TBU {
        var running: TaskMessage? { didSet { isRunning = running != nil } }
        /// Whether a block runs here, readable without copying the block (hot: every dispatch,
        /// load signal and balancing decision asks which TBUs are free).
        private(set) var isRunning = false
        var sliceStart: Cycle = 0
        var busyUntil: Cycle = 0
        var configuredFor: TaskType?
        var idleSince: Cycle = 0
        var idleQueueIntegralStart: Cycle = 0
        /// TBUs lent to this one's block (adaptive split); they finish with it.
        var helpers: [Int] = []
        /// Lent to the block running on this TBU index.
        var helping: Int?
        /// Reconfiguring ahead of demand for the proactive plan.
        var preparing = false
        /// Holding an output that waits for a credit (flow control), since `blockedSince`.
        var blocked = false
        var blockedSince: Cycle = 0

        var isFree: Bool { !isRunning && helping == nil && !preparing && !blocked }
    }

    private(set) var units: [TBU]
    var stats: [TBUStats]
    /// Start times of each TBU's idle periods, an append-only log kept apart from `stats` so a
    /// snapshot records its length instead of copying it.
    private var idleStarts: [[Cycle]]
    /// The matching ends (for the idle timeline).
    private var idleEnds: [[Cycle]]

    init(count: Int) {
        units = Array(repeating: TBU(), count: count)
        stats = Array(repeating: TBUStats(), count: count)
        idleStarts = Array(repeating: [], count: count)
        idleEnds = Array(repeating: [], count: count)
    }

    /// The pool's state at a window's start.
    struct Snapshot {
        var units: [TBU]
        var stats: [TBUStats]
        var idleStartCounts: [Int]
    }

    /// (A closure, not the key path `\.count`: the optimiser kept that one a run-time key path,
    /// projected for every TBU at every speculative window.)
    func snapshot() -> Snapshot { Snapshot(units: units, stats: stats, idleStartCounts: idleStarts.map { $0.count }) }

    mutating func restore(_ snapshot: Snapshot) {
        units = snapshot.units
        stats = snapshot.stats
        for (index, count) in snapshot.idleStartCounts.enumerated() where idleStarts[index].count > count {
            idleStarts[index].removeLast(idleStarts[index].count - count)
            idleEnds[index].removeLast(idleEnds[index].count - count)
        }
    }

    var count: Int { units.count }
    subscript(index: Int) -> TBU { units[index] }
    // These run at every dispatch, load signal and balancing decision: loops over indices read
    // each TBU in place (a key path or a copied element costs retains of its running block).
    var hasFree: Bool {
        for index in units.indices where units[index].isFree { return true }
        return false
    }
    var busyCount: Int {
        var busy = 0
        for index in units.indices where !units[index].isFree { busy += 1 }
        return busy
    }
    /// TBUs holding an output that waits for a credit.
    var blockedCount: Int {
        var blocked = 0
        for index in units.indices where units[index].blocked { blocked += 1 }
        return blocked
    }
    var configurations: [TaskType?] {
        var configured: [TaskType?] = []
        configured.reserveCapacity(units.count)
        for index in units.indices { configured.append(units[index].configuredFor) }
        return configured
    }

    /// Remaining cycles of the blocks running now.
    func remainingCycles(at now: Cycle) -> Cycle {
        var remaining: Cycle = 0
        for index in units.indices where !units[index].isFree && units[index].busyUntil > now {
            remaining += units[index].busyUntil - now
        }
        return remaining
    }

    // MARK: Idle periods

    /// Opens an idle period of TBU `index` at `now`.
    mutating func becameIdle(_ index: Int, at now: Cycle, queue: ClusterQueue) {
        units[index].idleSince = now
        units[index].idleQueueIntegralStart = queue.integralValue(at: now)
    }

    /// Closes the idle period of TBU `index` at `now`, splitting it into starved and unassigned.
    mutating func closeIdle(_ index: Int, at now: Cycle, queue: ClusterQueue) {
        let tbu = units[index]
        let (starved, unassigned) = Self.idleSplit(tbu, to: now, queue: queue)
        stats[index].starvedCycles += starved
        stats[index].unassignedCycles += unassigned
        if now > tbu.idleSince {
            idleStarts[index].append(tbu.idleSince)
            idleEnds[index].append(now)
        }
    }

    /// Every TBU's idle periods up to `end`, the open ones closed there.
    func idlePeriods(end: Cycle) -> [(start: Cycle, end: Cycle)] {
        var periods: [(start: Cycle, end: Cycle)] = []
        for index in units.indices {
            periods += zip(idleStarts[index], idleEnds[index]).map { (start: $0, end: $1) }
            if units[index].isFree && end > units[index].idleSince { periods.append((units[index].idleSince, end)) }
        }
        return periods
    }

    /// The accounting up to `end`, with the open idle periods closed there.
    func finalStats(end: Cycle, queue: ClusterQueue) -> [TBUStats] {
        var result = stats
        for index in result.indices { result[index].idleStarts = idleStarts[index] }
        for (index, tbu) in units.enumerated() where tbu.blocked && end > tbu.blockedSince {
            result[index].blockedCycles += end - tbu.blockedSince
        }
        // A run stopped early (by an error) can end while blocks still run: their busy time was
        // counted whole when they started; only the part before `end` belongs to the run.
        for (index, tbu) in units.enumerated() where tbu.running != nil && tbu.busyUntil > end {
            let beyond = min(tbu.busyUntil - end, tbu.busyUntil - tbu.sliceStart)
            for unit in [index] + tbu.helpers { result[unit].busyCycles -= beyond }
        }
        for (index, tbu) in units.enumerated() where tbu.isFree && end > tbu.idleSince {
            let (starved, unassigned) = Self.idleSplit(tbu, to: end, queue: queue)
            result[index].starvedCycles += starved
            result[index].unassignedCycles += unassigned
            // Not appended: the list is the pool's log, shared until changed.
            result[index].openIdleStart = tbu.idleSince
        }
        return result
    }

    private static func idleSplit(_ tbu: TBU, to end: Cycle, queue: ClusterQueue) -> (starved: Cycle, unassigned: Cycle)
    {
        guard end > tbu.idleSince else { return (0, 0) }
        let unassigned = min(end - tbu.idleSince, queue.integralValue(at: end) - tbu.idleQueueIntegralStart)
        return (end - tbu.idleSince - unassigned, unassigned)
    }

    // MARK: Work

    /// Loads `type`'s configuration into TBU `index`; returns the cycles it costs, or nil when the
    /// TBU is already configured for it.
    mutating func configure(_ index: Int, for type: TaskType, cost: Cycle) -> Cycle? {
        guard units[index].configuredFor != type else { return nil }
        stats[index].reconfigurations += 1
        stats[index].reconfigurationCycles += cost
        units[index].configuredFor = type
        return cost
    }

    /// Starts `task` on `units` (the first leads, the others are lent to it) from `begin` for `duration`.
    mutating func start(_ task: TaskMessage, on indices: [Int], begin: Cycle, duration: Cycle) {
        let lead = indices[0]
        for helper in indices.dropFirst() {
            units[helper].helping = lead
            stats[helper].busyCycles += duration
        }
        stats[lead].tasks += 1
        stats[lead].busyCycles += duration
        units[lead].running = task
        units[lead].helpers = Array(indices.dropFirst())
        units[lead].sliceStart = begin
        units[lead].busyUntil = begin + duration
    }

    /// Ends the block on TBU `index`: returns it and every TBU that worked on it, all idle from `now`.
    mutating func finish(_ index: Int, at now: Cycle, queue: ClusterQueue) -> (task: TaskMessage, units: [Int]) {
        guard let task = units[index].running else { preconditionFailure("TBU \(index) finished without a task") }
        let all = [index] + units[index].helpers
        units[index].running = nil
        units[index].helpers = []
        for u in all {
            units[u].helping = nil
            becameIdle(u, at: now, queue: queue)
        }
        return (task, all)
    }

    /// TBU `index`, idle since `now`, holds its output until a credit lets it leave (flow control).
    mutating func block(_ index: Int, at now: Cycle, queue: ClusterQueue) {
        guard !units[index].blocked else { return }
        closeIdle(index, at: now, queue: queue)
        units[index].blocked = true
        units[index].blockedSince = now
    }

    /// TBU `index`'s held outputs have all left: it is idle from `now`.
    mutating func unblock(_ index: Int, at now: Cycle, queue: ClusterQueue) {
        guard units[index].blocked else { return }
        stats[index].blockedCycles += now - units[index].blockedSince
        units[index].blocked = false
        becameIdle(index, at: now, queue: queue)
    }

    /// Marks TBU `index` as reconfiguring ahead of demand (until ``finishPreparing(_:at:queue:)``).
    mutating func startPreparing(_ index: Int) { units[index].preparing = true }

    mutating func finishPreparing(_ index: Int, at now: Cycle, queue: ClusterQueue) {
        units[index].preparing = false
        becameIdle(index, at: now, queue: queue)
    }

    /// Adds cycles an array spent held by a split partner's reconfiguration.
    mutating func addHeldCycles(_ cycles: Cycle, to index: Int) { stats[index].reconfigurationCycles += cycles }

    /// The TBUs as a dispatcher sees them, with the plan's reservations for this cluster. A queued
    /// type no TBU here accepts (placed before the plan changed, or moved here by rebalancing) may
    /// use any TBU rather than wait forever.
    /// With `lend`, a free TBU none of whose reserved types is queued accepts any type.
    func snapshots(reserved: [[TaskType]], queue: ClusterQueue, lend: Bool = false) -> [TBUSnapshot] {
        var lists: [[TaskType]?] = units.indices.map { index in
            index < reserved.count && !reserved[index].isEmpty ? reserved[index] : nil
        }
        if lend {
            let waiting = Set(queue.tasks.filter { !$0.isControl }.map(\.taskType))
            for index in lists.indices where units[index].isFree {
                if let list = lists[index], !list.contains(where: waiting.contains) { lists[index] = nil }
            }
        }
        if lists.allSatisfy({ $0 != nil }) {
            // A blocked TBU takes nothing until its output leaves: what only it accepts is stranded.
            let accepted = Set(
                lists.enumerated().filter { !units[$0.offset].blocked }.compactMap { $0.element }.joined())
            let stranded = Set(queue.tasks.filter { !$0.isControl && !accepted.contains($0.taskType) }.map(\.taskType))
            if !stranded.isEmpty { lists = lists.map { $0.map { $0 + stranded.sorted() } } }
        }
        return units.indices.map { index in
            TBUSnapshot(
                index: index, isBusy: !units[index].isFree, configuredFor: units[index].configuredFor,
                reservedFor: lists[index])
        }
    }
}
