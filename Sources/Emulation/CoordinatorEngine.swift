import Scheduling
import WaferModel

/// The deterministic state machine of the coordinator: injects requests at their arrival times,
/// places entry blocks with the scheduler's placement policy (or queues them centrally), keeps the
/// wafer-wide load view from load signals and its own placements, publishes view and plan to the
/// clusters, runs the planning policy's periodic step, and records every request's outcome. Like
/// ``ClusterEngine`` it knows nothing of processes or sockets.
///
/// Its parts, each in a file of its own: ``ParticipantCore``, ``InjectionStreams``,
/// ``CentralQueue``, ``PredictionAudit`` and ``ImbalanceRecorder``.
public final class CoordinatorEngine {
    enum Event: ParticipantEvent {
        case arrival(stream: Int)
        case message(Message)
        case plan
        case publish
        case broadcast
        /// Stall reports arrived: look for a flow-control deadlock once all of this instant's are in.
        case deadlockCheck

        var rank: UInt8 {
            switch self {
            case .message: return 0
            case .arrival: return 1
            case .plan: return 2
            case .publish: return 3
            case .broadcast: return 4
            case .deadlockCheck: return 5
            }
        }
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
    public let scheduler: Scheduler
    let cycles: TaskCycleTable
    /// Makes each request's input in functional mode (nil: timing mode, no tensors).
    let functional: (any FunctionalExecutor)?
    private let core: ParticipantCore<Event>

    private var planning: any PlanningPolicy
    /// The policy's step period and foresight horizon, read once (fixed for the run): reading a
    /// property through the existential copied the whole policy, twice a step.
    private let planningPeriod: Cycle?
    private let foresightHorizon: Cycle?
    private var plan: WaferPlan
    private var planIndex: PlanIndex
    /// Builds plan indexes, once per plan for every participant sharing it.
    private let planIndexes: PlanIndexMemo
    private var planScheduled = false
    private var audit = PredictionAudit()
    private var centralQueue: CentralQueue?
    private var imbalanceRecorder = ImbalanceRecorder()
    private var streams = InjectionStreams()
    /// Each request's exact future work, for a clairvoyant planner (nil for every other).
    private var foresight: Foresight?
    private var view: WaferLoadView
    /// Clusters whose entry in the view changed since the last broadcast.
    private var changed = Set<Int>()
    private var broadcastScheduled = false
    /// A new plan waits to be sent (at the publish event).
    private var publishScheduled = false
    /// Flow control: the clusters' stall reports, and the deadlock found in them.
    private var detector = DeadlockDetector()
    private var deadlockCheckScheduled = false
    /// A deadlock of flow control, once found: the run cannot go on (the host stops it).
    public private(set) var deadlock: FlowDeadlock?

    /// Plans published (the initial mapping included).
    public private(set) var planChanges: UInt64 = 0
    /// Decisions taken here (placements, central dispatch, planning steps) and their wall time.
    public private(set) var decisions: UInt64 = 0
    public private(set) var decisionNanos: UInt64 = 0
    /// Requests injected per workflow index (arrived so far).
    public private(set) var arrived: [UInt64]
    /// Every finished request in the order the coordinator learned of them.
    public private(set) var records: [Record] = []
    /// Virtual time the coordinator has reached.
    public private(set) var now: Cycle = 0

