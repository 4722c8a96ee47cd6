import Collections
import Dispatch
import Scheduling
import WaferModel

/// The deterministic state machine of one cluster: its TBUs (PE arrays), CBUs, task queue, local
/// TBU scheduler and load signals. It knows nothing of processes or sockets: hosts feed it
/// envelopes, run it window by window and carry away what it sends.
public final class ClusterEngine {
    /// Events inside a cluster. Raw values rank simultaneous events: finished work frees units
    /// before new work is queued.
    enum Event {
        case tbuDone(Int)
        case tbuReady(Int)
        case cbuDone(Int)
        case arrival(TaskMessage)
        case view(WaferLoadView)
        case peer(Message)
        case loadTick

        var rank: UInt8 {
            switch self {
            case .tbuDone: return 0
            case .tbuReady: return 0
            case .cbuDone: return 1
            // A plan published at the same time as work must be in force when the work arrives.
            case .view: return 2
            case .arrival: return 3
            case .peer: return 4
            case .loadTick: return 5
            }
        }
    }

    struct TBU {
        var running: TaskMessage?
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

        var isFree: Bool { running == nil && helping == nil && !preparing }
    }

    struct CBU {
        var running: TaskMessage?
        var sliceStart: Cycle = 0
        var busyUntil: Cycle = 0
    }

    /// Which slice produced a task's input, so a flow arrow can start there.
    struct Producer {
        var unit: UInt16
        var sliceStart: Cycle
    }

    public let id: Int
    let config: WaferConfig
    let mesh: Mesh
    let library: WorkflowLibrary
    /// The scheduler this cluster takes part in.
    public let scheduler: SchedulerSpec
    let placement: SchedulerPlacement
    var dispatcher: any TBUDispatchPolicy
    let cycles: TaskCycleTable
    /// Absolute deadline offset per workflow: its deadline, or four times its expected work.
    let referenceDeadline: [Cycle]
    private var planIndex: PlanIndex
    private var neighbourLoads: [Int: (pending: Cycle, queued: Int)] = [:]
    private var lastNeighbourSignal: Cycle = .max
    private var stealOutstanding = false
    private var finishedSinceSignal: [TaskType: TypeRuns] = [:]
    let me: ParticipantID

    private var events = EventQueue<Event>()
    private var localSequence: UInt64 = 0
    private var queue = Deque<QueuedTask>()
    private var queuedMessages = Deque<TaskMessage>()
    private var tbus: [TBU]
    private var cbus: [CBU]
    private var controlQueue = Deque<TaskMessage>()
    private var view: WaferLoadView
    private var outbox: Outbox
    private var trace: [TraceRecord] = []
    private var flowCounter: UInt64 = 0
    private var lastSentLoad: ClusterLoad
    private var loadTickScheduled = false
    private var pendingArrivals = 0
    private var windowEvents: UInt64 = 0
    private(set) var stats: ClusterStats

    /// Per-operation cycles of blocks with per-request shapes (or split across arrays), by type,
    /// drawn values and number of arrays.
    private var dynamicCycles: [DynamicKey: [Cycle]] = [:]
    /// Layers of per-request shapes (key: type, operation index then drawn values, parts 0).
    private var dynamicLayers: [DynamicKey: [Layer]] = [:]

    struct DynamicKey: Hashable {
        var type: TaskType
        var values: [Int]
        var parts: Int
    }

    /// A fan-out waiting at its join on this cluster (the cluster that fanned out).
    struct JoinKey: Hashable {
        var request: UInt64
        var id: UInt32
    }

    struct JoinState {
        var mode: JoinMode
        var expected: Int
        var arrived = 0
        var failed = 0
        var fired = false
        /// Task blocks the request had run before fanning out, and those its items ran since.
        var baseTasks: UInt32
        var itemTasks: UInt32 = 0
        /// Item outputs by item index (functional mode).
        var outputs: [Tensor?]
    }

    private var joins: [JoinKey: JoinState] = [:]
    private var fanoutCounter: UInt32 = 0
    /// Computes task blocks on real tensors in functional mode (nil: timing mode).
    let functional: (any FunctionalExecutor)?

    // Integral over time of "queue non-empty", to split TBU idle time into starved and unassigned.
    private var queueIntegral: Cycle = 0
    private var queueIntegralUpdated: Cycle = 0

    /// A cluster of the wafer described by `config`, running `library`'s workflows.
    public init(id: Int, config: WaferConfig, library: WorkflowLibrary, scheduler: SchedulerSpec = .octopus,
                functional: (any FunctionalExecutor)? = nil) {
        self.id = id
        self.functional = functional
        self.config = config
        self.mesh = config.mesh
        self.library = library
        self.scheduler = scheduler
        self.placement = SchedulerPlacement(spec: scheduler, reconfigurationCycles: config.cluster.reconfigurationCycles)
        switch scheduler.dispatch {
        case .fifo: dispatcher = FIFODispatch()
        case .adaptive: dispatcher = AdaptiveDispatch()
        case .score: dispatcher = ScoreDispatch()
        }
        let cycles = TaskCycleTable(library: library, config: config)
        self.cycles = cycles
        referenceDeadline = cycles.referenceDeadlines(library)
        planIndex = PlanIndex(.empty(clusters: config.clusterCount, tbus: config.cluster.tbus))
        self.me = .cluster(id)
        tbus = Array(repeating: TBU(), count: config.cluster.tbus)
        cbus = Array(repeating: CBU(), count: config.cluster.cbus)
        view = .idle(clusters: config.clusterCount, tbus: config.cluster.tbus)
        outbox = Outbox(source: .cluster(id), mode: config.sync.mode)
        lastSentLoad = ClusterLoad(cluster: id, tbus: config.cluster.tbus, configurations: Array(repeating: nil, count: config.cluster.tbus))
        stats = ClusterStats(cluster: id, tbus: config.cluster.tbus)
    }

