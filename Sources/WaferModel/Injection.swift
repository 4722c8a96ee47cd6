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
    /// Per-request values of workflow parameters, from a replayed trace's columns (nil: every
    /// request draws them from the workflow's `request_params`).
    public var parameters: RequestValues?

    public init(
        workflow: String, count: Int, arrival: ArrivalProcess, start: Cycle = 0, seed: UInt64 = 1,
        parameters: RequestValues? = nil
    ) {
        self.workflow = workflow
        self.count = count
        self.arrival = arrival
        self.start = start
        self.seed = seed
        self.parameters = parameters
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
        var arrival = ArrivalProcess.burst
        var parameters: RequestValues?
        if let arrivalNode { (arrival, parameters) = try parseArrival(arrivalNode, replayFiles: replayFiles) }
        var count: Int
        if let countNode = m.optional("count") {
            count = try countNode.int(in: 1...Limits.requestsPerInjection)
        } else if case .replay(let times) = arrival {
            count = times.count
        } else {
            throw node.error("missing field 'count'")
        }
        let injection = Injection(
            workflow: workflow, count: count, arrival: arrival, start: start, seed: seed, parameters: parameters)
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

    /// Why `graph` cannot take the parameter values this injection gives (nil: it can).
    public func unknownParameter(of graph: WorkflowGraph) -> String? {
        guard let parameters else { return nil }
        for name in parameters.names where graph.requestParameterIndex(name) == nil {
            let declared = graph.requestParameters.map(\.name)
            return declared.isEmpty
                ? "workflow '\(graph.name)' declares no request_params, so it cannot take '\(name)' from the trace"
                : "workflow '\(graph.name)' has no request parameter '\(name)' (declared: \(declared.joined(separator: ", ")))"
        }
        return nil
    }

    static func positive(_ node: ConfigNode) throws -> Double { try node.positiveCycles() }

    static func parseArrival(_ arrivalNode: ConfigNode, replayFiles: ReplayFiles) throws -> (
        ArrivalProcess, RequestValues?
    ) {
        let a = try arrivalNode.mapping(allowed: [
            "process", "period_cycles", "jitter_cycles", "mean_interval_cycles",
            "on_cycles", "off_cycles", "states", "file", "times_cycles", "column",
            "time_format", "cycles_per_second", "rows", "params",
        ])
        if a.optional("process").map({ (try? $0.string()) == "replay" }) == true, let file = a.optional("file") {
            for (key, value) in a.entries where !Self.replayFields.contains(key) && key != "process" {
                throw value.error(
                    key == "times_cycles"
                        ? "a replay needs exactly one of 'file' (a CSV of arrival times) or 'times_cycles' (a list)"
                        : "a replay arrival process has no '\(key)'")
            }
            let format = try a.optional("time_format")?.choice(TraceTimeFormat.self) ?? .cycles
            let scaleNode = a.optional("cycles_per_second")
            let scale = try scaleNode?.double()
            if format != .cycles && scale == nil {
                throw arrivalNode.error(
                    "time_format \(format.rawValue) needs 'cycles_per_second' (virtual cycles per second of the trace)")
            }
            if let scale, let scaleNode, !(scale > 0 && scale <= 1e15) {
                throw scaleNode.error("must be a positive number of cycles (at most 1e15)")
            }
            if format == .cycles, let scaleNode { throw scaleNode.error("only for time_format seconds or datetime") }
            var rows: ClosedRange<Int>?
            if let rowsNode = a.optional("rows") {
                let bounds = try rowsNode.sequence().map { try $0.int(in: 1...Limits.replayArrivals) }
                guard bounds.count == 2, bounds[0] <= bounds[1] else {
                    throw rowsNode.error("expected [first, last]: data rows counted from 1, first ≤ last")
                }
                rows = bounds[0]...bounds[1]
            }
            var columns: [(parameter: String, column: String)] = []
            var columnNodes: [ConfigNode] = []
            if let paramsNode = a.optional("params") {
                for (name, column) in try paramsNode.mapping().entries {
                    columns.append((name, try column.string()))
                    columnNodes.append(column)
                }
                if columns.isEmpty { throw paramsNode.error("expected parameter: column pairs") }
            }
            var options = ArrivalTrace.Options(
                timeColumn: try a.optional("column")?.string(), format: format, cyclesPerSecond: scale ?? 1,
                rows: rows, parameters: columns)
            // A column the trace lacks is the workload's mistake: located where it names it.
            options.timeColumnNode = a.optional("column")
            options.parameterNodes = columnNodes
            let table = try ArrivalTrace.table(path: try file.string(), from: replayFiles, options: options, node: file)
            return (.replay(table.offsets), table.values)
        }
        for key in ["time_format", "cycles_per_second", "rows", "params"] {
            if let node = a.optional(key) { throw node.error("'\(key)' is for a replay from a 'file'") }
        }
        return (try parseProcess(arrivalNode, a, replayFiles: replayFiles), nil)
    }

    /// The fields of a replay from a file.
    static let replayFields = ["file", "column", "time_format", "cycles_per_second", "rows", "params"]

    static func parseProcess(_ arrivalNode: ConfigNode, _ a: ConfigMapping, replayFiles: ReplayFiles) throws
        -> ArrivalProcess
    {
        let processNode = try a.required("process")
        let process = try processNode.string()
        let used: [String: [String]] = [
            "periodic": ["period_cycles", "jitter_cycles"], "poisson": ["mean_interval_cycles"], "burst": [],
            "onoff": ["mean_interval_cycles", "on_cycles", "off_cycles"], "markov": ["states"],
            "replay": replayFields + ["times_cycles"],
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

/// How a replayed trace gives its times.
public enum TraceTimeFormat: String, CaseIterable, Codable, Sendable {
    /// Cycles after the injection's start (numbers).
    case cycles
    /// Seconds (decimal numbers), converted with `cycles_per_second` relative to the first row.
    case seconds
    /// `YYYY-MM-DD HH:MM:SS[.fraction]` timestamps (UTC, as in the Azure traces), converted with
    /// `cycles_per_second` relative to the first row.
    case datetime
}

/// Per-request values of a workflow's request parameters, one row per recorded arrival in the
/// order of the replay's (sorted) arrival times; request `i` of the injection takes row
/// `i mod rows` (a replay longer than its recording repeats it).
public struct RequestValues: Codable, Equatable, Sendable {
    /// The workflow's request parameters the columns give, in column order.
    public var names: [String]
    public var rows: [[Int]]

    public init(names: [String], rows: [[Int]]) {
        self.names = names
        self.rows = rows
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

    /// The text of the trace named `path` (at `resolved`), or an error at the workload's `node`
    /// saying what is wrong with the file: missing, a directory, unreadable, empty or not UTF-8.
    private static func readTrace(_ path: String, resolved: String, node: ConfigNode) throws -> String {
        do {
            return try ConfigNode.readText(path: resolved)
        } catch let error as ConfigError {
            throw node.error("cannot read arrival trace '\(path)': \(error.message)")
        }
    }

    /// Loads the trace at `path` as `access` allows.
    public static func load(path: String, from access: Injection.ReplayFiles, column: String?, node: ConfigNode)
        throws -> [Cycle]
    {
        let text = try readTrace(path, resolved: try resolve(path, access: access, node: node), node: node)
        var index = 0
        var times: [Cycle] = []
        var sawHeader = false
        for (number, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingSpacesAndNewlines()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingSpaces()
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

    /// What to read from a trace with columns.
    public struct Options {
        /// The arrival-time column (default: the first).
        public var timeColumn: String?
        public var format: TraceTimeFormat
        /// Virtual cycles per second of trace time (seconds and datetime formats).
        public var cyclesPerSecond: Double
        /// Data rows to replay, counted from 1 (nil: all).
        public var rows: ClosedRange<Int>?
        /// Request parameters and the columns that give them.
        public var parameters: [(parameter: String, column: String)]
        /// Where the time column and each parameter's column are named (for errors).
        public var timeColumnNode: ConfigNode?
        public var parameterNodes: [ConfigNode] = []

        public init(
            timeColumn: String? = nil, format: TraceTimeFormat = .cycles, cyclesPerSecond: Double = 1,
            rows: ClosedRange<Int>? = nil, parameters: [(parameter: String, column: String)] = []
        ) {
            self.timeColumn = timeColumn
            self.format = format
            self.cyclesPerSecond = cyclesPerSecond
            self.rows = rows
            self.parameters = parameters
        }
    }

    /// A replayed trace: arrival offsets in time order and, when asked for, each arrival's
    /// parameter values.
    public struct Table {
        public var offsets: [Cycle]
        public var values: RequestValues?
    }

    /// Loads a trace with a header row naming its columns (needed for `timeColumn` and parameters;
    /// without either, as ``load(path:from:column:node:)`` reads it). Times in the seconds and
    /// datetime formats become cycles after the first selected row's; rows are sorted by time, ties
    /// kept in file order. Errors name the file, line and column, never the cells' contents.
    public static func table(path: String, from access: Injection.ReplayFiles, options: Options, node: ConfigNode)
        throws -> Table
    {
        if options.parameters.isEmpty && options.format == .cycles && options.rows == nil {
            return Table(offsets: try load(path: path, from: access, column: options.timeColumn, node: node))
        }
        let text = try readTrace(path, resolved: try resolve(path, access: access, node: node), node: node)
        func fail(_ line: Int, _ message: String) -> ConfigError {
            ConfigError(file: path, line: line, field: "", message: message)
        }
        var header: [String]?
        var timeIndex = 0
        var parameterIndices: [Int] = []
        // (time in the trace's unit: cycles, nanoseconds or seconds; values; row number for ties)
        var records: [(time: Double, exact: Int64, values: [Int])] = []
        var dataRow = 0
        for (number, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingSpacesAndNewlines()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingSpaces()
            }
            guard let columns = header else {
                header = cells
                if let name = options.timeColumn {
                    guard let found = cells.firstIndex(of: name) else {
                        let message = "'\(path)' has no column '\(name)' in its header row (line \(number + 1))"
                        throw options.timeColumnNode?.error(message) ?? node.error(message)
                    }
                    timeIndex = found
                }
                for (position, (parameter, column)) in options.parameters.enumerated() {
                    guard let found = cells.firstIndex(of: column) else {
                        let message =
                            "'\(path)' has no column '\(column)' (for parameter '\(parameter)') in its header row (line \(number + 1))"
                        throw position < options.parameterNodes.count
                            ? options.parameterNodes[position].error(message) : node.error(message)
                    }
                    parameterIndices.append(found)
                }
                continue
            }
            dataRow += 1
            if let rows = options.rows {
                if dataRow < rows.lowerBound { continue }
                if dataRow > rows.upperBound { break }
            }
            guard cells.count == columns.count else {
                throw fail(number + 1, "expected \(columns.count) columns as in the header, found \(cells.count)")
            }
            guard records.count < Limits.replayArrivals else {
                throw fail(number + 1, "more than \(Limits.replayArrivals) arrivals")
            }
            let columnName = columns[timeIndex]
            var time = 0.0
            var exact: Int64 = 0
            switch options.format {
            case .cycles:
                guard let value = Double(cells[timeIndex]), value >= 0, value <= Double(Limits.largestCycles) else {
                    throw fail(
                        number + 1,
                        "column '\(columnName)' is not an arrival time in cycles (0 to \(Limits.largestCycles))")
                }
                time = value.rounded(.down)
            case .seconds:
                guard let value = Double(cells[timeIndex]), value.isFinite, value >= 0 else {
                    throw fail(number + 1, "column '\(columnName)' is not a time in seconds (a number ≥ 0)")
                }
                time = value
            case .datetime:
                guard let nanoseconds = Self.nanoseconds(ofTimestamp: cells[timeIndex]) else {
                    throw fail(
                        number + 1,
                        "column '\(columnName)' is not a timestamp YYYY-MM-DD HH:MM:SS[.fraction] from year \(Self.timestampYears.lowerBound) to \(Self.timestampYears.upperBound)"
                    )
                }
                exact = nanoseconds
            }
            var values: [Int] = []
            for (index, column) in zip(parameterIndices, options.parameters) {
                guard let value = Int(cells[index]), value >= 0, value <= Int(Int32.max) else {
                    throw fail(number + 1, "column '\(column.column)' is not a whole number from 0 to \(Int32.max)")
                }
                values.append(value)
            }
            records.append((time, exact, values))
        }
        guard header != nil else { throw node.error("arrival trace '\(path)' has no header row") }
        guard !records.isEmpty else {
            throw node.error(
                options.rows == nil
                    ? "arrival trace '\(path)' has no arrivals" : "arrival trace '\(path)' has no rows in 'rows'")
        }
        // Stable sort by time (exact integer nanoseconds for timestamps).
        let order = records.indices.sorted {
            let a = records[$0]
            let b = records[$1]
            return options.format == .datetime
                ? (a.exact, $0) < (b.exact, $1) : (a.time, $0) < (b.time, $1)
        }
        var offsets: [Cycle] = []
        offsets.reserveCapacity(order.count)
        let first = records[order[0]]
        for index in order {
            let record = records[index]
            let offset: Double
            switch options.format {
            case .cycles: offset = record.time
            case .seconds: offset = (record.time - first.time) * options.cyclesPerSecond
            case .datetime:
                // Exact in nanoseconds; two timestamps more than 292 years apart do not fit, and
                // lie beyond the cycle limit at any sensible rate, so floating point is then enough.
                let (apart, overflow) = record.exact.subtractingReportingOverflow(first.exact)
                let seconds = overflow ? (Double(record.exact) - Double(first.exact)) / 1e9 : Double(apart) / 1e9
                offset = seconds * options.cyclesPerSecond
            }
            guard offset <= Double(Limits.largestCycles) else {
                throw node.error(
                    "arrival trace '\(path)': an arrival lies more than \(Limits.largestCycles) cycles after the first (a smaller cycles_per_second compresses time)"
                )
            }
            offsets.append(Cycle(offset.rounded(.down)))
        }
        let values =
            options.parameters.isEmpty
            ? nil
            : RequestValues(names: options.parameters.map(\.parameter), rows: order.map { records[$0].values })
        return Table(offsets: offsets, values: values)
    }

    /// The years a timestamp may name: those whose nanoseconds since 1970 fit in 64 bits (a year
    /// 9999 overflowed, and crashed the loader).
    public static let timestampYears = 1678...2261

    /// Nanoseconds since 1970-01-01 of `YYYY-MM-DD HH:MM:SS[.fraction]` (UTC) in
    /// ``timestampYears``, or nil.
    public static func nanoseconds(ofTimestamp text: String) -> Int64? {
        let parts = text.split(separator: " ")
        guard parts.count == 2 else { return nil }
        let date = parts[0].split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        let clock = parts[1].split(separator: ":", omittingEmptySubsequences: false)
        guard date.count == 3, clock.count == 3, let year = date[0], let month = date[1], let day = date[2],
            let hour = Int(clock[0]), let minute = Int(clock[1]),
            timestampYears.contains(year), (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour),
            (0...59).contains(minute)
        else { return nil }
        let secondParts = clock[2].split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(secondParts.count), let second = Int(secondParts[0]), (0...60).contains(second)
        else { return nil }
        var fraction: Int64 = 0
        if secondParts.count == 2 {
            let digits = secondParts[1]
            guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy(\.isASCII), let value = Int64(digits) else {
                return nil
            }
            fraction = value
            for _ in digits.count..<9 { fraction *= 10 }
        }
        // Days since the epoch of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = Int64(era * 146_097 + dayOfEra - 719_468)
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        return seconds * 1_000_000_000 + fraction
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

    /// Loads a workload file, checking workflow names and the request parameters replayed traces
    /// give against `library`.
    public static func load(path: String, library: WorkflowLibrary) throws -> [Injection] {
        try parse(
            ConfigNode.load(path: path), known: Set(library.names),
            directory: (path as NSString).deletingLastPathComponent, library: library)
    }

    /// Parses workload YAML text.
    /// Parses workload YAML text; replay files are found relative to `directory`.
    public static func parse(_ text: String, file: String, known: Set<String>, directory: String? = nil) throws
        -> [Injection]
    {
        try parse(ConfigNode.parse(text, file: file), known: known, directory: directory)
    }

    /// The workflow directory a workload file names (`workflows: DIR`, relative to the file's
    /// folder), or nil when it names none: the library its workflows come from.
    public static func workflowDirectory(path: String) throws -> String? {
        let top = try ConfigNode.load(path: path).mapping(allowed: fields)
        guard let node = top.optional("workflows") else { return nil }
        let directory = try node.string()
        if directory.hasPrefix("/") { return directory }
        return (((path as NSString).deletingLastPathComponent) as NSString).appendingPathComponent(directory)
    }

    /// The top-level fields of a workload file.
    static let fields = ["description", "injections", "workflows"]

    static func parse(_ root: ConfigNode, known: Set<String>, directory: String?, library: WorkflowLibrary? = nil)
        throws -> [Injection]
    {
        let top = try root.mapping(allowed: fields)
        let nodes = try top.required("injections").sequence()
        return try nodes.map { node in
            let injection = try Injection.parse(node, defaultStart: 0, replayFiles: .relative(to: directory))
            if let library, let index = library.index(of: injection.workflow),
                let unknown = injection.unknownParameter(of: library[index]),
                let params = try node.mapping(allowed: Injection.fields).optional("arrival")?.mapping(
                    allowed: ["process"] + Injection.replayFields
                ).optional("params")
            {
                throw params.error(unknown)
            }
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
