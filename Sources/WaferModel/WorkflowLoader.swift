import Foundation

/// Reads and validates workflow files (`Configs/workflows/*.yaml`).
///
/// ```yaml
/// name: detect-classify
/// input_bytes: 150528
/// blocks:
///   - name: detector
///     task:
///       - {gemm: [3136, 64, 147], name: conv1}
///       - {elementwise: 200704}
///     output_bytes: 8192
///     next: found-objects          # omitted or `end`: the request completes here
///   - name: found-objects
///     branch: {probability: 0.7, then: classifier, else: end}
///   - name: classifier
///     task: [{gemm: [1, 1000, 2048]}]
///     output_bytes: 4000
/// ```
public enum WorkflowLoader {
    /// Finds layer tables by name for `model:` operations (nil: no tables available).
    public typealias TopologyResolver = (String) throws -> TopologyTable?

    /// Loads one workflow file; `model:` operations look tables up in `topologies` (a directory).
    public static func load(path: String, topologies: String? = nil) throws -> WorkflowGraph {
        try parse(ConfigNode.load(path: path), topologies: directoryResolver(topologies))
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

    static func parse(_ root: ConfigNode, topologies: TopologyResolver) throws -> WorkflowGraph {
        let top = try root.mapping(allowed: ["name", "description", "input_bytes", "entry", "blocks"])
        let name = try top.required("name").string()
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw try top.required("name").error("use letters, digits, '-' and '_' only")
        }
        let description = try top.optional("description")?.string() ?? ""
        let inputBytes = UInt64(try top.optional("input_bytes")?.int(in: 0...Int(Int32.max)) ?? 0)
        let blockNodes = try top.required("blocks").sequence()
        guard !blockNodes.isEmpty else { throw try top.required("blocks").error("a workflow needs at least one block") }

        // First pass: names, so successors can refer forward.
        var names: [String: Int] = [:]
        var parsed: [(name: String, node: ConfigNode, fields: ConfigMapping)] = []
        for node in blockNodes {
            let fields = try node.mapping(allowed: ["name", "task", "output_bytes", "next", "branch"])
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
                throw node.error("unknown block '\(target)' (known: \(names.keys.sorted().joined(separator: ", ")), end)")
            }
            return .block(index)
        }

        var blocks: [WorkflowBlock] = []
        for entry in parsed {
            let f = entry.fields
            let hasTask = f.has("task"), hasBranch = f.has("branch")
            if hasTask == hasBranch {
                throw entry.node.error("block '\(entry.name)' needs exactly one of 'task' or 'branch'")
            }
            if hasTask {
                let operations = try f.required("task").sequence().flatMap { try parseOperations($0, topologies: topologies) }
                if operations.isEmpty { throw try f.required("task").error("a task block needs at least one operation") }
                let outputBytes = UInt64(try f.optional("output_bytes")?.int(in: 0...Int(Int32.max)) ?? 0)
                let next = try successor(f.optional("next"))
                blocks.append(WorkflowBlock(name: entry.name, kind: .task(TaskBlock(operations: operations, outputBytes: outputBytes, next: next))))
            } else {
                for field in ["next", "output_bytes"] where f.has(field) {
                    throw f.optional(field)!.error("a branch block has no '\(field)'; use its 'then' and 'else'")
                }
                let b = try f.required("branch").mapping(allowed: ["probability", "then", "else"])
                let probabilityNode = try b.required("probability")
                let probability = try probabilityNode.double()
                guard (0...1).contains(probability) else { throw probabilityNode.error("must be between 0 and 1, found \(probability)") }
                let then = try successor(b.required("then"))
                let otherwise = try successor(b.optional("else"))
                blocks.append(WorkflowBlock(name: entry.name, kind: .control(.branch(probability: probability, then: then, otherwise: otherwise))))
            }
        }