    // MARK: Host interface

    /// Accepts envelopes addressed to this cluster (any order: their keys fix the processing order).
    public func receive(_ envelopes: [Envelope]) {
        for envelope in envelopes {
            precondition(envelope.destination == me, "envelope for \(envelope.destination) delivered to \(me)")
            let event: Event
            switch envelope.message {
            case .task(let task):
                event = .arrival(task)
                pendingArrivals += 1
            case .view(let published): event = .view(published)
            case .neighbourLoad, .steal, .stealReply: event = .peer(envelope.message)
            case .outcome, .load, .ready, .release: preconditionFailure("clusters do not receive \(envelope.message.kindName) messages")
            }
            events.insert(event, key: EventKey(time: envelope.arrival, rank: event.rank, tie: envelope.deliveryTieBreak))
        }
    }

    /// Processes every event before `end` and returns what the window produced.
    public func runWindow(end: Cycle) -> WindowOutput {
        outbox.windowEnd = end
        windowEvents = 0
        while let (key, event) = events.popIfBefore(end) {
            windowEvents += 1
            handle(event, at: key.time)
        }
        stats.events += windowEvents
        let output = WindowOutput(envelopes: outbox.take(), trace: trace, nextEventTime: events.nextTime,
                                  earliestOutput: earliestOutput(), events: windowEvents)
        trace.removeAll(keepingCapacity: true)
        return output
    }

    /// The run's accounting up to `end`, with open idle periods closed at `end`.
    public func finalStats(end: Cycle) -> ClusterStats {
        var result = stats
        for (index, tbu) in tbus.enumerated() where tbu.isFree && end > tbu.idleSince {
            let (starved, unassigned) = idleSplit(from: tbu.idleSince, integralAtStart: tbu.idleQueueIntegralStart, to: end)
            result.tbus[index].starvedCycles += starved
            result.tbus[index].unassignedCycles += unassigned
            result.tbus[index].idleStarts.append(tbu.idleSince)
        }
        result.messagesSent = outbox.counts
        result.quantumDelayedMessages = outbox.quantumDelayed
        result.quantumDelayCycles = outbox.quantumDelayCycles
        result.causalityViolations = outbox.causalityViolations
        return result
    }

    // MARK: Events

    private func handle(_ event: Event, at now: Cycle) {
        switch event {
        case .arrival(let task):
            pendingArrivals -= 1
            arrive(task, at: now)
        case .tbuDone(let index):
            finishTask(on: index, at: now)
            ensureLoadTick(after: now)
        case .tbuReady(let index):
            tbus[index].preparing = false
            becameIdle(index, at: now)
            dispatch(at: now)
        case .cbuDone(let index):
            finishControl(on: index, at: now)
            ensureLoadTick(after: now)
        case .view(let published): receiveView(published, at: now)
        case .peer(let message): receivePeer(message, at: now)
        case .loadTick: loadTick(at: now)
        }
    }

    private func schedule(_ event: Event, at time: Cycle) {
        localSequence += 1
        // Local events rank after remote ones of the same kind: rank + 8 keeps kinds apart.
        events.insert(event, key: EventKey(time: time, rank: event.rank &+ 8, tie: localSequence))
    }

    private func isControl(_ type: TaskType) -> Bool {
        !library[Int(type.workflow)].blocks[Int(type.block)].isTask
    }

    private func arrive(_ task: TaskMessage, at now: Cycle) {
        if isControl(task.taskType) && scheduler.controlPlane == .cbu {
            controlQueue.append(task)
            startControlBlocks(at: now)
            ensureLoadTick(after: now)
            return
        }
        // The global queue has already found this block a free TBU here. A failed fan-out item on
        // its way to its join is admitted past a full queue: rejecting it again would loop, and
        // the join must still count it.
        guard queue.count < config.cluster.queueCapacity || scheduler.placement == .global || task.failed else {
            stats.rejected += 1
            trace.append(.rejected(cluster: Int32(id), time: now, request: task.request, taskType: task.taskType))
            fail(task, at: now)
            return
        }
        updateQueueIntegral(at: now)
        let control = isControl(task.taskType)
        let predicted = control ? cycles.controlBlockCycles : operationCycles(of: task, parts: 1).reduce(0, +)
        queue.append(QueuedTask(taskType: task.taskType, predictedCycles: predicted, enqueued: now, isControl: control,
                                deadline: task.injected.adding(referenceDeadline[Int(task.taskType.workflow)])))
        queuedMessages.append(task)
        dispatch(at: now)
        recordQueue(at: now)
        ensureLoadTick(after: now)
    }

    /// The TBUs as the dispatcher sees them, with the plan's reservations. A queued type that no
    /// TBU here accepts (placed before the plan changed, or moved here by rebalancing) may use
    /// any TBU rather than wait forever.
    private func snapshots() -> [TBUSnapshot] {
        let reserved = view.plan.reserved.indices.contains(id) ? view.plan.reserved[id] : []
        var lists: [[TaskType]?] = tbus.indices.map { index in
            index < reserved.count && !reserved[index].isEmpty ? reserved[index] : nil
        }
        if lists.allSatisfy({ $0 != nil }) {
            let accepted = Set(lists.compactMap { $0 }.joined())
            let stranded = Set(queue.lazy.filter { !$0.isControl && !accepted.contains($0.taskType) }.map(\.taskType))
            if !stranded.isEmpty { lists = lists.map { $0.map { $0 + stranded.sorted() } } }
        }
        return tbus.enumerated().map { TBUSnapshot(index: $0, isBusy: !$1.isFree, configuredFor: $1.configuredFor, reservedFor: lists[$0]) }
    }

