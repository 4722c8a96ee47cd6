import Scheduling
import WaferModel

/// A cluster's load signals to the coordinator: at the next load-signal period boundary after its
/// state changed (an arrival or a finished block), and only when the load changed. The remaining
/// time of running blocks shrinks every tick and is no news by itself, so a cluster busy with long
/// blocks, like an idle one, sends nothing and has no events.
struct LoadSignaller {
    let cluster: Int
    let period: Cycle
    /// The planner wants finished runs and running blocks (they make signals larger and more frequent).
    let reportsExecution: Bool
    /// A clairvoyant planner wants each started block by request (``Foresight``).
    let reportsStarts: Bool
    /// A tick is scheduled and has not happened yet.
    private(set) var tickScheduled = false
    private var lastSent: ClusterLoad
    private var finishedSinceSignal: [TaskType: TypeRuns] = [:]
    private var startedSinceSignal: [RequestBlock] = []

    init(cluster: Int, tbus: Int, period: Cycle, reportsExecution: Bool, reportsStarts: Bool = false) {
        self.cluster = cluster
        self.period = period
        self.reportsExecution = reportsExecution
        self.reportsStarts = reportsStarts
        lastSent = ClusterLoad(cluster: cluster, tbus: tbus, configurations: Array(repeating: nil, count: tbus))
    }

    /// Records a task block started here, with its one-array cycles, for the planner's statistics.
    mutating func noteRun(_ type: TaskType, cycles: Double, request: UInt64) {
        if reportsStarts { startedSinceSignal.append(RequestBlock(request: request, taskType: type)) }
        guard reportsExecution else { return }
        finishedSinceSignal[type, default: TypeRuns(taskType: type, runs: 0, cycles: 0, squares: 0)].runs += 1
        finishedSinceSignal[type]!.cycles += cycles
        finishedSinceSignal[type]!.squares += cycles * cycles
    }

    /// The time of the next tick, if none is scheduled yet (the caller schedules it).
    mutating func scheduleTick(after now: Cycle) -> Cycle? {
        guard !tickScheduled else { return nil }
        tickScheduled = true
        return nextBoundary(after: now)
    }

    /// The first period boundary after `now`.
    func nextBoundary(after now: Cycle) -> Cycle { (now / period + 1) * period }

    /// The tick: returns the load to send, or nil when nothing but the running blocks' remaining
    /// time changed since the last signal.
    mutating func tick(_ load: ClusterLoad) -> ClusterLoad? {
        tickScheduled = false
        var stale = lastSent
        stale.pendingCycles = load.pendingCycles
        guard load != stale else { return nil }
        lastSent = load
        lastSent.finished = []
        lastSent.started = []
        finishedSinceSignal.removeAll(keepingCapacity: true)
        startedSinceSignal.removeAll(keepingCapacity: true)
        return load
    }

    /// The cluster's load now.
    func load(at now: Cycle, queue: ClusterQueue, pool: TBUPool, isControl: (TaskType) -> Bool) -> ClusterLoad {
        var pending: Cycle = 0
        var perType: [TaskType: TaskTypeLoad] = [:]
        for task in queue.tasks {
            pending += task.predictedCycles
            perType[task.taskType, default: TaskTypeLoad(taskType: task.taskType, queuedTasks: 0, pendingCycles: 0)]
                .queuedTasks += 1
            perType[task.taskType]!.pendingCycles += task.predictedCycles
        }
        var busy = 0
        var running: [TaskType] = []
        for index in 0..<pool.count where !pool[index].isFree {
            let tbu = pool[index]
            busy += 1
            pending += tbu.busyUntil > now ? tbu.busyUntil - now : 0
            if reportsExecution, let task = tbu.running, !isControl(task.taskType) { running.append(task.taskType) }
        }
        return ClusterLoad(
            cluster: cluster, tbus: pool.count, busyTBUs: busy, queuedTasks: queue.count, pendingCycles: pending,
            byType: perType.values.sorted { $0.taskType < $1.taskType }, configurations: pool.configurations,
            finished: finishedSinceSignal.values.sorted { $0.taskType < $1.taskType }, running: running.sorted(),
            started: startedSinceSignal)
    }
}
