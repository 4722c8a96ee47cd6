import WaferModel

/// `reactive` — reactive threshold rebalancing: successors stay where their input was produced,
/// new requests go to the least-loaded cluster, and an idle cluster steals up to `steal` blocks
/// from the most loaded one once the imbalance exceeds `threshold` pending cycles. Compared at
/// its best setting of a sweep.
public enum ReactiveScheduler {
    public static let definition = SchedulerDefinition(
        name: "reactive",
        summary: "work stealing once an imbalance exceeds a threshold; successors stay local",
        parameters: [
            SchedulerParameter(
                name: "threshold", help: "pending-cycle difference that triggers a steal", defaultValue: 1_000_000),
            SchedulerParameter(
                name: "steal", help: "most blocks moved per steal", defaultValue: 2, range: 1...1_000_000),
        ],
        // Thresholds of 0.2, 1 and 5 ms of queued work (at 1 GHz) × steal sizes of 1 and 4 blocks.
        comparison: ComparisonRole(
            baseline: true,
            sweep: [200_000, 1_000_000, 5_000_000].flatMap { threshold in
                [1, 4].map { ["threshold": threshold, "steal": $0] }
            })
    ) { values in
        Scheduler(
            name: "reactive", controlPlane: .tbu, routing: .placement(LocalPlacement()), dispatch: FIFODispatch(),
            balancing: WorkStealingBalancing(threshold: Cycle(values.int("threshold")), size: values.int("steal")))
    }
}