    public init(
        config: WaferConfig, library: WorkflowLibrary, scheduler: Scheduler = .octopus,
        functional: (any FunctionalExecutor)? = nil, planIndexes: PlanIndexMemo = PlanIndexMemo()
    ) {
        self.planIndexes = planIndexes
        self.config = config
        self.functional = functional
        self.library = library
        self.mesh = config.mesh
        self.scheduler = scheduler
        let cycles = TaskCycleTable(library: library, config: config)
        self.cycles = cycles
        core = ParticipantCore(source: .coordinator, mode: config.sync.mode)
        let prior = cycles.plannerPrior(library)
        planning = scheduler.planning
        planning.start(
            PlanningContext(
                mesh: config.mesh, tbus: config.cluster.tbus, visits: prior.visits, cycles: prior.cycles,
                downstream: prior.downstream))
        planningPeriod = planning.period
        foresightHorizon = planning.foresightHorizon
        plan = .empty(clusters: config.clusterCount, tbus: config.cluster.tbus)
        planIndex = planIndexes.index(for: plan)
        if let policy = scheduler.centralQueue {
            centralQueue = CentralQueue(
                policy: policy,
                capacity: config.queuesReject ? config.cluster.queueCapacity * config.clusterCount : Int.max,
                clusters: config.clusterCount,
                tbus: config.cluster.tbus, mesh: config.mesh)
        }
        view = .idle(mesh: config.mesh)
        arrived = Array(repeating: 0, count: library.workflows.count)
        if foresightHorizon != nil { foresight = Foresight(library: library, config: config) }
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
            throw InjectionError(
                description:
                    "unknown workflow '\(injection.workflow)' (known: \(library.names.joined(separator: ", ")))")
        }
        guard injection.count > 0 else { throw InjectionError(description: "count must be at least 1") }
        if let unknown = injection.unknownParameter(of: library[workflow]) {
            throw InjectionError(description: "arrival.params: \(unknown)")
        }
        guard injection.start >= earliest else {
            throw InjectionError(
                description: "start_cycle \(injection.start) is in the past (virtual time is \(earliest))")
        }
        guard injection.count <= Limits.requestsPerInjection else {
            throw InjectionError(
                description:
                    "count \(injection.count) is more than \(Limits.requestsPerInjection) requests per injection")
        }
        // Memory stays bounded under a flood of injections: beyond the limit they are refused.
        guard inFlight + UInt64(injection.count) <= UInt64(Limits.outstandingRequests) else {
            throw InjectionError(
                description:
                    "the wafer holds \(inFlight) requests not yet finished; with \(injection.count) more it would pass the limit of \(Limits.outstandingRequests) (wait, or drain, and inject again)"
            )
        }
        let rng = SplitMix64(keys: config.seed, injection.seed, UInt64(streams.count))
        let index: Int
        let requests: ClosedRange<UInt64>
        do {
            (index, requests) = try streams.add(
                injection, workflow: workflow, parameters: library[workflow].requestParameters, rng: rng)
        } catch let error as ArrivalProcess.OutOfRange {
            throw InjectionError(description: "arrival: \(error.description)")
        }
        scheduleArrival(stream: index)
        // A mapping is published before any of the new requests arrives.
        if let mapped = planning.injected(streams.offered, current: plan) { publish(mapped, at: earliest) }
        if planningPeriod != nil { schedulePlanning(after: earliest) }
        return requests
    }

    /// Requests accepted for injection (arrived or still to arrive).
    public var accepted: UInt64 { streams.accepted }
    /// Requests accepted but not yet finished (including those still to arrive).
    public var inFlight: UInt64 { accepted > UInt64(records.count) ? accepted - UInt64(records.count) : 0 }
    /// Requests completed and rejected so far.
    public var completedCount: Int { records.lazy.filter { $0.outcome.status == .completed }.count }
    public var rejectedCount: Int { records.lazy.filter { $0.outcome.status == .rejected }.count }
    /// The latest wafer-wide load picture.
    public var loadView: WaferLoadView { view }
    /// Prediction error (WAPE) of each prediction whose horizon has passed, by the time it was made.
    public var predictionErrors: [(time: Cycle, error: Double)] { audit.errors }
    /// Load imbalance across clusters as it changed: (time, coefficient of variation of pending cycles).
    public var imbalance: [(time: Cycle, value: Double)] { imbalanceRecorder.timeline }
    /// Bytes × hops and local flows of task flows the central queue routed, and blocks it rejected.
    public var byteHops: UInt64 { centralQueue?.byteHops ?? 0 }
    public var localFlows: UInt64 { centralQueue?.localFlows ?? 0 }
    /// Traffic per mesh link of the task flows the central queue routed.
    public var links: LinkTraffic { centralQueue?.links ?? LinkTraffic() }
    public var globalRejections: UInt64 { centralQueue?.rejections ?? 0 }
    /// Requests the admission control refused (`admission: {policy: in_flight}`).
    public private(set) var admissionRejections: UInt64 = 0
    /// Blocks waiting in the central queue.
    public var globalQueueLength: Int { centralQueue?.count ?? 0 }
    /// Events processed.
    public var eventCount: UInt64 { core.eventCount }
    /// Message counters of the coordinator.
    public var messagesSent: [String: UInt64] { core.outbox.counts }
    /// Time of the coordinator's next pending event.
    public var nextEventTime: Cycle { core.nextEventTime }

