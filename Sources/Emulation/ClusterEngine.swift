import Dispatch
import Scheduling
import WaferModel

/// The deterministic state machine of one cluster: its TBUs (PE arrays), CBUs, task queue, local
/// TBU scheduler and load signals. It knows nothing of processes or sockets: hosts feed it
/// envelopes, run it window by window and carry away what it sends.
///
/// Its parts, each in a file of its own: ``ParticipantCore`` (events, outbox, trace),
/// ``ClusterQueue``, ``TBUPool``, ``ControlUnits``, ``BlockCosts``, ``WorkflowInterpreter``,
/// ``FlowRouter`` and ``LoadSignaller``; the scheduler's policies decide, this type applies.
public final class ClusterEngine {
    /// Events inside a cluster. Ranks order simultaneous events: finished work frees units before
    /// new work is queued.
    enum Event: ParticipantEvent {
        case tbuDone(Int)
        case tbuReady(Int)
        case cbuDone(Int)
        case arrival(TaskMessage)
        case view(LoadViewUpdate)
        case plan(WaferPlan)
        case peer(BalanceSignal)
        case transit(Transit)
        /// A credit for cluster `from`'s input buffer came back (flow control).
        case credit(from: Int32)
        case loadTick

        var rank: UInt8 {
            switch self {
            case .tbuDone, .tbuReady: return 0
            case .cbuDone: return 1
            // A plan published at the same time as work must be in force when the work arrives.
            case .view, .plan: return 2
            case .arrival, .transit, .credit: return 3
            case .peer: return 4
            case .loadTick: return 5
            }
        }
    }

    /// Which slice produced a task's input, so a flow arrow can start there.
    struct Producer {
        var unit: UInt16
        var sliceStart: Cycle
        /// The TBU whose output it is (nil: a control unit's); flow control holds it while the
        /// output waits for a credit.
        var tbu: Int? = nil
    }

    public let id: Int
    let config: WaferConfig
    let mesh: Mesh
    /// Transfer latencies from this cluster to every cluster, for placing the successors of its
    /// blocks (built at the first placement: many clusters of a large wafer never place).
    lazy var transfers = TransferTable(mesh: mesh, origin: id)
    let library: WorkflowLibrary
    /// The scheduler this cluster takes part in.
    public let scheduler: Scheduler
    /// Computes task blocks on real tensors in functional mode (nil: timing mode).
    let functional: (any FunctionalExecutor)?
    let core: ParticipantCore<Event>
    let costs: BlockCosts
    /// Absolute deadline offset per workflow: its deadline, or four times its expected work.
    private let referenceDeadline: [Cycle]

    var dispatcher: any TBUDispatchPolicy
    var balancer: any BalancingPolicy
    var interpreter: WorkflowInterpreter
    var router: FlowRouter
    var signaller: LoadSignaller
    var queue = ClusterQueue()
    var pool: TBUPool
    var cbus: ControlUnits
    /// What balancing decisions read of this cluster on demand (one for the run).
    private(set) lazy var balancingSource = EngineBalancingSource(engine: self)
    /// The view placement and balancing read: the coordinator's view as last published (every
    /// update applied) plus this cluster's own placements since the last update
    /// (``notePlaced(cycles:on:)``).
    var view: WaferLoadView
    /// Those placements, to take back out when the next update comes.
    var viewNotes: [ViewNote] = []
    #if DEBUG
        /// The published view kept on its own, to check `view` against after every update.
        var publishedView: WaferLoadView
    #endif
    /// The scheduler's current partition of the TBUs.
    var plan: WaferPlan
    /// Its lookups, built the first time a decision reads them: a plan goes to every cluster,
    /// and on a large wafer most are idle until the next one (a 16×16 wafer's clusters built
    /// the index of a 1,024-TBU plan each time, a twelfth of their work across processes).
    var planIndex: PlanIndex {
        if let builtPlanIndex { return builtPlanIndex }
        let index = planIndexes.index(for: plan)
        builtPlanIndex = index
        return index
    }
    /// ``planIndex`` once built for the current plan (nil: not yet).
    private var builtPlanIndex: PlanIndex?