        var entryIndex = 0
        if let entryNode = top.optional("entry") {
            guard case .block(let index) = try successor(entryNode) else { throw entryNode.error("the entry must be a block") }
            entryIndex = index
        }
        let graph = WorkflowGraph(name: name, description: description, blocks: blocks, entry: entryIndex, inputBytes: inputBytes)
        try validate(graph, nodes: parsed.map(\.node))
        return graph
    }

    /// One entry of a task block's list: an operation, or a `model:` that expands into its table's layers.
    static func parseOperations(_ node: ConfigNode, topologies: TopologyResolver) throws -> [TaskOperation] {
        if case .mapping = node.node, let model = try? node.mapping(allowed: ["model", "params"]), let nameNode = model.optional("model") {
            let name = try nameNode.string()
            guard let table = try topologies(name) else { throw nameNode.error("no layer table '\(name)' (looked for \(name).csv in the topology directory)") }
            var overrides: [String: Int] = [:]
            var drawn: [String: ParameterDistribution] = [:]
            if let params = model.optional("params") {
                for (key, value) in try params.mapping(allowed: table.parameters.keys.sorted()).entries {
                    if case .mapping = value.node { drawn[key] = try parseDistribution(value) } else { overrides[key] = try value.int(in: 1...Int(Int32.max)) }
                }
            }
            do {
                guard !drawn.isEmpty else { return try table.layers(overrides).map { .layer($0) } }
                let dynamic = DynamicModel(name: name, table: table, fixed: overrides, drawn: drawn)
                // Check every extreme value now, so no request can hit an invalid shape at run time.
                for (key, distribution) in drawn {
                    for value in distribution.extremes {
                        var values = overrides
                        for (other, d) in drawn { values[other] = d.minimum }
                        values[key] = value
                        _ = try table.layers(values)
                    }
                }
                return [.model(dynamic)]
            } catch let error as ConfigError {
                throw nameNode.error("\(error)")
            }
        }
        return [try parseOperation(node)]
    }

    /// `{uniform: [low, high]}` or `{choice: [v, …]}`: a shape parameter drawn per request.
    static func parseDistribution(_ node: ConfigNode) throws -> ParameterDistribution {
        let m = try node.mapping(allowed: ["uniform", "choice"])
        if let uniform = m.optional("uniform") {
            let bounds = try uniform.sequence().map { try $0.int(in: 1...Int(Int32.max)) }
            guard bounds.count == 2, bounds[0] <= bounds[1] else { throw uniform.error("expected [low, high] with low ≤ high") }
            return .uniform(low: bounds[0], high: bounds[1])
        }
        if let choice = m.optional("choice") {
            let values = try choice.sequence().map { try $0.int(in: 1...Int(Int32.max)) }
            guard !values.isEmpty else { throw choice.error("expected at least one value") }
            return .choice(values)
        }
        throw node.error("expected {uniform: [low, high]} or {choice: [values]}")
    }

    static func parseOperation(_ node: ConfigNode) throws -> TaskOperation {
        let kinds = ["gemm", "conv", "depthwise", "cycles"] + VectorOperation.keys.map(\.key)
        let m = try node.mapping(allowed: ["name", "stride"] + kinds)
        let present = kinds.filter { m.has($0) }
        guard present.count == 1 else { throw node.error("an operation needs exactly one of: \(kinds.joined(separator: ", ")) (or model: with params:)") }
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
            return .layer(.gemm(name: name, m: v[0], n: v[1], k: v[2]))
        }
        for kind in ["conv", "depthwise"] {
            guard let conv = m.optional(kind) else { continue }
            let v = try dimensions(conv, 6, "[ifmap height, ifmap width, filter height, filter width, channels, filters]")
            let stride = try m.optional("stride")?.int(in: 1...1024) ?? 1
            let layer = Layer.conv(name: name, ifmapHeight: v[0], ifmapWidth: v[1], filterHeight: v[2], filterWidth: v[3],
                                   channels: v[4], filters: v[5], stride: stride, depthwise: kind == "depthwise")
            if let problem = layer.problem { throw conv.error(problem) }
            return .layer(layer)
        }
        for entry in VectorOperation.keys {
            guard let valueNode = m.optional(entry.key) else { continue }
            let values = entry.count == 1 ? [try valueNode.int(in: 1...Int(Int32.max))] : try dimensions(valueNode, entry.count, entry.shape)
            guard let operation = VectorOperation.make(key: entry.key, values: values) else {
                throw valueNode.error("expected \(entry.shape)\(entry.key == "topk" ? " with k ≤ n" : "")")
            }
            return .vector(name: name, operation)
        }
        return .fixed(name: name, cycles: try m.required("cycles").cycles())
    }

    /// Rejects cycles (loops arrive with the full language) and blocks no request can reach.
    static func validate(_ graph: WorkflowGraph, nodes: [ConfigNode]) throws {
        func successors(_ index: Int) -> [Int] {
            let targets: [Successor]
            switch graph.blocks[index].kind {
            case .task(let task): targets = [task.next]
            case .control(.branch(_, let then, let otherwise)): targets = [then, otherwise]
            }
            return targets.compactMap { if case .block(let i) = $0 { return i } else { return nil } }
        }
        // Depth-first search with colours finds both cycles and reachability.
        var colour = [UInt8](repeating: 0, count: graph.blocks.count)  // 0 new, 1 on stack, 2 done
        func visit(_ index: Int) throws {
            colour[index] = 1
            for next in successors(index) {
                if colour[next] == 1 {
                    throw nodes[next].error("block '\(graph.blocks[next].name)' is reached again from '\(graph.blocks[index].name)': cycles are not allowed")
                }
                if colour[next] == 0 { try visit(next) }
            }
            colour[index] = 2
        }
        try visit(graph.entry)
        if let unreachable = colour.firstIndex(of: 0) {
            throw nodes[unreachable].error("block '\(graph.blocks[unreachable].name)' cannot be reached from the entry block '\(graph.blocks[graph.entry].name)'")
        }
    }
}