    private func dispatch(at now: Cycle) {
        guard !queue.isEmpty, tbus.contains(where: \.isFree) else { return }
        let clock = DecisionClock()
        let context = DispatchContext(now: now, reconfigurationCycles: config.cluster.reconfigurationCycles) { [unowned self] position, parts in
            self.operationCycles(of: self.queuedMessages[position], parts: parts).reduce(0, +)
        }
        let decisions = dispatcher.dispatch(queue: queue, tbus: snapshots(), context: context)
        stats.decisions += 1
        stats.decisionNanos += clock.elapsed
        guard !decisions.isEmpty else { return }
        updateQueueIntegral(at: now)
        var taken: [([Int], TaskMessage)] = []
        for decision in decisions {
            for tbu in decision.tbus { precondition(tbus[tbu].isFree, "\(dispatcher.name) dispatched to busy TBU \(tbu)") }
            taken.append((decision.tbus, queuedMessages[decision.queuePosition]))
        }
        for position in decisions.map(\.queuePosition).sorted(by: >) {
            queue.remove(at: position)
            queuedMessages.remove(at: position)
        }
        for (units, task) in taken { start(task, on: units, at: now) }
    }

    /// Closes the idle period of TBU `index` at `now`, splitting it into starved and unassigned.
    private func closeIdle(_ index: Int, at now: Cycle) {
        let tbu = tbus[index]
        let (starved, unassigned) = idleSplit(from: tbu.idleSince, integralAtStart: tbu.idleQueueIntegralStart, to: now)
        stats.tbus[index].starvedCycles += starved
        stats.tbus[index].unassignedCycles += unassigned
        if now > tbu.idleSince { stats.tbus[index].idleStarts.append(tbu.idleSince) }
    }

    /// Opens an idle period of TBU `index` at `now`.
    private func becameIdle(_ index: Int, at now: Cycle) {
        tbus[index].idleSince = now
        tbus[index].idleQueueIntegralStart = queueIntegralValue(at: now)
    }

    /// Reconfigures TBU `index` for `type` (if it is not already), returning the cycles it costs.
    private func configure(_ index: Int, for type: TaskType, at now: Cycle, request: UInt64) -> Cycle {
        guard tbus[index].configuredFor != type else { return 0 }
        let reconfiguration = config.cluster.reconfigurationCycles
        if reconfiguration > 0 {
            trace.append(.slice(cluster: Int32(id), unit: TraceUnit.tbu(index), start: now, duration: reconfiguration, kind: .reconfigure, taskType: type, request: request))
        }
        stats.tbus[index].reconfigurations += 1
        stats.tbus[index].reconfigurationCycles += reconfiguration
        tbus[index].configuredFor = type
        return reconfiguration
    }

    private func start(_ task: TaskMessage, on units: [Int], at now: Cycle) {
        let index = units[0]
        let unit = TraceUnit.tbu(index)
        for u in units { closeIdle(u, at: now) }
        let control = isControl(task.taskType)
        var begin = now
        if !control {
            // Every array of a split loads the type's configuration; the slowest decides.
            let costs = units.map { configure($0, for: task.taskType, at: now, request: task.request) }
            let slowest = costs.max() ?? 0
            begin += slowest
            // An array waiting for a split partner's reconfiguration is held by it: count it so.
            for (unit, cost) in zip(units, costs) where cost < slowest { stats.tbus[unit].reconfigurationCycles += slowest - cost }
        }
        let operationCycles = control ? [cycles.controlBlockCycles] : self.operationCycles(of: task, parts: units.count)
        let duration = operationCycles.reduce(0, +)
        trace.append(.slice(cluster: Int32(id), unit: unit, start: begin, duration: duration, kind: control ? .control : .task, taskType: task.taskType, request: task.request))
        if !control {
            var layerStart = begin
            for (index, layerCycles) in operationCycles.enumerated() where layerCycles > 0 {
                trace.append(.slice(cluster: Int32(id), unit: unit, start: layerStart, duration: layerCycles, kind: .operation, taskType: task.taskType, request: UInt64(index)))
                layerStart += layerCycles
            }
        }
        for helper in units.dropFirst() {
            trace.append(.slice(cluster: Int32(id), unit: TraceUnit.tbu(helper), start: begin, duration: duration, kind: .splitPart, taskType: task.taskType, request: task.request))
            tbus[helper].helping = index
            stats.tbus[helper].busyCycles += duration
        }
        if units.count > 1 { stats.splits += 1 }
        if task.flow != 0 {
            trace.append(.flowEnd(cluster: Int32(id), unit: unit, time: begin, flow: task.flow))
        }
        stats.tbus[index].tasks += 1
        stats.tbus[index].busyCycles += duration
        if control {
            stats.controlBlocks += 1
            stats.controlOnTBUs += 1
        } else {
            let single = units.count == 1 ? Double(duration) : Double(self.operationCycles(of: task, parts: 1).reduce(0, +))
            if scheduler.plans {
                finishedSinceSignal[task.taskType, default: TypeRuns(taskType: task.taskType, runs: 0, cycles: 0, squares: 0)].runs += 1
                finishedSinceSignal[task.taskType]!.cycles += single
                finishedSinceSignal[task.taskType]!.squares += single * single
            }
        }
        stats.blockRuns[task.taskType, default: 0] += 1
        var task = task
        if !control, let functional, task.payload != nil, case .task(let block) = library[Int(task.taskType.workflow)].blocks[Int(task.taskType.block)].kind {
            // Real results on real tensors; host time spent here never enters virtual time.
            task.payload = functional.run(block, of: library[Int(task.taskType.workflow)], input: task.payload, seed: config.seed)
        }
        tbus[index].running = task
        tbus[index].helpers = Array(units.dropFirst())
        tbus[index].sliceStart = begin
        tbus[index].busyUntil = begin + duration
        schedule(.tbuDone(index), at: begin + duration)
    }

