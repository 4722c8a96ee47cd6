import Collections
import Scheduling
import WaferModel

/// The deterministic state machine of the coordinator: injects requests at their arrival times,
/// places entry blocks with the cluster-level policy, keeps the wafer-wide load view (from load
/// signals and its own placements), publishes it to the clusters, and records every request's
/// outcome. Like ``ClusterEngine`` it knows nothing of processes or sockets.
public final class CoordinatorEngine {
    enum Event {
        case arrival(stream: Int)
        case message(Message)
        case broadcast
        case plan

        var rank: UInt8 {
            switch self {
            case .message: return 0
            case .arrival: return 1
            case .plan: return 2
            case .broadcast: return 3
            }
        }
    }

    /// The requests of one accepted injection, arriving one after another.
    struct Stream {
        var injection: Injection
        var workflow: Int
        var arrivals: [Cycle]
        var firstRequest: UInt64
        var next = 0
    }

    /// A request's end, as recorded for the summary.
    public struct Record: Equatable, Sendable {
        public var outcome: RequestOutcome
        /// When the coordinator learned of it.
        public var reported: Cycle
    }

    public let config: WaferConfig
    public let library: WorkflowLibrary
    let mesh: Mesh
    /// The scheduler the wafer runs.
    public let scheduler: SchedulerSpec
    let placement: SchedulerPlacement
    let cycles: TaskCycleTable

    // Plans: the start-time mapping, the current plan, and what the planning step learns.
    private var staticSlots: [ProportionalMapping.Slot] = []
    private var plan: WaferPlan
    private var planIndex: PlanIndex
    private var classifier = TaskClassifier()
    private var predictor: DemandPredictor
    private let planner = ProactivePlanner()
    private var planScheduled = false
    private var lastPlanTime: Cycle = 0
    private var periodArrivals: [UInt16: Int] = [:]
    private var periodRuns: [TaskType: (runs: Double, cycles: Double)] = [:]
    /// Predictions waiting for their horizon to pass, and the work started since each was made.
    private var openPredictions: [(time: Cycle, demand: [TaskType: Double], actual: [TaskType: Double])] = []
    /// Prediction error (WAPE) of each prediction whose horizon has passed, by the time it was made.
    public private(set) var predictionErrors: [(time: Cycle, error: Double)] = []
    /// Plans published (the initial mapping included).
    public private(set) var planChanges: UInt64 = 0

    // The global FIFO queue (scheduler `fifo`).
    private var globalQueue = Deque<ReadyTask>()
    private var busyTBUs: [Int]
    /// Bytes × hops and flows of task flows the global queue routed.
    public private(set) var byteHops: UInt64 = 0
    public private(set) var localFlows: UInt64 = 0
    /// Blocks rejected at the full global queue.
    public private(set) var globalRejections: UInt64 = 0

    /// Load imbalance across clusters as it changed: (time, coefficient of variation of pending cycles).
    public private(set) var imbalance: [(time: Cycle, value: Double)] = []
    /// Decisions taken here (placements, global dispatch, planning steps) and their wall time.
    public private(set) var decisions: UInt64 = 0
    public private(set) var decisionNanos: UInt64 = 0

    private var events = EventQueue<Event>()
    private var localSequence: UInt64 = 0
    private var streams: [Stream] = []
    private var view: WaferLoadView
    private var viewChanged = false
    private var broadcastScheduled = false
    private var outbox: Outbox
    private var trace: [TraceRecord] = []
    private var nextRequestID: UInt64 = 0
    private var windowEvents: UInt64 = 0

    /// Requests injected per workflow index (arrived so far).
    public private(set) var arrived: [UInt64]
    /// Requests accepted for injection (arrived or still to arrive).
    public private(set) var accepted: UInt64 = 0
    /// Every finished request in the order the coordinator learned of them.
    public private(set) var records: [Record] = []
    /// Events processed.
    public private(set) var eventCount: UInt64 = 0
    /// Virtual time the coordinator has reached.
    public private(set) var now: Cycle = 0

    /// Makes each request's input in functional mode (nil: timing mode, no tensors).
    let functional: (any FunctionalExecutor)?