    /// Makes `published` the current plan; its index is built when first read.
    func replacePlan(with published: WaferPlan) {
        plan = published
        builtPlanIndex = nil
    }
    /// Builds plan indexes, once per plan for every participant sharing it.
    let planIndexes: PlanIndexMemo
    /// Task flows delivered but not yet arrived (they may overflow the queue).
    var pendingArrivals = 0
    /// Cluster-wide accounting (the TBUs' own is in the pool).
    var stats: ClusterStats
    /// This cluster's router links and ports (contention link model).
    var ports = RouterPorts()
    /// Credit-based flow control of task flows (nil: unbounded input buffers).
    var flow: FlowControl?
    /// Arrivals wait for one dispatch after a batch of deliveries (flow control: a TBU must not
    /// restart before the outputs of its block have all been placed or held).
    var dispatchDeferred = false
    /// In a speculative run: when a changed view or balancing signal could have mattered
    /// (``LateAbsorption``); nil outside one.
    var absorptionTracker: LateAbsorptionTracker?
    /// What the last speculative run would have absorbed late (``LateAbsorption/none`` after any other run).
    public private(set) var lateAbsorption = LateAbsorption.none

    /// A cluster of the wafer described by `config`, running `library`'s workflows. Clusters run
    /// one after another in one process may share `costs` (``BlockCosts/shared(config:library:)``):
    /// it is a cache of pure functions of the configuration, so sharing changes nothing but the
    /// time spent filling it. They may share `planIndexes` too, for the same reason.
    public init(
        id: Int, config: WaferConfig, library: WorkflowLibrary, scheduler: Scheduler = .octopus,
        functional: (any FunctionalExecutor)? = nil, costs shared: BlockCosts? = nil,
        planIndexes: PlanIndexMemo = PlanIndexMemo()
    ) {
        self.id = id
        self.config = config
        self.mesh = config.mesh
        self.library = library
        self.scheduler = scheduler
        self.functional = functional
        core = ParticipantCore(source: .cluster(id), mode: config.sync.mode)
        costs = shared ?? BlockCosts.shared(config: config, library: library)
        let streams = RequestStreams(seed: config.seed, library: library)
        referenceDeadline = costs.table.referenceDeadlines(library)
        dispatcher = scheduler.dispatch
        balancer = scheduler.balancing
        interpreter = WorkflowInterpreter(cluster: id, library: library, streams: streams, functional: functional)
        router = FlowRouter(cluster: id, library: library, routing: scheduler.routing)
        signaller = LoadSignaller(
            cluster: id, tbus: mesh.workingTBUs(of: id), period: config.cluster.loadSignalPeriod,
            reportsExecution: scheduler.planning.observesExecution,
            reportsStarts: scheduler.planning.foresightHorizon != nil)
        // Defective TBUs are left out: the pool's TBUs are the working ones (see Mesh.physicalTBU).
        pool = TBUPool(count: mesh.workingTBUs(of: id))
        cbus = ControlUnits(count: config.cluster.cbus)
        view = .idle(mesh: mesh)
        #if DEBUG
            publishedView = view
        #endif
        plan = .empty(clusters: config.clusterCount, tbus: config.cluster.tbus)
        self.planIndexes = planIndexes
        stats = ClusterStats(cluster: id, tbus: mesh.workingTBUs(of: id))
        // A central queue sends a block only to a free TBU: its queue is the buffer.
        if let credits = config.cluster.flowCredits, !router.usesCentralQueue {
            flow = FlowControl(clusters: config.clusterCount, credits: credits)
        }
    }

    // MARK: Host interface

    /// Accepts envelopes addressed to this cluster (any order: their keys fix the processing order).
    public func receive(_ envelopes: [Envelope]) {
        for envelope in envelopes { receive(envelope) }
    }