    /// Cycles of each operation of `task`'s block for this request on `parts` arrays: shapes drawn
    /// per request come from the request's own stream, so every host draws the same.
    private func operationCycles(of task: TaskMessage, parts: Int) -> [Cycle] {
        let base = cycles.operationCycles(task.taskType)
        let dynamic = cycles.dynamicOperations(task.taskType)
        guard !dynamic.isEmpty || parts > 1 else { return base }
        var values: [Int] = []
        if !dynamic.isEmpty {
            var rng = stream(for: task, purpose: 0x5348_4150)
            let phase = phase(of: task)
            values = dynamic.flatMap { $0.model.sample(&rng, phase: phase) }
        }
        let key = DynamicKey(type: task.taskType, values: values, parts: parts)
        if let cached = dynamicCycles[key] { return cached }
        var result = base
        if parts > 1 {
            // The static operations' split cycles do not depend on the request: computed once.
            let staticKey = DynamicKey(type: task.taskType, values: [], parts: parts)
            if let cached = dynamicCycles[staticKey] {
                result = cached
            } else if case .task(let block) = library[Int(task.taskType.workflow)].blocks[Int(task.taskType.block)].kind {
                result = block.operations.map { operation in
                    if case .model = operation { return 0 }  // drawn per request below
                    return operation.cycles(on: cycles.array, buffer: cycles.buffer, parts: parts)
                }
                dynamicCycles[staticKey] = result
            }
            if dynamic.isEmpty { return result }
        }
        var offset = 0
        for (index, model) in dynamic {
            let count = model.drawn.count
            let drawn = Array(values[offset..<offset + count])
            if parts > 1 {
                // One request's layers are asked for with several part counts while dispatch weighs a split.
                let layersKey = DynamicKey(type: task.taskType, values: [index] + drawn, parts: 0)
                let layers = dynamicLayers[layersKey] ?? ((try? model.layers(values: drawn)) ?? [])
                dynamicLayers[layersKey] = layers
                result[index] = layers.reduce(0) { $0 + TaskOperation.splitCycles(of: $1, on: cycles.array, buffer: cycles.buffer, parts: parts) }
            } else {
                result[index] = model.cycles(values: drawn, array: cycles.array, buffer: cycles.buffer)
            }
            offset += count
        }
        dynamicCycles[key] = result
        return result
    }

    private func finishTask(on index: Int, at now: Cycle) {
        guard var task = tbus[index].running else { preconditionFailure("TBU \(index) finished without a task") }
        let producer = Producer(unit: TraceUnit.tbu(index), sliceStart: tbus[index].sliceStart)
        let units = [index] + tbus[index].helpers
        tbus[index].running = nil
        tbus[index].helpers = []
        for u in units {
            tbus[u].helping = nil
            becameIdle(u, at: now)
        }
        if scheduler.placement == .global {
            outbox.send(.release(cluster: Int32(id), units: UInt16(units.count)), to: .coordinator, at: now, latency: config.controlLatency)
        }
        if isControl(task.taskType) {
            complete(control: task, producer: producer, at: now)
        } else {
            task.tasksDone += 1
            let block = library[Int(task.taskType.workflow)].blocks[Int(task.taskType.block)]
            guard case .task(let taskBlock) = block.kind else { preconditionFailure("not a task block") }
            follow(taskBlock.next, from: task, outputBytes: taskBlock.outputBytes, producer: producer, at: now)
        }
        dispatch(at: now)
        recordQueue(at: now)
        rebalance(at: now)
    }

    private func startControlBlocks(at now: Cycle) {
        for index in cbus.indices where cbus[index].running == nil {
            guard let task = controlQueue.popFirst() else { return }
            let duration = cycles.controlBlockCycles
            cbus[index].running = task
            cbus[index].sliceStart = now
            cbus[index].busyUntil = now + duration
            stats.controlBlocks += 1
            stats.cbuBusyCycles += duration
            stats.blockRuns[task.taskType, default: 0] += 1
            let unit = TraceUnit.cbu(index)
            trace.append(.slice(cluster: Int32(id), unit: unit, start: now, duration: duration, kind: .control, taskType: task.taskType, request: task.request))
            if task.flow != 0 { trace.append(.flowEnd(cluster: Int32(id), unit: unit, time: now, flow: task.flow)) }
            schedule(.cbuDone(index), at: now + duration)
        }
    }

    private func finishControl(on index: Int, at now: Cycle) {
        guard let task = cbus[index].running else { preconditionFailure("CBU \(index) finished without work") }
        let producer = Producer(unit: TraceUnit.cbu(index), sliceStart: cbus[index].sliceStart)
        cbus[index].running = nil
        complete(control: task, producer: producer, at: now)
        startControlBlocks(at: now)
    }

    /// Acts on a control block's decision (wherever it ran: a CBU or a TBU).
    private func complete(control task: TaskMessage, producer: Producer, at now: Cycle) {
        let graph = library[Int(task.taskType.workflow)]
        let blockIndex = Int(task.taskType.block)
        guard case .control(let control) = graph.blocks[blockIndex].kind else { preconditionFailure("a task block completed as control") }
        switch control {
        case .branch(let decision, let then, let otherwise):
            follow(decide(decision, for: task) ? then : otherwise, from: task, outputBytes: task.bytes, producer: producer, at: now)
        case .exit(let decision, let otherwise):
            if decide(decision, for: task) {
                stats.earlyExits += 1
                endItemOrRequest(task, producer: producer, at: now)
            } else {
                follow(otherwise, from: task, outputBytes: task.bytes, producer: producer, at: now)
            }
        case .loop(let body, let exit, let bound, let until, let maximum):
            runLoop(task, block: blockIndex, body: body, exit: exit, bound: bound, until: until, maximum: maximum, producer: producer, at: now)
        case .forEach(let body, let join, let count, let countFrom):
            var items: [Tensor?]
            if functional != nil, let countFrom, let data = task.payload {
                items = countFrom.items(of: data).map { data.item($0) }
            } else {
                var rng = stream(for: task, purpose: 0x4643_4E54)
                let n = count[phase(of: task)].sample(&rng)
                items = Array(repeating: nil, count: n)
                if let data = task.payload, functional != nil {
                    // Timing-drawn count over real data: items take the first rows available.
                    items = (0..<n).map { data.rows > 0 ? data.item($0 % data.rows) : nil }
                }
            }
            fanOut(task, targets: Array(repeating: body, count: items.count), payloads: items, splitsInput: true, join: join, producer: producer, at: now)
        case .parallel(let branches, let join):
            fanOut(task, targets: branches, payloads: Array(repeating: task.payload, count: branches.count), splitsInput: false, join: join, producer: producer, at: now)
        case .join(let mode, let next):
            arriveAtJoin(task, mode: mode, next: next, producer: producer, at: now)
        }
    }

