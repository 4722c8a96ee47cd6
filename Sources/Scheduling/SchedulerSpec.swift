import WaferModel

/// A complete scheduler of the wafer: which unit runs control blocks, how TBUs are reserved for
/// task-block types, how clusters are chosen, how free TBUs are handed out, and how queued work is
/// rebalanced. The Octopus strategies and the baselines are all points in this space, so the
/// ablation ladder turns one strategy on at a time. A spec is a value: the coordinator and every
/// cluster rebuild the same one from its text form (``parse(_:)``).
public struct SchedulerSpec: Equatable, Sendable, CustomStringConvertible {
    /// Where control blocks run.
    public enum ControlPlane: String, Sendable {
        /// On the cluster's CBUs over the decoupled control plane; they never queue behind task blocks.
        case cbu
        /// On the PE arrays, queued with task blocks (traditional spatial architectures).
        case tbu
    }

    /// How TBUs are reserved for task-block types.
    public enum Mapping: String, Sendable {
        /// Any TBU runs any type.
        case none
        /// Every type is mapped to TBUs at start in proportion to its expected load and only runs
        /// there (the traditional spatial mapping).
        case pinned
        /// Discriminate: types observed to be stable stay pinned to their mapped TBUs; dynamic
        /// (and not yet classified) types share the remaining TBUs as an elastic pool.
        case discriminate
    }

    /// How the cluster of a task block is chosen.
    public enum Placement: String, Sendable {
        /// Pinned types go to their mapped TBUs by a fixed, load-oblivious replica choice; other
        /// types to the cluster with the earliest predicted completion.
        case mapped
        /// Earliest predicted completion (queue, transfer, reconfiguration, compute).
        case completion
        /// Successors stay on the cluster that produced their input; injected requests go to the
        /// least-loaded cluster (work-stealing runtimes).
        case local
        /// One global FIFO queue in the coordinator hands work to any free PE array.
        case global
    }

    /// How a cluster hands queued blocks to its free TBUs.
    public enum Dispatch: String, Sendable {
        /// Oldest first, lowest free TBU first, whatever it is configured for.
        case fifo
        /// Adaptive TBU scheduling: prefer TBUs configured for the type, and split a long block
        /// across several free arrays when nothing else waits.
        case adaptive
        /// Real-time score (urgency, affinity, fairness) with online weights, in the style of SDRM3/DREAM.
        case score
    }

    /// How queued work moves between clusters after placement.
    public enum Balancing: Equatable, Sendable {
        case none
        /// An idle cluster steals up to `size` queued blocks from the most loaded cluster when the
        /// difference in pending cycles exceeds `threshold`.
        case stealing(threshold: Cycle, size: Int)
        /// Clusters exchange load with mesh neighbours only and move `rate` × the difference.
        case diffusion(rate: Double)
    }

    public var name: String
    public var controlPlane: ControlPlane
    public var mapping: Mapping
    public var placement: Placement
    public var dispatch: Dispatch
    public var balancing: Balancing
    /// Proactive cluster scheduling: the coordinator predicts demand every planning period and
    /// re-partitions TBU configurations ahead of it.
    public var proactive: Bool
    /// Period of the coordinator's classification and planning step.
    public var planningPeriod: Cycle
    /// How far ahead the proactive planner predicts demand.
    public var horizon: Cycle

    public init(name: String, controlPlane: ControlPlane, mapping: Mapping, placement: Placement, dispatch: Dispatch,
                balancing: Balancing = .none, proactive: Bool = false, planningPeriod: Cycle = 200_000, horizon: Cycle = 1_000_000) {
        self.name = name
        self.controlPlane = controlPlane
        self.mapping = mapping
        self.placement = placement
        self.dispatch = dispatch
        self.balancing = balancing
        self.proactive = proactive
        self.planningPeriod = planningPeriod
        self.horizon = horizon
    }

    /// True when the coordinator runs a periodic planning step (classification or prediction).
    public var plans: Bool { proactive || mapping == .discriminate }

    /// The text form, which ``parse(_:)`` reads back.
    public var description: String {
        var parameters: [String] = []
        if case .stealing(let threshold, let size) = balancing, name == "reactive" {
            parameters = ["threshold=\(threshold)", "steal=\(size)"]
        }
        return parameters.isEmpty ? name : "\(name):\(parameters.joined(separator: ","))"
    }

