import Foundation

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

    /// This injection with `factor` times the arrival rate and `factor` times the requests (at
    /// least one), so it spans about the same virtual time: how `octopus compare` keeps the load per
    /// cluster constant across wafer sizes and how `--load` raises it.
    public func scaled(by factor: Double) -> Injection {
        var copy = self
        copy.arrival = arrival.scaled(rate: factor)
        copy.count = max(1, Int((Double(count) * factor).rounded()))
        return copy
    }

    /// The fields an injection has in workload files and `inject` control messages.
    public static let fields = ["workflow", "count", "arrival", "start_cycle", "seed"]

    /// Parses an injection from a workload entry or a control message (`file` labels errors).
    /// `start` is used when the node gives no `start_cycle`; replay files are found relative to
    /// `directory`. A replay without `count` replays every recorded arrival; a larger `count` repeats the
    /// recording.
    public static func parse(
        _ node: ConfigNode, defaultStart: Cycle, alsoAllowed: [String] = [], directory: String? = nil
    ) throws -> Injection {
        let m = try node.mapping(allowed: fields + alsoAllowed)
        let workflow = try m.required("workflow").string()
        let start = try m.optional("start_cycle")?.cycles() ?? defaultStart
        let seed = UInt64(try m.optional("seed")?.int(in: 0...Int.max) ?? 1)
        let arrival = try m.optional("arrival").map { try parseArrival($0, directory: directory) } ?? .burst
        var count: Int
        if let countNode = m.optional("count") {
            count = try countNode.int(in: 1...10_000_000)
        } else if case .replay(let times) = arrival {
            count = times.count
        } else {
            throw node.error("missing field 'count'")
        }
        return Injection(workflow: workflow, count: count, arrival: arrival, start: start, seed: seed)
    }

    static func positive(_ node: ConfigNode) throws -> Double {
        let value = try node.double()
        if !(value > 0) || !value.isFinite { throw node.error("must be positive") }
        return value
    }

    static func parseArrival(_ arrivalNode: ConfigNode, directory: String?) throws -> ArrivalProcess {
        let a = try arrivalNode.mapping(allowed: [
            "process", "period_cycles", "jitter_cycles", "mean_interval_cycles",
            "on_cycles", "off_cycles", "states", "file", "times_cycles", "column",
        ])
        let processNode = try a.required("process")
        let process = try processNode.string()
        let used: [String: [String]] = [
            "periodic": ["period_cycles", "jitter_cycles"], "poisson": ["mean_interval_cycles"], "burst": [],
            "onoff": ["mean_interval_cycles", "on_cycles", "off_cycles"], "markov": ["states"],
            "replay": ["file", "times_cycles", "column"],
        ]
        guard let allowed = used[process] else {
            throw processNode.error("'\(process)' is not one of: \(used.keys.sorted().joined(separator: ", "))")
        }
        for (key, value) in a.entries where key != "process" && !allowed.contains(key) {
            throw value.error("a \(process) arrival process has no '\(key)'")
        }
        switch process {
        case "periodic":
            let periodNode = try a.required("period_cycles")
            let period = try periodNode.cycles()
            if period == 0 { throw periodNode.error("must be at least 1 cycle") }
            return .periodic(period: period, jitter: try a.optional("jitter_cycles")?.cycles() ?? 0)
        case "poisson":
            return .poisson(meanInterval: try positive(a.required("mean_interval_cycles")))
        case "onoff":
            let on = try a.required("on_cycles").cycles()
            let off = try a.required("off_cycles").cycles()
            if on == 0 { throw try a.required("on_cycles").error("must be at least 1 cycle") }
            return .onOff(meanInterval: try positive(a.required("mean_interval_cycles")), on: on, off: off)
        case "markov":
            let statesNode = try a.required("states")
            let states = try statesNode.sequence().map { node -> ArrivalProcess.MarkovState in
                let s = try node.mapping(allowed: ["mean_interval_cycles", "mean_dwell_cycles"])
                return ArrivalProcess.MarkovState(
                    meanInterval: try positive(s.required("mean_interval_cycles")),
                    meanDwell: try positive(s.required("mean_dwell_cycles")))
            }
            guard states.count >= 2 else {
                throw statesNode.error("a Markov-modulated process needs at least two states")
            }
            return .markov(states)
        case "replay":
            switch (a.optional("file"), a.optional("times_cycles")) {
            case (let file?, nil):
                let column = try a.optional("column")?.string()
                return .replay(
                    try ArrivalTrace.load(path: try file.string(), relativeTo: directory, column: column, node: file))
            case (nil, let times?):
                let values = try times.sequence().map { try $0.cycles() }
                guard !values.isEmpty else { throw times.error("expected at least one arrival time") }
                return .replay(values.sorted())
            default:
                throw arrivalNode.error(
                    "a replay needs exactly one of 'file' (a CSV of arrival times) or 'times_cycles' (a list)")
            }
        default:
            return .burst
        }
    }
}