    /// The request's own stream for one decision: the same draw wherever and whenever it is
    /// evaluated, different for every loop iteration and fan-out item.
    private func stream(for task: TaskMessage, purpose: UInt64) -> SplitMix64 {
        var keys: [UInt64] = [config.seed, task.request, UInt64(task.taskType.workflow), UInt64(task.taskType.block), purpose]
        for frame in task.loops { keys.append(UInt64(frame.block) << 32 | UInt64(frame.iteration)) }
        for frame in task.fanouts { keys.append(UInt64(frame.join) << 32 | UInt64(frame.item)) }
        return SplitMix64(keyList: keys)
    }

    /// The phase of the request: the one of the virtual time it arrived at the wafer.
    private func phase(of task: TaskMessage) -> Int {
        library[Int(task.taskType.workflow)].phases.index(at: task.injected)
    }

    /// A decision on the data (functional mode, when the block has a predicate) or drawn with the
    /// phase's probability.
    private func decide(_ decision: Decision, for task: TaskMessage) -> Bool {
        if functional != nil, let predicate = decision.predicate, let data = task.payload {
            return predicate.holds(for: data)
        }
        var rng = stream(for: task, purpose: 0x4252_4E43)
        return rng.nextUnit() < decision.probability[phase(of: task)]
    }

    private func runLoop(_ task: TaskMessage, block: Int, body: Int, exit: Successor, bound: LoopBound, until: TensorPredicate?,
                         maximum: Int, producer: Producer, at now: Cycle) {
        var task = task
        if let last = task.loops.last, last.block == UInt16(block) {
            task.loops[task.loops.count - 1].iteration += 1
        } else {
            var trips = UInt32.max
            if case .trips(let distribution) = bound {
                var rng = stream(for: task, purpose: 0x5452_4950)
                trips = UInt32(distribution[phase(of: task)].sample(&rng))
            }
            task.loops.append(LoopFrame(block: UInt16(block), iteration: 0, trips: trips))
        }
        let frame = task.loops[task.loops.count - 1]
        var again = frame.iteration < UInt32(maximum)
        if again {
            if functional != nil, let until, let data = task.payload {
                again = !until.holds(for: data)
            } else if case .continueProbability(let p) = bound {
                var rng = stream(for: task, purpose: 0x434F_4E54)
                again = rng.nextUnit() < p[phase(of: task)]
            } else {
                again = frame.iteration < frame.trips
            }
        }
        if again {
            follow(.block(body), from: task, outputBytes: task.bytes, producer: producer, at: now)
        } else {
            task.loops.removeLast()
            follow(exit, from: task, outputBytes: task.bytes, producer: producer, at: now)
        }
    }

    /// Starts one item per target; the join's state lives here, on the cluster that fanned out.
    private func fanOut(_ task: TaskMessage, targets: [Int], payloads: [Tensor?], splitsInput: Bool, join: Int, producer: Producer, at now: Cycle) {
        let workflow = library[Int(task.taskType.workflow)]
        guard !targets.isEmpty else {
            // Nothing to wait for: straight past the join.
            guard case .control(.join(_, let next)) = workflow.blocks[join].kind else { preconditionFailure("fan-out without a join") }
            var passed = task
            passed.payload = functional != nil ? Tensor(shape: [0] + (task.payload.map { Array($0.shape.dropFirst()) } ?? []), values: []) : nil
            follow(next, from: passed, outputBytes: 0, producer: producer, at: now)
            return
        }
        guard case .control(.join(let mode, _)) = workflow.blocks[join].kind else { preconditionFailure("fan-out without a join") }
        fanoutCounter &+= 1
        joins[JoinKey(request: task.request, id: fanoutCounter)] = JoinState(
            mode: mode, expected: targets.count, baseTasks: task.tasksDone, outputs: Array(repeating: nil, count: targets.count))
        stats.fanoutItems += UInt64(targets.count)
        // A for-each splits its input into rows; parallel branches each receive all of it.
        let itemBytes = splitsInput && task.bytes > 0 ? max(1, task.bytes / UInt64(targets.count)) : task.bytes
        for (item, target) in targets.enumerated() {
            var next = task
            next.fanouts.append(FanoutFrame(home: Int32(id), id: fanoutCounter, item: UInt32(item), join: UInt16(join)))
            next.payload = payloads[item]
            // Flow sizes come from the declared shapes in both modes, so timing never depends on
            // how functional mode represents the data.
            follow(.block(target), from: next, outputBytes: itemBytes, producer: producer, at: now)
        }
    }

