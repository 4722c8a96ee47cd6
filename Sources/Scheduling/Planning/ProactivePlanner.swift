import WaferModel

/// Re-partitions TBU configurations across the wafer ahead of predicted demand (the decision half of
/// Proactive Cluster Scheduling). The reserved part of the plan is the proportional mapping of the
/// predicted demand of stable types (discriminated as in dual-scheduling); pool TBUs receive
/// configuration wishes for the dynamic types in proportion to their predicted demand. A new plan
/// replaces the current one only when it moves at least `hysteresis` of the TBUs, so noise in the
/// prediction does not cause reconfiguration churn.
public struct ProactivePlanner: Sendable {
    public var hysteresis: Double

    public init(hysteresis: Double = 0.1) {
        self.hysteresis = hysteresis
    }

    /// The plan for `demand` (cycles per type over the horizon), or nil to keep `current`: the
    /// plan of ``referencePlan(demand:stable:mesh:tbus:current:)``, computed without building it
    /// unless it replaces `current` (``PlanDraft``).
    public func plan(demand: [TaskType: Double], stable: Set<TaskType>, mesh: Mesh, tbus: Int, current: WaferPlan)
        -> WaferPlan?
    {
        plan(
            demand: demand, stable: stable, geometry: PlanGeometry(mesh: mesh, tbus: tbus), mesh: mesh, current: current
        )
    }

    /// ``plan(demand:stable:mesh:tbus:current:)`` with the wafer's slots built once (`geometry`
    /// is `PlanGeometry(mesh: mesh, tbus: tbus)`).
    public func plan(
        demand: [TaskType: Double], stable: Set<TaskType>, geometry: PlanGeometry, mesh: Mesh, current: WaferPlan
    ) -> WaferPlan? {
        plan(entries: TypeDemand.ordered(demand), stable: stable, geometry: geometry, mesh: mesh, current: current)
    }

    /// ``plan(demand:stable:geometry:mesh:current:)`` for the demand as entries in type order (one
    /// per type), as ``DemandPredictor/predict(horizon:inFlightOf:)`` gives it.
    public func plan(
        entries: [TypeDemand], stable: Set<TaskType>, geometry: PlanGeometry, mesh: Mesh, current: WaferPlan
    ) -> WaferPlan? {
        var draft = PlanDraft(geometry: geometry)
        return plan(entries: entries, stable: stable, draft: &draft, mesh: mesh, current: current)
    }

    /// ``plan(entries:stable:geometry:mesh:current:)`` built in `draft` (a draft of the wafer's
    /// geometry), whose storage a planner that steps every period keeps from one step to the next.
    func plan(entries: [TypeDemand], stable: Set<TaskType>, draft: inout PlanDraft, mesh: Mesh, current: WaferPlan)
        -> WaferPlan?
    {
        guard entries.contains(where: { $0.cycles > 0 }) else { return nil }
        draft.rebuild(entries: entries, stable: stable)
        guard let changed = draft.changedCount(against: current) else {
            let demand = Dictionary(uniqueKeysWithValues: entries.map { ($0.type, $0.cycles) })
            return referencePlan(demand: demand, stable: stable, mesh: mesh, tbus: draft.tbus, current: current)
        }
        let total = draft.geometry.plannedTBUs
        return Double(changed) >= hysteresis * Double(total) ? draft.plan(epoch: current.epoch &+ 1) : nil
    }

    /// The plan's definition, built from ``ProportionalMapping``: the proportional mapping of the
    /// demand with the stable types reserved, and the pool TBUs' wishes for the dynamic types.
    public func referencePlan(
        demand: [TaskType: Double], stable: Set<TaskType>, mesh: Mesh, tbus: Int, current: WaferPlan
    ) -> WaferPlan? {
        guard demand.values.contains(where: { $0 > 0 }) else { return nil }
        let slots = ProportionalMapping.map(demand, mesh: mesh, tbus: tbus)
        var plan = ProportionalMapping.plan(
            slots, clusters: mesh.count, tbus: tbus, stable: stable, epoch: current.epoch &+ 1)
        // Pool TBUs: configuration wishes for dynamic types, proportional to their demand.
        let reserved = Set(plan.reserved.joined().joined())
        let dynamicDemand = demand.filter { !stable.contains($0.key) || !reserved.contains($0.key) }
        let pool = slots.filter { plan.reserved[$0.cluster][$0.tbu].isEmpty }
        if !pool.isEmpty, !dynamicDemand.isEmpty {
            let ordered = dynamicDemand.sorted { $0.key < $1.key }
            let total = ordered.reduce(0) { $0 + $1.value }
            var start = 0.0
            var index = 0
            for (k, slot) in pool.enumerated() {
                // The type covering the middle of this pool TBU's segment.
                let middle = (Double(k) + 0.5) / Double(pool.count) * total
                while index < ordered.count - 1 && start + ordered[index].value <= middle {
                    start += ordered[index].value
                    index += 1
                }
                plan.configure[slot.cluster][slot.tbu] = ordered[index].key
            }
        }
        let changed =
            zip(plan.reserved.joined(), current.reserved.joined()).filter { $0 != $1 }.count
            + zip(plan.configure.joined(), current.configure.joined()).filter { $0 != $1 }.count
        let total = min(mesh.count * tbus, mesh.totalWorkingTBUs)
        return Double(changed) >= hysteresis * Double(total) ? plan : nil
    }
}