    // MARK: Host interface

    /// Accepts envelopes addressed to the coordinator.
    public func receive(_ envelopes: [Envelope]) {
        for envelope in envelopes { receive(envelope) }
    }

    /// Accepts one envelope addressed to the coordinator.
    public func receive(_ envelope: Envelope) {
        core.deliver(.message(envelope.message), of: envelope)
    }

    /// Takes back a delivered `envelope` not yet processed (the optimistic experiment's
    /// anti-message); returns whether it was pending.
    func cancelDelivery(of envelope: Envelope) -> Bool { core.cancelDelivery(of: envelope) != nil }

    /// Processes every event before `end`.
    public func runWindow(end: Cycle) -> WindowOutput {
        let output = core.runWindow(end: end, handle: handle, earliestOutput: earliestOutput)
        if end != .never { now = max(now, end) }
        return output
    }

    /// Processes every event before `end`, leaving sends and trace records for
    /// ``takeEnvelopes()`` and ``takeTrace()``.
    public func advance(before end: Cycle) {
        core.advance(before: end, handle: handle)
        if end != .never { now = max(now, end) }
    }

    /// Envelopes sent since the last take (or window).
    public func takeEnvelopes() -> [Envelope] { core.takeEnvelopes() }
    /// Trace records made since the last take (or window).
    public func takeTrace() -> [TimedTraceRecord] { core.takeTrace() }
    /// Hands the envelopes sent since the last take to `deliver`, in order (no array is made).
    public func deliverEnvelopes(_ deliver: (Envelope) -> Void) { core.deliverEnvelopes(deliver) }
    /// Appends the trace records made since the last take to `buffer`.
    public func moveTrace(into buffer: inout [TimedTraceRecord]) { core.moveTrace(into: &buffer) }

    // MARK: Speculation

    /// The coordinator's state at a window's start, for a speculative window that may have to run
    /// again. Append-only logs (records, prediction errors, the imbalance timeline) are saved by
    /// length, not copied.
    public struct Snapshot {
        fileprivate var core: ParticipantCore<Event>.Snapshot
        fileprivate var planning: any PlanningPolicy
        fileprivate var plan: WaferPlan
        fileprivate var planIndex: PlanIndex
        fileprivate var planScheduled: Bool
        fileprivate var audit: PredictionAudit.Snapshot
        fileprivate var centralQueue: CentralQueue?
        fileprivate var imbalance: ImbalanceRecorder.Snapshot
        fileprivate var streams: InjectionStreams
        fileprivate var view: WaferLoadView
        fileprivate var changed: Set<Int>
        fileprivate var broadcastScheduled: Bool
        fileprivate var publishScheduled: Bool
        fileprivate var planChanges: UInt64
        fileprivate var decisions: UInt64
        fileprivate var admissionRejections: UInt64
        fileprivate var foresight: Foresight?
        fileprivate var arrived: [UInt64]
        fileprivate var recordCount: Int
        fileprivate var now: Cycle
        fileprivate var detector: DeadlockDetector
        fileprivate var deadlockCheckScheduled: Bool
        fileprivate var deadlock: FlowDeadlock?
    }

    /// Saves the state between windows.
    public func snapshot() -> Snapshot {
        Snapshot(
            core: core.snapshot(), planning: planning, plan: plan, planIndex: planIndex, planScheduled: planScheduled,
            audit: audit.snapshot(), centralQueue: centralQueue, imbalance: imbalanceRecorder.snapshot(),
            streams: streams,
            view: view, changed: changed, broadcastScheduled: broadcastScheduled, publishScheduled: publishScheduled,
            planChanges: planChanges, decisions: decisions, admissionRejections: admissionRejections,
            foresight: foresight, arrived: arrived, recordCount: records.count, now: now,
            detector: detector, deadlockCheckScheduled: deadlockCheckScheduled, deadlock: deadlock)
    }

