import Foundation

/// Reads and validates workflow files (`Configs/workflows/*.yaml`): the Orchestrated Workflow
/// Graph language. `docs/workflows.md` is its reference; a short example:
///
/// ```yaml
/// name: detect-classify
/// input: {shape: [224, 224, 3], dtype: int8}
/// phases: {repeat: true, schedule: [{name: quiet, duration_cycles: 4000000}, {name: crowded, duration_cycles: 4000000}]}
/// blocks:
///   - name: detector
///     task: [{model: yolov3-tiny}]
///     output: {shape: [16, 6], dtype: fp32}
///     next: objects
///   - name: objects
///     foreach: {count: {quiet: {poisson: 1, max: 16}, crowded: {poisson: 6, max: 16}}, body: classifier, join: merge}
///   - name: classifier
///     task: [{model: resnet50-fc}]
///     next: merge
///   - name: merge
///     join: all
/// ```
public enum WorkflowLoader {
    /// Finds layer tables by name for `model:` operations (nil: no tables available).
    public typealias TopologyResolver = (String) throws -> TopologyTable?

    /// Loads one workflow file; `model:` operations look tables up in `topologies` (a directory).
    /// A group file (several workflows) is an error here; use ``loadAll(path:topologies:)``.
    public static func load(path: String, topologies: String? = nil) throws -> WorkflowGraph {
        let graphs = try loadAll(path: path, topologies: topologies)
        guard graphs.count == 1 else {
            throw ConfigError(
                file: path, line: nil, field: "workflows",
                message:
                    "this group file defines \(graphs.count) workflows (\(graphs.map(\.name).joined(separator: ", "))); name one of them"
            )
        }
        return graphs[0]
    }

    /// Loads a workflow file, or a group file whose `workflows:` list holds several workflows that
    /// belong together (e.g. the tasks of an AR assistant, each injected at its own rate):
    ///
    /// ```yaml
    /// group: ar-assistant
    /// description: …
    /// workflows:
    ///   - name: ar-voice
    ///     blocks: […]
    /// ```
    public static func loadAll(path: String, topologies: String? = nil) throws -> [WorkflowGraph] {
        try parseAll(ConfigNode.load(path: path), topologies: directoryResolver(topologies))
    }

    static func parseAll(_ root: ConfigNode, topologies: TopologyResolver) throws -> [WorkflowGraph] {
        guard case .mapping = root.node, let group = try? root.mapping(allowed: ["group", "description", "workflows"]),
            let list = group.optional("workflows")
        else {
            return [try parse(root, topologies: topologies)]
        }
        let groupName = try group.required("group").string()
        let nodes = try list.sequence()
        guard !nodes.isEmpty else { throw list.error("a group needs at least one workflow") }
        var seen = Set<String>()
        return try nodes.map { node in
            var graph = try parse(node, topologies: topologies)
            if !seen.insert(graph.name).inserted {
                throw node.error("duplicate workflow '\(graph.name)' in group '\(groupName)'")
            }
            graph.group = groupName
            return graph
        }
    }

    /// Parses YAML text (`file` labels errors).
    public static func parse(_ text: String, file: String, topologies: String? = nil) throws -> WorkflowGraph {
        try parse(ConfigNode.parse(text, file: file), topologies: directoryResolver(topologies))
    }

    /// Looks tables up as `<directory>/<name>.csv`.
    static func directoryResolver(_ directory: String?) -> TopologyResolver {
        { name in
            guard let directory else { return nil }
            let path = (directory as NSString).appendingPathComponent(name + ".csv")
            return FileManager.default.fileExists(atPath: path) ? try TopologyTable.load(path: path) : nil
        }
    }

    static let controlKeywords = ["branch", "loop", "foreach", "parallel", "join", "exit"]