    /// Accepts one envelope addressed to this cluster.
    public func receive(_ envelope: Envelope) {
        precondition(
            envelope.destination == .cluster(id), "envelope for \(envelope.destination) delivered to cluster \(id)")
        let event: Event
        switch envelope.message {
        case .task(var task):
            // Flow control rejects only admissions: blocks the coordinator injects.
            if envelope.source == .coordinator && task.credit < 0 { task.credit = FlowControl.admission }
            event = .arrival(task)
            pendingArrivals += 1
        case .view(let update): event = .view(update)
        case .plan(let plan): event = .plan(plan)
        case .balance(let signal): event = .peer(signal)
        case .transit(let transit): event = .transit(transit)
        case .credit(let credit): event = .credit(from: credit.cluster)
        case .outcome, .load, .ready, .release, .stall:
            preconditionFailure("clusters do not receive \(envelope.message.kindName) messages")
        }
        core.deliver(event, of: envelope)
    }

    /// Takes back a delivered `envelope` not yet processed (the optimistic experiment's
    /// anti-message); returns whether it was pending.
    func cancelDelivery(of envelope: Envelope) -> Bool {
        guard let event = core.cancelDelivery(of: envelope) else { return false }
        if case .arrival = event { pendingArrivals -= 1 }
        return true
    }

    /// Processes every event before `end` and returns what the window produced.
    public func runWindow(end: Cycle) -> WindowOutput {
        let output = core.runWindow(end: end, handle: handle, earliestOutput: earliestOutput)
        stats.events += output.events
        lateAbsorption = .none
        return output
    }

    /// Processes every event before `end`, leaving its sends and trace records in the engine
    /// (see ``takeEnvelopes()``, ``takeTrace()``); for hosts that deliver messages at once.
    public func advance(before end: Cycle) {
        stats.events += core.advance(before: end, handle: handle)
    }

    /// Envelopes sent since the last take (or window).
    public func takeEnvelopes() -> [Envelope] { core.takeEnvelopes() }
    /// Trace records made since the last take (or window).
    public func takeTrace() -> [TimedTraceRecord] { core.takeTrace() }
    /// Hands the envelopes sent since the last take to `deliver`, in order (no array is made).
    public func deliverEnvelopes(_ deliver: (Envelope) -> Void) { core.deliverEnvelopes(deliver) }
    /// Appends the trace records made since the last take to `buffer`.
    public func moveTrace(into buffer: inout [TimedTraceRecord]) { core.moveTrace(into: &buffer) }
    /// Time of the next pending event.
    public var nextEventTime: Cycle { core.nextEventTime }

    /// The messages that, arriving now, would only change this cluster's state — no send, no
    /// trace record, no event after them: views, when the balancing policy does not react to
    /// them at all (``BalancingPolicy/reacts(to:queueCount:)``: the cluster's copy of the view is
    /// replaced and nothing else changes, so several held views may be merged into one,
    /// ``LoadViewUpdate/merged(_:)``), and balancing signals its policy is quiet on
    /// (``BalancingPolicy/isQuiet(on:queueCount:)``) — arriving before the cluster's next event
    /// (``nextEventTime``): until then its state stays as it is now. The cluster's state changes
    /// only when it runs, so a host may hold such messages and hand them over, in order, with its
    /// next grant: a wafer's idle clusters, and busy ones waiting for a long block to finish,
    /// then sit out the windows that only broadcast views and load signals.
    public var absorbs: AbsorbedMessages {
        guard pool.count > 0 else { return [.views, .balanceSignals] }  // balances nothing
        let balancer = self.balancer  // one copy for all the questions
        var kinds: AbsorbedMessages = []
        if !balancer.reacts(to: .view, queueCount: queue.count) { kinds.insert(.views) }
        let load = BalanceSignal(kind: .load, cluster: 0, cycles: 0, count: 0)
        if BalanceSignal.Kind.allCases.allSatisfy({ kind in
            var signal = load
            signal.kind = kind
            return balancer.isQuiet(on: .signal(signal), queueCount: queue.count)
        }) {
            kinds.insert(.balanceSignals)
        }
        return kinds
    }

