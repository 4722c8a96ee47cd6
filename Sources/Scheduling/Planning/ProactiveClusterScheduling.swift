import WaferModel

/// Proactive Cluster Scheduling on top of dual-scheduling: every `period` the coordinator predicts
/// each type's work over `horizon` (``DemandPredictor``: arrival rates, observed branch and loop
/// statistics, and the work announced by in-flight requests) and re-partitions the TBUs ahead of
/// it (``ProactivePlanner``): stable types reserved in proportion, configuration wishes for the
/// dynamic types on the pool TBUs.
public struct ProactiveClusterScheduling: PlanningPolicy {
    public let name = "proactive"
    public let observesExecution = true
    public var period: Cycle? { dual.period }
    public var horizon: Cycle
    private var dual: DualScheduling
    private var predictor = DemandPredictor(visits: [:], cycles: [:], downstream: [:])
    private let planner = ProactivePlanner()
    /// What every step reads of the wafer, fixed at ``start(_:)``: one reference, so a step
    /// does not copy the mesh's and the context's arrays to read them.
    private final class Wafer: Sendable {
        let mesh: Mesh
        let geometry: PlanGeometry
        init(mesh: Mesh, geometry: PlanGeometry) {
            self.mesh = mesh
            self.geometry = geometry
        }
    }
    private var wafer: Wafer?
    /// The planner's draft, rebuilt in place at every step (``PlanDraft/rebuild(entries:stable:)``).
    private var draft: PlanDraft?
    // What happened since the last step.
    private var lastStep: Cycle = 0
    private var periodArrivals: [UInt16: Int] = [:]
    private var periodRuns: [TaskType: (runs: Double, cycles: Double)] = [:]

    /// `stableThreshold`: the classifier's coefficient-of-variation threshold (``TaskClassifier``).
    /// Plans with the exact future demand instead of its prediction (``foresee(_:)``): the
    /// clairvoyant reference that measures how far the predictor is from ideal.
    public let clairvoyant: Bool
    private var foreseen: [TaskType: Double] = [:]

    /// `clairvoyant`: plan with the exact future demand the host supplies (an ideal reference).
    public init(
        period: Cycle = 200_000, horizon: Cycle = 1_000_000, stableThreshold: Double = TaskClassifier.defaultThreshold,
        clairvoyant: Bool = false
    ) {
        dual = DualScheduling(period: period, stableThreshold: stableThreshold)
        self.horizon = horizon
        self.clairvoyant = clairvoyant
    }

    public var foresightHorizon: Cycle? { clairvoyant ? horizon : nil }

    public mutating func foresee(_ demand: [TaskType: Double]) { foreseen = demand }

    /// The stable/dynamic discrimination it plans with.
    public var classifier: TaskClassifier { dual.classifier }

    public mutating func start(_ context: PlanningContext) {
        let geometry = PlanGeometry(mesh: context.mesh, tbus: context.tbus)
        wafer = Wafer(mesh: context.mesh, geometry: geometry)
        draft = PlanDraft(geometry: geometry)
        dual.start(context)
        predictor = DemandPredictor(visits: context.visits, cycles: context.cycles, downstream: context.downstream)
    }

    public mutating func injected(_ streams: [OfferedStream], current: WaferPlan) -> WaferPlan? {
        dual.injected(streams, current: current)
    }

    public mutating func observeArrival(workflow: UInt16) {
        dual.observeArrival(workflow: workflow)
        periodArrivals[workflow, default: 0] += 1
    }

    public mutating func observe(_ runs: TypeRuns) {
        dual.observe(runs)
        periodRuns[runs.taskType, default: (0, 0)].runs += Double(runs.runs)
        periodRuns[runs.taskType, default: (0, 0)].cycles += runs.cycles
    }

    public mutating func step(at now: Cycle, view: WaferLoadView, current: WaferPlan) -> PlanningStep {
        guard let wafer else { preconditionFailure("ProactiveClusterScheduling used before start") }
        let stable = dual.classifier.stableTypes
        predictor.observe(length: now - lastStep, arrivals: periodArrivals, runs: periodRuns)
        // The blocks queued or running everywhere announce their work; type-ordered entries all
        // the way to the plan (this runs every planning period).
        let demand =
            clairvoyant
            ? TypeDemand.ordered(foreseen) : predictor.predict(horizon: horizon, inFlightOf: view)
        let plan = planner.plan(entries: demand, stable: stable, draft: &draft!, mesh: wafer.mesh, current: current)
        periodArrivals.removeAll(keepingCapacity: true)
        periodRuns.removeAll(keepingCapacity: true)
        lastStep = now
        return PlanningStep(plan: plan, prediction: DemandPrediction(entries: demand, horizon: horizon))
    }
}