/// Reads recorded arrival times for replay: a CSV file with one arrival per row, in cycles after
/// the injection's start. An optional header row names the columns; `column` picks one by name
/// (default: the first). Lines starting with `#` are comments.
public enum ArrivalTrace {
    public static func load(path: String, relativeTo directory: String?, column: String?, node: ConfigNode) throws
        -> [Cycle]
    {
        let resolved =
            path.hasPrefix("/") || directory == nil ? path : (directory! as NSString).appendingPathComponent(path)
        guard let text = try? String(contentsOfFile: resolved, encoding: .utf8) else {
            throw node.error("cannot read arrival trace '\(resolved)'")
        }
        var index = 0
        var times: [Cycle] = []
        var sawHeader = false
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let cells = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if !sawHeader && times.isEmpty && UInt64(cells[0]) == nil && Double(cells[0]) == nil {
                sawHeader = true
                if let column {
                    guard let found = cells.firstIndex(of: column) else {
                        throw ConfigError(
                            file: resolved, line: number + 1, field: "",
                            message: "no column '\(column)' (columns: \(cells.joined(separator: ", ")))")
                    }
                    index = found
                }
                continue
            }
            guard index < cells.count, let value = Double(cells[index]), value >= 0, value.isFinite else {
                throw ConfigError(
                    file: resolved, line: number + 1, field: "",
                    message:
                        "expected a non-negative arrival time in cycles, found '\(index < cells.count ? cells[index] : "")'"
                )
            }
            times.append(Cycle(value.rounded(.down)))
        }
        if column != nil && !sawHeader { throw node.error("'column' needs a header row in '\(resolved)'") }
        guard !times.isEmpty else { throw node.error("arrival trace '\(resolved)' has no arrivals") }
        return times.sorted()
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
        try parse(ConfigNode.load(path: path), known: known, directory: (path as NSString).deletingLastPathComponent)
    }

    /// Parses workload YAML text.
    /// Parses workload YAML text; replay files are found relative to `directory`.
    public static func parse(_ text: String, file: String, known: Set<String>, directory: String? = nil) throws
        -> [Injection]
    {
        try parse(ConfigNode.parse(text, file: file), known: known, directory: directory)
    }

    static func parse(_ root: ConfigNode, known: Set<String>, directory: String?) throws -> [Injection] {
        let top = try root.mapping(allowed: ["description", "injections"])
        let nodes = try top.required("injections").sequence()
        return try nodes.map { node in
            let injection = try Injection.parse(node, defaultStart: 0, directory: directory)
            guard known.contains(injection.workflow) else {
                throw try node.mapping(allowed: ["workflow", "count", "arrival", "start_cycle", "seed"]).required(
                    "workflow"
                )
                .error("unknown workflow '\(injection.workflow)' (known: \(known.sorted().joined(separator: ", ")))")
            }
            return injection
        }
    }
}