    /// The run's accounting up to `end`, with open idle periods closed at `end`.
    public func finalStats(end: Cycle) -> ClusterStats {
        var result = stats
        result.tbus = pool.finalStats(end: end, queue: queue)
        result.idleTimeline = IdleTimeline(
            periods: pool.idlePeriods(end: end), queueToggles: queue.toggles, end: end,
            width: UtilisationTimeline.binWidth(covering: end))
        result.cbuBusyCycles = cbus.busyCycles
        result.fanoutItems = interpreter.fanoutItems
        result.earlyExits = interpreter.earlyExits
        result.messagesSent = core.outbox.counts
        result.quantumDelayedMessages = core.outbox.quantumDelayed
        result.quantumDelayCycles = core.outbox.quantumDelayCycles
        // A committed execution never hands a join an item it cannot place (see WorkflowInterpreter).
        result.causalityViolations = core.outbox.causalityViolations + interpreter.inconsistentInputs
        return result
    }

    // MARK: Speculation

    /// A cluster's whole state at a window's start, for a speculative window that may have to run
    /// again (values: they share storage with the live state until it changes).
    public struct Snapshot {
        fileprivate var core: ParticipantCore<Event>.Snapshot
        fileprivate var dispatcher: any TBUDispatchPolicy
        fileprivate var balancer: any BalancingPolicy
        fileprivate var interpreter: WorkflowInterpreter
        fileprivate var router: FlowRouter
        fileprivate var signaller: LoadSignaller
        fileprivate var queue: ClusterQueue
        fileprivate var pool: TBUPool.Snapshot
        fileprivate var cbus: ControlUnits
        fileprivate var view: WaferLoadView
        fileprivate var viewNotes: [ViewNote]
        #if DEBUG
            fileprivate var publishedView: WaferLoadView? = nil
        #endif
        fileprivate var plan: WaferPlan
        fileprivate var planIndex: PlanIndex?
        fileprivate var pendingArrivals: Int
        fileprivate var stats: ClusterStats
        fileprivate var ports: RouterPorts
        fileprivate var flow: FlowControl?
    }

    /// Saves the state between windows.
    public func snapshot() -> Snapshot {
        var snapshot = Snapshot(
            core: core.snapshot(), dispatcher: dispatcher, balancer: balancer, interpreter: interpreter, router: router,
            signaller: signaller, queue: queue, pool: pool.snapshot(), cbus: cbus, view: view, viewNotes: viewNotes,
            plan: plan, planIndex: builtPlanIndex, pendingArrivals: pendingArrivals, stats: stats, ports: ports,
            flow: flow)
        #if DEBUG
            snapshot.publishedView = publishedView
        #endif
        return snapshot
    }

    /// Returns to `snapshot`, as if nothing had happened since it was taken.
    public func restore(_ snapshot: Snapshot) {
        core.restore(snapshot.core)
        dispatcher = snapshot.dispatcher
        balancer = snapshot.balancer
        interpreter = snapshot.interpreter
        router = snapshot.router
        signaller = snapshot.signaller
        queue = snapshot.queue
        queue.trimToggleLog()
        pool.restore(snapshot.pool)
        cbus = snapshot.cbus
        #if DEBUG
            publishedView = snapshot.publishedView!
        #endif
        view = snapshot.view
        viewNotes = snapshot.viewNotes
        plan = snapshot.plan
        builtPlanIndex = snapshot.planIndex
        pendingArrivals = snapshot.pendingArrivals
        stats = snapshot.stats
        ports = snapshot.ports
        flow = snapshot.flow
    }

    /// Runs a window that may deliver messages inside itself (speculation: the host runs it again
    /// from a snapshot when a message arrives inside time already run).
    public func runSpeculativeWindow(end: Cycle) -> WindowOutput {
        absorptionTracker = LateAbsorptionTracker()
        let output = core.runWindow(end: end, speculative: true, handle: handle, earliestOutput: earliestOutput)
        stats.events += output.events
        // After the last event the final state holds until the window's end (and `absorbs` reads it).
        if end > 0 { noteAbsorbingState(at: end - 1) }
        lateAbsorption = absorptionTracker!.absorption
        absorptionTracker = nil
        return output
    }

    /// Starts a speculative window run in steps (``speculativeStep(before:)``, then
    /// ``finishSpeculativeSteps(end:envelopes:events:)``): the same run as
    /// ``runSpeculativeWindow(end:)``, for a host that runs several clusters together and hands
    /// the envelopes they send each other over between steps (``ClusterGroupRunner``).
    public func beginSpeculativeSteps() {
        absorptionTracker = LateAbsorptionTracker()
    }

