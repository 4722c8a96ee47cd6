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

        var rank: UInt8 {
            switch self {
            case .message: return 0
            case .arrival: return 1
            case .broadcast: return 2
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
    let placement: any ClusterPlacementPolicy
    let cycles: TaskCycleTable

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

    public init(config: WaferConfig, library: WorkflowLibrary, placement: any ClusterPlacementPolicy,
                functional: (any FunctionalExecutor)? = nil) {
        self.config = config
        self.functional = functional
        self.library = library
        self.mesh = config.mesh
        self.placement = placement
        self.cycles = TaskCycleTable(library: library, config: config)
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
        return first...(nextRequestID - 1)
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
            view.clusters[load.cluster] = load
            view.time = now
            viewChanged = true
            ensureBroadcast(after: now)
        case .message(let other):
            preconditionFailure("the coordinator does not receive \(other.kindName) messages")
        case .broadcast:
            broadcast(at: now)
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

        let graph = library[stream.workflow]
        let type = TaskType(workflow: stream.workflow, block: graph.entry)
        let predicted = cycles[type]
        let cluster = placement.place(PlacementRequest(taskType: type, predictedCycles: predicted, inputBytes: graph.inputBytes, origin: nil),
                                      view: view, mesh: mesh)
        view.notePlaced(cycles: predicted, on: cluster)
        viewChanged = true
        ensureBroadcast(after: now)
        trace.append(.injected(time: now, request: request, workflow: UInt16(stream.workflow), cluster: Int32(cluster)))
        trace.append(.inFlight(time: now, count: UInt32(clamping: inFlightArrived)))
        // Only workflows with a generator carry data; the others run as in timing mode.
        let payload = graph.generator == nil ? nil : functional?.input(of: graph, request: request, injected: now, seed: config.seed)
        let task = TaskMessage(request: request, taskType: type, bytes: graph.inputBytes, injected: now, payload: payload)
        outbox.send(.task(task), to: .cluster(cluster), at: now, latency: injectionLatency(bytes: graph.inputBytes))
    }

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

    /// Sends happen at arrivals and broadcasts only.
    private func earliestOutput() -> Cycle {
        var bound = Cycle.never
        for (key, event) in events.unordered {
            switch event {
            case .arrival, .broadcast: bound = min(bound, key.time)
            case .message(.load): bound = min(bound, key.time)  // schedules a broadcast no earlier than this
            case .message: break
            }
        }
        return bound
    }
}
