import WaferModel

/// The Octopus scheduler and its ablation ladder: `static` → + Discriminate Dual-Scheduling →
/// + Adaptive TBU Scheduling → + Proactive Cluster Scheduling → + diffusion balancing (= `octopus`).
/// Each step adds exactly one strategy to the one before.
public enum OctopusLadder {
    /// Step 1: control blocks on the CBUs, and only types found stable keep reserved TBUs.
    public static let dual = SchedulerDefinition(
        name: "static+dual",
        summary:
            "ablation: static + discriminate dual-scheduling (control on CBUs, stable types pinned, dynamic types pooled)",
        comparison: ComparisonRole(ablationStep: 1, adds: "dual")
    ) { _ in
        Scheduler(
            name: "static+dual", controlPlane: .cbu, routing: .placement(MappedPlacement()), dispatch: FIFODispatch(),
            planning: DualScheduling())
    }

    /// Step 2: + configuration-aware dispatch and adaptive parallelism inside each cluster.
    public static let dualAdaptive = SchedulerDefinition(
        name: "static+dual+adaptive",
        summary:
            "ablation: + adaptive TBU scheduling (configuration-aware, splits long blocks when the queue is short)",
        comparison: ComparisonRole(ablationStep: 2, adds: "adaptive")
    ) { _ in
        Scheduler(
            name: "static+dual+adaptive", controlPlane: .cbu, routing: .placement(MappedPlacement()),
            dispatch: AdaptiveDispatch(),
            planning: DualScheduling())
    }

    /// Step 3: + demand prediction and re-partitioning ahead of it.
    public static let dualAdaptiveProactive = SchedulerDefinition(
        name: "static+dual+adaptive+proactive",
        summary: "ablation: + proactive cluster scheduling (predicts demand, reconfigures ahead of it)",
        comparison: ComparisonRole(ablationStep: 3, adds: "proactive")
    ) { _ in
        Scheduler(
            name: "static+dual+adaptive+proactive", controlPlane: .cbu, routing: .placement(MappedPlacement()),
            dispatch: AdaptiveDispatch(), planning: ProactiveClusterScheduling())
    }

    /// The full scheduler: + diffusion load balancing between mesh neighbours.
    public static let octopus = SchedulerDefinition(
        name: "octopus",
        summary: "Octopus: all of the above + diffusion load balancing between mesh neighbours (default)",
        comparison: ComparisonRole(ablationStep: 4, adds: "diffusion")
    ) { _ in
        Scheduler(
            name: "octopus", controlPlane: .cbu, routing: .placement(MappedPlacement()), dispatch: AdaptiveDispatch(),
            balancing: DiffusionBalancing(rate: 0.2), planning: ProactiveClusterScheduling())
    }
}