    /// Processes every event before `end` (one step of a run begun by ``beginSpeculativeSteps()``);
    /// what it sends stays in the engine for ``takeEnvelopes()``. Returns the events processed.
    public func speculativeStep(before end: Cycle) -> UInt64 {
        let processed = core.advance(before: end, speculative: true, handle: handle)
        stats.events += processed
        return processed
    }

    /// Ends a run in steps at `end`: what it produced, with `envelopes` (those taken between the
    /// steps, in order) before any still in the engine, and `events` processed in all.
    public func finishSpeculativeSteps(end: Cycle, envelopes: [Envelope], events: UInt64) -> WindowOutput {
        let output = WindowOutput(
            envelopes: envelopes + core.takeEnvelopes(), trace: core.takeTrace(), nextEventTime: core.nextEventTime,
            earliestOutput: earliestOutput(), events: events)
        if end > 0 { noteAbsorbingState(at: end - 1) }
        lateAbsorption = absorptionTracker!.absorption
        absorptionTracker = nil
        return output
    }

    /// In a speculative run, notes what a view or balancing signal arriving `now` would meet:
    /// whether it would be absorbed, and what handling it (and reporting ``absorbs``) would read.
    private func noteAbsorbingState(at now: Cycle) {
        // Without working TBUs nothing is balanced: views and signals only record.
        guard absorptionTracker != nil, pool.count > 0 else { return }
        let queued = queue.count
        // One copy of the policy for all the questions (each call on the stored existential
        // copied it: this runs before every event of a speculative run).
        let balancer = self.balancer
        var mattered = balancer.reads(on: .view, queueCount: queued)
        if balancer.reacts(to: .view, queueCount: queued) { mattered.insert(.view) }
        for kind in BalanceSignal.Kind.allCases {
            let trigger = BalancingTrigger.signal(BalanceSignal(kind: kind, cluster: 0, cycles: 0, count: 0))
            mattered.formUnion(balancer.reads(on: trigger, queueCount: queued))
            if !balancer.isQuiet(on: trigger, queueCount: queued) { mattered.insert(.peerSignals) }
        }
        absorptionTracker!.matter(mattered, at: now)
    }

    // MARK: Events

    private func handle(_ event: Event, at now: Cycle) {
        // The state before this event held since the last one: a message arriving in between,
        // or now before this event, meets it.
        if absorptionTracker != nil { noteAbsorbingState(at: now) }
        switch event {
        case .arrival(let task):
            pendingArrivals -= 1
            arrive(task, at: now)
        case .tbuDone(let index):
            finishTask(on: index, at: now)
            ensureLoadTick(after: now)
        case .tbuReady(let index):
            pool.finishPreparing(index, at: now, queue: queue)
            dispatch(at: now)
        case .cbuDone(let index):
            finishControl(on: index, at: now)
            ensureLoadTick(after: now)
        case .view(let update):
            if update.publications > 1 { core.countAlso(UInt64(update.publications - 1)) }
            applyView(update)
            balance(.view, at: now)
        case .plan(let plan): receivePlan(plan, at: now)
        case .peer(let signal): balance(.signal(signal), at: now)
        case .transit(let transit): carry(transit, at: now)
        case .credit(let from): creditReturned(from: Int(from), at: now)
        case .loadTick: loadTick(at: now)
        }
    }

    func isControl(_ type: TaskType) -> Bool {
        !library[Int(type.workflow)].blocks[Int(type.block)].isTask
    }

    func send(_ message: Message, to destination: ParticipantID, at now: Cycle, latency: Cycle) {
        core.outbox.send(message, to: destination, at: now, latency: latency)
    }

