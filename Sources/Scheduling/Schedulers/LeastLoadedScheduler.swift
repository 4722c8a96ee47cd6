import WaferModel

/// `least-loaded` — the simplest dynamic scheduler: placement by earliest predicted completion,
/// FIFO dispatch, control blocks on the CBUs.
public enum LeastLoadedScheduler {
    public static let definition = SchedulerDefinition(
        name: "least-loaded",
        summary: "earliest-completion placement, FIFO dispatch, control on the CBUs"
    ) { _ in
        Scheduler(
            name: "least-loaded", controlPlane: .cbu, routing: .placement(CompletionTimePlacement()),
            dispatch: FIFODispatch())
    }
}
