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

    /// Where a replay's `file` may be read from.
    public enum ReplayFiles: Sendable {
        /// Any path; relative ones from this directory (a workload file's own folder).
        case relative(to: String?)
        /// Only files inside this directory, named by a relative path (a control message: the
        /// coordinator's `--data-dir`); nil refuses every file.
        case confined(to: String?)
    }

    /// Parses an injection from a workload entry or a control message (`file` labels errors).
    /// `start` is used when the node gives no `start_cycle`; replay files are read as `replayFiles`
    /// allows. A replay without `count` replays every recorded arrival; a larger `count` repeats the
    /// recording. Arrivals that would pass ``Limits/latestArrival`` are refused here, so what
    /// `validate` accepts a run accepts too.
    public static func parse(
        _ node: ConfigNode, defaultStart: Cycle, alsoAllowed: [String] = [],
        replayFiles: ReplayFiles = .relative(to: nil)
    ) throws -> Injection {
        let m = try node.mapping(allowed: fields + alsoAllowed)
        let workflow = try m.required("workflow").string()
        let start = try m.optional("start_cycle")?.cycles() ?? defaultStart
        let seed = UInt64(try m.optional("seed")?.int(in: 0...Int.max) ?? 1)
        let arrivalNode = m.optional("arrival")
        let arrival = try arrivalNode.map { try parseArrival($0, replayFiles: replayFiles) } ?? .burst
        var count: Int
        if let countNode = m.optional("count") {
            count = try countNode.int(in: 1...Limits.requestsPerInjection)
        } else if case .replay(let times) = arrival {
            count = times.count
        } else {
            throw node.error("missing field 'count'")
        }
        let injection = Injection(workflow: workflow, count: count, arrival: arrival, start: start, seed: seed)
        try injection.checkArrivals(at: arrivalNode ?? node)
        return injection
    }

    /// Draws the arrivals once with a fixed seed and refuses them, located at `node`, when they
    /// cannot be drawn (past ``Limits/latestArrival``; a degenerate Markov process). Deterministic
    /// processes are checked exactly; random ones with this seed (the run draws with its own).
    func checkArrivals(at node: ConfigNode) throws {
        var rng = SplitMix64(keys: seed, 0x6172_7269_7661_6c73)  // "arrivals"
        do {
            _ = try arrival.arrivals(count: count, start: start, rng: &rng)
        } catch let error as ArrivalProcess.OutOfRange {
            throw node.error(error.description)
        }
    }

    static func positive(_ node: ConfigNode) throws -> Double { try node.positiveCycles() }

    static func parseArrival(_ arrivalNode: ConfigNode, replayFiles: ReplayFiles) throws -> ArrivalProcess {
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
                    try ArrivalTrace.load(path: try file.string(), from: replayFiles, column: column, node: file))
            case (nil, let times?):
                let list = try times.sequence()
                guard list.count <= Limits.replayArrivals else {
                    throw times.error("at most \(Limits.replayArrivals) arrival times, found \(list.count)")
                }
                let values = try list.map { try $0.cycles() }
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
/// (default: the first). Lines starting with `#` are comments. Errors name the line and column but
/// never quote the file's contents (a control message must not learn what a file holds).
public enum ArrivalTrace {
    /// Loads the trace at `path` (relative to the working directory).
    public static func load(path: String, relativeTo directory: String?, column: String?, node: ConfigNode) throws
        -> [Cycle]
    {
        try load(path: path, from: .relative(to: directory), column: column, node: node)
    }

    /// Loads the trace at `path` as `access` allows.
    public static func load(path: String, from access: Injection.ReplayFiles, column: String?, node: ConfigNode)
        throws -> [Cycle]
    {
        let resolved = try resolve(path, access: access, node: node)
        guard let text = try? String(contentsOfFile: resolved, encoding: .utf8) else {
            throw node.error("cannot read arrival trace '\(path)' (no such file, or not UTF-8 text)")
        }
        var index = 0
        var times: [Cycle] = []
        var sawHeader = false
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            if !sawHeader && times.isEmpty && UInt64(cells[0]) == nil && Double(cells[0]) == nil {
                sawHeader = true
                if let column {
                    guard let found = cells.firstIndex(of: column) else {
                        throw ConfigError(
                            file: path, line: number + 1, field: "", message: "the header row has no column '\(column)'"
                        )
                    }
                    index = found
                }
                continue
            }
            guard index < cells.count, let value = Double(cells[index]), value >= 0,
                value <= Double(Limits.largestCycles)
            else {
                throw ConfigError(
                    file: path, line: number + 1, field: "",
                    message:
                        "column \(index + 1) is not an arrival time in cycles (a number from 0 to \(Limits.largestCycles))"
                )
            }
            guard times.count < Limits.replayArrivals else {
                throw ConfigError(
                    file: path, line: number + 1, field: "", message: "more than \(Limits.replayArrivals) arrivals")
            }
            times.append(Cycle(value.rounded(.down)))
        }
        if column != nil && !sawHeader { throw node.error("'column' needs a header row in '\(path)'") }
        guard !times.isEmpty else { throw node.error("arrival trace '\(path)' has no arrivals") }
        return times.sorted()
    }

    /// The file `path` names under `access`, refused outside a confined directory.
    static func resolve(_ path: String, access: Injection.ReplayFiles, node: ConfigNode) throws -> String {
        switch access {
        case .relative(let directory):
            return path.hasPrefix("/") || directory == nil
                ? path : (directory! as NSString).appendingPathComponent(path)
        case .confined(nil):
            throw node.error(
                "replay files are not read from control messages unless the coordinator was started with --data-dir DIR; send 'times_cycles' instead (octopus ctl inject --trace-file does)"
            )
        case .confined(let directory?):
            let components = path.split(separator: "/", omittingEmptySubsequences: false)
            guard !path.isEmpty, !path.hasPrefix("/"), !components.contains(where: { $0 == ".." || $0.isEmpty }) else {
                throw node.error("'\(path)' must be a relative path inside the coordinator's --data-dir, without '..'")
            }
            let root = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
            let target = URL(fileURLWithPath: (root as NSString).appendingPathComponent(path))
                .resolvingSymlinksInPath().path
            // A symbolic link inside the directory must not lead out of it.
            guard target.hasPrefix(root + "/") else {
                throw node.error("'\(path)' leads outside the coordinator's --data-dir")
            }
            return target
        }
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
            let injection = try Injection.parse(node, defaultStart: 0, replayFiles: .relative(to: directory))
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