    /// Returns to `snapshot`, as if nothing had happened since it was taken.
    public func restore(_ snapshot: Snapshot) {
        core.restore(snapshot.core)
        planning = snapshot.planning
        plan = snapshot.plan
        planIndex = snapshot.planIndex
        planScheduled = snapshot.planScheduled
        audit.restore(snapshot.audit)
        centralQueue = snapshot.centralQueue
        imbalanceRecorder.restore(snapshot.imbalance)
        streams = snapshot.streams
        view = snapshot.view
        changed = snapshot.changed
        broadcastScheduled = snapshot.broadcastScheduled
        publishScheduled = snapshot.publishScheduled
        planChanges = snapshot.planChanges
        decisions = snapshot.decisions
        admissionRejections = snapshot.admissionRejections
        foresight = snapshot.foresight
        arrived = snapshot.arrived
        records.removeLast(records.count - snapshot.recordCount)
        now = snapshot.now
        detector = snapshot.detector
        deadlockCheckScheduled = snapshot.deadlockCheckScheduled
        deadlock = snapshot.deadlock
    }

    /// Runs a window that may deliver messages inside itself (see ``ClusterEngine/runSpeculativeWindow(end:)``).
    public func runSpeculativeWindow(end: Cycle) -> WindowOutput {
        let output = core.runWindow(end: end, speculative: true, handle: handle, earliestOutput: earliestOutput)
        if end != .never { now = max(now, end) }
        return output
    }

    // MARK: Events

    private func handle(_ event: Event, at now: Cycle) {
        switch event {
        case .arrival(let index): arrive(stream: index, at: now)
        case .message(.outcome(let outcome)):
            records.append(Record(outcome: outcome, reported: now))
            foresight?.ended(outcome.request)
            core.record(.inFlight(time: now, count: UInt32(clamping: inFlightArrived)))
        case .message(.load(let load)):
            for runs in load.finished { planning.observe(runs) }
            audit.observe(
                load.finished, at: now, lag: config.cluster.loadSignalPeriod.adding(config.controlLatency))
            for block in load.started { foresight?.started(block) }
            var observed = load
            observed.finished = []
            observed.started = []
            view.clusters[load.cluster] = observed
            view.time = now
            changed.insert(load.cluster)
            imbalanceRecorder.record(view.clusters, at: now)
            ensureBroadcast(after: now)
        case .message(.ready(let ready)):
            enqueueCentrally(ready, at: now)
        case .message(.release(let release)):
            centralQueue?.release(cluster: Int(release.cluster), units: Int(release.units))
            dispatchCentrally(at: now)
        case .message(.stall(let report)):
            detector.update(report)
            if !deadlockCheckScheduled {
                deadlockCheckScheduled = true
                core.schedule(.deadlockCheck, at: now)
            }
        case .message(let other):
            preconditionFailure("the coordinator does not receive \(other.kindName) messages")
        case .deadlockCheck:
            deadlockCheckScheduled = false
            if deadlock == nil, let cycle = detector.deadlock() {
                deadlock = FlowDeadlock(time: now, cycle: cycle, credits: config.cluster.flowCredits ?? 0)
            }
        case .broadcast:
            broadcast(at: now)
        case .publish:
            publishScheduled = false
            for cluster in 0..<config.clusterCount {
                core.outbox.send(.plan(plan), to: .cluster(cluster), at: now, latency: config.controlLatency)
            }
        case .plan:
            planningStep(at: now)
        }
    }

    private var inFlightArrived: UInt64 {
        // Saturating: a speculative run may be handed stale outcomes (it is never the one committed).
        let total = arrived.reduce(0, +)
        return total > UInt64(records.count) ? total - UInt64(records.count) : 0
    }

    private func scheduleArrival(stream index: Int) {
        if let time = streams.nextArrival(of: index) { core.schedule(.arrival(stream: index), at: time) }
    }

