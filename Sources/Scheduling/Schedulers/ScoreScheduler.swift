import WaferModel

/// `score` — real-time score-based scheduling in the style of SDRM3/DREAM: placement by earliest
/// predicted completion, and each free TBU takes the queued block with the best
/// urgency/affinity/fairness score under online-tuned weights (``ScoreDispatch``).
public enum ScoreScheduler {
    public static let definition = SchedulerDefinition(
        name: "score",
        summary:
            "SDRM3/DREAM-style score (urgency, affinity, fairness) with online weights; earliest-completion placement",
        comparison: ComparisonRole(baseline: true)
    ) { _ in
        Scheduler(
            name: "score", controlPlane: .cbu, routing: .placement(CompletionTimePlacement()), dispatch: ScoreDispatch()
        )
    }
}