    /// A block arrives (from a peer, the coordinator or this cluster itself).
    func arrive(_ task: TaskMessage, at now: Cycle) {
        var task = task
        let admission = task.credit == FlowControl.admission
        if admission { task.credit = -1 }
        let control = isControl(task.taskType)
        if control && scheduler.controlPlane == .cbu {
            cbus.enqueue(task)
            startControlBlocks(at: now)
            ensureLoadTick(after: now)
            return
        }
        // A central queue has already found this block a free TBU here. A failed fan-out item on
        // its way to its join is admitted past a full queue: rejecting it again would loop, and
        // the join must still count it.
        // With flow control only admissions are refused at a full queue: work inside a workflow
        // waits for a credit instead.
        // Under admission control (`admission: {policy: in_flight}`) queues never reject.
        let rejectable = (flow == nil || admission) && config.queuesReject
        guard queue.count < config.cluster.queueCapacity || router.usesCentralQueue || task.failed || !rejectable
        else {
            stats.rejected += 1
            core.record(.rejected(cluster: Int32(id), time: now, request: task.request, taskType: task.taskType))
            // A hand-over's flow arrow ends here: its block never starts.
            if task.flow != 0 {
                core.record(.flowEnd(cluster: Int32(id), unit: TraceUnit.events, time: now, flow: task.flow))
            }
            perform([WorkflowInterpreter.fail(task)], producer: nil, at: now)
            return
        }
        let shape = control ? -1 : costs.intern(task.taskType, shape: costs.shape(of: task))
        let predicted = control ? costs.table.controlBlockCycles : costs.totalCycles(shape: shape, parts: 1)
        let deadline = task.injected.adding(referenceDeadline[Int(task.taskType.workflow)])
        queue.append(
            QueuedBlock(
                task: task,
                info: QueuedTask(
                    taskType: task.taskType, predictedCycles: predicted, enqueued: now,
                    isControl: control, deadline: deadline, movable: task.credit < 0), shape: shape), at: now)
        if !dispatchDeferred { dispatch(at: now) }
        recordQueue(at: now)
        ensureLoadTick(after: now)
    }

    /// Asks the dispatch policy which queued blocks start on which free TBUs, and starts them.
    func dispatch(at now: Cycle) {
        guard !queue.isEmpty, pool.hasFree else { return }
        let clock = DecisionClock()
        let context = DispatchContext(now: now, reconfigurationCycles: config.cluster.reconfigurationCycles) {
            [unowned self] position, parts in
            let block = self.queue[position]
            return self.costs.totalCycles(shape: block.shape, parts: parts)
        }
        let reserved = plan.reserved.indices.contains(id) ? plan.reserved[id] : []
        let decisions = dispatcher.dispatch(
            queue: queue.view,
            tbus: pool.snapshots(reserved: reserved, queue: queue, lend: scheduler.lendsIdleReservations),
            context: context)
        stats.decisions += 1
        stats.decisionNanos += clock.elapsed
        guard !decisions.isEmpty else { return }
        checkContract(decisions)
        let taken = queue.remove(at: decisions.map(\.queuePosition), at: now)
        for (decision, block) in zip(decisions, taken) {
            var task = block.task
            let owed = task.credit
            task.credit = -1
            start(task, shape: block.shape, enqueued: block.info.enqueued, on: decision.tbus, at: now)
            // Its slot in the input buffer is free again: the credit goes back to its sender.
            if owed >= 0 { returnCredit(to: Int(owed), at: now) }
        }
    }

    /// Stops the run when the dispatch policy breaks its contract (see ``TBUDispatchPolicy``).
    private func checkContract(_ decisions: [DispatchDecision]) {
        let limit = dispatcher.maximumArrays(of: pool.count)
        var positions = Set<Int>()
        var units = Set<Int>()
        for decision in decisions {
            precondition(
                positions.insert(decision.queuePosition).inserted && decision.queuePosition < queue.count,
                "\(dispatcher.name) dispatched queue position \(decision.queuePosition) twice or beyond the queue")
            precondition(
                !decision.tbus.isEmpty && decision.tbus.count <= limit,
                "\(dispatcher.name) started a block on \(decision.tbus.count) arrays (it declares at most \(limit))")
            for tbu in decision.tbus {
                precondition(
                    units.insert(tbu).inserted && pool[tbu].isFree, "\(dispatcher.name) dispatched to busy TBU \(tbu)")
            }
        }
    }

