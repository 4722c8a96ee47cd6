/// A batch of requests of one workflow with an arrival process: what `inject` asks for.
public struct Injection: Codable, Equatable, Sendable {
    /// Workflow name, as in the workflow library.
    public var workflow: String
    public var count: Int
    public var arrival: ArrivalProcess
    /// Virtual time of the first possible arrival.
    public var start: Cycle
    /// Seed of this injection's own arrival stream.
    public var seed: UInt64

    public init(workflow: String, count: Int, arrival: ArrivalProcess, start: Cycle = 0, seed: UInt64 = 1) {
        self.workflow = workflow
        self.count = count
        self.arrival = arrival
        self.start = start
        self.seed = seed
    }

    /// The fields an injection has in workload files and `inject` control messages.
    public static let fields = ["workflow", "count", "arrival", "start_cycle", "seed"]

    /// Parses an injection from a workload entry or a control message (`file` labels errors).
    /// `start` is used when the node gives no `start_cycle`.
    public static func parse(_ node: ConfigNode, defaultStart: Cycle, alsoAllowed: [String] = []) throws -> Injection {
        let m = try node.mapping(allowed: fields + alsoAllowed)
        let workflow = try m.required("workflow").string()
        let count = try m.required("count").int(in: 1...10_000_000)
        let start = try m.optional("start_cycle")?.cycles() ?? defaultStart
        let seed = UInt64(try m.optional("seed")?.int(in: 0...Int.max) ?? 1)
        var arrival = ArrivalProcess.burst
        if let arrivalNode = m.optional("arrival") {
            let a = try arrivalNode.mapping(allowed: ["process", "period_cycles", "jitter_cycles", "mean_interval_cycles"])
            let processNode = try a.required("process")
            switch try processNode.string() {
            case "periodic":
                let periodNode = try a.required("period_cycles")
                let period = try periodNode.cycles()
                if period == 0 { throw periodNode.error("must be at least 1 cycle") }
                let jitter = try a.optional("jitter_cycles")?.cycles() ?? 0
                arrival = .periodic(period: period, jitter: jitter)
            case "poisson":
                let meanNode = try a.required("mean_interval_cycles")
                let mean = try meanNode.double()
                if mean <= 0 { throw meanNode.error("must be positive") }
                arrival = .poisson(meanInterval: mean)
            case "burst":
                arrival = .burst
            case let other:
                throw processNode.error("'\(other)' is not one of: periodic, poisson, burst")
            }
        }
        return Injection(workflow: workflow, count: count, arrival: arrival, start: start, seed: seed)
    }
}

/// A workload file (`Configs/workloads/*.yaml`): the injections a run starts with.
///
/// ```yaml
/// injections:
///   - workflow: detect-classify
///     count: 200
///     arrival: {process: periodic, period_cycles: 20000, jitter_cycles: 4000}
///     seed: 7
/// ```
public enum WorkloadLoader {
    /// Loads a workload file; workflow names are checked against `known`.
    public static func load(path: String, known: Set<String>) throws -> [Injection] {
        try parse(ConfigNode.load(path: path), known: known)
    }

    /// Parses workload YAML text.
    public static func parse(_ text: String, file: String, known: Set<String>) throws -> [Injection] {
        try parse(ConfigNode.parse(text, file: file), known: known)
    }

    static func parse(_ root: ConfigNode, known: Set<String>) throws -> [Injection] {
        let top = try root.mapping(allowed: ["injections"])
        let nodes = try top.required("injections").sequence()
        return try nodes.map { node in
            let injection = try Injection.parse(node, defaultStart: 0)
            guard known.contains(injection.workflow) else {
                throw try node.mapping(allowed: ["workflow", "count", "arrival", "start_cycle", "seed"]).required("workflow")
                    .error("unknown workflow '\(injection.workflow)' (known: \(known.sorted().joined(separator: ", ")))")
            }
            return injection
        }
    }
}
