import Scheduling

/// The index of the plan indexed last, shared by the participants of one process.
///
/// The coordinator publishes one plan to every cluster; in one process they all receive the same
/// value (its arrays share storage, so comparing it with the remembered plan costs next to
/// nothing) and the index is built once instead of once per cluster. Participants that share a
/// memo must run one at a time, as the clusters of an in-process session do.
public final class PlanIndexMemo {
    private var last: (plan: WaferPlan, index: PlanIndex)?

    /// A memo with nothing remembered.
    public init() {}

    /// The index of `plan`, built only when it differs from the plan indexed last.
    public func index(for plan: WaferPlan) -> PlanIndex {
        if let last, last.plan == plan { return last.index }
        let index = PlanIndex(plan)
        last = (plan, index)
        return index
    }
}