    private func arrive(stream index: Int, at now: Cycle) {
        let (request, workflow, parameters) = streams.take(from: index)
        scheduleArrival(stream: index)
        arrived[workflow] += 1
        // Admission control (`admission: {policy: in_flight}`): refused here, before any scheduler
        // sees the request, by the same rule for every scheduler.
        if !config.queuesReject && inFlightArrived > UInt64(config.admissionLimit) {
            core.record(.inFlight(time: now, count: UInt32(clamping: inFlightArrived)))
            let type = TaskType(workflow: workflow, block: library[workflow].entry)
            core.record(.rejected(cluster: -1, time: now, request: request, taskType: type))
            admissionRejections += 1
            foresight?.ended(request)
            records.append(
                Record(
                    outcome: RequestOutcome(
                        request: request, workflow: UInt16(workflow), injected: now, finished: now, status: .rejected,
                        tasksDone: 0, cluster: -1), reported: now))
            return
        }
        planning.observeArrival(workflow: UInt16(workflow))

        let type = TaskType(workflow: workflow, block: library[workflow].entry)
        var task = entryTask(request: request, workflow: workflow, parameters: parameters, at: now)
        // Only workflows with a generator carry data; the others run as in timing mode.
        if library[workflow].generator != nil {
            task.payload = functional?.input(
                of: library[workflow], request: request, injected: now, seed: config.seed)
        }
        foresight?.arrived(task)
        core.record(.inFlight(time: now, count: UInt32(clamping: inFlightArrived)))
        guard let placement = scheduler.placement else {
            core.record(.injected(time: now, request: request, workflow: UInt16(workflow), cluster: -1))
            enqueueCentrally(ReadyTask(task: task, origin: -1), at: now)
            return
        }
        let predicted = cycles[type]
        var key = SplitMix64(keys: config.seed, request, StreamPurpose.entryPlacement.rawValue)
        let clock = DecisionClock()
        let placementRequest = PlacementRequest(
            taskType: type, predictedCycles: predicted, inputBytes: library[workflow].inputBytes, origin: nil,
            key: placement.usesRequestKey ? key.next() : 0)
        let cluster = placement.place(
            placementRequest,
            in: PlacementContext(
                view: view, plan: planIndex, mesh: mesh,
                reconfigurationCycles: config.cluster.reconfigurationCycles))
        decisions += 1
        decisionNanos += clock.elapsed
        view.notePlaced(cycles: predicted, on: cluster)
        changed.insert(cluster)
        ensureBroadcast(after: now)
        core.record(.injected(time: now, request: request, workflow: UInt16(workflow), cluster: Int32(cluster)))
        core.outbox.send(
            .task(task), to: .cluster(cluster), at: now, latency: injectionLatency(bytes: library[workflow].inputBytes))
    }

    /// The first block of a request of `workflow` arriving at `now` (without its functional input).
    private func entryTask(request: UInt64, workflow: Int, parameters: [Int32], at now: Cycle) -> TaskMessage {
        TaskMessage(
            request: request, taskType: TaskType(workflow: workflow, block: library[workflow].entry),
            bytes: library[workflow].inputBytes, injected: now, parameters: parameters)
    }

    /// Input arrives over the control plane and the wafer's edge I/O, modelled at the inter-die
    /// link bandwidth.
    private func injectionLatency(bytes: UInt64) -> Cycle {
        config.controlLatency + Mesh.serialisation(bytes: bytes, bandwidth: config.interDie.bandwidthBytesPerCycle)
    }

    // MARK: Plans

    /// Makes `newPlan` current and sends it to every cluster now (through an event, so the send
    /// happens inside a window even when the plan comes from an injection between windows).
    private func publish(_ newPlan: WaferPlan, at now: Cycle) {
        plan = newPlan
        planIndex = planIndexes.index(for: newPlan)
        planChanges += 1
        guard !publishScheduled else { return }
        publishScheduled = true
        core.schedule(.publish, at: now)
    }

    private func schedulePlanning(after now: Cycle) {
        guard !planScheduled, let period = planningPeriod else { return }
        planScheduled = true
        core.schedule(.plan, at: (now / period + 1) * period)
    }

    /// The planning policy's periodic step, while there is work to plan for.
    private func planningStep(at now: Cycle) {
        planScheduled = false
        // Nothing left to plan for: a plan now would only reconfigure arrays after the run's end.
        guard inFlight > 0 || streams.hasPending else { return }
        let clock = DecisionClock()
        decisions += 1
        if let horizon = foresightHorizon, foresight != nil {
            let pending = streams
            planning.foresee(
                foresight!.demand(now: now, horizon: horizon) { before, visit in
                    // The arrivals still to come before `before`, on a copy of the streams.
                    var ahead = pending
                    while true {
                        var earliest: (index: Int, time: Cycle)?
                        for index in 0..<ahead.count {
                            if let time = ahead.nextArrival(of: index), time < before,
                                time < (earliest?.time ?? .never)
                            {
                                earliest = (index, time)
                            }
                        }
                        guard let (index, time) = earliest else { break }
                        let (request, workflow, parameters) = ahead.take(from: index)
                        visit(self.entryTask(request: request, workflow: workflow, parameters: parameters, at: time))
                    }
                })
        }
        let step = planning.step(at: now, view: view, current: plan)
        if let prediction = step.prediction { audit.record(prediction, at: now) }
        if let next = step.plan { publish(next, at: now) }
        decisionNanos += clock.elapsed
        if inFlight > 0 || streams.hasPending { schedulePlanning(after: now) }
    }

