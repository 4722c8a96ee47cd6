import WaferModel

/// The Octopus scheduler and its ablation ladder: `static` → + Discriminate Dual-Scheduling →
/// + Adaptive TBU Scheduling → + Proactive Cluster Scheduling → + diffusion balancing (= `octopus`).
/// Each step adds exactly one strategy to the one before.
public enum OctopusLadder {
    /// How often the coordinator re-plans (classification, mapping, prediction). The default
    /// suits workloads whose blocks last microseconds to milliseconds; workloads whose blocks
    /// last seconds (LLM serving) plan far less often without losing anything.
    static let period = SchedulerParameter(
        name: "period", help: "cycles between planning steps", defaultValue: 200_000, range: 1_000...1_000_000_000_000,
        hiddenAtDefault: true)
    /// Whether reserved TBUs are lent out while none of their types waits (work-conserving).
    static let lend = SchedulerParameter(
        name: "lend", help: "1: lend idle reserved TBUs to other types (work-conserving), 0: keep them",
        defaultValue: 0, range: 0...1, hiddenAtDefault: true)
    /// The dual-scheduling discrimination: a type is stable (keeps reserved TBUs) while the
    /// coefficients of variation of its execution time and frequency stay at most this.
    static let stable = SchedulerParameter(
        name: "stable",
        help:
            "coefficient-of-variation threshold under which a type is stable and keeps reserved TBUs (0: only constant types; 10: nearly every type)",
        defaultValue: TaskClassifier.defaultThreshold, integer: false, range: 0...1_000, hiddenAtDefault: true)
    /// How far ahead the proactive planner predicts demand.
    static let horizon = SchedulerParameter(
        name: "horizon", help: "cycles of demand the proactive planner predicts", defaultValue: 1_000_000,
        range: 1_000...1_000_000_000_000, hiddenAtDefault: true)

    /// Step 1: control blocks on the CBUs, and only types found stable keep reserved TBUs.
    public static let dual = SchedulerDefinition(
        name: "static+dual",
        summary:
            "ablation: static + discriminate dual-scheduling (control on CBUs, stable types pinned, dynamic types pooled)",
        parameters: [period],
        comparison: ComparisonRole(ablationStep: 1, adds: "dual")
    ) { values in
        Scheduler(
            name: "static+dual", controlPlane: .cbu, routing: .placement(MappedPlacement()), dispatch: FIFODispatch(),
            planning: DualScheduling(period: Cycle(values.int("period"))))
    }

    /// Step 2: + configuration-aware dispatch and adaptive parallelism inside each cluster.
    public static let dualAdaptive = SchedulerDefinition(
        name: "static+dual+adaptive",
        summary:
            "ablation: + adaptive TBU scheduling (configuration-aware, splits long blocks when the queue is short)",
        parameters: [period],
        comparison: ComparisonRole(ablationStep: 2, adds: "adaptive")
    ) { values in
        Scheduler(
            name: "static+dual+adaptive", controlPlane: .cbu, routing: .placement(MappedPlacement()),
            dispatch: AdaptiveDispatch(),
            planning: DualScheduling(period: Cycle(values.int("period"))))
    }

    /// Step 3: + demand prediction and re-partitioning ahead of it.
    public static let dualAdaptiveProactive = SchedulerDefinition(
        name: "static+dual+adaptive+proactive",
        summary: "ablation: + proactive cluster scheduling (predicts demand, reconfigures ahead of it)",
        parameters: [period, horizon],
        comparison: ComparisonRole(ablationStep: 3, adds: "proactive")
    ) { values in
        Scheduler(
            name: "static+dual+adaptive+proactive", controlPlane: .cbu, routing: .placement(MappedPlacement()),
            dispatch: AdaptiveDispatch(),
            planning: ProactiveClusterScheduling(
                period: Cycle(values.int("period")), horizon: Cycle(values.int("horizon"))))
    }

    /// The full scheduler: + diffusion load balancing between mesh neighbours.
    public static let octopus = SchedulerDefinition(
        name: "octopus",
        summary: "Octopus: all of the above + diffusion load balancing between mesh neighbours (default)",
        parameters: [period, horizon, lend, stable],
        comparison: ComparisonRole(ablationStep: 4, adds: "diffusion")
    ) { values in
        var scheduler = Scheduler(
            name: "octopus", controlPlane: .cbu, routing: .placement(MappedPlacement()), dispatch: AdaptiveDispatch(),
            balancing: DiffusionBalancing(rate: 0.2),
            planning: ProactiveClusterScheduling(
                period: Cycle(values.int("period")), horizon: Cycle(values.int("horizon")),
                stableThreshold: values.double("stable")))
        scheduler.lendsIdleReservations = values.int("lend") == 1
        return scheduler
    }

    /// Octopus with perfect prediction: the proactive planner is given each request's exact future
    /// work — the blocks it will run, from its own future control decisions and block durations
    /// (drawn from the same seeded streams as the run), for requests in flight and those that
    /// will arrive within the horizon — instead of predicting it. Not a realisable scheduler: the
    /// ideal that measures how far Octopus's predictor is from perfect (timing mode only).
    public static let clairvoyant = SchedulerDefinition(
        name: "octopus-clairvoyant",
        summary: "ideal reference: octopus whose planner knows each request's future work exactly (not realisable)",
        parameters: [period, horizon, lend, stable],
        comparison: ComparisonRole(ideal: "perfect prediction")
    ) { values in
        var scheduler = Scheduler(
            name: "octopus-clairvoyant", controlPlane: .cbu, routing: .placement(MappedPlacement()),
            dispatch: AdaptiveDispatch(), balancing: DiffusionBalancing(rate: 0.2),
            planning: ProactiveClusterScheduling(
                period: Cycle(values.int("period")), horizon: Cycle(values.int("horizon")),
                stableThreshold: values.double("stable"), clairvoyant: true))
        scheduler.lendsIdleReservations = values.int("lend") == 1
        return scheduler
    }
}