    private func arriveAtJoin(_ task: TaskMessage, mode: JoinMode, next: Successor, producer: Producer, at now: Cycle) {
        guard let frame = task.fanouts.last, frame.home == Int32(id) else { preconditionFailure("join reached away from its fan-out's cluster") }
        let key = JoinKey(request: task.request, id: frame.id)
        guard var state = joins[key] else { preconditionFailure("join without state") }
        state.arrived += 1
        state.itemTasks += task.tasksDone - state.baseTasks
        if task.failed { state.failed += 1 } else { state.outputs[Int(frame.item)] = task.payload }
        var out = task
        out.fanouts.removeLast()
        out.failed = false
        out.tasksDone = state.baseTasks + state.itemTasks
        let complete = state.arrived == state.expected
        if !state.fired {
            let fire = mode == .any ? !task.failed : complete
            if fire {
                state.fired = true
                if mode == .all && state.failed > 0 {
                    fail(out, at: now)
                } else {
                    if functional != nil { out.payload = Tensor.stack(mode == .any ? [task.payload].compactMap { $0 } : state.outputs.compactMap { $0 }) }
                    let bytes = task.bytes * UInt64(mode == .any ? 1 : state.expected)
                    follow(next, from: out, outputBytes: bytes, producer: producer, at: now)
                }
            } else if complete {
                // An any-join whose every item failed.
                state.fired = true
                fail(out, at: now)
            }
        }
        if complete { joins[key] = nil } else { joins[key] = state }
    }

    /// An exit: the item goes to its join (inside a fan-out) or the request completes early.
    private func endItemOrRequest(_ task: TaskMessage, producer: Producer, at now: Cycle) {
        guard let frame = task.fanouts.last else {
            finishRequest(task, status: .completed, at: now)
            return
        }
        follow(.block(Int(frame.join)), from: task, outputBytes: task.bytes, producer: producer, at: now)
    }

    /// Work that cannot go on: inside a fan-out the item reaches its join as failed, so the join
    /// still accounts for every item; otherwise the request ends rejected.
    private func fail(_ task: TaskMessage, at now: Cycle) {
        guard let frame = task.fanouts.last else {
            finishRequest(task, status: .rejected, at: now)
            return
        }
        var failed = task
        failed.failed = true
        failed.payload = nil
        let join = TaskType(workflow: Int(task.taskType.workflow), block: Int(frame.join))
        failed.taskType = join
        failed.flow = 0
        if scheduler.placement == .global {
            outbox.send(.ready(ReadyTask(task: failed, origin: Int32(id), pinned: frame.home)), to: .coordinator, at: now, latency: config.controlLatency)
        } else if Int(frame.home) == id {
            arrive(failed, at: now)
        } else {
            outbox.send(.task(failed), to: .cluster(Int(frame.home)), at: now, latency: config.controlLatency)
        }
    }

    /// The key of a request's position (loop iterations and fan-out items included) for
    /// load-oblivious replica choices.
    private func placementKey(_ task: TaskMessage) -> UInt64 {
        var rng = stream(for: task, purpose: 0x504C_4143)
        return rng.next()
    }

    /// Sends the request on to `successor`: completion, a control block, or a task block on the
    /// cluster the placement policy picks.
    private func follow(_ successor: Successor, from task: TaskMessage, outputBytes: UInt64, producer: Producer, at now: Cycle) {
        guard case .block(let blockIndex) = successor else {
            precondition(task.fanouts.isEmpty, "an item ended its request before its join (validation prevents this)")
            finishRequest(task, status: .completed, at: now)
            return
        }
        var next = task
        next.taskType = TaskType(workflow: Int(task.taskType.workflow), block: blockIndex)
        next.bytes = outputBytes
        next.flow = 0
        let target = library[Int(next.taskType.workflow)].blocks[blockIndex]
        var home: Int?
        if case .control(.join) = target.kind, let frame = next.fanouts.last { home = Int(frame.home) }
        if scheduler.placement == .global {
            // Everything waits in the coordinator's one queue; a join must still run at home.
            flowCounter += 1
            next.flow = (UInt64(id + 1) << 40) | flowCounter
            trace.append(.flowStart(cluster: Int32(id), unit: producer.unit, time: producer.sliceStart, flow: next.flow))
            outbox.send(.ready(ReadyTask(task: next, origin: Int32(id), pinned: Int32(home ?? -1))), to: .coordinator, at: now, latency: config.controlLatency)
            return
        }
        let destination: Int
        if let home {
            // Items meet where their fan-out's join state lives.
            destination = home
        } else if !target.isTask {
            // Control blocks stay here: on the CBUs (decoupled control plane) or queued with task blocks.
            destination = id
        } else {
            let request = PlacementRequest(taskType: next.taskType, predictedCycles: cycles[next.taskType], inputBytes: outputBytes, origin: id,
                                           key: scheduler.placement == .mapped ? placementKey(next) : 0)
            let clock = DecisionClock()
            destination = placement.place(request, view: view, plan: planIndex, mesh: mesh)
            stats.decisions += 1
            stats.decisionNanos += clock.elapsed
        }
        view.notePlaced(cycles: cycles[next.taskType], on: destination)
        if destination == id {
            stats.localFlows += 1
            arrive(next, at: now)
            return
        }
        flowCounter += 1
        next.flow = (UInt64(id + 1) << 40) | flowCounter
        trace.append(.flowStart(cluster: Int32(id), unit: producer.unit, time: producer.sliceStart, flow: next.flow))
        stats.byteHops += outputBytes * UInt64(mesh.distance(from: id, to: destination))
        outbox.send(.task(next), to: .cluster(destination), at: now,
                    latency: mesh.transferLatency(from: id, to: destination, bytes: outputBytes))
    }

    private func finishRequest(_ task: TaskMessage, status: OutcomeStatus, at now: Cycle) {
        let outcome = RequestOutcome(request: task.request, workflow: task.taskType.workflow, injected: task.injected,
                                     finished: now, status: status, tasksDone: task.tasksDone, cluster: Int32(id))
        outbox.send(.outcome(outcome), to: .coordinator, at: now, latency: config.controlLatency)
    }

