import Collections
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
        case cbuDone(Int)
        case arrival(TaskMessage)
        case view(WaferLoadView)
        case loadTick

        var rank: UInt8 {
            switch self {
            case .tbuDone: return 0
            case .cbuDone: return 1
            case .arrival: return 2
            case .view: return 4
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
    let placement: any ClusterPlacementPolicy
    let dispatcher: any TBUDispatchPolicy
    let cycles: TaskCycleTable
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

    /// Per-operation cycles of blocks with per-request shapes, by type and drawn values.
    private var dynamicCycles: [DynamicKey: [Cycle]] = [:]

    struct DynamicKey: Hashable {
        var type: TaskType
        var values: [Int]
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
    public init(id: Int, config: WaferConfig, library: WorkflowLibrary,
                placement: any ClusterPlacementPolicy, dispatcher: any TBUDispatchPolicy,
                functional: (any FunctionalExecutor)? = nil) {
        self.id = id
        self.functional = functional
        self.config = config
        self.mesh = config.mesh
        self.library = library
        self.placement = placement
        self.dispatcher = dispatcher
        self.cycles = TaskCycleTable(library: library, config: config)
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
            case .outcome, .load: preconditionFailure("clusters do not receive \(envelope.message.kindName) messages")
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
        for (index, tbu) in tbus.enumerated() where tbu.running == nil && end > tbu.idleSince {
            let (starved, unassigned) = idleSplit(from: tbu.idleSince, integralAtStart: tbu.idleQueueIntegralStart, to: end)
            result.tbus[index].starvedCycles += starved
            result.tbus[index].unassignedCycles += unassigned
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
        case .cbuDone(let index):
            finishControl(on: index, at: now)
            ensureLoadTick(after: now)
        case .view(let published): view = published
        case .loadTick: loadTick(at: now)
        }
    }

    private func schedule(_ event: Event, at time: Cycle) {
        localSequence += 1
        // Local events rank after remote ones of the same kind: rank + 8 keeps kinds apart.
        events.insert(event, key: EventKey(time: time, rank: event.rank &+ 8, tie: localSequence))
    }

    private func arrive(_ task: TaskMessage, at now: Cycle) {
        let workflow = library[Int(task.taskType.workflow)]
        if case .control = workflow.blocks[Int(task.taskType.block)].kind {
            controlQueue.append(task)
            startControlBlocks(at: now)
            ensureLoadTick(after: now)
            return
        }
        guard queue.count < config.cluster.queueCapacity else {
            stats.rejected += 1
            trace.append(.rejected(cluster: Int32(id), time: now, request: task.request, taskType: task.taskType))
            fail(task, at: now)
            return
        }
        updateQueueIntegral(at: now)
        queue.append(QueuedTask(taskType: task.taskType, predictedCycles: cycles[task.taskType], enqueued: now))
        queuedMessages.append(task)
        dispatch(at: now)
        recordQueue(at: now)
        ensureLoadTick(after: now)
    }

    private func dispatch(at now: Cycle) {
        guard !queue.isEmpty, tbus.contains(where: { $0.running == nil }) else { return }
        let snapshots = tbus.enumerated().map { TBUSnapshot(index: $0, isBusy: $1.running != nil, configuredFor: $1.configuredFor) }
        let decisions = dispatcher.dispatch(queue: queue, tbus: snapshots)
        guard !decisions.isEmpty else { return }
        updateQueueIntegral(at: now)
        var taken: [(Int, TaskMessage)] = []
        for decision in decisions {
            precondition(tbus[decision.tbu].running == nil, "\(dispatcher.name) dispatched to busy TBU \(decision.tbu)")
            taken.append((decision.tbu, queuedMessages[decision.queuePosition]))
        }
        for position in decisions.map(\.queuePosition).sorted(by: >) {
            queue.remove(at: position)
            queuedMessages.remove(at: position)
        }
        for (tbu, task) in taken { start(task, on: tbu, at: now) }
    }

    private func start(_ task: TaskMessage, on index: Int, at now: Cycle) {
        var tbu = tbus[index]
        let unit = TraceUnit.tbu(index)
        let (starved, unassigned) = idleSplit(from: tbu.idleSince, integralAtStart: tbu.idleQueueIntegralStart, to: now)
        stats.tbus[index].starvedCycles += starved
        stats.tbus[index].unassignedCycles += unassigned

        var begin = now
        if tbu.configuredFor != task.taskType {
            let reconfiguration = config.cluster.reconfigurationCycles
            if reconfiguration > 0 {
                trace.append(.slice(cluster: Int32(id), unit: unit, start: now, duration: reconfiguration, kind: .reconfigure, taskType: task.taskType, request: task.request))
            }
            stats.tbus[index].reconfigurations += 1
            stats.tbus[index].reconfigurationCycles += reconfiguration
            tbu.configuredFor = task.taskType
            begin += reconfiguration
        }
        let operationCycles = self.operationCycles(of: task)
        let duration = operationCycles.reduce(0, +)
        trace.append(.slice(cluster: Int32(id), unit: unit, start: begin, duration: duration, kind: .task, taskType: task.taskType, request: task.request))
        var layerStart = begin
        for (index, layerCycles) in operationCycles.enumerated() where layerCycles > 0 {
            trace.append(.slice(cluster: Int32(id), unit: unit, start: layerStart, duration: layerCycles, kind: .operation, taskType: task.taskType, request: UInt64(index)))
            layerStart += layerCycles
        }
        if task.flow != 0 {
            trace.append(.flowEnd(cluster: Int32(id), unit: unit, time: begin, flow: task.flow))
        }
        stats.tbus[index].tasks += 1
        stats.tbus[index].busyCycles += duration
        stats.blockRuns[task.taskType, default: 0] += 1
        var task = task
        if let functional, task.payload != nil, case .task(let block) = library[Int(task.taskType.workflow)].blocks[Int(task.taskType.block)].kind {
            // Real results on real tensors; host time spent here never enters virtual time.
            task.payload = functional.run(block, of: library[Int(task.taskType.workflow)], input: task.payload, seed: config.seed)
        }
        tbu.running = task
        tbu.sliceStart = begin
        tbu.busyUntil = begin + duration
        tbus[index] = tbu
        schedule(.tbuDone(index), at: tbu.busyUntil)
    }

    /// Cycles of each operation of `task`'s block for this request: shapes drawn per request come
    /// from the request's own stream, so every host draws the same.
    private func operationCycles(of task: TaskMessage) -> [Cycle] {
        let base = cycles.operationCycles(task.taskType)
        let dynamic = cycles.dynamicOperations(task.taskType)
        guard !dynamic.isEmpty else { return base }
        var rng = stream(for: task, purpose: 0x5348_4150)
        let phase = phase(of: task)
        let values = dynamic.flatMap { $0.model.sample(&rng, phase: phase) }
        let key = DynamicKey(type: task.taskType, values: values)
        if let cached = dynamicCycles[key] { return cached }
        var result = base
        var offset = 0
        for (index, model) in dynamic {
            let count = model.drawn.count
            result[index] = model.cycles(values: Array(values[offset..<offset + count]), array: cycles.array, buffer: cycles.buffer)
            offset += count
        }
        dynamicCycles[key] = result
        return result
    }

    private func finishTask(on index: Int, at now: Cycle) {
        guard var task = tbus[index].running else { preconditionFailure("TBU \(index) finished without a task") }
        let producer = Producer(unit: TraceUnit.tbu(index), sliceStart: tbus[index].sliceStart)
        tbus[index].running = nil
        tbus[index].idleSince = now
        tbus[index].idleQueueIntegralStart = queueIntegralValue(at: now)
        task.tasksDone += 1
        let block = library[Int(task.taskType.workflow)].blocks[Int(task.taskType.block)]
        guard case .task(let taskBlock) = block.kind else { preconditionFailure("a control block ran on a TBU") }
        follow(taskBlock.next, from: task, outputBytes: taskBlock.outputBytes, producer: producer, at: now)
        dispatch(at: now)
        recordQueue(at: now)
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
        let graph = library[Int(task.taskType.workflow)]
        let blockIndex = Int(task.taskType.block)
        guard case .control(let control) = graph.blocks[blockIndex].kind else { preconditionFailure("a task block ran on a CBU") }
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
        startControlBlocks(at: now)
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
        if Int(frame.home) == id {
            arrive(failed, at: now)
        } else {
            outbox.send(.task(failed), to: .cluster(Int(frame.home)), at: now, latency: config.controlLatency)
        }
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
        let request = PlacementRequest(taskType: next.taskType, predictedCycles: cycles[next.taskType], inputBytes: outputBytes, origin: id)
        let target = library[Int(next.taskType.workflow)].blocks[blockIndex]
        let destination: Int
        if case .control(.join) = target.kind, let frame = next.fanouts.last {
            // Items meet where their fan-out's join state lives.
            destination = Int(frame.home)
        } else if !target.isTask {
            // Control blocks run on this cluster's CBUs: the decoupled control plane.
            destination = id
        } else {
            destination = placement.place(request, view: view, mesh: mesh)
        }
        view.notePlaced(cycles: request.predictedCycles, on: destination)
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
        for tbu in tbus where tbu.running != nil {
            busy += 1
            pending += tbu.busyUntil > now ? tbu.busyUntil - now : 0
        }
        return ClusterLoad(cluster: id, tbus: tbus.count, busyTBUs: busy, queuedTasks: queue.count, pendingCycles: pending,
                           byType: perType.values.sorted { $0.taskType < $1.taskType }, configurations: tbus.map(\.configuredFor))
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
        // the busy units or the configurations is news worth a message.
        var stale = lastSentLoad
        stale.pendingCycles = load.pendingCycles
        if load != stale {
            outbox.send(.load(load), to: .coordinator, at: now, latency: config.controlLatency)
            lastSentLoad = load
        }
        // No further tick until the state changes again (an arrival or a finished block schedules
        // one): a cluster busy with long blocks, like an idle one, then has no events at all.
    }

    private func recordQueue(at now: Cycle) {
        let pending = queue.reduce(Cycle(0)) { $0 + $1.predictedCycles }
        let busy = tbus.reduce(0) { $0 + ($1.running == nil ? 0 : 1) }
        trace.append(.queue(cluster: Int32(id), time: now, tasks: UInt32(queue.count), busyTBUs: UInt16(busy), pendingCycles: pending))
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
    /// when a block finishes (task flow or request outcome), at a load tick, or when an arrival is
    /// rejected at a full queue.
    private func earliestOutput() -> Cycle {
        var bound = Cycle.never
        let next = events.nextTime
        let rejectionPossible = queue.count + pendingArrivals > config.cluster.queueCapacity
        for (key, event) in events.unordered {
            switch event {
            case .tbuDone, .cbuDone, .loadTick:
                bound = min(bound, key.time)
            case .arrival(let task):
                let isControl = !library[Int(task.taskType.workflow)].blocks[Int(task.taskType.block)].isTask
                bound = min(bound, rejectionPossible && !isControl ? key.time : key.time.adding(cycles[task.taskType]))
            case .view:
                break
            }
        }
        // Queued work starts no earlier than the next event here (or an arrival, which the
        // synchronizer accounts for separately).
        if let shortest = queue.lazy.map(\.predictedCycles).min() {
            bound = min(bound, next.adding(shortest))
        }
        if !controlQueue.isEmpty { bound = min(bound, next.adding(cycles.controlBlockCycles)) }
        return bound
    }
}