    /// Reconfigures TBU `index` for `type` (if it is not already), returning the cycles it costs.
    func configure(_ index: Int, for type: TaskType, at now: Cycle, request: UInt64) -> Cycle {
        guard let cost = pool.configure(index, for: type, cost: config.cluster.reconfigurationCycles) else { return 0 }
        if cost > 0 {
            core.record(
                .slice(
                    cluster: Int32(id), unit: TraceUnit.tbu(index), start: now, duration: cost, kind: .reconfigure,
                    taskType: type, request: request))
        }
        return cost
    }

    /// Starts `task`, queued since `enqueued`, on the TBUs `units` (more than one: split across
    /// them, the first leads).
    private func start(_ task: TaskMessage, shape: Int, enqueued: Cycle, on units: [Int], at now: Cycle) {
        let lead = units[0]
        let unit = TraceUnit.tbu(lead)
        for u in units { pool.closeIdle(u, at: now, queue: queue) }
        let control = isControl(task.taskType)
        // Decided before configuring: a prefetch needs the TBU already set up for this type.
        let prefetched =
            !control && units.count == 1 && config.cluster.overlapsFill
            ? prefetchedFill(of: task.taskType, enqueued: enqueued, on: lead, at: now) : 0
        var begin = now
        if !control {
            // Every array of a split loads the type's configuration; the slowest decides.
            let reconfigurations = units.map { configure($0, for: task.taskType, at: now, request: task.request) }
            let slowest = reconfigurations.max() ?? 0
            begin += slowest
            // An array waiting for a split partner's reconfiguration is held by it: count it so.
            for (unit, cost) in zip(units, reconfigurations) where cost < slowest {
                pool.addHeldCycles(slowest - cost, to: unit)
            }
        }
        var operationCycles =
            control
            ? [costs.table.controlBlockCycles] : costs.operationCycles(shape: shape, parts: units.count)
        if prefetched > 0 {
            operationCycles[0] -= prefetched
            stats.fillOverlapBlocks += 1
            stats.fillOverlapCycles += prefetched
        }
        let duration = operationCycles.reduce(0, +)
        core.record(
            .slice(
                cluster: Int32(id), unit: unit, start: begin, duration: duration, kind: control ? .control : .task,
                taskType: task.taskType, request: task.request))
        if !control {
            var layerStart = begin
            for (index, layerCycles) in operationCycles.enumerated() where layerCycles > 0 {
                core.record(
                    .slice(
                        cluster: Int32(id), unit: unit, start: layerStart, duration: layerCycles, kind: .operation,
                        taskType: task.taskType, request: UInt64(index)))
                layerStart += layerCycles
            }
        }
        for helper in units.dropFirst() {
            core.record(
                .slice(
                    cluster: Int32(id), unit: TraceUnit.tbu(helper), start: begin, duration: duration, kind: .splitPart,
                    taskType: task.taskType, request: task.request))
        }
        if units.count > 1 { stats.splits += 1 }
        if task.flow != 0 { core.record(.flowEnd(cluster: Int32(id), unit: unit, time: begin, flow: task.flow)) }
        if control {
            stats.controlBlocks += 1
            stats.controlOnTBUs += 1
        } else {
            let single = units.count == 1 ? duration : costs.totalCycles(shape: shape, parts: 1)
            signaller.noteRun(task.taskType, cycles: Double(single), request: task.request)
        }
        stats.blockRuns[task.taskType, default: 0] += 1
        var task = task
        if !control, let functional, task.payload != nil,
            case .task(let block) = library[Int(task.taskType.workflow)].blocks[Int(task.taskType.block)].kind
        {
            // Real results on real tensors; host time spent here never enters virtual time.
            task.payload = functional.run(
                block, of: library[Int(task.taskType.workflow)], input: task.payload, seed: config.seed)
        }
        pool.start(task, on: units, begin: begin, duration: duration)
        core.schedule(.tbuDone(lead), at: begin + duration)
    }