    public init(config: WaferConfig, library: WorkflowLibrary, scheduler: SchedulerSpec = .octopus,
                functional: (any FunctionalExecutor)? = nil) {
        self.config = config
        self.functional = functional
        self.library = library
        self.mesh = config.mesh
        self.scheduler = scheduler
        self.placement = SchedulerPlacement(spec: scheduler, reconfigurationCycles: config.cluster.reconfigurationCycles)
        let cycles = TaskCycleTable(library: library, config: config)
        self.cycles = cycles
        let prior = cycles.plannerPrior(library)
        predictor = DemandPredictor(visits: prior.visits, cycles: prior.cycles, downstream: prior.downstream)
        classifier.declare(prior.visits.keys.sorted())
        plan = .empty(clusters: config.clusterCount, tbus: config.cluster.tbus)
        planIndex = PlanIndex(plan)
        busyTBUs = Array(repeating: 0, count: config.clusterCount)
        view = .idle(clusters: config.clusterCount, tbus: config.cluster.tbus)
        outbox = Outbox(source: .coordinator, mode: config.sync.mode)
        arrived = Array(repeating: 0, count: library.workflows.count)
    }

    // MARK: Control

    /// An injection the coordinator cannot accept.
    public struct InjectionError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Accepts an injection whose arrivals start no earlier than `earliest` (the synchronised
    /// time). Returns the ids of its requests.
    @discardableResult
    public func inject(_ injection: Injection, earliest: Cycle) throws -> ClosedRange<UInt64> {
        guard let workflow = library.index(of: injection.workflow) else {
            throw InjectionError(description: "unknown workflow '\(injection.workflow)' (known: \(library.names.joined(separator: ", ")))")
        }
        guard injection.count > 0 else { throw InjectionError(description: "count must be at least 1") }
        guard injection.start >= earliest else {
            throw InjectionError(description: "start_cycle \(injection.start) is in the past (virtual time is \(earliest))")
        }
        var rng = SplitMix64(keys: config.seed, injection.seed, UInt64(streams.count))
        let arrivals = injection.arrival.arrivals(count: injection.count, start: injection.start, rng: &rng)
        let first = nextRequestID
        nextRequestID += UInt64(injection.count)
        accepted += UInt64(injection.count)
        streams.append(Stream(injection: injection, workflow: workflow, arrivals: arrivals, firstRequest: first))
        scheduleArrival(stream: streams.count - 1)
        if scheduler.mapping != .none { remap(at: earliest) }
        if scheduler.plans { schedulePlanning(after: earliest) }
        return first...(nextRequestID - 1)
    }

    /// The traditional spatial mapping: every type of the injected workflows gets TBUs in proportion
    /// to its expected load (arrival rate × analytic runs per request × cycles per run), published
    /// before any of the new requests arrives.
    private func remap(at now: Cycle) {
        let prior = cycles.plannerPrior(library)
        var loads: [TaskType: Double] = [:]
        for stream in streams where !stream.arrivals.isEmpty {
            let span = Double((stream.arrivals.last! - stream.arrivals.first!) + 1)
            let rate = stream.injection.arrival.meanRate ?? Double(stream.arrivals.count) / span
            for (type, visits) in prior.visits where Int(type.workflow) == stream.workflow {
                loads[type, default: 0] += rate * visits * (prior.cycles[type] ?? 0)
            }
        }
        staticSlots = ProportionalMapping.map(loads, mesh: mesh, tbus: config.cluster.tbus)
        publish(ProportionalMapping.plan(staticSlots, clusters: config.clusterCount, tbus: config.cluster.tbus,
                                         stable: scheduler.mapping == .pinned ? nil : classifier.stableTypes, epoch: plan.epoch &+ 1), at: now)
    }

    /// Makes `newPlan` current and sends it to every cluster now.
    private func publish(_ newPlan: WaferPlan, at now: Cycle) {
        plan = newPlan
        planIndex = PlanIndex(newPlan)
        view.plan = newPlan
        planChanges += 1
        viewChanged = true
        schedule(.broadcast, at: now)
        broadcastScheduled = true
    }

    private func schedulePlanning(after now: Cycle) {
        guard !planScheduled else { return }
        planScheduled = true
        schedule(.plan, at: (now / scheduler.planningPeriod + 1) * scheduler.planningPeriod)
    }

    /// The periodic planning step: classify types (dual-scheduling) and, when proactive, predict
    /// demand over the horizon and re-partition the TBUs ahead of it.
    private func planningStep(at now: Cycle) {
        planScheduled = false
        // Nothing left to plan for: a plan now would only reconfigure arrays after the run's end.
        guard inFlight > 0 || streams.contains(where: { $0.next < $0.arrivals.count }) else { return }
        let clock = DecisionClock()
        decisions += 1
        let stable = classifier.stableTypes
        var next: WaferPlan?
        if scheduler.proactive {
            predictor.observe(length: now - lastPlanTime, arrivals: periodArrivals, runs: periodRuns)
            var inFlight: [TaskType: Int] = [:]
            for load in view.clusters {
                for entry in load.byType { inFlight[entry.taskType, default: 0] += entry.queuedTasks }
                for type in load.running { inFlight[type, default: 0] += 1 }
            }
            let demand = predictor.predict(horizon: scheduler.horizon, inFlight: inFlight)
            openPredictions.append((now, demand, [:]))
            next = planner.plan(demand: demand, stable: stable, mesh: mesh, tbus: config.cluster.tbus, current: plan)
        } else if !staticSlots.isEmpty {
            let candidate = ProportionalMapping.plan(staticSlots, clusters: config.clusterCount, tbus: config.cluster.tbus, stable: stable, epoch: plan.epoch &+ 1)
            if candidate.reserved != plan.reserved { next = candidate }
        }
        periodArrivals.removeAll(keepingCapacity: true)
        periodRuns.removeAll(keepingCapacity: true)
        lastPlanTime = now
        if let next { publish(next, at: now) }
        decisionNanos += clock.elapsed
        if inFlight > 0 || streams.contains(where: { $0.next < $0.arrivals.count }) { schedulePlanning(after: now) }
    }

    /// Folds a load signal's finished runs into the classifier and the open predictions.
    private func observe(_ load: ClusterLoad, at now: Cycle) {
        for runs in load.finished {
            classifier.observeRuns(runs.taskType, runs: Double(runs.runs), cycles: runs.cycles, squares: runs.squares)
            periodRuns[runs.taskType, default: (0, 0)].runs += Double(runs.runs)
            periodRuns[runs.taskType, default: (0, 0)].cycles += runs.cycles
            for index in openPredictions.indices { openPredictions[index].actual[runs.taskType, default: 0] += runs.cycles }
        }
        while let first = openPredictions.first, first.time + scheduler.horizon <= now {
            openPredictions.removeFirst()
            if let error = DemandPredictor.error(predicted: first.demand, actual: first.actual) { predictionErrors.append((first.time, error)) }
        }
    }

    /// Records the imbalance of pending cycles per TBU across clusters (coefficient of variation).
    private func recordImbalance(at now: Cycle) {
        let loads = view.clusters.map { Double($0.pendingCycles) }
        let mean = loads.reduce(0, +) / Double(max(loads.count, 1))
        var value = 0.0
        if mean > 0 {
            let variance = loads.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(loads.count)
            value = variance.squareRoot() / mean
        }
        if let last = imbalance.last, last.value == value { return }
        if let last = imbalance.last, last.time == now { imbalance[imbalance.count - 1].value = value } else { imbalance.append((now, value)) }
    }

    /// Requests accepted but not yet finished (including those still to arrive).
    public var inFlight: UInt64 { accepted - UInt64(records.count) }

    /// Requests completed and rejected so far.
    public var completedCount: Int { records.lazy.filter { $0.outcome.status == .completed }.count }
    public var rejectedCount: Int { records.lazy.filter { $0.outcome.status == .rejected }.count }

    /// The latest wafer-wide load picture.
    public var loadView: WaferLoadView { view }

    // MARK: Host interface

    /// Accepts envelopes addressed to the coordinator.
    public func receive(_ envelopes: [Envelope]) {
        for envelope in envelopes {
            let event = Event.message(envelope.message)
            events.insert(event, key: EventKey(time: envelope.arrival, rank: event.rank, tie: envelope.deliveryTieBreak))
        }
    }

    /// Processes every event before `end`.
    public func runWindow(end: Cycle) -> WindowOutput {
        outbox.windowEnd = end
        windowEvents = 0
        while let (key, event) = events.popIfBefore(end) {
            windowEvents += 1
            handle(event, at: key.time)
        }
        eventCount += windowEvents
        if end != .never { now = max(now, end) }
        let output = WindowOutput(envelopes: outbox.take(), trace: trace, nextEventTime: events.nextTime,
                                  earliestOutput: earliestOutput(), events: windowEvents)
        trace.removeAll(keepingCapacity: true)
        return output
    }

    func peekNextEventTime() -> Cycle { events.nextTime }

    /// Message counters of the coordinator.
    public var messagesSent: [String: UInt64] { outbox.counts }

    // MARK: Events

    private func schedule(_ event: Event, at time: Cycle) {
        localSequence += 1
        events.insert(event, key: EventKey(time: time, rank: event.rank &+ 8, tie: localSequence))
    }

    private func scheduleArrival(stream index: Int) {
        let stream = streams[index]
        guard stream.next < stream.arrivals.count else { return }
        schedule(.arrival(stream: index), at: stream.arrivals[stream.next])
    }

    private func handle(_ event: Event, at now: Cycle) {
        switch event {
        case .arrival(let index): arrive(stream: index, at: now)
        case .message(.outcome(let outcome)):
            records.append(Record(outcome: outcome, reported: now))
            trace.append(.inFlight(time: now, count: UInt32(clamping: inFlightArrived)))
        case .message(.load(let load)):
            if scheduler.plans { observe(load, at: now) }
            var published = load
            published.finished = []
            view.clusters[load.cluster] = published
            view.time = now
            viewChanged = true
            recordImbalance(at: now)
            ensureBroadcast(after: now)
        case .message(.ready(let ready)):
            enqueueGlobal(ready, at: now)
        case .message(.release(let cluster, let units)):
            busyTBUs[Int(cluster)] -= Int(units)
            dispatchGlobal(at: now)
        case .message(let other):
            preconditionFailure("the coordinator does not receive \(other.kindName) messages")
        case .broadcast:
            broadcast(at: now)
        case .plan:
            planningStep(at: now)
        }
    }

    private var inFlightArrived: UInt64 { arrived.reduce(0, +) - UInt64(records.count) }

    private func arrive(stream index: Int, at now: Cycle) {
        var stream = streams[index]
        let request = stream.firstRequest + UInt64(stream.next)
        stream.next += 1
        streams[index] = stream
        scheduleArrival(stream: index)
        arrived[stream.workflow] += 1
        if scheduler.plans {
            classifier.observeArrivals(workflow: UInt16(stream.workflow), count: 1)
            periodArrivals[UInt16(stream.workflow), default: 0] += 1
        }

        let graph = library[stream.workflow]
        let type = TaskType(workflow: stream.workflow, block: graph.entry)
        // Only workflows with a generator carry data; the others run as in timing mode.
        let payload = graph.generator == nil ? nil : functional?.input(of: graph, request: request, injected: now, seed: config.seed)
        let task = TaskMessage(request: request, taskType: type, bytes: graph.inputBytes, injected: now, payload: payload)
        trace.append(.inFlight(time: now, count: UInt32(clamping: inFlightArrived)))
        if scheduler.placement == .global {
            trace.append(.injected(time: now, request: request, workflow: UInt16(stream.workflow), cluster: -1))
            enqueueGlobal(ReadyTask(task: task, origin: -1), at: now)
            return
        }
        let predicted = cycles[type]
        var key = SplitMix64(keys: config.seed, request, 0x454E_5452)
        let clock = DecisionClock()
        let cluster = placement.place(PlacementRequest(taskType: type, predictedCycles: predicted, inputBytes: graph.inputBytes, origin: nil, key: key.next()),
                                      view: view, plan: planIndex, mesh: mesh)
        decisions += 1
        decisionNanos += clock.elapsed
        view.notePlaced(cycles: predicted, on: cluster)
        viewChanged = true
        ensureBroadcast(after: now)
        trace.append(.injected(time: now, request: request, workflow: UInt16(stream.workflow), cluster: Int32(cluster)))
        outbox.send(.task(task), to: .cluster(cluster), at: now, latency: injectionLatency(bytes: graph.inputBytes))
    }

    // MARK: Global queue

    /// Queues a ready block in the global FIFO; when it is full the block fails (an item goes to
    /// its join as failed, so the join still accounts for it; a request ends rejected).
    private func enqueueGlobal(_ ready: ReadyTask, at now: Cycle) {
        if globalQueue.count >= config.cluster.queueCapacity * config.clusterCount && !ready.task.failed {
            globalRejections += 1
            trace.append(.rejected(cluster: -1, time: now, request: ready.task.request, taskType: ready.task.taskType))
            var task = ready.task
            if let frame = task.fanouts.last {
                task.failed = true
                task.payload = nil
                task.flow = 0
                task.taskType = TaskType(workflow: Int(task.taskType.workflow), block: Int(frame.join))
                globalQueue.append(ReadyTask(task: task, origin: ready.origin, pinned: frame.home))
            } else {
                let outcome = RequestOutcome(request: task.request, workflow: task.taskType.workflow, injected: task.injected,
                                             finished: now, status: .rejected, tasksDone: task.tasksDone, cluster: -1)
                records.append(Record(outcome: outcome, reported: now))
            }
        } else {
            globalQueue.append(ready)
        }
        dispatchGlobal(at: now)
    }

    /// Hands queued blocks, oldest first, to free TBUs: the free one nearest the block's input
    /// (ties to the lower cluster id). A block pinned to a busy cluster waits without holding up
    /// the others.
    private func dispatchGlobal(at now: Cycle) {
        guard !globalQueue.isEmpty else { return }
        let clock = DecisionClock()
        let tbus = config.cluster.tbus
        var position = 0
        while position < globalQueue.count, busyTBUs.contains(where: { $0 < tbus }) {
            let ready = globalQueue[position]
            var target: Int?
            if ready.pinned >= 0 {
                if busyTBUs[Int(ready.pinned)] < tbus { target = Int(ready.pinned) }
            } else {
                var best = (latency: Cycle.max, cluster: Int.max)
                for cluster in busyTBUs.indices where busyTBUs[cluster] < tbus {
                    let latency = ready.origin < 0 ? 0 : mesh.transferLatency(from: Int(ready.origin), to: cluster, bytes: ready.task.bytes)
                    if latency < best.latency { best = (latency, cluster) }
                }
                if best.cluster != Int.max { target = best.cluster }
            }
            guard let target else {
                position += 1
                continue
            }
            globalQueue.remove(at: position)
            busyTBUs[target] += 1
            decisions += 1
            let latency: Cycle
            if ready.origin < 0 {
                latency = injectionLatency(bytes: ready.task.bytes)
            } else {
                // The decision reaches the producer over the control plane, then the data moves.
                latency = config.controlLatency + mesh.transferLatency(from: Int(ready.origin), to: target, bytes: ready.task.bytes)
                if Int(ready.origin) == target { localFlows += 1 } else { byteHops += ready.task.bytes * UInt64(mesh.distance(from: Int(ready.origin), to: target)) }
            }
            outbox.send(.task(ready.task), to: .cluster(target), at: now, latency: latency)
        }
        decisionNanos += clock.elapsed
    }

    /// Blocks waiting in the global queue.
    public var globalQueueLength: Int { globalQueue.count }

    /// Input arrives over the control plane and the wafer's edge I/O, modelled at the inter-die
    /// link bandwidth.
    private func injectionLatency(bytes: UInt64) -> Cycle {
        let bandwidth = UInt64(config.interDie.bandwidthBytesPerCycle)
        return config.controlLatency + (bytes + bandwidth - 1) / bandwidth
    }

    private func ensureBroadcast(after now: Cycle) {
        guard !broadcastScheduled else { return }
        broadcastScheduled = true
        let period = config.cluster.loadSignalPeriod
        schedule(.broadcast, at: (now / period + 1) * period)
    }

    private func broadcast(at now: Cycle) {
        broadcastScheduled = false
        guard viewChanged else { return }
        viewChanged = false
        view.time = now
        for cluster in 0..<config.clusterCount {
            outbox.send(.view(view), to: .cluster(cluster), at: now, latency: config.controlLatency)
        }
    }

    /// Sends happen at arrivals, broadcasts and planning steps, and (global queue) when blocks
    /// become ready or TBUs free.
    private func earliestOutput() -> Cycle {
        var bound = Cycle.never
        for (key, event) in events.unordered {
            switch event {
            case .arrival, .broadcast, .plan: bound = min(bound, key.time)
            case .message(.load): bound = min(bound, key.time)  // schedules a broadcast no earlier than this
            case .message(.ready), .message(.release): bound = min(bound, key.time)  // global dispatch
            case .message: break
            }
        }
        return bound
    }
}
