import Scheduling
import WaferModel

/// The exact future work of requests, for a clairvoyant planner (``PlanningPolicy/foresightHorizon``;
/// `octopus-clairvoyant`): what no real scheduler can know, kept by the coordinator.
///
/// A request's future is a pure function of its identity: every control decision, loop trip,
/// fan-out width and drawn shape comes from the request's own seeded streams (``RequestStreams``),
/// so a **dry run** of its workflow — the same interpreter the clusters use, without time or
/// placement — lists every task block it will run and its cycles on one array. The coordinator
/// dry-runs each request when it first needs it (when it is within the horizon, or arrives),
/// removes a block when a cluster reports it started (load signals carry started blocks while a
/// clairvoyant planner runs), and forgets the request when its outcome arrives. Sums are kept in
/// whole cycles, so they do not depend on the order anything is visited in.
///
/// Timing mode only: in functional mode decisions look at data, which a dry run does not compute.
struct Foresight {
    /// One request's task blocks not yet started: cycles per block, by type, in the order the
    /// dry run met them (a started block removes the first of its type).
    struct Work {
        var blocks: [TaskType: [Cycle]] = [:]
    }

    private let library: WorkflowLibrary
    private let streams: RequestStreams
    private let costs: BlockCosts
    /// Requests that have arrived and not ended.
    private var inFlight: [UInt64: Work] = [:]
    /// Their blocks not yet started, summed per type.
    private var inFlightCycles: [TaskType: Cycle] = [:]
    /// Requests dry-run ahead of their arrival (within an earlier horizon).
    private var upcoming: [UInt64: Work] = [:]

    init(library: WorkflowLibrary, config: WaferConfig) {
        self.library = library
        streams = RequestStreams(seed: config.seed, library: library)
        costs = BlockCosts(
            table: TaskCycleTable(library: library, config: config), streams: streams, library: library)
    }

    /// Every task block `entry`'s request will run, with its cycles on one array.
    func dryRun(_ entry: TaskMessage) -> Work {
        var interpreter = WorkflowInterpreter(cluster: 0, library: library, streams: streams, functional: nil)
        var work = Work()
        var pending = [entry]
        var next = 0
        // First in, first out: loop iterations are met in their order.
        while next < pending.count {
            let task = pending[next]
            next += 1
            let actions: [WorkflowAction]
            if case .task = library[Int(task.taskType.workflow)].blocks[Int(task.taskType.block)].kind {
                work.blocks[task.taskType, default: []].append(costs.totalCycles(of: task, parts: 1))
                actions = interpreter.finishedTask(task)
            } else {
                actions = interpreter.decided(task)
            }
            for action in actions {
                if case .run(let successor) = action { pending.append(successor) }
            }
        }
        return work
    }

    /// Request `entry.request` arrived (and was admitted).
    mutating func arrived(_ entry: TaskMessage) {
        let work = upcoming.removeValue(forKey: entry.request) ?? dryRun(entry)
        for (type, cycles) in work.blocks { inFlightCycles[type, default: 0] += cycles.reduce(0, +) }
        inFlight[entry.request] = work
    }

    /// A cluster started `block`.
    mutating func started(_ block: RequestBlock) {
        guard var blocks = inFlight[block.request]?.blocks[block.taskType], !blocks.isEmpty else { return }
        inFlightCycles[block.taskType, default: 0] -= blocks.removeFirst()
        inFlight[block.request]?.blocks[block.taskType] = blocks
    }

    /// Request `request` ended (its outcome reached the coordinator, or it was refused).
    mutating func ended(_ request: UInt64) {
        upcoming[request] = nil
        guard let work = inFlight.removeValue(forKey: request) else { return }
        for (type, cycles) in work.blocks { inFlightCycles[type, default: 0] -= cycles.reduce(0, +) }
    }

    /// The exact work per type that will start from `now` on among the requests in flight and
    /// those arriving before `now + horizon` (`arrivals` gives them in any order).
    mutating func demand(
        now: Cycle, horizon: Cycle, arrivals: (_ before: Cycle, _ visit: (TaskMessage) -> Void) -> Void
    ) -> [TaskType: Double] {
        var cycles = inFlightCycles
        arrivals(now.adding(horizon)) { entry in
            let work = upcoming[entry.request] ?? dryRun(entry)
            upcoming[entry.request] = work
            for (type, list) in work.blocks { cycles[type, default: 0] += list.reduce(0, +) }
        }
        return cycles.filter { $0.value > 0 }.mapValues(Double.init)
    }
}
