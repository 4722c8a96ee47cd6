import WaferModel

/// What a planning policy knows of the wafer and the workflows before the run starts.
public struct PlanningContext: Sendable {
    public var mesh: Mesh
    public var tbus: Int
    /// Analytic expectation per task-block type: runs per request of its workflow.
    public var visits: [TaskType: Double]
    /// Cycles per run on one TBU (the type's lower bound for per-request shapes).
    public var cycles: [TaskType: Double]
    /// Task-block types reachable downstream of each block (task or control) in its workflow.
    public var downstream: [TaskType: [TaskType]]

    public init(
        mesh: Mesh, tbus: Int, visits: [TaskType: Double], cycles: [TaskType: Double],
        downstream: [TaskType: [TaskType]]
    ) {
        self.mesh = mesh
        self.tbus = tbus
        self.visits = visits
        self.cycles = cycles
        self.downstream = downstream
    }

    /// Expected cycles per unit of time of every type, for streams offering these rates.
    public func offeredLoads(_ streams: [OfferedStream]) -> [TaskType: Double] {
        var loads: [TaskType: Double] = [:]
        for stream in streams {
            for (type, visits) in visits where Int(type.workflow) == stream.workflow {
                loads[type, default: 0] += stream.rate * visits * (cycles[type] ?? 0)
            }
        }
        return loads
    }
}

/// The offered load of one injected arrival stream.
public struct OfferedStream: Equatable, Sendable {
    /// Workflow index in the library.
    public var workflow: Int
    /// Requests per cycle.
    public var rate: Double

    public init(workflow: Int, rate: Double) {
        self.workflow = workflow
        self.rate = rate
    }
}

/// Predicted cycles of one type.
public struct TypeDemand: Equatable, Sendable {
    public var type: TaskType
    public var cycles: Double

    public init(type: TaskType, cycles: Double) {
        self.type = type
        self.cycles = cycles
    }
}

/// A prediction of the work of each type over a horizon, kept by the coordinator to measure its
/// error once the horizon has passed.
public struct DemandPrediction: Equatable, Sendable {
    /// Predicted cycles per type, in type order (one entry per type).
    public var entries: [TypeDemand]
    public var horizon: Cycle

    /// Predicted cycles per type.
    public var demand: [TaskType: Double] {
        Dictionary(uniqueKeysWithValues: entries.map { ($0.type, $0.cycles) })
    }

    public init(entries: [TypeDemand], horizon: Cycle) {
        self.entries = entries
        self.horizon = horizon
    }

    public init(demand: [TaskType: Double], horizon: Cycle) {
        self.init(entries: TypeDemand.ordered(demand), horizon: horizon)
    }
}

extension TypeDemand {
    /// `demand` as entries in type order.
    public static func ordered(_ demand: [TaskType: Double]) -> [TypeDemand] {
        demand.map { TypeDemand(type: $0.key, cycles: $0.value) }.sorted { $0.type < $1.type }
    }
}

/// The outcome of one planning step.
public struct PlanningStep: Equatable, Sendable {
    /// The plan to publish now, or nil to keep the current one.
    public var plan: WaferPlan?
    /// What the step predicted, if it predicts.
    public var prediction: DemandPrediction?

    public init(plan: WaferPlan? = nil, prediction: DemandPrediction? = nil) {
        self.plan = plan
        self.prediction = prediction
    }
}

/// The coordinator's wafer-wide planning: how TBUs are partitioned among task-block types (the
/// ``WaferPlan`` every cluster receives), at injection and in a periodic step.
///
/// The contract the coordinator relies on:
/// - **Deterministic**: plans depend only on the calls made, in the order made. Iterate
///   dictionaries in sorted order wherever floating-point sums are formed.
/// - **Epochs**: a returned plan must carry `current.epoch &+ 1`; clusters rebuild their plan
///   index (and reconfigure TBUs for its wishes) only when the epoch changes.
/// - **Observation costs messages**: when ``observesExecution`` is true, clusters add the runs
///   they finished and the blocks they run to their load signals (more, larger signals); leave it
///   false unless ``observe(_:)`` is needed.
/// - ``period`` nil means no periodic step: ``step(at:view:current:)`` is never called.
public protocol PlanningPolicy: Sendable {
    var name: String { get }
    /// Virtual time between planning steps (nil: none). Read once, after ``start(_:)``: fixed for
    /// the run.
    var period: Cycle? { get }
    /// True when the policy needs finished runs and running blocks from the clusters.
    var observesExecution: Bool { get }
    /// Called once, before anything else.
    mutating func start(_ context: PlanningContext)
    /// A workload was injected; `streams` are all streams injected so far. Returns a plan to
    /// publish at once (before the new requests arrive), or nil.
    mutating func injected(_ streams: [OfferedStream], current: WaferPlan) -> WaferPlan?
    /// A request of `workflow` arrived.
    mutating func observeArrival(workflow: UInt16)
    /// A cluster reported finished runs of one type.
    mutating func observe(_ runs: TypeRuns)
    /// The periodic step.
    mutating func step(at now: Cycle, view: WaferLoadView, current: WaferPlan) -> PlanningStep
    /// For a clairvoyant policy (an ideal reference, not a realisable scheduler): how far ahead it
    /// wants the exact future demand; nil (the default) for policies that predict. Read once,
    /// after ``start(_:)``: fixed for the run.
    var foresightHorizon: Cycle? { get }
    /// The exact work per type that requests will start over the next ``foresightHorizon``
    /// cycles — those in flight (their blocks not yet started) and those that will arrive — from
    /// their own future decisions and block durations. Called just before each step.
    mutating func foresee(_ demand: [TaskType: Double])
}

extension PlanningPolicy {
    public mutating func observeArrival(workflow: UInt16) {}
    public mutating func observe(_ runs: TypeRuns) {}
    public var foresightHorizon: Cycle? { nil }
    public mutating func foresee(_ demand: [TaskType: Double]) {}
}

/// No plan: every TBU runs any type.
public struct NoPlanning: PlanningPolicy {
    public let name = "none"
    public let period: Cycle? = nil
    public let observesExecution = false

    public init() {}

    public mutating func start(_ context: PlanningContext) {}
    public func injected(_ streams: [OfferedStream], current: WaferPlan) -> WaferPlan? { nil }
    public func step(at now: Cycle, view: WaferLoadView, current: WaferPlan) -> PlanningStep { PlanningStep() }
}