    /// The cycles of `type`'s first fill that TBU `index` loaded ahead (``ClusterConfig/overlapsFill``):
    /// only when its previous block ended now and this one waited in the queue meanwhile — at
    /// most the time both overlapped, and at most the fill.
    private func prefetchedFill(of type: TaskType, enqueued: Cycle, on index: Int, at now: Cycle) -> Cycle {
        let tbu = pool[index]
        guard tbu.busyUntil == now, tbu.configuredFor == type, enqueued < now else { return 0 }
        return min(costs.table.firstFill(type), now - max(enqueued, tbu.sliceStart))
    }

    private func finishTask(on index: Int, at now: Cycle) {
        let producer = Producer(unit: TraceUnit.tbu(index), sliceStart: pool[index].sliceStart, tbu: index)
        let (task, units) = pool.finish(index, at: now, queue: queue)
        if router.usesCentralQueue {
            send(
                .release(TBURelease(cluster: Int32(id), units: UInt16(units.count))), to: .coordinator, at: now,
                latency: config.controlLatency)
        }
        dispatchDeferred = flow != nil
        perform(
            isControl(task.taskType) ? interpreter.decided(task) : interpreter.finishedTask(task), producer: producer,
            at: now)
        dispatchDeferred = false
        dispatch(at: now)
        recordQueue(at: now)
        balance(.blockFinished, at: now)
    }

    private func startControlBlocks(at now: Cycle) {
        let duration = costs.table.controlBlockCycles
        for (index, task) in cbus.startWaiting(at: now, duration: duration) {
            stats.controlBlocks += 1
            stats.blockRuns[task.taskType, default: 0] += 1
            let unit = TraceUnit.cbu(index)
            core.record(
                .slice(
                    cluster: Int32(id), unit: unit, start: now, duration: duration, kind: .control,
                    taskType: task.taskType,
                    request: task.request))
            if task.flow != 0 {
                core.record(.flowEnd(cluster: Int32(id), unit: unit, time: now, flow: task.flow))
            }
            core.schedule(.cbuDone(index), at: now + duration)
        }
    }

    private func finishControl(on index: Int, at now: Cycle) {
        let (task, sliceStart) = cbus.finish(index)
        perform(
            interpreter.decided(task), producer: Producer(unit: TraceUnit.cbu(index), sliceStart: sliceStart), at: now)
        startControlBlocks(at: now)
    }

    // MARK: Load signals

    func ensureLoadTick(after now: Cycle) {
        if let tick = signaller.scheduleTick(after: now) { core.schedule(.loadTick, at: tick) }
    }

    func currentLoad(at now: Cycle) -> ClusterLoad {
        signaller.load(at: now, queue: queue, pool: pool, isControl: isControl)
    }

    private func loadTick(at now: Cycle) {
        if let load = signaller.tick(currentLoad(at: now)) {
            send(.load(load), to: .coordinator, at: now, latency: config.controlLatency)
        }
        if let report = stallReport() {
            flow?.reported = report
            send(.stall(report), to: .coordinator, at: now, latency: config.controlLatency)
        }
        balance(.loadTick, at: now)
    }

    func recordQueue(at now: Cycle) {
        core.record(
            .queue(
                cluster: Int32(id), time: now, tasks: UInt32(queue.count), busyTBUs: UInt16(pool.busyCount),
                pendingCycles: queue.pendingCycles))
    }
}

/// Work a cluster placed and noted in its view since the coordinator's last update.
struct ViewNote: Equatable {
    var cluster: Int
    var cycles: Cycle
}

/// Wall-clock time of one scheduling decision (host measurement, never part of the results).
struct DecisionClock {
    let start = DispatchTime.now().uptimeNanoseconds
    var elapsed: UInt64 { DispatchTime.now().uptimeNanoseconds - start }
}

/// A cluster engine's queue and pending work, for its balancing decisions
/// (``BalancingSource``): it holds the engine without keeping it alive.
final class EngineBalancingSource: BalancingSource {
    unowned let engine: ClusterEngine

    init(engine: ClusterEngine) { self.engine = engine }

    func queuedTasks() -> [QueuedTask] { Array(engine.queue.tasks) }

    func pendingCycles(at now: Cycle) -> Cycle { engine.queue.pendingCycles + engine.pool.remainingCycles(at: now) }
}
