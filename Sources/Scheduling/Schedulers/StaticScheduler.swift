import WaferModel

/// `static` — the traditional spatial baseline: every type is mapped to TBUs at injection in
/// proportion to its expected load and runs only there; blocks go to a replica by a
/// load-oblivious stream split; control blocks queue on the arrays with task blocks; nothing is
/// rebalanced. The base of the ablation ladder.
public enum StaticScheduler {
    public static let definition = SchedulerDefinition(
        name: "static",
        summary:
            "spatial mapping in proportion to expected load, fixed stream split, control on the arrays, no rebalancing",
        comparison: ComparisonRole(baseline: true, ablationStep: 0)
    ) { _ in
        Scheduler(
            name: "static", controlPlane: .tbu, routing: .placement(MappedPlacement()), dispatch: FIFODispatch(),
            planning: StaticMapping())
    }
}