    // MARK: Load signals

    private func currentLoad(at now: Cycle) -> ClusterLoad {
        var pending: Cycle = 0
        var perType: [TaskType: TaskTypeLoad] = [:]
        for task in queue {
            pending += task.predictedCycles
            perType[task.taskType, default: TaskTypeLoad(taskType: task.taskType, queuedTasks: 0, pendingCycles: 0)].queuedTasks += 1
            perType[task.taskType]!.pendingCycles += task.predictedCycles
        }
        var busy = 0
        var running: [TaskType] = []
        for tbu in tbus where !tbu.isFree {
            busy += 1
            pending += tbu.busyUntil > now ? tbu.busyUntil - now : 0
            if scheduler.plans, let task = tbu.running, !isControl(task.taskType) { running.append(task.taskType) }
        }
        return ClusterLoad(cluster: id, tbus: tbus.count, busyTBUs: busy, queuedTasks: queue.count, pendingCycles: pending,
                           byType: perType.values.sorted { $0.taskType < $1.taskType }, configurations: tbus.map(\.configuredFor),
                           finished: finishedSinceSignal.values.sorted { $0.taskType < $1.taskType }, running: running.sorted())
    }

    private func ensureLoadTick(after now: Cycle) {
        guard !loadTickScheduled else { return }
        loadTickScheduled = true
        let period = config.cluster.loadSignalPeriod
        schedule(.loadTick, at: (now / period + 1) * period)
    }

    private func loadTick(at now: Cycle) {
        loadTickScheduled = false
        let load = currentLoad(at: now)
        // The remaining time of running blocks shrinks every tick; only a change of the queue,
        // the busy units, the configurations or finished runs is news worth a message.
        var stale = lastSentLoad
        stale.pendingCycles = load.pendingCycles
        if load != stale {
            outbox.send(.load(load), to: .coordinator, at: now, latency: config.controlLatency)
            lastSentLoad = load
            lastSentLoad.finished = []
            finishedSinceSignal.removeAll(keepingCapacity: true)
        }
        if case .diffusion = scheduler.balancing { signalNeighbours(load, at: now) }
        // No further tick until the state changes again (an arrival or a finished block schedules
        // one): a cluster busy with long blocks, like an idle one, then has no events at all.
    }

    private func recordQueue(at now: Cycle) {
        let pending = queue.reduce(Cycle(0)) { $0 + $1.predictedCycles }
        let busy = tbus.reduce(0) { $0 + ($1.isFree ? 0 : 1) }
        trace.append(.queue(cluster: Int32(id), time: now, tasks: UInt32(queue.count), busyTBUs: UInt16(busy), pendingCycles: pending))
    }

    // MARK: Plans and rebalancing

    /// A new view from the coordinator; a new plan rebuilds the index and prepares idle TBUs for
    /// the types the proactive planner wants here.
    private func receiveView(_ published: WaferLoadView, at now: Cycle) {
        let newPlan = published.plan.epoch != planIndex.epoch
        view = published
        if newPlan {
            planIndex = PlanIndex(published.plan)
            if id < published.plan.configure.count {
                for (index, wanted) in published.plan.configure[id].enumerated() where index < tbus.count {
                    guard let wanted, tbus[index].isFree, tbus[index].configuredFor != wanted else { continue }
                    // Reconfigure ahead of demand, off the critical path of any block.
                    closeIdle(index, at: now)
                    let cost = configure(index, for: wanted, at: now, request: 0)
                    tbus[index].preparing = true
                    stats.proactiveReconfigurations += 1
                    schedule(.tbuReady(index), at: now + cost)
                }
            }
            dispatch(at: now)
        }
        rebalance(at: now)
    }

    private func receivePeer(_ message: Message, at now: Cycle) {
        switch message {
        case .neighbourLoad(let cluster, let pending, let queued):
            neighbourLoads[Int(cluster)] = (pending, Int(queued))
            rebalance(at: now)
        case .steal(let thief, let pending):
            guard case .stealing(let threshold, let size) = scheduler.balancing else { return }
            let own = currentLoad(at: now).pendingCycles
            let positions = WorkStealing(threshold: threshold, size: size).give(queue: Array(queue), victimPending: own, thiefPending: pending)
            migrate(positions: positions, to: Int(thief), at: now)
            outbox.send(.stealReply(victim: Int32(id), given: UInt32(positions.count)), to: .cluster(Int(thief)), at: now,
                        latency: mesh.transferLatency(from: id, to: Int(thief), bytes: 0))
        case .stealReply:
            stealOutstanding = false
            rebalance(at: now)
        default:
            preconditionFailure("not a peer message: \(message.kindName)")
        }
    }

    /// Moves the queued blocks at `positions` to cluster `target` (rebalancing), counting the
    /// migration's bytes × hops.
    private func migrate(positions: [Int], to target: Int, at now: Cycle) {
        guard !positions.isEmpty else { return }
        updateQueueIntegral(at: now)
        for position in positions.sorted(by: >) {
            let task = queuedMessages.remove(at: position)
            let queued = queue.remove(at: position)
            stats.migrations += 1
            stats.migrationByteHops += task.bytes * UInt64(mesh.distance(from: id, to: target))
            view.notePlaced(cycles: queued.predictedCycles, on: target)
            outbox.send(.task(task), to: .cluster(target), at: now, latency: mesh.transferLatency(from: id, to: target, bytes: task.bytes))
        }
        recordQueue(at: now)
        ensureLoadTick(after: now)
    }

