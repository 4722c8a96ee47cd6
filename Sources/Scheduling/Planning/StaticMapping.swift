import WaferModel

/// The traditional spatial mapping as a planning policy: when a workload is injected, every type
/// of the injected workflows gets TBUs in proportion to its expected load (``ProportionalMapping``)
/// and runs only there. Nothing is re-planned while the run goes on.
public struct StaticMapping: PlanningPolicy {
    public let name = "static-mapping"
    public let period: Cycle? = nil
    public let observesExecution = false
    private var context: PlanningContext?

    public init() {}

    public mutating func start(_ context: PlanningContext) { self.context = context }

    public func injected(_ streams: [OfferedStream], current: WaferPlan) -> WaferPlan? {
        guard let context else { preconditionFailure("StaticMapping used before start") }
        let slots = ProportionalMapping.map(context.offeredLoads(streams), mesh: context.mesh, tbus: context.tbus)
        return ProportionalMapping.plan(
            slots, clusters: context.mesh.count, tbus: context.tbus, stable: nil, epoch: current.epoch &+ 1)
    }

    public func step(at now: Cycle, view: WaferLoadView, current: WaferPlan) -> PlanningStep { PlanningStep() }
}