    // MARK: Catalogue

    /// The traditional spatial baseline.
    public static let staticMapping = SchedulerSpec(name: "static", controlPlane: .tbu, mapping: .pinned, placement: .mapped, dispatch: .fifo)
    /// Reactive threshold rebalancing by work stealing (default threshold and size; sweep them).
    public static func reactive(threshold: Cycle = 1_000_000, steal: Int = 2) -> SchedulerSpec {
        SchedulerSpec(name: "reactive", controlPlane: .tbu, mapping: .none, placement: .local, dispatch: .fifo,
                      balancing: .stealing(threshold: threshold, size: steal))
    }
    /// Indiscriminate dynamic scheduling: one global FIFO, CBs queued with TBs, any free PE array.
    public static let fifo = SchedulerSpec(name: "fifo", controlPlane: .tbu, mapping: .none, placement: .global, dispatch: .fifo)
    /// Score-based real-time scheduling in the style of SDRM3/DREAM.
    public static let score = SchedulerSpec(name: "score", controlPlane: .cbu, mapping: .none, placement: .completion, dispatch: .score)
    /// Ablation step 1: static + Discriminate Dual-Scheduling.
    public static let dual = SchedulerSpec(name: "static+dual", controlPlane: .cbu, mapping: .discriminate, placement: .mapped, dispatch: .fifo)
    /// Ablation step 2: + Adaptive TBU Scheduling.
    public static let dualAdaptive = SchedulerSpec(name: "static+dual+adaptive", controlPlane: .cbu, mapping: .discriminate, placement: .mapped, dispatch: .adaptive)
    /// Ablation step 3: + Proactive Cluster Scheduling.
    public static let dualAdaptiveProactive = SchedulerSpec(name: "static+dual+adaptive+proactive", controlPlane: .cbu, mapping: .discriminate,
                                                            placement: .mapped, dispatch: .adaptive, proactive: true)
    /// The full Octopus scheduler: all of the above plus diffusion load balancing.
    public static let octopus = SchedulerSpec(name: "octopus", controlPlane: .cbu, mapping: .discriminate, placement: .mapped, dispatch: .adaptive,
                                              balancing: .diffusion(rate: 0.2), proactive: true)
    /// The foundation's scheduler: least-loaded placement, FIFO dispatch, control on CBUs.
    public static let leastLoaded = SchedulerSpec(name: "least-loaded", controlPlane: .cbu, mapping: .none, placement: .completion, dispatch: .fifo)

    /// Every named scheduler, in the order reports list them.
    public static let catalogue: [SchedulerSpec] = [staticMapping, reactive(), fifo, score, leastLoaded, dual, dualAdaptive, dualAdaptiveProactive, octopus]

    /// The ablation ladder: static → + dual → + adaptive → + proactive → + diffusion (= octopus).
    public static let ablation: [SchedulerSpec] = [staticMapping, dual, dualAdaptive, dualAdaptiveProactive, octopus]

    /// A scheduler that cannot be parsed.
    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads `name` or `name:key=value,…` (only `reactive` takes parameters: `threshold` in cycles
    /// and `steal`, the blocks moved per steal).
    public static func parse(_ text: String) throws -> SchedulerSpec {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let name = parts.first, var spec = catalogue.first(where: { $0.name == name }) else {
            throw ParseError(description: "unknown scheduler '\(text)' (known: \(catalogue.map(\.name).joined(separator: ", ")))")
        }
        guard parts.count == 2 else { return spec }
        guard case .stealing(var threshold, var size) = spec.balancing else {
            throw ParseError(description: "scheduler '\(name)' takes no parameters (found '\(parts[1])')")
        }
        for pair in parts[1].split(separator: ",") {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, let value = Int(kv[1].replacingOccurrences(of: "_", with: "")), value > 0 else {
                throw ParseError(description: "scheduler parameter '\(pair)' must be key=positive integer")
            }
            switch kv[0] {
            case "threshold": threshold = Cycle(value)
            case "steal": size = value
            default: throw ParseError(description: "unknown parameter '\(kv[0])' of scheduler '\(name)' (known: threshold, steal)")
            }
        }
        spec.balancing = .stealing(threshold: threshold, size: size)
        return spec
    }
}