    static func parse(_ root: ConfigNode, topologies: TopologyResolver) throws -> WorkflowGraph {
        let top = try root.mapping(allowed: [
            "name", "description", "input_bytes", "input", "generator", "phases",
            "deadline_cycles", "entry", "blocks", "request_params",
        ])
        let name = try top.required("name").string()
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw try top.required("name").error("use letters, digits, '-' and '_' only")
        }
        let description = try top.optional("description")?.string() ?? ""
        let phases = try top.optional("phases").map(parsePhases) ?? .constant
        let input = try top.optional("input").map(parseTensor)
        if top.has("input_bytes"), let inputNode = top.optional("input") {
            throw inputNode.error("give either 'input' (shape and dtype) or 'input_bytes', not both")
        }
        var inputBytes = UInt64(try top.optional("input_bytes")?.int(in: 0...Int(Int32.max)) ?? 0)
        if let input {
            guard let bytes = input.bytes else {
                throw try top.required("input").error("the workflow input needs a numeric shape")
            }
            inputBytes = bytes
        }
        let generator = try top.optional("generator").map { try parseGenerator($0, phases: phases) }
        let deadline = try top.optional("deadline_cycles").map { node -> Cycle in
            let value = try node.cycles()
            if value == 0 { throw node.error("must be at least 1 cycle") }
            return value
        }
        // Parameters every request carries: a value from the request (a trace column) or a draw.
        var requestParameters: [String: ParameterDistribution] = [:]
        if let node = top.optional("request_params") {
            for (key, value) in try node.mapping().entries {
                guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                    throw value.error("a request parameter's name uses letters, digits and '_' only")
                }
                requestParameters[key] = try parseDistribution(value, minimum: 0)
            }
        }
        let blockNodes = try top.required("blocks").sequence()
        guard !blockNodes.isEmpty else { throw try top.required("blocks").error("a workflow needs at least one block") }

        // First pass: names, so successors can refer forward.
        var names: [String: Int] = [:]
        var parsed: [(name: String, node: ConfigNode, fields: ConfigMapping)] = []
        for node in blockNodes {
            let fields = try node.mapping(
                allowed: ["name", "task", "output_bytes", "input", "output", "function", "next"] + controlKeywords)
            let nameNode = try fields.required("name")
            let blockName = try nameNode.string()
            if blockName == "end" { throw nameNode.error("'end' is reserved: it means the request completes") }
            if names[blockName] != nil { throw nameNode.error("duplicate block name '\(blockName)'") }
            names[blockName] = parsed.count
            parsed.append((blockName, node, fields))
        }

        func successor(_ node: ConfigNode?) throws -> Successor {
            guard let node else { return .end }
            let target = try node.string()
            if target == "end" { return .end }
            guard let index = names[target] else {
                throw node.error(
                    "unknown block '\(target)' (known: \(names.keys.sorted().joined(separator: ", ")), end)")
            }
            return .block(index)
        }
        func block(_ node: ConfigNode) throws -> Int {
            guard case .block(let index) = try successor(node) else { throw node.error("expected a block, not 'end'") }
            return index
        }

        var blocks: [WorkflowBlock] = []
        var requestTrips: [Int: String] = [:]
        for entry in parsed {
            let f = entry.fields
            let kinds = (["task"] + controlKeywords).filter { f.has($0) }
            guard kinds.count == 1 else {
                throw entry.node.error(
                    "block '\(entry.name)' needs exactly one of: task, \(controlKeywords.joined(separator: ", "))")
            }
            let kind = kinds[0]
            if kind != "task" {
                for field in ["output_bytes", "input", "output", "function"] where f.has(field) {
                    throw f.optional(field)!.error("a \(kind) block has no '\(field)': only task blocks transform data")
                }
            }
            let usesNext = ["task", "loop", "join", "exit"].contains(kind)
            if !usesNext, let nextNode = f.optional("next") {
                throw nextNode.error(
                    kind == "branch"
                        ? "a branch block has no 'next'; use its 'then' and 'else'"
                        : "a \(kind) block has no 'next'; its join's 'next' says where the request goes")
            }
            let next = try successor(f.optional("next"))
            switch kind {
            case "task":
                let operations = try f.required("task").sequence().flatMap {
                    try parseOperations(
                        $0, topologies: topologies, phases: phases, requestParameters: requestParameters,
                        blocks: names)
                }
                if operations.isEmpty {
                    throw try f.required("task").error("a task block needs at least one operation")
                }
                let inputSpec = try f.optional("input").map(parseTensor)
                let outputSpec = try f.optional("output").map(parseTensor)
                if f.has("output_bytes"), let outputNode = f.optional("output") {
                    throw outputNode.error("give either 'output' (shape and dtype) or 'output_bytes', not both")
                }
                var outputBytes = UInt64(try f.optional("output_bytes")?.int(in: 0...Int(Int32.max)) ?? 0)
                if let outputSpec {
                    guard let bytes = outputSpec.bytes else {
                        throw try f.required("output").error(
                            "an output needs a numeric shape (named dimensions are for inputs)")
                    }
                    outputBytes = bytes
                }
                let function = try f.optional("function").map(parseFunction)
                blocks.append(
                    WorkflowBlock(
                        name: entry.name,
                        kind: .task(
                            TaskBlock(
                                operations: operations, outputBytes: outputBytes, next: next, input: inputSpec,
                                output: outputSpec, function: function))))
            case "branch":
                let b = try f.required("branch").mapping(allowed: ["probability", "when", "then", "else"])
                let decision = try parseDecision(b, phases: phases)
                blocks.append(
                    WorkflowBlock(
                        name: entry.name,
                        kind: .control(
                            .branch(
                                decision, then: try successor(b.required("then")),
                                otherwise: try successor(b.optional("else"))))))
            case "exit":
                let node = try f.required("exit")
                let e = try node.mapping(allowed: ["probability", "when"])
                blocks.append(
                    WorkflowBlock(
                        name: entry.name, kind: .control(.exit(try parseDecision(e, phases: phases), otherwise: next))))
            case "loop":
                let node = try f.required("loop")
                let l = try node.mapping(allowed: ["body", "trips", "continue_probability", "until", "max"])
                guard let maxNode = l.optional("max") else {
                    throw node.error("a loop needs a bound: give 'max' (the most body runs per entry)")
                }
                let maximum = try maxNode.int(in: 1...1_000_000)
                let bound: LoopBound
                switch (l.optional("trips"), l.optional("continue_probability")) {
                case (let trips?, nil):
                    if let use = try parseRequestUse(trips, requestParameters: requestParameters, blocks: names) {
                        if let other = use.plusIterationOf {
                            throw trips.error("a loop's trips cannot add the iteration of '\(other)'")
                        }
                        requestTrips[blocks.count] = use.parameter
                        bound = .trips(Phased(requestParameters[use.parameter]!))
                    } else {
                        bound = .trips(
                            try parsePhased(trips, phases: phases) { try parseDistribution($0, minimum: 0) })
                    }
                case (nil, let p?):
                    bound = .continueProbability(try parsePhased(p, phases: phases, parseProbability))
                case (nil, nil):
                    throw node.error("a loop needs 'trips' (a distribution of body runs) or 'continue_probability'")
                case (_?, let p?):
                    throw p.error("give either 'trips' or 'continue_probability', not both")
                }
                let until = try l.optional("until").map(parsePredicate)
                blocks.append(
                    WorkflowBlock(
                        name: entry.name,
                        kind: .control(
                            .loop(
                                body: try block(l.required("body")), exit: next,
                                bound: bound, until: until, max: maximum))))
            case "foreach":
                let fe = try f.required("foreach").mapping(allowed: ["count", "count_from", "body", "join"])
                let count = try parsePhased(try fe.required("count"), phases: phases) {
                    try parseDistribution($0, minimum: 0)
                }
                let countFrom = try fe.optional("count_from").map(parseCount)
                blocks.append(
                    WorkflowBlock(
                        name: entry.name,
                        kind: .control(
                            .forEach(
                                body: try block(fe.required("body")), join: try block(fe.required("join")),
                                count: count, countFrom: countFrom))))
            case "parallel":
                let pa = try f.required("parallel").mapping(allowed: ["branches", "join"])
                let branchNodes = try pa.required("branches").sequence()
                guard branchNodes.count >= 2 else {
                    throw try pa.required("branches").error("a parallel block needs at least two branches")
                }
                blocks.append(
                    WorkflowBlock(
                        name: entry.name,
                        kind: .control(
                            .parallel(branches: try branchNodes.map(block), join: try block(pa.required("join"))))))
            case "join":
                let node = try f.required("join")
                let mode: JoinMode
                if case .scalar = node.node {
                    mode = try node.choice(JoinMode.self)
                } else {
                    mode = try node.mapping(allowed: ["wait"]).required("wait").choice(JoinMode.self)
                }
                blocks.append(WorkflowBlock(name: entry.name, kind: .control(.join(mode, next: next))))
            default:
                preconditionFailure("unhandled block kind \(kind)")
            }
        }

        var entryIndex = 0
        if let entryNode = top.optional("entry") { entryIndex = try block(entryNode) }
        var graph = WorkflowGraph(
            name: name, description: description, blocks: blocks, entry: entryIndex, inputBytes: inputBytes,
            input: input, generator: generator, phases: phases, deadlineCycles: deadline)
        graph.requestParameters = requestParameters.keys.sorted().map {
            RequestParameter(name: $0, values: requestParameters[$0]!)
        }
        graph.requestTrips = requestTrips
        // A step's context may grow with a loop's iteration: that block must be a loop.
        for (index, block) in blocks.enumerated() {
            guard case .task(let task) = block.kind else { continue }
            for case .model(let model) in task.operations {
                for use in model.fromRequest.values {
                    guard let loop = use.plusIterationOf else { continue }
                    guard case .control(.loop) = blocks[names[loop]!].kind else {
                        throw parsed[index].node.error(
                            "block '\(block.name)': plus_iteration_of names '\(loop)', which is not a loop block")
                    }
                }
            }
        }
        try WorkflowValidator.validate(graph, blocks: parsed.map { ($0.node, $0.fields) })
        return graph
    }

    // MARK: Phases, distributions, decisions

    /// `phases: {repeat: true, schedule: [{name: quiet, duration_cycles: N}, …]}`.
    static func parsePhases(_ node: ConfigNode) throws -> PhaseSchedule {
        let m = try node.mapping(allowed: ["repeat", "schedule"])
        let repeats = try m.optional("repeat")?.bool() ?? false
        let entries = try m.required("schedule").sequence()
        guard !entries.isEmpty else {
            throw try m.required("schedule").error("a phase schedule needs at least one phase")
        }
        var phases: [PhaseSchedule.Phase] = []
        for (index, entry) in entries.enumerated() {
            let p = try entry.mapping(allowed: ["name", "duration_cycles"])
            let nameNode = try p.required("name")
            let name = try nameNode.string()
            if phases.contains(where: { $0.name == name }) { throw nameNode.error("duplicate phase '\(name)'") }
            let duration = try p.optional("duration_cycles")?.cycles()
            if duration == 0 { throw p.optional("duration_cycles")!.error("must be at least 1 cycle") }
            let isLast = index == entries.count - 1
            if duration == nil && (repeats || !isLast) {
                throw entry.error(
                    repeats
                        ? "every phase of a repeating schedule needs 'duration_cycles'"
                        : "only the last phase may omit 'duration_cycles' (it then lasts forever)")
            }
            phases.append(PhaseSchedule.Phase(name: name, durationCycles: duration))
        }
        return PhaseSchedule(phases: phases, repeats: repeats)
    }

    /// A value that is either the same in every phase or a mapping from each phase name to a value.
    static func parsePhased<T>(_ node: ConfigNode, phases: PhaseSchedule, _ parseOne: (ConfigNode) throws -> T) throws
        -> Phased<T>
    {
        let names = phases.names
        if names.count > 1, case .mapping = node.node, let m = try? node.mapping(allowed: names),
            !m.entries.isEmpty
        {
            let missing = names.filter { !m.has($0) }
            guard missing.isEmpty else {
                throw node.error("phase-dependent value misses phase(s) \(missing.joined(separator: ", "))")
            }
            return Phased(perPhase: try names.map { try parseOne(try m.required($0)) })
        }
        return Phased(try parseOne(node))
    }

    static func parseProbability(_ node: ConfigNode) throws -> Double {
        let p = try node.double()
        guard (0...1).contains(p) else { throw node.error("must be between 0 and 1, found \(p)") }
        return p
    }

    static func parseDecision(_ m: ConfigMapping, phases: PhaseSchedule) throws -> Decision {
        guard let probability = m.optional("probability") else {
            throw m.owner.error(
                "needs 'probability' (what timing mode draws; functional mode uses 'when' on the data when given)")
        }
        return Decision(
            probability: try parsePhased(probability, phases: phases, parseProbability),
            predicate: try m.optional("when").map(parsePredicate))
    }

    /// `{shape: [224, 224, 3], dtype: int8}`; a dimension may be a name (`[n, 6]`) matching any size.
    static func parseTensor(_ node: ConfigNode) throws -> TensorSpec {
        let m = try node.mapping(allowed: ["shape", "dtype"])
        let dims = try m.required("shape").sequence().map { d -> Dimension in
            if let n = try? d.int(in: 1...Int(Int32.max)) { return .fixed(n) }
            let symbol = try d.string()
            guard let first = symbol.first, first.isLetter else {
                throw d.error("a dimension is a positive integer or a name")
            }
            return .symbol(symbol)
        }
        guard !dims.isEmpty else { throw try m.required("shape").error("a shape needs at least one dimension") }
        let dtype = try m.optional("dtype")?.choice(DType.self) ?? .int8
        return TensorSpec(shape: dims, dtype: dtype)
    }

    static func parsePredicate(_ node: ConfigNode) throws -> TensorPredicate {
        let m = try node.mapping(allowed: ["argmax_in", "max_above", "max_below", "any_row"])
        guard m.entries.count == 1 else {
            throw node.error("a condition needs exactly one of: argmax_in, max_above, max_below, any_row")
        }
        if let classes = m.optional("argmax_in") {
            return .argmaxIn(try classes.sequence().map { try $0.int(in: 0...Int(Int32.max)) })
        }
        if let t = m.optional("max_above") { return .maxAbove(try t.double()) }
        if let t = m.optional("max_below") { return .maxBelow(try t.double()) }
        let row = try m.required("any_row").mapping(allowed: ["column", "above", "below"])
        let column = try row.required("column").int(in: 0...Int(Int32.max))
        switch (row.optional("above"), row.optional("below")) {
        case (let a?, nil): return .anyRowAbove(column: column, threshold: try a.double())
        case (nil, let b?): return .anyRowBelow(column: column, threshold: try b.double())
        default: throw row.owner.error("any_row needs exactly one of 'above' or 'below'")
        }
    }

    static func parseCount(_ node: ConfigNode) throws -> TensorCount {
        if case .scalar = node.node {
            guard try node.string() == "rows" else {
                throw node.error("expected 'rows' or {rows_where: {column: C, above: T}}")
            }
            return .rows
        }
        let w = try node.mapping(allowed: ["rows_where"]).required("rows_where").mapping(allowed: ["column", "above"])
        return .rowsWhere(
            column: try w.required("column").int(in: 0...Int(Int32.max)), above: try w.required("above").double())
    }

    static func parseFunction(_ node: ConfigNode) throws -> FunctionalKernel {
        let m = try node.mapping(allowed: ["detect", "nms", "classify", "dense"])
        guard m.entries.count == 1, let (key, value) = m.entries.first else {
            throw node.error("a function needs exactly one of: detect, nms, classify, dense")
        }
        switch key {
        case "detect":
            return .detect(
                maxObjects: try value.mapping(allowed: ["max_objects"]).required("max_objects").int(in: 1...4096))
        case "nms":
            let n = try value.mapping(allowed: ["iou", "threshold"])
            return .nms(
                iou: try n.optional("iou")?.double() ?? 0.5, threshold: try n.optional("threshold")?.double() ?? 0.5)
        case "classify":
            return .classify(classes: try value.mapping(allowed: ["classes"]).required("classes").int(in: 2...100_000))
        default:
            let activation =
                try value.mapping(allowed: ["activation"]).optional("activation")?.choice(
                    FunctionalKernel.Activation.self) ?? .none
            return .dense(activation: activation)
        }
    }

    static func parseGenerator(_ node: ConfigNode, phases: PhaseSchedule) throws -> InputGenerator {
        if case .scalar = node.node {
            guard try node.string() == "random" else { throw node.error("expected 'random' or {scene: …}") }
            return .random
        }
        let s = try node.mapping(allowed: ["scene"]).required("scene").mapping(allowed: ["objects", "classes"])
        let objects = try parsePhased(try s.required("objects"), phases: phases) {
            try parseDistribution($0, minimum: 0)
        }
        let classes = try parsePhased(try s.required("classes"), phases: phases) { node -> [Double] in
            let values = try node.sequence().map(parseProbability)
            guard !values.isEmpty, abs(values.reduce(0, +) - 1) < 1e-6 else {
                throw node.error("class probabilities must sum to 1")
            }
            return values
        }
        return .scene(objects: objects, classProbabilities: classes)
    }

    /// One entry of a task block's list: an operation, or a `model:` that expands into its table's layers.
    static func parseOperations(
        _ node: ConfigNode, topologies: TopologyResolver, phases: PhaseSchedule = .constant,
        requestParameters: [String: ParameterDistribution] = [:], blocks: [String: Int] = [:]
    )
        throws -> [TaskOperation]
    {
        if case .mapping = node.node, let model = try? node.mapping(allowed: ["model", "params"]),
            let nameNode = model.optional("model")
        {
            let name = try nameNode.string()
            guard let table = try topologies(name) else {
                throw nameNode.error("no layer table '\(name)' (looked for \(name).csv in the topology directory)")
            }
            var overrides: [String: Int] = [:]
            var drawn: [String: Phased<ParameterDistribution>] = [:]
            var fromRequest: [String: RequestUse] = [:]
            if let params = model.optional("params") {
                for (key, value) in try params.mapping(allowed: table.parameters.keys.sorted()).entries {
                    if let use = try parseRequestUse(value, requestParameters: requestParameters, blocks: blocks) {
                        fromRequest[key] = use
                        drawn[key] = Phased(requestParameters[use.parameter]!)
                    } else if case .mapping = value.node {
                        drawn[key] = try parsePhased(value, phases: phases) { try parseDistribution($0) }
                    } else {
                        overrides[key] = try value.int(in: 1...Int(Int32.max))
                    }
                }
            }
            do {
                guard !drawn.isEmpty else { return try table.layers(overrides).map { .layer($0) } }
                let dynamic = DynamicModel(
                    name: name, table: table, fixed: overrides, drawn: drawn, fromRequest: fromRequest)
                // Check every extreme value now, so no request can hit an invalid shape at run time.
                for (key, phased) in drawn {
                    for value in phased.values.flatMap(\.extremes) {
                        var values = overrides
                        for (other, d) in drawn { values[other] = d.values.map(\.minimum).min()! }
                        values[key] = value
                        _ = try table.layers(values)
                    }
                }
                // And every parameter at its largest together (sizes grow with them).
                var largest = overrides
                for (key, phased) in drawn { largest[key] = phased.values.map(\.maximum).max()! }
                _ = try table.layers(largest)
                return [.model(dynamic)]
            } catch let error as ConfigError {
                throw nameNode.error("\(error)")
            }
        }
        return [try parseOperation(node)]
    }

    /// `{request: NAME}` or `{request: NAME, plus_iteration_of: LOOP}`: a value taken from the
    /// request's parameter NAME (declared in `request_params`); nil for any other node.
    static func parseRequestUse(
        _ node: ConfigNode, requestParameters: [String: ParameterDistribution], blocks: [String: Int]
    ) throws -> RequestUse? {
        guard case .mapping = node.node, let m = try? node.mapping(), m.has("request") else { return nil }
        let fields = try node.mapping(allowed: ["request", "plus_iteration_of"])
        let nameNode = try fields.required("request")
        let name = try nameNode.string()
        guard requestParameters[name] != nil else {
            throw nameNode.error(
                requestParameters.isEmpty
                    ? "no request parameter '\(name)': declare it under the workflow's 'request_params'"
                    : "no request parameter '\(name)' (declared: \(requestParameters.keys.sorted().joined(separator: ", ")))"
            )
        }
        var loop: String?
        if let loopNode = fields.optional("plus_iteration_of") {
            loop = try loopNode.string()
            guard blocks[loop!] != nil else { throw loopNode.error("unknown block '\(loop!)'") }
        }
        return RequestUse(parameter: name, plusIterationOf: loop)
    }

    /// A distribution over integers ≥ `minimum`: a number (constant), `{uniform: [low, high]}`,
    /// `{choice: [v, …]}`, `{poisson: mean, max: M}` or `{geometric: mean, max: M}`.
    static func parseDistribution(_ node: ConfigNode, minimum: Int = 1) throws -> ParameterDistribution {
        if case .scalar = node.node { return .choice([try node.int(in: minimum...Int(Int32.max))]) }
        let m = try node.mapping(allowed: ["uniform", "choice", "poisson", "geometric", "max"])
        if let uniform = m.optional("uniform") {
            let bounds = try uniform.sequence().map { try $0.int(in: minimum...Int(Int32.max)) }
            guard bounds.count == 2, bounds[0] <= bounds[1] else {
                throw uniform.error("expected [low, high] with low ≤ high")
            }
            return .uniform(low: bounds[0], high: bounds[1])
        }
        if let choice = m.optional("choice") {
            let values = try choice.sequence().map { try $0.int(in: minimum...Int(Int32.max)) }
            guard !values.isEmpty else { throw choice.error("expected at least one value") }
            return .choice(values)
        }
        for key in ["poisson", "geometric"] {
            guard let meanNode = m.optional(key) else { continue }
            if minimum > 0 {
                throw meanNode.error("\(key) can draw 0, which is not a valid value here; use uniform or choice")
            }
            let mean = try meanNode.double()
            guard mean > 0, mean < 1e6 else { throw meanNode.error("the mean must be positive") }
            guard let maxNode = m.optional("max") else {
                throw node.error("\(key) needs 'max' (a bound on the values drawn)")
            }
            let bound = try maxNode.int(in: 1...1_000_000)
            return key == "poisson" ? .poisson(mean: mean, max: bound) : .geometric(mean: mean, max: bound)
        }
        throw node.error(
            "expected a number, {uniform: [low, high]}, {choice: [values]}, {poisson: mean, max: M} or {geometric: mean, max: M}"
        )
    }

    static func parseOperation(_ node: ConfigNode) throws -> TaskOperation {
        let kinds = ["gemm", "conv", "depthwise", "cycles"] + VectorOperation.keys.map(\.key)
        let m = try node.mapping(allowed: ["name", "stride"] + kinds)
        let present = kinds.filter { m.has($0) }
        guard present.count == 1 else {
            throw node.error(
                "an operation needs exactly one of: \(kinds.joined(separator: ", ")) (or model: with params:)")
        }
        let name = try m.optional("name")?.string() ?? present[0]
        func dimensions(_ node: ConfigNode, _ count: Int, _ shape: String) throws -> [Int] {
            let dims = try node.sequence()
            guard dims.count == count else { throw node.error("expected \(shape)") }
            return try dims.map { try $0.int(in: 1...Int(Int32.max)) }
        }
        if m.has("stride"), !(m.has("conv") || m.has("depthwise")) {
            throw try m.required("stride").error("only conv and depthwise operations have a stride")
        }
        if let gemm = m.optional("gemm") {
            let v = try dimensions(gemm, 3, "[M, N, K]")
            let layer = Layer.gemm(name: name, m: v[0], n: v[1], k: v[2])
            if let problem = layer.problem { throw gemm.error(problem) }
            return .layer(layer)
        }
        for kind in ["conv", "depthwise"] {
            guard let conv = m.optional(kind) else { continue }
            let v = try dimensions(
                conv, 6, "[ifmap height, ifmap width, filter height, filter width, channels, filters]")
            let stride = try m.optional("stride")?.int(in: 1...1024) ?? 1
            let layer = Layer.conv(
                name: name, ifmapHeight: v[0], ifmapWidth: v[1], filterHeight: v[2], filterWidth: v[3],
                channels: v[4], filters: v[5], stride: stride, depthwise: kind == "depthwise")
            if let problem = layer.problem { throw conv.error(problem) }
            return .layer(layer)
        }
        for entry in VectorOperation.keys {
            guard let valueNode = m.optional(entry.key) else { continue }
            let values =
                entry.count == 1
                ? [try valueNode.int(in: 1...Int(Int32.max))] : try dimensions(valueNode, entry.count, entry.shape)
            guard let operation = VectorOperation.make(key: entry.key, values: values) else {
                throw valueNode.error("expected \(entry.shape)\(entry.key == "topk" ? " with k ≤ n" : "")")
            }
            if let problem = operation.sizeProblem { throw valueNode.error(problem) }
            return .vector(name: name, operation)
        }
        return .fixed(name: name, cycles: try m.required("cycles").cycles(atMost: Limits.largestDuration))
    }
}