    private func ensureBroadcast(after now: Cycle) {
        guard !broadcastScheduled else { return }
        broadcastScheduled = true
        let period = config.cluster.loadSignalPeriod
        core.schedule(.broadcast, at: (now / period + 1) * period)
    }

    /// Publishes the entries of the view that changed since the last broadcast.
    private func broadcast(at now: Cycle) {
        broadcastScheduled = false
        guard !changed.isEmpty else { return }
        view.time = now
        let update = LoadViewUpdate(
            time: now, clusters: changed.sorted().map { LoadViewUpdate.published(view.clusters[$0]) })
        changed.removeAll(keepingCapacity: true)
        for cluster in 0..<config.clusterCount {
            core.outbox.send(.view(update), to: .cluster(cluster), at: now, latency: config.controlLatency)
        }
    }

    // MARK: Central queue

    /// Queues a ready block centrally; when the queue is full the block fails (an item goes to its
    /// join as failed, so the join still accounts for it; a request ends rejected).
    private func enqueueCentrally(_ ready: ReadyTask, at now: Cycle) {
        precondition(centralQueue != nil, "a ready block without a central queue")
        if !centralQueue!.enqueue(ready) {
            core.record(
                .rejected(cluster: -1, time: now, request: ready.task.request, taskType: ready.task.taskType))
            // The producer's flow arrow ends here: the block never starts.
            if ready.task.flow != 0 {
                core.record(.flowEnd(cluster: -1, unit: TraceUnit.events, time: now, flow: ready.task.flow))
            }
            switch WorkflowInterpreter.fail(ready.task) {
            case .failedItem(let failed, let home):
                centralQueue!.enqueueFailed(ReadyTask(task: failed, origin: ready.origin, pinned: Int32(home)))
            case .finish(let task, let status):
                let outcome = RequestOutcome(
                    request: task.request, workflow: task.taskType.workflow, injected: task.injected,
                    finished: now, status: status, tasksDone: task.tasksDone, cluster: -1)
                records.append(Record(outcome: outcome, reported: now))
            case .run:
                preconditionFailure("failing a block never runs another")
            }
        }
        dispatchCentrally(at: now)
    }

    /// Hands centrally queued blocks to clusters with free TBUs.
    private func dispatchCentrally(at now: Cycle) {
        guard let waiting = centralQueue?.count, waiting > 0 else { return }
        let clock = DecisionClock()
        for (ready, target) in centralQueue!.dispatch() {
            decisions += 1
            // The decision reaches the producer over the control plane, then the data moves.
            if ready.origin >= 0, Int(ready.origin) != target, config.interconnect.model == .contention {
                // The producer's router sends it on through contended links (ClusterEngine.carry).
                let transit = Transit(
                    task: ready.task, destination: Int32(target), tail: now + config.controlLatency, entering: true)
                core.outbox.send(
                    .transit(transit), to: .cluster(Int(ready.origin)), at: now, latency: config.controlLatency)
                continue
            }
            let latency =
                ready.origin < 0
                ? injectionLatency(bytes: ready.task.bytes)
                : config.controlLatency
                    + mesh.transferLatency(from: Int(ready.origin), to: target, bytes: ready.task.bytes)
            core.outbox.send(.task(ready.task), to: .cluster(target), at: now, latency: latency)
        }
        decisionNanos += clock.elapsed
    }

    /// Sends happen at arrivals, broadcasts and planning steps, and (central queue) when blocks
    /// become ready or TBUs free.
    private func earliestOutput() -> Cycle {
        var bound = Cycle.never
        for (key, event) in core.events.unordered {
            switch event {
            case .arrival, .broadcast, .plan, .publish: bound = min(bound, key.time)
            case .message(.load): bound = min(bound, key.time)  // schedules a broadcast no earlier than this
            case .message(.ready), .message(.release): bound = min(bound, key.time)  // central dispatch
            case .message, .deadlockCheck: break
            }
        }
        return bound
    }
}