    /// Runs the scheduler's balancing step, if it has one.
    private func rebalance(at now: Cycle) {
        switch scheduler.balancing {
        case .none: return
        case .stealing(let threshold, let size):
            guard !stealOutstanding, queue.isEmpty, tbus.contains(where: \.isFree) else { return }
            var current = view
            current.clusters[id].pendingCycles = currentLoad(at: now).pendingCycles
            current.clusters[id].queuedTasks = 0
            guard let victim = WorkStealing(threshold: threshold, size: size).victim(for: id, view: current) else { return }
            stealOutstanding = true
            stats.decisions += 1
            outbox.send(.steal(thief: Int32(id), pending: current.clusters[id].pendingCycles), to: .cluster(victim), at: now,
                        latency: mesh.transferLatency(from: id, to: victim, bytes: 0))
        case .diffusion(let rate):
            guard queue.count > 1, !neighbourLoads.isEmpty else { return }
            let clock = DecisionClock()
            let own = Double(currentLoad(at: now).pendingCycles) / Double(tbus.count)
            let neighbours = neighbourLoads.sorted { $0.key < $1.key }
                .filter { planIndex.poolClusters.isEmpty || planIndex.poolClusters.contains($0.key) }
                .map { (cluster: $0.key, load: Double($0.value.pending)) }
            let flows = DiffusionBalancer(rate: rate).flows(own: own, neighbours: neighbours)
            stats.decisions += 1
            for flow in flows {
                // The flow is per TBU; whole blocks move, youngest first, reserved types stay, and
                // a neighbour's queue is never filled beyond half its capacity.
                var budget = flow.amount * Double(tbus.count)
                var room = config.cluster.queueCapacity / 2 - neighbourLoads[flow.cluster]!.queued
                var positions: [Int] = []
                for position in queue.indices.reversed() where !queue[position].isControl && !planIndex.isReserved(queue[position].taskType) {
                    guard room > 0, positions.count + 1 < queue.count else { break }
                    let cycles = Double(queue[position].predictedCycles)
                    guard cycles <= budget + cycles / 2 else { continue }
                    positions.append(position)
                    budget -= cycles
                    room -= 1
                    if budget <= 0 { break }
                }
                let moved = positions.reduce(Cycle(0)) { $0 + queue[$1].predictedCycles }
                migrate(positions: positions, to: flow.cluster, at: now)
                neighbourLoads[flow.cluster]!.pending += moved / Cycle(tbus.count)
                neighbourLoads[flow.cluster]!.queued += positions.count
            }
            stats.decisionNanos += clock.elapsed
        }
    }

    /// Tells the mesh neighbours this cluster's load when it changed by a tenth or more.
    private func signalNeighbours(_ load: ClusterLoad, at now: Cycle) {
        let perTBU = load.pendingCycles / Cycle(tbus.count)
        let last = lastNeighbourSignal
        guard last == .max || (perTBU > last ? perTBU - last : last - perTBU) * 10 > max(last, 1) else { return }
        lastNeighbourSignal = perTBU
        for neighbour in mesh.neighbours(of: id) {
            outbox.send(.neighbourLoad(cluster: Int32(id), pendingPerTBU: perTBU, queued: UInt32(load.queuedTasks)), to: .cluster(neighbour), at: now,
                        latency: mesh.transferLatency(from: id, to: neighbour, bytes: 0))
        }
    }

    // MARK: Idle accounting

    private func updateQueueIntegral(at now: Cycle) {
        queueIntegral = queueIntegralValue(at: now)
        queueIntegralUpdated = now
    }

    private func queueIntegralValue(at now: Cycle) -> Cycle {
        queue.isEmpty ? queueIntegral : queueIntegral + (now - queueIntegralUpdated)
    }

    private func idleSplit(from start: Cycle, integralAtStart: Cycle, to end: Cycle) -> (starved: Cycle, unassigned: Cycle) {
        guard end > start else { return (0, 0) }
        let unassigned = min(end - start, queueIntegralValue(at: end) - integralAtStart)
        return (end - start - unassigned, unassigned)
    }

    // MARK: Lookahead

    /// A lower bound on the time of this cluster's next send, from its state now. Sends happen only
    /// when a block finishes (task flow, request outcome, released TBUs), at a load tick, when an
    /// arrival is rejected at a full queue, and — with rebalancing — when a view or a peer's
    /// message arrives.
    private func earliestOutput() -> Cycle {
        var bound = Cycle.never
        let next = events.nextTime
        let rejectionPossible = queue.count + pendingArrivals > config.cluster.queueCapacity && scheduler.placement != .global
        let rebalances = scheduler.balancing != .none
        // A block split across every array finishes no sooner than its single-array time divided by them.
        let divisor = Cycle(scheduler.dispatch == .adaptive ? tbus.count : 1)
        let period = config.cluster.loadSignalPeriod
        for (key, event) in events.unordered {
            switch event {
            case .tbuDone, .cbuDone, .loadTick:
                bound = min(bound, key.time)
            case .arrival(let task):
                let control = isControl(task.taskType)
                bound = min(bound, rejectionPossible && !control ? key.time : key.time.adding(cycles[task.taskType] / divisor))
                // An arrival schedules a load signal at the next period boundary.
                if !loadTickScheduled { bound = min(bound, (key.time / period + 1) * period) }
            case .view, .peer:
                if rebalances { bound = min(bound, key.time) }
            case .tbuReady:
                break
            }
        }
        // Queued work starts no earlier than the next event here (or an arrival, which the
        // synchronizer accounts for separately).
        if let shortest = queue.lazy.map(\.predictedCycles).min() {
            bound = min(bound, next.adding(shortest / divisor))
        }
        if !controlQueue.isEmpty { bound = min(bound, next.adding(cycles.controlBlockCycles)) }
        return bound
    }
}

/// Wall-clock time of one scheduling decision (host measurement, never part of the results).
struct DecisionClock {
    let start = DispatchTime.now().uptimeNanoseconds
    var elapsed: UInt64 { DispatchTime.now().uptimeNanoseconds - start }
}
