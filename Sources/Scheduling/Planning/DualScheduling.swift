import WaferModel

/// Discriminate Dual-Scheduling's planning half: the proportional mapping of the injected load, of
/// which only the types the ``TaskClassifier`` has found **stable** keep their reserved TBUs; the
/// TBUs of dynamic (or not yet classified) types form the elastic pool. Every `period` the types
/// are classified again from the runs the clusters report, and the reservations follow.
public struct DualScheduling: PlanningPolicy {
    public let name = "dual-scheduling"
    public let observesExecution = true
    public var period: Cycle?
    public private(set) var classifier: TaskClassifier
    private var context: PlanningContext?
    /// The proportional mapping of the last injection.
    private var slots: [ProportionalMapping.Slot] = []

    /// `stableThreshold`: the classifier's coefficient-of-variation threshold (``TaskClassifier``).
    public init(period: Cycle = 200_000, stableThreshold: Double = TaskClassifier.defaultThreshold) {
        self.period = period
        classifier = TaskClassifier(threshold: stableThreshold)
    }

    public mutating func start(_ context: PlanningContext) {
        self.context = context
        classifier.declare(context.visits.keys.sorted())
    }

    public mutating func injected(_ streams: [OfferedStream], current: WaferPlan) -> WaferPlan? {
        guard let context else { preconditionFailure("DualScheduling used before start") }
        slots = ProportionalMapping.map(context.offeredLoads(streams), mesh: context.mesh, tbus: context.tbus)
        return ProportionalMapping.plan(
            slots, clusters: context.mesh.count, tbus: context.tbus, stable: classifier.stableTypes,
            epoch: current.epoch &+ 1)
    }

    public mutating func observeArrival(workflow: UInt16) {
        classifier.observeArrivals(workflow: workflow, count: 1)
    }

    public mutating func observe(_ runs: TypeRuns) {
        classifier.observeRuns(runs.taskType, runs: Double(runs.runs), cycles: runs.cycles, squares: runs.squares)
    }

    public func step(at now: Cycle, view: WaferLoadView, current: WaferPlan) -> PlanningStep {
        guard let context, !slots.isEmpty else { return PlanningStep() }
        let candidate = ProportionalMapping.plan(
            slots, clusters: context.mesh.count, tbus: context.tbus, stable: classifier.stableTypes,
            epoch: current.epoch &+ 1)
        return PlanningStep(plan: candidate.reserved != current.reserved ? candidate : nil)
    }
}
