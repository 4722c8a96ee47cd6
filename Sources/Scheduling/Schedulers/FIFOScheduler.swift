import WaferModel

/// `fifo` — indiscriminate dynamic scheduling: one global FIFO queue in the coordinator holds every
/// ready block (control blocks included) and hands the oldest to the free PE array nearest its
/// input, whatever the array is configured for.
public enum FIFOScheduler {
    public static let definition = SchedulerDefinition(
        name: "fifo",
        summary: "one global FIFO queue in the coordinator; any free PE array; control blocks queue with task blocks",
        comparison: ComparisonRole(baseline: true)
    ) { _ in
        Scheduler(
            name: "fifo", controlPlane: .tbu, routing: .centralQueue(NearestFreeArray()), dispatch: FIFODispatch())
    }
}
